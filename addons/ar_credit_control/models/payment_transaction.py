"""Online payment confirms the order before the payment is created: never raise there (the
payment would be lost with the transaction); the credit check puts the order on hold instead."""

from odoo import models

from .sale_order import HOLD_MODE_KEY, _cursor_flag


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _check_amount_and_confirm_order(self):
        with _cursor_flag(self.env.cr, HOLD_MODE_KEY):
            confirmed = super()._check_amount_and_confirm_order()
        # Orders held for review are not confirmed: the customer gets the "payment received"
        # mail instead of the confirmation.
        return confirmed.filtered(lambda order: order.state == "sale")
