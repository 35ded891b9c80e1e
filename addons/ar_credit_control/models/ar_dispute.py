"""A customer's dispute over invoices: reason, owner, resolution.

Open disputes count in the customer's credit score; collections pause dunning for the
invoices they cover until they are resolved.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

REASONS = [
    ("quality", "Quality"),
    ("delivery", "Delivery"),
    ("price", "Price"),
    ("invoice_error", "Invoice error"),
    ("other", "Other"),
]


class ArDispute(models.Model):
    _name = "ar.dispute"
    _description = "Customer dispute"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, date_opened desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, copy=False, readonly=True, default=lambda self: _("New"))
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        domain="[('is_company', '=', True)]",
    )
    move_ids = fields.Many2many(
        "account.move",
        "ar_dispute_account_move_rel",
        "dispute_id",
        "move_id",
        string="Invoices",
        check_company=True,
        domain="[('move_type', 'in', ('out_invoice', 'out_refund')), ('state', '=', 'posted'),"
        " ('commercial_partner_id', '=', partner_id)]",
    )
    reason = fields.Selection(REASONS, required=True, tracking=True)
    description = fields.Text()
    user_id = fields.Many2one(
        "res.users", string="Owner", default=lambda self: self.env.user, tracking=True
    )
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved"), ("rejected", "Rejected")],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    resolution = fields.Text(tracking=True)
    date_opened = fields.Date(default=fields.Date.context_today, required=True)
    date_closed = fields.Date(readonly=True)
    amount_disputed = fields.Monetary(
        compute="_compute_amount_disputed",
        store=True,
        help="Open amount of the disputed invoices, in company currency.",
    )

    @api.depends("move_ids.amount_residual_signed")
    def _compute_amount_disputed(self):
        for dispute in self:
            dispute.amount_disputed = sum(dispute.move_ids.mapped("amount_residual_signed"))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("ar.dispute") or _("New")
        return super().create(vals_list)

    def action_resolve(self):
        self._close("resolved")

    def action_reject(self):
        self._close("rejected")

    def action_reopen(self):
        self.write({"state": "open", "date_closed": False})

    def _close(self, state):
        for dispute in self:
            if not dispute.resolution:
                raise UserError(
                    _(
                        "Write the resolution of dispute %(name)s before closing it.",
                        name=dispute.name,
                    )
                )
        self.write({"state": state, "date_closed": fields.Date.context_today(self)})
