"""Balance confirmation: a statement sent to a customer who confirms or contests its balance.

The customer answers on a public page reached through a link that carries the record's
portal access token (a random secret unique to this confirmation: a token of another
confirmation, hence of another customer, is refused) and that stops working after the
expiry date. The collector may also record the answer received by other means. A contested
balance opens a discrepancy.
"""

from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq

DEFAULT_VALIDITY_DAYS = 30
MANAGER_GROUP = "ar_credit_control.group_credit_control_manager"
ANSWERED_STATES = ("confirmed", "contested")


class ArBalanceConfirmation(models.Model):
    _name = "ar.balance.confirmation"
    _description = "Balance confirmation"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    # The token answers for the customer: only credit managers read it. The addon issues it
    # and checks it in sudo (sending, portal pages).
    access_token = fields.Char(groups=MANAGER_GROUP)
    name = fields.Char(compute="_compute_name", store=True)
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
    date = fields.Date(
        string="Balance date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="The balance to confirm is the one at the end of this day.",
    )
    balance = fields.Monetary(readonly=True, tracking=True, help="Set when the request is sent.")
    expiry_date = fields.Date(readonly=True, tracking=True, copy=False)
    validity_days = fields.Integer(
        default=DEFAULT_VALIDITY_DAYS, help="Days the customer has to answer."
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("sent", "Sent"),
            ("confirmed", "Confirmed"),
            ("contested", "Contested"),
            ("expired", "Expired"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
    )
    sent_to_id = fields.Many2one("res.partner", string="Sent to", readonly=True)
    reply_date = fields.Datetime(readonly=True, tracking=True, copy=False)
    replied_by = fields.Char(tracking=True, copy=False, help="Who answered for the customer.")
    reply_channel = fields.Selection(
        [("portal", "Portal"), ("back_office", "Recorded by the collector")],
        readonly=True,
        copy=False,
    )
    reply_note = fields.Text(copy=False)
    discrepancy_ids = fields.One2many(
        "ar.reconciliation.discrepancy", "confirmation_id", string="Discrepancies"
    )

    @api.depends("partner_id", "date")
    def _compute_name(self):
        for confirmation in self:
            confirmation.name = self.env._(
                "Balance of %(customer)s on %(date)s",
                customer=confirmation.partner_id.display_name or "",
                date=confirmation.date or "",
            )

    def _compute_access_url(self):
        super()._compute_access_url()
        for confirmation in self:
            confirmation.access_url = f"/statement/confirm/{confirmation.id}"

    @api.constrains("validity_days")
    def _check_validity_days(self):
        if any(confirmation.validity_days <= 0 for confirmation in self):
            raise UserError(self.env._("A confirmation link must stay valid at least one day."))

    # ------------------------------------------------------------------ access

    def _is_expired(self):
        self.ensure_one()
        return bool(self.expiry_date) and self.expiry_date < fields.Date.context_today(self)

    def _check_portal_token(self, token):
        """Whether `token` opens this confirmation (constant-time comparison). Tokens are ASCII:
        anything else from a URL is simply wrong (``consteq`` raises on non-ASCII text)."""
        self.ensure_one()
        if not isinstance(token, str) or not token.isascii():
            return False
        return bool(token and self.access_token and consteq(self.access_token, token))

    def _expire_if_due(self):
        """Mark expired the requests still awaiting an answer whose link has run out."""
        due = self.filtered(lambda c: c.state == "sent" and c._is_expired())
        if due:
            due.write({"state": "expired"})
        return due

    @api.model
    def _cron_expire_confirmations(self):
        self.search(
            [("state", "=", "sent"), ("expiry_date", "<", fields.Date.context_today(self))]
        )._expire_if_due()

    # ------------------------------------------------------------------ sending

    def _statement(self):
        self.ensure_one()
        return (
            self.env["ar.statement"]
            ._outstanding_data(self.partner_id, self.company_id, self.date)
            .get(
                self.partner_id.commercial_partner_id.id, {"items": [], "buckets": [], "total": 0.0}
            )
        )

    def _statement_pdf(self):
        self.ensure_one()
        report = self.env.ref("ar_credit_control.action_report_ar_statement_outstanding")
        pdf, _kind = (
            self.env["ir.actions.report"]
            .sudo()
            .with_company(self.company_id)
            .with_context(lang=self.partner_id.lang or self.env.lang)
            ._render_qweb_pdf(
                report.report_name,
                self.partner_id.ids,
                data={
                    "company_id": self.company_id.id,
                    "as_of": fields.Date.to_string(self.date),
                },
            )
        )
        return pdf

    def action_send(self):
        """Fix the balance, issue a fresh link valid `validity_days` days, mail it with the
        statement attached to the customer's invoicing contact."""
        template = self.env.ref("ar_credit_control.mail_template_ar_balance_confirmation")
        for confirmation in self:
            if confirmation.state not in ("draft", "expired", "sent"):
                raise UserError(self.env._("This balance has already been answered."))
            partner = confirmation.partner_id.commercial_partner_id
            recipient = self.env["res.partner"].browse(partner.address_get(["invoice"])["invoice"])
            if not recipient.email:
                raise UserError(
                    self.env._("%(customer)s has no email address.", customer=recipient.name)
                )
            # A new token: a link sent earlier stops working.
            confirmation.sudo().access_token = False
            confirmation.sudo()._portal_ensure_token()
            confirmation.write(
                {
                    "partner_id": partner.id,
                    "balance": confirmation._statement()["total"],
                    "expiry_date": fields.Date.context_today(self)
                    + timedelta(days=confirmation.validity_days),
                    "state": "sent",
                    "sent_to_id": recipient.id,
                }
            )
            attachment = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": self.env._("Statement %(date)s.pdf", date=confirmation.date),
                        "raw": confirmation._statement_pdf(),
                        "mimetype": "application/pdf",
                        "res_model": self._name,
                        "res_id": confirmation.id,
                    }
                )
            )
            # Rendered in sudo: the link in the body carries the token.
            template.sudo().with_context(
                ar_statement_company_name=confirmation.company_id.name,
                ar_statement_email_from=confirmation.company_id.email_formatted
                or self.env.user.email_formatted,
            ).send_mail(
                confirmation.id,
                email_values={
                    "recipient_ids": [Command.set(recipient.ids)],
                    "attachment_ids": [Command.set(attachment.ids)],
                },
            )
            confirmation.message_post(
                body=self.env._(
                    "Balance of %(balance)s sent for confirmation to %(contact)s; the link "
                    "expires on %(expiry)s.",
                    balance=confirmation.currency_id.format(confirmation.balance),
                    contact=recipient.display_name,
                    expiry=confirmation.expiry_date,
                ),
            )
        return True

    # ------------------------------------------------------------------ answers

    def _note_answer_from_internal_session(self, user):
        """Flag in the chatter a portal answer typed while logged in as an employee: the
        customer did not answer themselves."""
        self.message_post(
            body=self.env._(
                "This answer was made from an internal session by %(user)s, not by the customer.",
                user=user.name,
            )
        )

    def _check_can_answer(self):
        for confirmation in self:
            if confirmation.state != "sent":
                raise UserError(self.env._("This confirmation request is not awaiting an answer."))

    def _record_confirmed(self, replied_by, note, channel):
        self._check_can_answer()
        self.write(
            {
                "state": "confirmed",
                "reply_date": fields.Datetime.now(),
                "replied_by": replied_by,
                "reply_note": note,
                "reply_channel": channel,
            }
        )
        for confirmation in self:
            confirmation.message_post(
                body=self.env._(
                    "%(who)s confirmed the balance of %(balance)s.",
                    who=replied_by or confirmation.partner_id.name,
                    balance=confirmation.currency_id.format(confirmation.balance),
                )
            )

    def _record_contested(self, replied_by, note, channel, lines=()):
        """Contest the balance and open a discrepancy with the customer's lines (dicts of
        ``type``, ``amount``, ``note``)."""
        self.ensure_one()
        self._check_can_answer()
        self.write(
            {
                "state": "contested",
                "reply_date": fields.Datetime.now(),
                "replied_by": replied_by,
                "reply_note": note,
                "reply_channel": channel,
            }
        )
        discrepancy = self.env["ar.reconciliation.discrepancy"].create(
            {
                "confirmation_id": self.id,
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "note": note,
                "line_ids": [Command.create(dict(line)) for line in lines],
            }
        )
        self.message_post(
            body=self.env._(
                "%(who)s contested the balance of %(balance)s: discrepancy %(discrepancy)s.",
                who=replied_by or self.partner_id.name,
                balance=self.currency_id.format(self.balance),
                discrepancy=discrepancy.name,
            )
        )
        return discrepancy

    def action_record_confirmed(self):
        """The collector records a confirmation received by mail or phone."""
        self._record_confirmed(self.env.user.name, False, "back_office")
        return True

    def action_record_contested(self):
        """The collector records a contested balance; the discrepancy opens for its lines."""
        self.ensure_one()
        discrepancy = self._record_contested(self.env.user.name, False, "back_office")
        return discrepancy._form_action()

    def action_reset_to_draft(self):
        for confirmation in self:
            if confirmation.state not in ("sent", "expired"):
                raise UserError(self.env._("Only unanswered requests can be reset."))
        self.write({"state": "draft", "expiry_date": False})
        self.sudo().write({"access_token": False})
        return True

    def action_view_discrepancies(self):
        self.ensure_one()
        if len(self.discrepancy_ids) == 1:
            return self.discrepancy_ids._form_action()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ar_credit_control.action_ar_reconciliation_discrepancy"
        )
        action["domain"] = [("confirmation_id", "=", self.id)]
        return action
