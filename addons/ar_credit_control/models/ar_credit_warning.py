"""A warning raised by an early-warning rule for one customer in one company.

One warning per (rule, customer, company, condition key): a condition that still holds on the
next run adds nothing, one that no longer holds is resolved, one that comes back is raised
again. Each raised warning gets one activity for the customer's salesperson (or the rule's
collector) and is listed once in the credit managers' daily digest.
"""

import json
import logging

from odoo import _, api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class ArCreditWarning(models.Model):
    _name = "ar.credit.warning"
    _description = "Credit early warning"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, date_detected desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"

    rule_id = fields.Many2one(
        "ar.warning.rule", required=True, index=True, ondelete="cascade", readonly=True
    )
    rule_type = fields.Selection(related="rule_id.rule_type", store=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one("res.users", string="Responsible", readonly=True)
    condition_key = fields.Char(required=True, readonly=True)
    figures_json = fields.Text(readonly=True)
    figures = fields.Text(compute="_compute_figures")
    state = fields.Selection(
        [("active", "Active"), ("resolved", "Resolved")],
        default="active",
        required=True,
        index=True,
        readonly=True,
        tracking=True,
    )
    date_detected = fields.Date(readonly=True)
    date_resolved = fields.Date(readonly=True)
    digest_sent = fields.Boolean(readonly=True, index=True)

    _sql_constraints = [
        (
            "condition_unique",
            "UNIQUE(rule_id, partner_id, company_id, condition_key)",
            "A condition raises one warning per rule and customer.",
        ),
    ]

    @api.model
    def _figure_templates(self):
        return {
            "utilisation": _(
                "credit used %(utilisation)s%% (exposure %(exposure)s of a %(limit)s limit; "
                "threshold %(threshold)s%%)"
            ),
            "overdue": _("invoice %(invoice)s: %(amount)s overdue for %(days)s days"),
            "lateness_trend": _(
                "last %(count)s payments %(recent)s days late on average, against "
                "%(earlier)s days before (margin %(margin)s days)"
            ),
            "broken_promise": _("promise to pay %(amount)s by %(date)s broken"),
            "grade_downgrade": _("grade lowered from %(previous)s to %(grade)s on %(date)s"),
            "large_order": _("order %(order)s of %(amount)s from a watch-segment customer"),
            "pre_due": _("invoice %(invoice)s: %(amount)s due on %(due)s"),
        }

    @api.depends_context("lang")
    @api.depends("figures_json", "rule_type")
    def _compute_figures(self):
        templates = self._figure_templates()
        money = {"amount", "exposure", "limit"}
        for warning in self:
            params = json.loads(warning.figures_json or "{}")
            for key in money & set(params):
                params[key] = warning.currency_id.format(float(params[key]))
            try:
                warning.figures = templates[warning.rule_type] % params
            except (KeyError, TypeError, ValueError):
                warning.figures = warning.figures_json or ""

    # ------------------------------------------------------------------ synchronisation

    @api.model
    def _sync_conditions(self, rule, conditions, today):
        """Bring the rule's warnings in line with the conditions that hold now, in one
        statement: insert the new ones (or raise resolved ones again), refresh the figures of
        the active ones, resolve those whose condition vanished. Returns the raised warnings."""
        rows = self.env.execute_query(
            SQL(
                """
                WITH conditions AS (%(conditions)s),
                raised AS (
                    INSERT INTO ar_credit_warning AS warning
                           (rule_id, rule_type, partner_id, company_id, user_id, condition_key,
                            figures_json, state, date_detected, digest_sent,
                            create_uid, create_date, write_uid, write_date)
                    SELECT %(rule)s, %(rule_type)s, c.partner_id, %(company)s,
                           COALESCE(rp.user_id, %(fallback_user)s), c.condition_key,
                           c.figures::text, 'active', %(today)s, false,
                           %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
                      FROM conditions c
                      JOIN res_partner rp ON rp.id = c.partner_id
                     WHERE c.is_new
                    ON CONFLICT (rule_id, partner_id, company_id, condition_key) DO UPDATE
                       SET state = 'active', date_detected = EXCLUDED.date_detected,
                           date_resolved = NULL, digest_sent = false,
                           figures_json = EXCLUDED.figures_json,
                           user_id = EXCLUDED.user_id, write_date = EXCLUDED.write_date
                     WHERE warning.state = 'resolved'
                    RETURNING warning.id
                ),
                refreshed AS (
                    UPDATE ar_credit_warning warning
                       SET figures_json = c.figures::text
                      FROM conditions c
                     WHERE warning.rule_id = %(rule)s
                       AND warning.state = 'active'
                       AND warning.partner_id = c.partner_id
                       AND warning.condition_key = c.condition_key
                       AND warning.figures_json IS DISTINCT FROM c.figures::text
                    RETURNING warning.id
                ),
                resolved AS (
                    UPDATE ar_credit_warning warning
                       SET state = 'resolved', date_resolved = %(today)s,
                           write_date = now() AT TIME ZONE 'UTC'
                     WHERE warning.rule_id = %(rule)s
                       AND warning.state = 'active'
                       AND NOT EXISTS (
                           SELECT 1 FROM conditions c
                            WHERE c.partner_id = warning.partner_id
                              AND c.condition_key = warning.condition_key)
                    RETURNING warning.id
                )
                SELECT id, 'raised' FROM raised
                UNION ALL
                SELECT id, 'resolved' FROM resolved
                UNION ALL
                SELECT count(*), 'refreshed' FROM refreshed
                """,
                conditions=conditions,
                rule=rule.id,
                rule_type=rule.rule_type,
                company=rule.company_id.id,
                fallback_user=rule.responsible_user_id.id or None,
                today=today,
                uid=self.env.uid,
            )
        )
        self.invalidate_model()
        raised = self.browse(row[0] for row in rows if row[1] == "raised")
        resolved = self.browse(row[0] for row in rows if row[1] == "resolved")
        if resolved:
            # The open to-dos of resolved warnings have nothing left to act on.
            self.env["mail.activity"].sudo().search(
                [("res_model", "=", self._name), ("res_id", "in", resolved.ids)]
            ).unlink()
        _logger.info(
            "warning rule %s (%s): %d raised, %d resolved",
            rule.id,
            rule.rule_type,
            len(raised),
            len(resolved),
        )
        return raised

    def _schedule_activities(self):
        """One to-do per raised warning for its responsible user (none without one)."""
        activity_type = self.env.ref(
            "ar_credit_control.mail_activity_credit_warning", raise_if_not_found=False
        ) or self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        summary = self.env._("%(rule)s: %(customer)s")
        vals_list = [
            {
                "res_model_id": model_id,
                "res_id": warning.id,
                "activity_type_id": activity_type.id,
                "user_id": warning.user_id.id,
                "date_deadline": today,
                "summary": summary
                % {"rule": warning.rule_id.name, "customer": warning.partner_id.name},
                "note": warning.figures,
                "automated": True,
            }
            for warning in self.sudo()
            if warning.user_id
        ]
        # The digest tells the managers; no e-mail per activity.
        return (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
            .create(vals_list)
        )

    # ------------------------------------------------------------------ digest

    @api.model
    def _digest_recipients(self, company):
        group = self.env.ref("ar_credit_control.group_credit_control_manager")
        return group.sudo().users.filtered(
            lambda user: (
                company in user.company_ids and user.active and not user.share and user.email
            )
        )

    @api.model
    def _send_digest(self):
        """One e-mail per company to its credit managers listing the warnings raised since
        the last digest. Returns the mails created."""
        template = self.env.ref("ar_credit_control.mail_template_credit_warning_digest")
        pending = self.sudo().search([("digest_sent", "=", False), ("state", "=", "active")])
        mails = self.env["mail.mail"]
        for company in pending.company_id:
            warnings = pending.filtered(lambda warning, c=company: warning.company_id == c)
            recipients = self._digest_recipients(company)
            if recipients:
                mail_id = template.with_context(digest_warning_ids=warnings.ids).send_mail(
                    company.id,
                    email_values={"recipient_ids": [(6, 0, recipients.partner_id.ids)]},
                )
                mails |= self.env["mail.mail"].sudo().browse(mail_id)
            warnings.write({"digest_sent": True})
        return mails

    # ------------------------------------------------------------------ actions

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }
