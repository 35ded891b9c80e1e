"""A customer's promise to pay: an amount by a date, for some of their invoices.

While a promise is open, dunning pauses for the invoices it covers and the collection
forecast expects the money on the promised date. A promise whose date passes without
the invoices being paid is broken: the dunning flow escalates it and early warnings flag it.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ArPaymentPromise(models.Model):
    _name = "ar.payment.promise"
    _description = "Promise to pay"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, promised_date, id"
    _check_company_auto = True
    _rec_name = "partner_id"

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
        "ar_payment_promise_account_move_rel",
        "promise_id",
        "move_id",
        string="Invoices",
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('payment_state', 'not in', ('paid', 'reversed')),"
        " ('commercial_partner_id', '=', partner_id)]",
    )
    amount = fields.Monetary(
        required=True, tracking=True, help="Amount promised, in company currency."
    )
    promised_date = fields.Date(required=True, index=True, tracking=True)
    date_made = fields.Date(string="Promised on", default=fields.Date.context_today, required=True)
    user_id = fields.Many2one("res.users", string="Recorded by", default=lambda self: self.env.user)
    state = fields.Selection(
        [
            ("open", "Open"),
            ("kept", "Kept"),
            ("broken", "Broken"),
            ("cancelled", "Cancelled"),
        ],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    note = fields.Text()

    @api.constrains("amount")
    def _check_amount(self):
        for promise in self:
            if promise.amount <= 0:
                raise ValidationError(_("A promise to pay needs a positive amount."))

    def action_cancel(self):
        self.write({"state": "cancelled"})

    def action_mark_kept(self):
        self.write({"state": "kept"})

    def action_reopen(self):
        self.write({"state": "open"})
