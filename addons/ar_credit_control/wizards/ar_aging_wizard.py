"""Aging analysis launcher: pick a bucket set and an as-of date, then open the pivot, print
the PDF or download the XLSX workbook."""

import base64
import io

import xlsxwriter

from odoo import api, fields, models


class ArAgingWizard(models.TransientModel):
    _name = "ar.aging.wizard"
    _description = "Aging analysis"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    bucket_set_id = fields.Many2one(
        "ar.aging.bucket.set",
        string="Aging buckets",
        required=True,
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        default=lambda self: self.env["ar.aging.bucket.set"]._get_default(self.env.company),
    )
    as_of = fields.Date(
        string="As of",
        required=True,
        default=fields.Date.context_today,
        help="Open amounts as they stood at the end of this day.",
    )
    partner_ids = fields.Many2many(
        "res.partner", string="Customers", help="Leave empty for every customer."
    )

    @api.onchange("company_id")
    def _onchange_company_id(self):
        if self.bucket_set_id.company_id != self.company_id:
            self.bucket_set_id = self.env["ar.aging.bucket.set"]._get_default(self.company_id)

    def _report_context(self):
        self.ensure_one()
        return {
            "aging_bucket_set_id": self.bucket_set_id.id,
            "aging_as_of": fields.Date.to_string(self.as_of),
            "allowed_company_ids": [self.company_id.id],
        }

    def action_open_analysis(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ar_credit_control.action_ar_aging_report"
        )
        action["context"] = {**self._report_context(), "search_default_group_partner": 1}
        action["display_name"] = self.env._(
            "Aging as of %(date)s (%(buckets)s)",
            date=fields.Date.to_string(self.as_of),
            buckets=self.bucket_set_id.name,
        )
        if self.partner_ids:
            action["domain"] = [("partner_id", "in", self.partner_ids.commercial_partner_id.ids)]
        return action

    def _report_data(self):
        return {
            "bucket_set_id": self.bucket_set_id.id,
            "as_of": fields.Date.to_string(self.as_of),
            "company_ids": [self.company_id.id],
        }

    def action_print_pdf(self):
        self.ensure_one()
        partners = self.partner_ids.commercial_partner_id
        return self.env.ref("ar_credit_control.action_report_ar_aging").report_action(
            partners or None, data=self._report_data()
        )

    def _xlsx_content(self) -> bytes:
        """The aging summary (one row per customer, one column per bucket) as a workbook."""
        self.ensure_one()
        partners = self.partner_ids.commercial_partner_id
        columns, rows = self.env["ar.aging.report"]._summary_rows(
            self.bucket_set_id, self.as_of, [self.company_id.id], partners.ids or None
        )
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(self.env._("Aging"))
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True})
        sheet.write(
            0,
            0,
            self.env._(
                "Aging as of %(date)s, %(company)s, amounts in %(currency)s",
                date=fields.Date.to_string(self.as_of),
                company=self.company_id.name,
                currency=self.company_id.currency_id.name,
            ),
            bold,
        )
        headers = [self.env._("Customer"), *columns.mapped("name"), self.env._("Total")]
        for col, header in enumerate(headers):
            sheet.write(2, col, header, bold)
        for row_index, row in enumerate(rows, start=3):
            sheet.write(row_index, 0, row["partner"].display_name)
            for col, amount in enumerate([*row["amounts"], row["total"]], start=1):
                sheet.write_number(row_index, col, amount, money)
        total_row = 3 + len(rows)
        sheet.write(total_row, 0, self.env._("Total"), bold)
        for col in range(1, len(headers)):
            column_total = sum(([*row["amounts"], row["total"]][col - 1]) for row in rows)
            sheet.write_number(total_row, col, column_total, money_bold)
        sheet.set_column(0, 0, 40)
        sheet.set_column(1, len(headers), 14)
        workbook.close()
        return output.getvalue()

    def action_export_xlsx(self):
        self.ensure_one()
        attachment = self.env["ir.attachment"].create(
            {
                "name": self.env._("aging_%(date)s.xlsx", date=fields.Date.to_string(self.as_of)),
                "datas": base64.b64encode(self._xlsx_content()),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
