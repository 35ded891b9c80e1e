"""The date of the customer's last payment, which the CRM shows beside the credit figures."""

from odoo import api, fields, models
from odoo.tools import SQL


class ResPartner(models.Model):
    _inherit = "res.partner"

    last_payment_date = fields.Date(
        compute="_compute_last_payment_date",
        help="Date of the customer's latest confirmed incoming payment in the current company.",
    )

    @api.depends_context("company")
    def _compute_last_payment_date(self):
        commercial_ids = self.commercial_partner_id.ids
        last = {}
        if commercial_ids:
            self.env["account.payment"].flush_model(
                ["partner_id", "date", "company_id", "payment_type", "partner_type", "state"]
            )
            self.env["res.partner"].flush_model(["commercial_partner_id"])
            last = dict(
                self.env.execute_query(
                    SQL(
                        """SELECT partner.commercial_partner_id, MAX(payment.date)
                             FROM account_payment payment
                             JOIN res_partner partner ON partner.id = payment.partner_id
                            WHERE partner.commercial_partner_id = ANY(%s)
                              AND payment.company_id = %s
                              AND payment.payment_type = 'inbound'
                              AND payment.partner_type = 'customer'
                              AND payment.state IN ('in_process', 'paid')
                            GROUP BY partner.commercial_partner_id""",
                        commercial_ids,
                        self.env.company.id,
                    )
                )
            )
        for partner in self:
            partner.last_payment_date = last.get(partner.commercial_partner_id.id, False)
