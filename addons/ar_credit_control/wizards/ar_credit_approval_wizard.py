"""A credit manager's decision on blocked orders: approve or reject, always with a reason."""

from odoo import api, fields, models


class ArCreditApprovalWizard(models.TransientModel):
    _name = "ar.credit.approval.wizard"
    _description = "Credit approval decision"

    order_ids = fields.Many2many("sale.order", string="Orders", required=True)
    decision = fields.Selection(
        [("approve", "Approve"), ("reject", "Reject")], required=True, default="approve"
    )
    reason = fields.Text(required=True)
    confirm_order = fields.Boolean(
        string="Confirm the orders now",
        help="Confirm the approved quotations right away (for example orders the customer "
        "signed or paid online, held for review).",
    )
    credit_hold_reason = fields.Text(compute="_compute_credit_hold_reason")

    @api.depends("order_ids")
    def _compute_credit_hold_reason(self):
        for wizard in self:
            wizard.credit_hold_reason = "\n\n".join(
                f"{order.name}:\n{order.credit_hold_reason or order.credit_check_warning or ''}"
                for order in wizard.order_ids
            )

    def action_apply(self):
        self.ensure_one()
        orders = self.order_ids
        if self.decision == "approve":
            orders._credit_approve(self.reason)
            if self.confirm_order:
                # Credit managers may hold no sales rights. The check still runs: the approval
                # just recorded is what lets the orders through.
                orders.sudo().action_confirm()
        else:
            orders._credit_reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
