"""The customer's collections page on the portal, reached from any dunning email or letter.

The link carries the credit profile's access token: a random secret of one customer in one
company, so the page shows and acts on that customer's account in that company only. What the
customer does there (a promise to pay, a dispute, an online payment) lands in the collection
log at once, pauses dunning for the items concerned and tells the customer's collector.
"""

from odoo import fields, models
from odoo.tools import consteq

MANAGER_GROUP = "ar_credit_control.group_credit_control_manager"


class ArCreditProfile(models.Model):
    _name = "ar.credit.profile"
    _inherit = ["ar.credit.profile", "portal.mixin"]

    # The token answers for the customer: only credit managers read it. The addon issues it and
    # checks it in sudo (dunning emails and letters, portal pages).
    access_token = fields.Char(groups=MANAGER_GROUP)

    def _compute_access_url(self):
        super()._compute_access_url()
        for profile in self:
            profile.access_url = f"/my/collections/{profile.id}"

    def _check_portal_token(self, token):
        """Whether `token` opens this customer's page (constant-time comparison). Tokens are
        ASCII: anything else from a URL is simply wrong (``consteq`` raises on non-ASCII)."""
        self.ensure_one()
        if not isinstance(token, str) or not token.isascii():
            return False
        access_token = self.sudo().access_token
        return bool(token and access_token and consteq(access_token, token))

    def _portal_signed_url(self):
        """The full signed link of this customer's collections page (issues the token once)."""
        self.ensure_one()
        profile = self.sudo()
        return profile.get_base_url() + profile.get_portal_url()

    def _portal_collector(self):
        """Who works this customer's collections: the profile's collector, else the collector
        of the dunning policy of the customer's last dunning communication."""
        self.ensure_one()
        if self.collector_id:
            return self.collector_id
        last = (
            self.env["ar.dunning.communication"]
            .sudo()
            .search(
                [("partner_id", "=", self.partner_id.id), ("company_id", "=", self.company_id.id)],
                order="date desc, id desc",
                limit=1,
            )
        )
        return last.policy_id.collector_id

    def _portal_notify_collector(self, summary, note):
        """A to-do for the collector (a note on the profile when there is none)."""
        self.ensure_one()
        profile = self.sudo()
        collector = profile._portal_collector()
        if collector:
            profile.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(profile),
                summary=summary,
                note=note,
                user_id=collector.id,
            )
        profile.message_post(body=note, subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------ what the customer sees

    def _portal_items(self, today):
        """The customer's open items on `today` (the statement's: one per instalment), each
        with its instalment ("2/3"), whether it can be paid online, whether it is due now, and
        the promise or dispute pausing its dunning."""
        self.ensure_one()
        partner, company = self.partner_id, self.company_id
        statement = (
            self.env["ar.statement"]
            ._outstanding_data(partner, company, today)
            .get(partner.id, {"items": [], "buckets": [], "total": 0.0})
        )
        items = statement["items"]
        moves = self.env["account.move"].sudo().browse({item["move_id"] for item in items})
        instalments = {}
        for move in moves.filtered(lambda m: m.move_type == "out_invoice"):
            terms = move.line_ids.filtered(lambda line: line.display_type == "payment_term")
            if len(terms) > 1:
                ordered = terms.sorted(lambda line: (line.date_maturity or line.date, line.id))
                for index, line in enumerate(ordered, start=1):
                    instalments[line.id] = f"{index}/{len(ordered)}"
        promised, disputed = self._portal_paused_moves()
        for item in items:
            move = moves.browse(item["move_id"])
            item["instalment"] = instalments.get(item["line_id"], "")
            item["payable"] = (
                move.move_type == "out_invoice" and item["amount"] > 0 and not item["in_payment"]
            )
            item["due_now"] = bool(item["date_maturity"] and item["date_maturity"] <= today)
            item["promised_until"] = promised.get(item["move_id"])
            item["disputed"] = item["move_id"] in disputed
        return statement

    def _portal_paused_moves(self):
        """({invoice id: latest promised date} of the open promises, {invoice ids} of the open
        disputes) of this customer in this company: what pauses their dunning."""
        domain = [
            ("partner_id", "=", self.partner_id.id),
            ("company_id", "=", self.company_id.id),
            ("state", "=", "open"),
        ]
        promised = {}
        for promise in self.env["ar.payment.promise"].sudo().search(domain):
            for move in promise.move_ids:
                promised[move.id] = max(
                    promised.get(move.id, promise.promised_date), promise.promised_date
                )
        disputed = set(self.env["ar.dispute"].sudo().search(domain).move_ids.ids)
        return promised, disputed

    # ------------------------------------------------------------------ what the customer does

    def _portal_log(self, values):
        """A collection log entry of the portal channel for this customer (sudo: the customer
        acts; the caller has checked the access and the values)."""
        self.ensure_one()
        profile = self.sudo()
        collector = profile._portal_collector() or self.env.ref("base.user_root")
        return (
            self.env["ar.collection.log"]
            .sudo()
            .create(
                {
                    "partner_id": profile.partner_id.id,
                    "company_id": profile.company_id.id,
                    "user_id": collector.id,
                    "channel": "portal",
                    **values,
                }
            )
        )

    def _portal_record_promise(self, moves, amount, promised_date, note):
        """The customer promises `amount` by `promised_date` for `moves` (their open
        invoices): logged, dunning paused for them until that date, collector told."""
        log = self._portal_log(
            {
                "result": "promised",
                "move_ids": [(6, 0, moves.ids)],
                "promise_amount": amount,
                "promise_date": promised_date,
                "note": note,
            }
        )
        log.promise_id.user_id = log.user_id
        text = self.env._(
            "The customer promised on the portal to pay %(amount)s by %(date)s for %(items)s.",
            amount=self.currency_id.format(amount),
            date=promised_date,
            items=", ".join(moves.mapped("name")),
        )
        self._portal_notify_collector(self.env._("Promise to pay (portal)"), text)
        return log.promise_id

    def _portal_record_dispute(self, move, reason, description, attachment=None):
        """The customer disputes `move`: logged, a dispute opened (dunning paused for the
        invoice until it is resolved), the customer's file attached, collector told.
        `attachment`: (file name, content, mimetype) already checked by the caller."""
        log = self._portal_log(
            {
                "result": "disputed",
                "move_ids": [(6, 0, move.ids)],
                "dispute_reason": reason,
                "note": description,
            }
        )
        dispute = log.dispute_id
        dispute.user_id = self._portal_collector()
        if attachment:
            name, content, mimetype = attachment
            self.env["ir.attachment"].sudo().create(
                {
                    "name": name,
                    "raw": content,
                    "mimetype": mimetype,
                    "res_model": dispute._name,
                    "res_id": dispute.id,
                }
            )
        text = self.env._(
            "The customer disputed %(invoice)s on the portal: %(description)s",
            invoice=move.name,
            description=description
            or dict(self.env["ar.dispute"]._fields["reason"]._description_selection(self.env)).get(
                reason
            ),
        )
        self._portal_notify_collector(self.env._("Dispute raised (portal)"), text)
        return dispute
