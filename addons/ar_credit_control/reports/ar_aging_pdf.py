"""Values of the aging PDF: the summary per customer and, for the customers printed, their
open items."""

from odoo import api, fields, models

from .report_access import check_report_companies


class ReportArAging(models.AbstractModel):
    _name = "report.ar_credit_control.report_ar_aging"
    _description = "Aging report (PDF)"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        company_ids = data.get("company_ids") or [self.env.company.id]
        check_report_companies(self.env, self.env["res.company"].browse(company_ids))
        company = self.env["res.company"].browse(company_ids[0])
        bucket_set = self.env["ar.aging.bucket.set"].browse(data.get("bucket_set_id")).exists()
        if not bucket_set:
            bucket_set = bucket_set._get_default(company)
        as_of = fields.Date.to_date(data.get("as_of")) or fields.Date.context_today(self)
        partners = self.env["res.partner"].browse(docids or []).commercial_partner_id
        aging = self.env["ar.aging.report"]
        columns, rows = aging._summary_rows(bucket_set, as_of, company_ids, partners.ids or None)
        items = self.env["ar.aging.report"]
        if partners:
            items = (
                aging.with_context(allowed_company_ids=company_ids)
                ._for_aging(bucket_set, as_of)
                .search([("partner_id", "in", partners.ids)], order="partner_id, date_maturity, id")
            )
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "company": company,
            "currency": company.currency_id,
            "bucket_set": bucket_set,
            "as_of": as_of,
            "basis_label": dict(bucket_set._fields["basis"]._description_selection(self.env)).get(
                bucket_set.basis
            ),
            "columns": columns,
            "rows": rows,
            "column_totals": [sum(row["amounts"][i] for row in rows) for i in range(len(columns))],
            "grand_total": sum(row["total"] for row in rows),
            "items": items,
        }
