"""A warning raised by an early-warning rule for one customer in one company.

One warning per (rule, customer, company, condition key): a condition that still holds on the
next run adds nothing, one that no longer holds is resolved, one that comes back is raised
again. Each raised warning gets one activity for the customer's salesperson (or the rule's
collector) and is listed once in the credit managers' daily digest.
"""

import ast
import json
import logging
from time import monotonic

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import get_lang

from odoo.addons.base.models.res_lang import intersperse

_logger = logging.getLogger(__name__)

DIGEST_LISTED = 200  # warnings listed one by one in a digest; the rest are counted


class ArCreditWarning(models.Model):
    _name = "ar.credit.warning"
    _description = "Credit early warning"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, date_detected desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"
    # Collectors and salespeople only read warnings, yet log notes and act on their to-dos.
    _mail_post_access = "read"

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
        texts = self._figure_texts(
            (warning.rule_type, warning.figures_json, warning.currency_id) for warning in self
        )
        for warning, text in zip(self, texts, strict=True):
            warning.figures = text

    @api.model
    def _money_formatter(self, currency):
        """``currency.format`` for many amounts: the language's separators are read once
        (``format`` looks the language up again for every amount)."""
        lang = get_lang(self.env)
        data = self.env["res.lang"]._get_data(id=lang.id)
        grouping = ast.literal_eval(data.grouping)
        thousands, point = data.thousands_sep or "", data.decimal_point
        pattern = f"%.{currency.decimal_places}f"
        symbol = currency.symbol or ""
        before = currency.position == "before"

        def format_money(amount):
            integral, dot, decimals = (pattern % currency.round(amount)).partition(".")
            text = intersperse(integral, grouping, thousands)[0] + (point + decimals if dot else "")
            text = text.replace(" ", "\N{NO-BREAK SPACE}").replace(
                "-", "-\N{ZERO WIDTH NO-BREAK SPACE}"
            )
            if before:
                return f"{symbol}\N{NO-BREAK SPACE}{text}"
            return f"{text}\N{NO-BREAK SPACE}{symbol}"

        return format_money

    @api.model
    def _figure_texts(self, rows):
        """The readable figures of (rule type, figures JSON, currency) rows, in order."""
        templates = self._figure_templates()
        formatters = {}
        money = {"amount", "exposure", "limit"}
        texts = []
        for rule_type, figures_json, currency in rows:
            params = json.loads(figures_json or "{}")
            if money & set(params):
                if currency.id not in formatters:
                    formatters[currency.id] = self._money_formatter(currency)
                for key in money & set(params):
                    params[key] = formatters[currency.id](float(params[key] or 0.0))
            try:
                texts.append(templates[rule_type] % params)
            except (KeyError, TypeError, ValueError):
                texts.append(figures_json or "")
        return texts

    # ------------------------------------------------------------------ synchronisation

    @api.model
    def _sync_conditions(self, rule, conditions, today):
        """Bring the rule's warnings in line with the conditions that hold now, in one
        statement: insert the new ones (or raise resolved ones again), refresh the figures of
        the active ones, resolve those whose condition vanished. Returns the raised warnings."""
        # The conditions go through a temporary table with statistics: as a CTE the planner
        # guesses its size and may compare every warning with every condition.
        cr = self.env.cr
        started = monotonic()
        cr.execute("DROP TABLE IF EXISTS ar_warning_conditions")
        cr.execute(
            SQL(
                "CREATE TEMP TABLE ar_warning_conditions ON COMMIT DROP AS %s",
                conditions,
            )
        )
        cr.execute("CREATE INDEX ON ar_warning_conditions (partner_id, condition_key)")
        cr.execute("ANALYZE ar_warning_conditions")
        rows = self.env.execute_query(
            SQL(
                """
                WITH raised AS (
                    INSERT INTO ar_credit_warning AS warning
                           (rule_id, rule_type, partner_id, company_id, user_id, condition_key,
                            figures_json, state, date_detected, digest_sent,
                            create_uid, create_date, write_uid, write_date)
                    SELECT %(rule)s, %(rule_type)s, c.partner_id, %(company)s,
                           COALESCE(rp.user_id, %(fallback_user)s), c.condition_key,
                           c.figures::text, 'active', %(today)s, false,
                           %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
                      FROM ar_warning_conditions c
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
                      FROM ar_warning_conditions c
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
                           SELECT 1 FROM ar_warning_conditions c
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
                rule=rule.id,
                rule_type=rule.rule_type,
                company=rule.company_id.id,
                fallback_user=rule.responsible_user_id.id or None,
                today=today,
                uid=self.env.uid,
            )
        )
        cr.execute("DROP TABLE ar_warning_conditions")
        self.invalidate_model()
        raised = self.browse(row[0] for row in rows if row[1] == "raised")
        resolved = self.browse(row[0] for row in rows if row[1] == "resolved")
        if resolved:
            # The open to-dos of resolved warnings have nothing left to act on.
            self.env["mail.activity"].sudo().search(
                [("res_model", "=", self._name), ("res_id", "in", resolved.ids)]
            ).unlink()
        _logger.info(
            "warning rule %s (%s): %d raised, %d resolved in %.1f s",
            rule.id,
            rule.rule_type,
            len(raised),
            len(resolved),
            monotonic() - started,
        )
        return raised

    def _schedule_activities(self):
        """One to-do per raised warning for its responsible user (none without one).

        The to-dos are created through the ORM in one batch (``mail.activity.create``, what
        ``activity_schedule`` does, with a summary and a note per warning): the responsible
        users follow their warnings and their activity counters are told. As Odoo's own
        automated to-dos from a cron (``hr_contract``), no "assigned to you" e-mail per to-do
        (``mail_activity_quick_update``): the digest tells the credit managers. Summary and
        figures are written in the responsible user's language."""
        activities = self.env["mail.activity"]
        if not self:
            return activities
        activity_type = self.env.ref(
            "ar_credit_control.mail_activity_credit_warning", raise_if_not_found=False
        ) or self.env.ref("mail.mail_activity_data_todo")
        self.env.flush_all()
        default_lang = self.env.lang or "en_US"
        facts = self.env.execute_query(
            SQL(
                """
                SELECT warning.id, warning.user_id, COALESCE(user_partner.lang, %(lang)s),
                       warning.rule_id, customer.name, warning.rule_type, warning.figures_json,
                       company.currency_id
                  FROM ar_credit_warning warning
                  JOIN res_company company ON company.id = warning.company_id
                  JOIN res_partner customer ON customer.id = warning.partner_id
                  JOIN res_users users ON users.id = warning.user_id
                  JOIN res_partner user_partner ON user_partner.id = users.partner_id
                 WHERE warning.id = ANY(%(warnings)s)
                 ORDER BY warning.id
                """,
                lang=default_lang,
                warnings=self.ids,
            )
        )
        if not facts:
            return activities
        by_lang = {}
        for row in facts:
            by_lang.setdefault(row[2], []).append(row)
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        currencies = self.env["res.currency"]
        vals_list = []
        for lang, rows in by_lang.items():
            translated = self.with_context(lang=lang)
            summary = translated.env._("%(rule)s: %(customer)s")
            rule_names = {
                rule.id: rule.name
                for rule in translated.env["ar.warning.rule"].browse({row[3] for row in rows})
            }
            notes = translated._figure_texts(
                (rule_type, figures_json, currencies.browse(currency_id))
                for *_head, rule_type, figures_json, currency_id in rows
            )
            for (warning_id, user_id, _lang, rule_id, customer, *_tail), note in zip(
                rows, notes, strict=True
            ):
                params = {"rule": rule_names[rule_id], "customer": customer}
                try:
                    text = summary % params
                except (KeyError, TypeError, ValueError):  # a broken translation
                    text = "%(rule)s: %(customer)s" % params
                vals_list.append(
                    {
                        "res_model_id": model_id,
                        "res_id": warning_id,
                        "activity_type_id": activity_type.id,
                        "user_id": user_id,
                        "summary": text,
                        "note": Markup("<p>%s</p>") % note,
                        "date_deadline": today,
                        "automated": True,
                    }
                )
        vals_list.sort(key=lambda vals: vals["res_id"])
        creator = activities.sudo().with_context(mail_activity_quick_update=True)
        # mail.activity computes the name of each to-do's document one record at a time: read
        # the names of all of them first, in batches.
        creator.env[self._name].browse(vals["res_id"] for vals in vals_list).mapped("display_name")
        activities = creator.create(vals_list).with_env(self.env)
        _logger.info("credit warnings: %d activities scheduled", len(activities))
        return activities

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
    def _send_digest(self, listed=DIGEST_LISTED):
        """One e-mail per company to its credit managers: the count of warnings raised since
        the last digest per rule, and the first `listed` of them in detail (a first run on a
        large book raises thousands; the warnings list holds them all). Returns the mails.

        Counting and marking are set-based: the pending warnings are never loaded."""
        template = self.env.ref("ar_credit_control.mail_template_credit_warning_digest")
        self.env.flush_all()
        pending = [("digest_sent", "=", False), ("state", "=", "active")]
        counts = self.sudo()._read_group(pending, ["company_id", "rule_id"], ["__count"])
        mails = self.env["mail.mail"]
        for company in (
            self.env["res.company"]
            .sudo()
            .browse(sorted({company.id for company, _rule, _count in counts}))
        ):
            per_rule = sorted(
                (rule.name, count)
                for rule_company, rule, count in counts
                if rule_company == company
            )
            recipients = self._digest_recipients(company)
            if recipients:
                listed_warnings = self.sudo().search(
                    [*pending, ("company_id", "=", company.id)],
                    order="rule_id, partner_id, id",
                    limit=listed,
                )
                mail_id = template.with_context(
                    digest_warning_ids=listed_warnings.ids,
                    digest_total=sum(count for _name, count in per_rule),
                    digest_per_rule=per_rule,
                ).send_mail(
                    company.id,
                    email_values={"recipient_ids": [(6, 0, recipients.partner_id.ids)]},
                )
                mails |= self.env["mail.mail"].sudo().browse(mail_id)
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE ar_credit_warning
                       SET digest_sent = true, write_date = now() AT TIME ZONE 'UTC'
                     WHERE company_id = %s AND digest_sent = false AND state = 'active'
                    """,
                    company.id,
                )
            )
        self.invalidate_model(["digest_sent"])
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
