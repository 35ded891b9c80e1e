"""One dunning communication: what one customer is told in one run, with every item listed.

Sending goes through the level's channels: the email is queued in Odoo's mail queue
(``mail.mail``, state "outgoing") to the customer's dunning contact (else its invoicing
contact) in the contact's
language, with the letter PDF attached; the letter PDFs are kept on the communication; SMS
only when Odoo's SMS module is installed; a phone-call task for the collector; a legal case
at the legal level. "Sent" means queued: what the mail queue later reports (a failure, a
bounce) shows on the communication.
"""

import logging
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ar_engine.dunning import DunningLine, late_fee_proposals

_logger = logging.getLogger(__name__)

# "Not sent": it could not leave (fix and send again); "Not delivered": it left and came back
# (a bounce, a blacklisted address, a failed email or SMS: ar_dunning_delivery.py); "Not sent:
# paid": read again just before sending, the customer had paid (ar.dunning.run._skip_paid).
STATES = [
    ("draft", "To send"),
    ("sent", "Sent"),
    ("error", "Not sent"),
    ("undelivered", "Not delivered"),
    ("skipped", "Not sent: paid"),
]


class ArDunningCommunication(models.Model):
    _name = "ar.dunning.communication"
    _description = "Dunning communication"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"

    run_id = fields.Many2one("ar.dunning.run", index=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True)
    contact_id = fields.Many2one(
        "res.partner", string="Invoicing contact", readonly=True, help="Who receives it."
    )
    lang = fields.Char(compute="_compute_lang", help="Language of the communication.")
    date = fields.Date(required=True, readonly=True)
    policy_id = fields.Many2one("ar.dunning.policy", readonly=True)
    level_id = fields.Many2one("ar.dunning.level", readonly=True)
    level_sequence = fields.Integer(related="level_id.sequence", store=True)
    kind = fields.Selection(
        [("reminder", "Reminder"), ("overdue", "Overdue")], required=True, readonly=True
    )
    amount_due = fields.Monetary(readonly=True)
    line_ids = fields.One2many("ar.dunning.communication.line", "communication_id", readonly=True)
    state = fields.Selection(STATES, default="draft", required=True, readonly=True, index=True)
    error_message = fields.Text(readonly=True)
    sent_at = fields.Datetime(readonly=True)
    mail_id = fields.Many2one("mail.mail", string="Email", readonly=True)
    mail_state = fields.Selection(related="mail_id.state", string="Email status")
    mail_failure = fields.Text(related="mail_id.failure_reason", string="Email failure")
    letter_attachment_id = fields.Many2one("ir.attachment", string="Letter", readonly=True)
    legal_case_id = fields.Many2one("ar.legal.case", readonly=True)
    late_fee_move_id = fields.Many2one("account.move", string="Late fee proposal", readonly=True)
    channels = fields.Char(compute="_compute_channels")

    _sql_constraints = [
        (
            "customer_day_unique",
            "UNIQUE(partner_id, company_id, date)",
            "A customer gets one dunning communication a day.",
        )
    ]

    @api.depends("contact_id.lang", "partner_id.lang")
    def _compute_lang(self):
        for communication in self:
            communication.lang = (
                communication.contact_id.lang or communication.partner_id.lang or "en_US"
            )

    @api.depends("level_id")
    def _compute_channels(self):
        level_fields = self.env["ar.dunning.level"]._fields
        labels = {
            name: field._description_string(self.env)
            for name, field in level_fields.items()
            if name.startswith("channel_")
        }
        for communication in self:
            level = communication.level_id
            communication.channels = ", ".join(
                label for name, label in labels.items() if level and level[name]
            )

    def _sms_available(self):
        return "sms.sms" in self.env and hasattr(self, "_message_sms")

    # ------------------------------------------------------------------ sending

    def _send(self):
        """Send through each level's channels; "sent" only once the email is queued.

        1. Per communication, on its own savepoint: the contact's addresses are checked and the
           letters rendered. 2. The emails are queued in batches, one template rendering per
           batch; if a batch fails (a broken template), its communications are tried one by
           one so that the failure stays on those it concerns. 3. The other channels (SMS, call
           task, legal case, late fee) follow for the communications whose email went out.
        Whatever fails leaves its message on the communication, which is not marked sent.
        """
        blacklisted = self._blacklisted()
        for communication in blacklisted:
            communication._mark_undelivered(
                self.env._(
                    "Not emailed: %(email)s is on the blacklist (the customer asked for no more "
                    "email). Call the customer instead.",
                    email=communication._contact().email,
                )
            )
        letters = {}
        ready = self.browse()
        for communication in self - blacklisted:
            try:
                with self.env.cr.savepoint():
                    letters[communication.id] = communication._check_and_render_letters()
                ready |= communication
            except Exception as error:  # noqa: BLE001 - any failure stays on its record
                communication._mark_error(error)
        by_template = defaultdict(lambda: self.browse())
        for communication in ready.filtered(lambda c: c.level_id.channel_email):
            by_template[communication._mail_template()] |= communication
        queued = ready.filtered(lambda c: not c.level_id.channel_email)
        for template, communications in by_template.items():
            try:
                with self.env.cr.savepoint():
                    communications._queue_emails(template, letters)
                queued |= communications
            except Exception:  # noqa: BLE001 - retried one by one below
                for communication in communications:
                    try:
                        with self.env.cr.savepoint():
                            communication._queue_emails(template, letters)
                        queued |= communication
                    except Exception as error:  # noqa: BLE001
                        communication._mark_error(error)
        sent = self.browse()
        for communication in queued:
            try:
                with self.env.cr.savepoint():
                    notes = communication._other_channels()
                    communication.write(
                        {
                            "letter_attachment_id": letters[communication.id][:1].id,
                            "error_message": "\n".join(notes) or False,
                        }
                    )
                sent |= communication
            except Exception as error:  # noqa: BLE001
                communication._mark_error(error)
        sent.write({"state": "sent", "sent_at": fields.Datetime.now()})

    def _mark_error(self, error):
        _logger.info("dunning communication %s not sent: %s", self.id, error)
        message = error.args[0] if isinstance(error, UserError) and error.args else repr(error)
        self.write({"state": "error", "error_message": str(message), "mail_id": False})

    def action_send_again(self):
        """Try again after fixing the address or the template."""
        self.filtered(lambda c: c.state in ("error", "undelivered")).write(
            {"state": "draft", "error_message": False}
        )
        self.filtered(lambda c: c.state == "draft")._send()
        return True

    def _contact(self):
        return self.contact_id or self.partner_id

    def _invoice_address(self):
        """The customer's invoice address: a letter sent to a separate dunning contact shows it
        too, so the customer's accounts payable sees which account the invoices are on."""
        self.ensure_one()
        return self.partner_id.browse(self.partner_id.address_get(["invoice"])["invoice"])

    def _mail_template(self):
        return self.level_id.mail_template_id or self.env.ref(
            "ar_credit_control.mail_template_dunning"
        )

    def _check_and_render_letters(self):
        """The letter PDFs of the level; a clear error when an address is missing."""
        self.ensure_one()
        level, contact = self.level_id, self._contact()
        if level.channel_email and not contact.email:
            raise UserError(
                self.env._(
                    "No email address for %(contact)s: add one to the customer's dunning or "
                    "invoicing contact and send again.",
                    contact=contact.display_name,
                )
            )
        attachments = self.env["ir.attachment"]
        for channel, report in (
            ("channel_letter", "ar_credit_control.action_report_dunning_letter"),
            ("channel_lawyer_letter", "ar_credit_control.action_report_dunning_lawyer_letter"),
        ):
            if level[channel]:
                if not (contact.street or contact.city):
                    raise UserError(
                        self.env._(
                            "No postal address for %(contact)s: the letter cannot be sent.",
                            contact=contact.display_name,
                        )
                    )
                attachments |= self._render_letter(report)
        return attachments

    def _queue_emails(self, template, letters):
        """Queue the emails of these communications in ``mail.mail`` (state "outgoing")."""
        if not self.env["ar.dunning.level"]._mail_template_fits(template):
            raise UserError(
                self.env._(
                    "The email template %(template)s is not a template of dunning "
                    "communications: choose another one on the dunning level.",
                    template=template.sudo().name,
                )
            )
        mails = template.sudo().send_mail_batch(self.ids)
        mail_by_record = {mail.res_id: mail for mail in mails}
        for communication in self:
            mail = mail_by_record[communication.id]
            values = {}
            if not mail.recipient_ids:
                values["recipient_ids"] = [Command.set(communication._contact().ids)]
            if letters.get(communication.id):
                values["attachment_ids"] = [Command.link(a.id) for a in letters[communication.id]]
            if values:
                mail.write(values)
            communication.mail_id = mail

    def _other_channels(self):
        """SMS, call task, legal case, late fee; returns notes for the communication."""
        self.ensure_one()
        level, contact, notes = self.level_id, self._contact(), []
        if level.channel_sms:
            notes += self._send_sms(contact)
        if level.channel_phone:
            self._schedule_call()
        if level.channel_legal:
            self._open_legal_case()
        if self.kind == "overdue" and self.policy_id.late_fee_method != "none":
            self._propose_late_fee()
        return notes

    def _render_letter(self, report_ref):
        report = self.env.ref(report_ref).sudo()
        content, _kind = report.with_context(lang=self.lang)._render_qweb_pdf(
            report.report_name, self.ids
        )
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{report.with_context(lang=self.lang).name} - "
                    f"{self.partner_id.name} - {self.date}.pdf",
                    "raw": content,
                    "mimetype": "application/pdf",
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
        )

    def _send_sms(self, contact):
        """Queue the SMS to the contact's mobile (else phone) number, sent by Odoo's SMS queue
        like the emails. Returns notes when it cannot go out; when the SMS was the level's only
        channel to the customer, nothing went out: an error (the communication is not sent)."""
        if not self._sms_available():
            problem = self.env._("SMS not sent: Odoo's SMS module is not installed.")
        elif not (contact.mobile or contact.phone):
            problem = self.env._(
                "SMS not sent: %(contact)s has no mobile or phone number.",
                contact=contact.display_name,
            )
        else:
            self._message_sms(self._sms_body(), partner_ids=contact.ids, put_in_queue=True)
            return []
        level = self.level_id
        if not (level.channel_email or level.channel_letter or level.channel_lawyer_letter):
            raise UserError(problem)
        return [problem]

    def _sms_body(self):
        return self.env._(
            "%(company)s: %(amount)s is overdue on your account. Please pay or call us.",
            company=self.company_id.name,
            amount=self.currency_id.format(self.amount_due),
        )

    def _portal_link(self):
        """The customer's signed link to view and pay their account online (emails, letters)."""
        self.ensure_one()
        profiles = self.env["ar.credit.profile"].sudo()
        return profiles._get_or_create(self.partner_id, self.company_id)._portal_signed_url()

    def _collector(self):
        """The customer's collector (``ar.credit.profile._collector``); a customer without one
        gets the policy's, else the run's user, as their own."""
        profile = (
            self.env["ar.credit.profile"].sudo()._get_or_create(self.partner_id, self.company_id)
        )
        user = profile._collector()
        if not user:
            user = self.policy_id.collector_id or self.run_id.user_id
            if user:
                profile.collector_id = user
        return user or self.env.user

    def _schedule_call(self, note=None):
        self.activity_schedule(
            "mail.mail_activity_data_call",
            date_deadline=max(self.date, fields.Date.context_today(self)),
            note=note,
            summary=self.env._(
                "Call %(customer)s about overdue invoices", customer=self.partner_id.name
            ),
            user_id=self._collector().id,
        )

    def _open_legal_case(self):
        cases = self.env["ar.legal.case"].sudo()
        case = cases.search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("state", "in", ("draft", "filed")),
            ],
            limit=1,
        )
        if not case:
            case = cases.create(
                {
                    "partner_id": self.partner_id.id,
                    "company_id": self.company_id.id,
                    "claimed_amount": self.amount_due,
                    "move_ids": [Command.set(self.line_ids.move_id.ids)],
                    "communication_id": self.id,
                }
            )
        self.legal_case_id = case

    def _engine_lines(self):
        return [
            DunningLine(
                line.move_line_ref,
                line.amount_residual,
                line.due_date,
                line.days_overdue,
                line.previous_level,
                line.level,
            )
            for line in self.line_ids
        ]

    def _propose_late_fee(self):
        """A DRAFT invoice of late fees for the listed items; never posted here."""
        self.ensure_one()
        rule = self.policy_id._late_fee_rule()
        proposals = late_fee_proposals(self._engine_lines(), rule) if rule else []
        if not proposals or self.late_fee_move_id:
            return self.late_fee_move_id
        names = {line.move_line_ref: line.move_id.name for line in self.line_ids}
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id.id,
                    "company_id": self.company_id.id,
                    "invoice_origin": self.display_name,
                    "narration": self.env._("Late payment fees proposed by dunning."),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": self.env._(
                                    "Late payment fee: %(invoice)s, %(days)s days overdue",
                                    invoice=names[proposal.item_id],
                                    days=proposal.days_overdue,
                                ),
                                "quantity": 1,
                                "price_unit": float(proposal.fee),
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for proposal in proposals
                    ],
                }
            )
        )
        self.late_fee_move_id = move
        return move

    def action_propose_late_fee(self):
        self.ensure_one()
        move = self._propose_late_fee()
        if not move:
            raise UserError(self.env._("The policy charges no late fee on these items."))
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": move.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------ letters

    def _aging_summary(self):
        """(columns, amounts) of the customer's aging on the communication's date."""
        self.ensure_one()
        # The column labels in the letter's language, as the rest of the letter.
        bucket_set = (
            self.env["ar.aging.bucket.set"]
            ._get_default(self.company_id)
            .with_context(lang=self.lang)
        )
        columns, rows = self.env["ar.aging.report"]._summary_rows(
            bucket_set, self.date, [self.company_id.id], [self.partner_id.id]
        )
        amounts = rows[0]["amounts"] if rows else [0.0] * len(columns)
        return columns, amounts


class ArDunningCommunicationLine(models.Model):
    _name = "ar.dunning.communication.line"
    _description = "Dunning communication item"
    _order = "communication_id, due_date, id"

    communication_id = fields.Many2one(
        "ar.dunning.communication", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="communication_id.company_id", store=True)
    currency_id = fields.Many2one(related="communication_id.currency_id")
    # Plain ids, not foreign keys: a foreign key to the busy journal items and invoices would
    # lock each referenced row (KEY SHARE) on every insert of a run's thousands of items.
    move_line_ref = fields.Integer(string="Instalment id", index=True, readonly=True)
    move_ref = fields.Integer(string="Invoice id", readonly=True)
    move_line_id = fields.Many2one(
        "account.move.line", string="Instalment", compute="_compute_moves"
    )
    move_id = fields.Many2one("account.move", string="Invoice", compute="_compute_moves")
    due_date = fields.Date()
    days_overdue = fields.Integer(help="Negative: days until the due date.")
    amount_residual = fields.Monetary(string="Amount due")
    previous_level = fields.Integer()
    level = fields.Integer()

    @api.depends("move_line_ref", "move_ref")
    def _compute_moves(self):
        lines = self.env["account.move.line"].browse(set(self.mapped("move_line_ref"))).exists()
        moves = self.env["account.move"].browse(set(self.mapped("move_ref"))).exists()
        for line in self:
            line.move_line_id = lines.browse(line.move_line_ref) & lines
            line.move_id = moves.browse(line.move_ref) & moves
