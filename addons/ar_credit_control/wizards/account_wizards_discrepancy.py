"""Odoo's credit-note and payment wizards, opened from a discrepancy line, resolve that line
with the entry they create."""

from odoo import models


def _discrepancy_line(env):
    line_id = env.context.get("ar_discrepancy_line_id")
    if not line_id:
        return env["ar.reconciliation.discrepancy.line"]
    return env["ar.reconciliation.discrepancy.line"].browse(line_id).exists()


class AccountMoveReversal(models.TransientModel):
    _inherit = "account.move.reversal"

    def reverse_moves(self, is_modify=False):
        action = super().reverse_moves(is_modify=is_modify)
        line = _discrepancy_line(self.env)
        if line and line.state == "open":
            line._resolve("credit_note", self.new_move_ids[:1])
        return action


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        payments = super()._create_payments()
        line = _discrepancy_line(self.env)
        if line and line.state == "open":
            line._resolve("payment", payments.move_id[:1])
        return payments
