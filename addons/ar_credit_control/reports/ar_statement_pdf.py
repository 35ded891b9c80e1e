"""Values of the outstanding and activity statement PDFs: one query for all customers printed.

`data` may carry ``company_id``, ``as_of`` (outstanding) or ``date_from``/``date_to``
(activity); without them the current company and today (this month so far) are used.
"""

from odoo import api, fields, models

from .report_access import check_report_companies


class ReportArStatementCommon(models.AbstractModel):
    _name = "report.ar_credit_control.statement_common"
    _description = "Customer statement (PDF), shared values"

    @api.model
    def _statement_context(self, docids, data):
        data = data or {}
        company = self.env["res.company"].browse(data.get("company_id")).exists()
        company = company or self.env.company
        check_report_companies(self.env, company)
        partners = self.env["res.partner"].browse(docids or []).commercial_partner_id
        return company, partners, data

    @api.model
    def _in_customer_languages(self, partners, compute):
        """`compute(ar.statement, partners)` once per language of `partners`, merged: the labels
        the data carries (document types, aging columns) in each customer's language, as the
        rest of the statement."""
        statements = {}
        for lang in set(partners.mapped("lang")):
            group = partners.filtered(lambda partner, lang=lang: partner.lang == lang)
            statement = self.env["ar.statement"].with_context(lang=lang or self.env.lang)
            statements.update(compute(statement, group))
        return statements


class ReportArStatementOutstanding(models.AbstractModel):
    _name = "report.ar_credit_control.report_ar_statement_outstanding"
    _inherit = "report.ar_credit_control.statement_common"
    _description = "Outstanding statement (PDF)"

    @api.model
    def _get_report_values(self, docids, data=None):
        company, partners, data = self._statement_context(docids, data)
        as_of = fields.Date.to_date(data.get("as_of")) or fields.Date.context_today(self)
        statements = self._in_customer_languages(
            partners, lambda statement, group: statement._outstanding_data(group, company, as_of)
        )
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners.with_company(company),
            "company": company,
            "currency": company.currency_id,
            "as_of": as_of,
            "statements": statements,
        }


class ReportArStatementActivity(models.AbstractModel):
    _name = "report.ar_credit_control.report_ar_statement_activity"
    _inherit = "report.ar_credit_control.statement_common"
    _description = "Activity statement (PDF)"

    @api.model
    def _get_report_values(self, docids, data=None):
        company, partners, data = self._statement_context(docids, data)
        date_to = fields.Date.to_date(data.get("date_to")) or fields.Date.context_today(self)
        date_from = fields.Date.to_date(data.get("date_from")) or date_to.replace(day=1)
        statements = self._in_customer_languages(
            partners,
            lambda statement, group: statement._activity_data(group, company, date_from, date_to),
        )
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners.with_company(company),
            "company": company,
            "currency": company.currency_id,
            "date_from": date_from,
            "date_to": date_to,
            "statements": statements,
        }
