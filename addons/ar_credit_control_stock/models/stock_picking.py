"""Optional: no delivery to a customer on credit hold is validated (company setting, which
applies only while the company's credit block is on)."""

from odoo import models
from odoo.exceptions import UserError


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def button_validate(self):
        self._check_credit_hold_before_delivery()
        return super().button_validate()

    def _check_credit_hold_before_delivery(self):
        deliveries = self.filtered(
            lambda p: (
                p.picking_type_code == "outgoing"
                and p.partner_id
                and p.company_id.ar_credit_block_enabled
                and p.company_id.ar_credit_block_delivery_on_hold
            )
        )
        if not deliveries:
            return
        profiles = (
            self.env["ar.credit.profile"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", deliveries.partner_id.commercial_partner_id.ids),
                    ("company_id", "in", deliveries.company_id.ids),
                    ("credit_hold", "=", True),
                ]
            )
        )
        on_hold = {(p.partner_id.id, p.company_id.id) for p in profiles}
        blocked = deliveries.filtered(
            lambda p: (p.partner_id.commercial_partner_id.id, p.company_id.id) in on_hold
        )
        if blocked:
            raise UserError(
                self.env._(
                    "Deliveries to customers on credit hold cannot be validated: %(pickings)s. "
                    "A credit manager can lift the hold on the customer's credit profile.",
                    pickings=", ".join(blocked.mapped("name")),
                )
            )
