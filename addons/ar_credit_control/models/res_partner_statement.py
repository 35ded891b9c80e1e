"""Statement preferences of a customer, per company."""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ar_send_monthly_statement = fields.Boolean(
        string="Monthly statement",
        company_dependent=True,
        tracking=True,
        help="Email this customer an outstanding statement at the start of every month.",
    )

    def action_ar_statement_run(self):
        """A statement run for the selected customers."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ar_credit_control.action_ar_statement_run"
        )
        action.update(
            {
                "views": [(False, "form")],
                "view_mode": "form",
                "context": {"default_partner_ids": self.commercial_partner_id.ids},
            }
        )
        return action

    def action_ar_balance_confirmation(self):
        """A draft balance confirmation of the customer, as of today."""
        self.ensure_one()
        confirmation = self.env["ar.balance.confirmation"].create(
            {"partner_id": self.commercial_partner_id.id}
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "ar.balance.confirmation",
            "res_id": confirmation.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
