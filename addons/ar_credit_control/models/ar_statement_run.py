"""A statement run: statements for chosen customers or a segment, printed as one PDF or
emailed one mail per customer; and the monthly run of the cron.

Each customer of a run has a line that records what was sent (its mail), so sending again
skips those already done: the monthly cron keeps one run per company and month and can stop
and resume anywhere without mailing anyone twice.
"""

import logging
from datetime import timedelta
from time import monotonic

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from .ar_credit_profile import SEGMENTS

_logger = logging.getLogger(__name__)

STATEMENT_REPORTS = {
    "outstanding": "ar_credit_control.action_report_ar_statement_outstanding",
    "activity": "ar_credit_control.action_report_ar_statement_activity",
}
CHUNK_SIZE = 50


class ArStatementRun(models.Model):
    _name = "ar.statement.run"
    _description = "Statement run"
    _inherit = ["mail.thread"]
    _order = "date_to desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, default=lambda self: self.env._("Statements"))
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    kind = fields.Selection(
        [("outstanding", "Outstanding statement"), ("activity", "Activity statement")],
        required=True,
        default="outstanding",
    )
    date_from = fields.Date(
        string="Period start",
        default=lambda self: fields.Date.context_today(self).replace(day=1),
        help="Activity statements: first day of the period.",
    )
    date_to = fields.Date(
        string="Statement date",
        required=True,
        default=fields.Date.context_today,
        help="Outstanding statements: items open at the end of this day. Activity statements: "
        "last day of the period.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "ar_statement_run_partner_rel",
        "run_id",
        "partner_id",
        string="Customers",
        domain="[('is_company', '=', True)]",
    )
    segment = fields.Selection(
        SEGMENTS, help="Also include every customer of this segment with an open balance."
    )
    period_key = fields.Char(
        readonly=True, index=True, copy=False, help="Month of the monthly run (YYYY-MM)."
    )
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Done")], default="draft", required=True, tracking=True
    )
    line_ids = fields.One2many("ar.statement.run.line", "run_id", string="Statements")
    sent_count = fields.Integer(compute="_compute_counts")
    pending_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        (
            "period_key_unique",
            "UNIQUE(company_id, period_key)",
            "There is already a monthly statement run for this company and month.",
        )
    ]

    @api.depends("line_ids.state")
    def _compute_counts(self):
        for run in self:
            run.sent_count = len(run.line_ids.filtered(lambda line: line.state == "sent"))
            run.pending_count = len(run.line_ids.filtered(lambda line: line.state == "pending"))

    @api.constrains("date_from", "date_to", "kind")
    def _check_period(self):
        for run in self:
            if run.kind == "activity" and (not run.date_from or run.date_from > run.date_to):
                raise UserError(
                    self.env._("An activity statement needs a period start before its date.")
                )

    # ------------------------------------------------------------------ targets

    def _target_partners(self):
        """The commercial partners of the run: those chosen and those of the segment with an
        open balance in the run's company."""
        self.ensure_one()
        partners = self.partner_ids.commercial_partner_id
        if self.segment:
            profiles = (
                self.env["ar.credit.profile"]
                .sudo()
                .search([("company_id", "=", self.company_id.id), ("segment", "=", self.segment)])
            )
            partners |= self.env["res.partner"].browse(
                self.env["ar.statement"]._partners_with_open_items(
                    profiles.partner_id, self.company_id, self.date_to
                )
            )
        return partners

    def _report_data(self):
        self.ensure_one()
        data = {"company_id": self.company_id.id, "date_to": fields.Date.to_string(self.date_to)}
        if self.kind == "outstanding":
            data["as_of"] = data["date_to"]
        else:
            data["date_from"] = fields.Date.to_string(self.date_from)
        return data

    def _report(self):
        return self.env.ref(STATEMENT_REPORTS[self.kind])

    # ------------------------------------------------------------------ actions

    def action_print(self):
        """One PDF with the statements of every customer of the run."""
        self.ensure_one()
        partners = self._target_partners()
        if not partners:
            raise UserError(self.env._("No customer to print a statement for."))
        return self._report().report_action(partners, data=self._report_data())

    def action_send(self):
        """One mail per customer to their invoicing contact, the statement attached."""
        for run in self:
            run._prepare_lines(run._target_partners())
            if not run.line_ids:
                raise UserError(self.env._("No customer to send a statement to."))
            run._send_lines(run.line_ids.filtered(lambda line: line.state == "pending"))
        return True

    def _prepare_lines(self, partners):
        """Add a pending line for each customer who has none in this run."""
        self.ensure_one()
        missing = partners - self.line_ids.partner_id
        if missing:
            self.write({"line_ids": [Command.create({"partner_id": p.id}) for p in missing]})

    def _send_lines(self, lines):
        template = self.env.ref("ar_credit_control.mail_template_ar_statement")
        report = self._report()
        data = self._report_data()
        for line in lines:
            partner = line.partner_id
            recipient = self.env["res.partner"].browse(partner.address_get(["invoice"])["invoice"])
            if not recipient.email:
                line.write({"state": "skipped", "note": self.env._("No email address.")})
                continue
            lang = partner.lang or self.env.lang
            pdf, _kind = (
                self.env["ir.actions.report"]
                .with_company(self.company_id)
                .with_context(lang=lang)
                ._render_qweb_pdf(report.report_name, partner.ids, data=data)
            )
            # Collectors may not edit customers, which attaching a file to one requires.
            attachment = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": self._attachment_name(partner, lang),
                        "raw": pdf,
                        "mimetype": "application/pdf",
                        "res_model": "res.partner",
                        "res_id": partner.id,
                    }
                )
            )
            mail_id = template.with_context(
                ar_statement_company_name=self.company_id.name,
                ar_statement_email_from=self.company_id.email_formatted
                or self.env.user.email_formatted,
            ).send_mail(
                partner.id,
                email_values={
                    "recipient_ids": [Command.set(recipient.ids)],
                    "attachment_ids": [Command.set(attachment.ids)],
                },
            )
            line.write({"state": "sent", "mail_id": mail_id, "sent_to_id": recipient.id})
        if self.line_ids and all(line.state != "pending" for line in self.line_ids):
            self.state = "done"
            self.message_post(
                body=self.env._(
                    "%(sent)s statements sent, %(skipped)s skipped.",
                    sent=self.sent_count,
                    skipped=len(self.line_ids) - self.sent_count,
                )
            )

    def _attachment_name(self, partner, lang):
        title = (
            self.with_context(lang=lang).env._("Statement")
            if self.kind == "outstanding"
            else self.with_context(lang=lang).env._("Activity statement")
        )
        return f"{title} - {partner.name} - {self.date_to}.pdf"

    # ------------------------------------------------------------------ monthly cron

    @api.model
    def _cron_send_monthly_statements(self, chunk_size=CHUNK_SIZE, time_budget=240.0):
        """Outstanding statements at the end of last month to every customer flagged for
        them, once per company and month. Chunked and committed per chunk; when the time
        budget runs out the remaining count is reported so that Odoo runs it again."""
        started = monotonic()
        today = fields.Date.context_today(self)
        month_end = today.replace(day=1) - timedelta(days=1)
        period_key = today.strftime("%Y-%m")
        done = 0
        for company in self.env["res.company"].search([]):
            # Every company's books, whichever companies the cron's user works in.
            run = self.sudo().with_company(company)._monthly_run(company, period_key, month_end)
            pending = run.line_ids.filtered(lambda line: line.state == "pending")
            remaining = len(pending)
            for start in range(0, len(pending), chunk_size):
                if done and monotonic() - started > time_budget:
                    self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
                    return False
                chunk = pending[start : start + chunk_size]
                run._send_lines(chunk)
                done += len(chunk)
                remaining -= len(chunk)
                self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
                self.env.cr.commit()  # pylint: disable=invalid-commit
                _logger.info("monthly statements: %d sent, %d left", done, remaining)
        return True

    @api.model
    def _monthly_run(self, company, period_key, as_of):
        run = self.search([("company_id", "=", company.id), ("period_key", "=", period_key)])
        if not run:
            run = self.create(
                {
                    "name": self.env._("Monthly statements %(month)s", month=period_key),
                    "company_id": company.id,
                    "kind": "outstanding",
                    "date_to": as_of,
                    "period_key": period_key,
                }
            )
        flagged = (
            self.env["res.partner"]
            .with_company(company)
            .search([("ar_send_monthly_statement", "=", True)])
            .commercial_partner_id
        )
        with_balance = self.env["ar.statement"]._partners_with_open_items(flagged, company, as_of)
        run._prepare_lines(self.env["res.partner"].browse(with_balance))
        return run


class ArStatementRunLine(models.Model):
    _name = "ar.statement.run.line"
    _description = "Statement of one customer in a run"
    _order = "run_id, id"

    run_id = fields.Many2one("ar.statement.run", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True)
    sent_to_id = fields.Many2one("res.partner", string="Sent to", readonly=True)
    state = fields.Selection(
        [("pending", "To send"), ("sent", "Sent"), ("skipped", "Skipped")],
        default="pending",
        required=True,
    )
    mail_id = fields.Many2one("mail.mail", string="Mail", readonly=True, ondelete="set null")
    note = fields.Char()

    _sql_constraints = [
        (
            "partner_unique",
            "UNIQUE(run_id, partner_id)",
            "A customer appears only once in a statement run.",
        )
    ]
