"""The aging of a customer in the current company, on the partner form's Credit tab."""

from markupsafe import Markup, escape

from odoo import fields, models

from .res_partner_credit import CREDIT_READERS


class ResPartner(models.Model):
    _inherit = "res.partner"

    ar_aging_summary = fields.Html(
        string="Aging",
        compute="_compute_ar_aging_summary",
        sanitize=False,
        # open amounts by age: exposure and overdue, not for salespeople
        groups=CREDIT_READERS,
    )

    def _compute_ar_aging_summary(self):
        company = self.env.company
        bucket_set = self.env["ar.aging.bucket.set"]._get_default(company)
        aging = self.env["ar.aging.report"].sudo()
        partners = self.filtered("id")
        (self - partners).ar_aging_summary = False
        if not partners:
            return
        columns, rows = aging._summary_rows(
            bucket_set,
            fields.Date.context_today(self),
            [company.id],
            partners.commercial_partner_id.ids,
        )
        by_partner = {row["partner"].id: row for row in rows}
        currency = company.currency_id
        header = Markup("").join(
            Markup('<th class="text-end">%s</th>') % name for name in columns.mapped("name")
        )
        for partner in partners:
            row = by_partner.get(partner.commercial_partner_id.id)
            if not row:
                partner.ar_aging_summary = Markup("<p class='text-muted'>%s</p>") % self.env._(
                    "No open receivables in this company."
                )
                continue
            cells = Markup("").join(
                Markup('<td class="text-end">%s</td>') % escape(currency.format(amount))
                for amount in row["amounts"]
            )
            partner.ar_aging_summary = Markup(
                '<table class="table table-sm o_ar_aging_summary"><thead><tr>%s'
                '<th class="text-end">%s</th></tr></thead><tbody><tr>%s'
                '<td class="text-end fw-bold">%s</td></tr></tbody></table>'
            ) % (header, self.env._("Total"), cells, currency.format(row["total"]))

    def action_open_ar_aging(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ar_credit_control.action_ar_aging_report"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"search_default_group_bucket": 1}
        return action
