"""Online payment confirms the order before the payment is created: never raise there (the
payment would be lost with the transaction); the credit check puts the order on hold instead.

A payment made on the customer's collections page lands in the collection log once confirmed."""

from odoo import Command, fields, models

from .sale_order import HOLD_MODE_KEY, _cursor_flag


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    ar_collections_portal = fields.Boolean(
        string="Paid from the collections page", readonly=True, copy=False
    )
    ar_collections_logged = fields.Boolean(
        string="Entered in the collection log", readonly=True, copy=False
    )

    def _check_amount_and_confirm_order(self):
        with _cursor_flag(self.env.cr, HOLD_MODE_KEY):
            confirmed = super()._check_amount_and_confirm_order()
        # Orders held for review are not confirmed: the customer gets the "payment received"
        # mail instead of the confirmation.
        return confirmed.filtered(lambda order: order.state == "sale")

    def _post_process(self):
        super()._post_process()
        self.filtered(
            lambda tx: (
                tx.state == "done"
                and tx.ar_collections_portal
                and not tx.ar_collections_logged
                and tx.invoice_ids
            )
        )._log_portal_payment()

    def _log_portal_payment(self):
        logs = self.env["ar.collection.log"].sudo()
        for tx in self:
            tx.ar_collections_logged = True
            invoices = tx.invoice_ids
            company, partner = invoices.company_id[:1], invoices.commercial_partner_id[:1]
            profile = self.env["ar.credit.profile"].sudo()._get_or_create(partner, company)
            note = self.env._(
                "Paid %(amount)s online on the customer portal (%(reference)s).",
                amount=tx.currency_id.format(tx.amount),
                reference=tx.reference,
            )
            logs.create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "user_id": (profile._portal_collector() or self.env.ref("base.user_root")).id,
                    "date": fields.Date.context_today(tx),
                    "channel": "portal",
                    "result": "paid",
                    "note": note,
                    "move_ids": [Command.set(invoices.ids)],
                }
            )
            profile._portal_notify_collector(self.env._("Paid online"), note)
