"""The collection log: every contact a collector has with a customer about money owed.

Logging "promised to pay" records the promise (``ar.payment.promise``), which pauses dunning
for its invoices; logging "disputed" opens a dispute (``ar.dispute``), which pauses them too.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError

from .ar_dispute import REASONS

CHANNELS = [
    ("call", "Call"),
    ("email", "Email"),
    ("letter", "Letter"),
    ("visit", "Visit"),
    ("portal", "Customer portal"),
]
RESULTS = [
    ("reached", "Reached"),
    ("no_answer", "No answer"),
    ("promised", "Promised to pay"),
    ("disputed", "Disputed"),
    ("refused", "Refused to pay"),
    ("paid", "Says paid"),
    ("wrong_contact", "Wrong contact"),
    ("replied", "Replied by email"),
]


class ArCollectionLog(models.Model):
    _name = "ar.collection.log"
    _description = "Collection log entry"
    _order = "date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        domain="[('is_company', '=', True)]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        "res.users", string="Collector", required=True, default=lambda self: self.env.user
    )
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    channel = fields.Selection(CHANNELS, required=True, default="call")
    result = fields.Selection(RESULTS, required=True)
    note = fields.Text()
    next_action_date = fields.Date(help="When to contact the customer again.")
    move_ids = fields.Many2many(
        "account.move",
        "ar_collection_log_account_move_rel",
        "log_id",
        "move_id",
        string="Invoices",
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('commercial_partner_id', '=', partner_id)]",
        help="The invoices discussed; empty: all the customer's overdue invoices.",
    )
    promise_amount = fields.Monetary(string="Amount promised")
    promise_date = fields.Date(string="Promised date")
    dispute_reason = fields.Selection(REASONS)
    promise_id = fields.Many2one("ar.payment.promise", readonly=True)
    dispute_id = fields.Many2one("ar.dispute", readonly=True)
    communication_id = fields.Many2one(
        "ar.dunning.communication",
        string="Dunning communication",
        readonly=True,
        help="The dunning communication this entry answers (a reply to its email).",
    )

    @api.constrains("result", "promise_amount", "promise_date")
    def _check_promise(self):
        for log in self:
            if log.result == "promised" and (log.promise_amount <= 0 or not log.promise_date):
                raise ValidationError(
                    self.env._("A promise to pay needs the amount promised and the date.")
                )

    def _invoices(self):
        """The invoices discussed, or the customer's open overdue invoices."""
        self.ensure_one()
        if self.move_ids:
            return self.move_ids
        return self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", self.partner_id.commercial_partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<=", self.date),
            ]
        )

    @api.model_create_multi
    def create(self, vals_list):
        logs = super().create(vals_list)
        for log in logs:
            if log.result == "promised":
                log.promise_id = self.env["ar.payment.promise"].create(
                    {
                        "partner_id": log.partner_id.commercial_partner_id.id,
                        "company_id": log.company_id.id,
                        "move_ids": [Command.set(log._invoices().ids)],
                        "amount": log.promise_amount,
                        "promised_date": log.promise_date,
                        "note": log.note,
                    }
                )
            elif log.result == "disputed":
                log.dispute_id = self.env["ar.dispute"].create(
                    {
                        "partner_id": log.partner_id.commercial_partner_id.id,
                        "company_id": log.company_id.id,
                        "move_ids": [Command.set(log._invoices().ids)],
                        "reason": log.dispute_reason or "other",
                        "description": log.note,
                    }
                )
        return logs
