"""Early-warning rules, per company: each kind of risk signal is one switchable rule whose
parameters say when it fires.

Every rule evaluates in ONE set-based SQL query returning the conditions that hold now, as
(commercial partner, condition key, figures, is new). ``ar.credit.warning`` turns that set into
warnings in one statement: new conditions insert, vanished ones resolve, the unique key
(rule, partner, company, condition key) keeps a second run from adding anything.
"""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from ..database_objects import ensure_index
from .ar_receivable import open_line

RULE_TYPES = [
    ("utilisation", "Credit utilisation above a threshold"),
    ("overdue", "New invoice overdue beyond N days"),
    ("lateness_trend", "Recent lateness worse than the customer's history"),
    ("broken_promise", "Broken promise to pay"),
    ("grade_downgrade", "Grade downgrade"),
    ("large_order", "Large new order from a watch-segment customer"),
    ("pre_due", "Invoice due soon (pre-due reminder)"),
]
GRADE_RANK = SQL("ARRAY['A', 'B', 'C', 'D', 'E']::varchar[]")
OPEN_LINE = open_line("aml")
NON_NEGATIVE = {
    "threshold_percent": "Utilisation threshold",
    "days": "Days",
    "lookback_days": "Look-back days",
    "recent_count": "Recent payments",
    "margin_days": "Lateness margin",
    "amount_threshold": "Order amount",
}


class ArWarningRule(models.Model):
    _name = "ar.warning.rule"
    _description = "Early-warning rule"
    _inherit = ["mail.thread", "ar.company.owned"]
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    rule_type = fields.Selection(RULE_TYPES, required=True, tracking=True)
    threshold_percent = fields.Float(
        string="Utilisation threshold (%)",
        default=90.0,
        tracking=True,
        help="Utilisation: warn above this share of the credit limit.",
    )
    days = fields.Integer(
        default=30,
        tracking=True,
        help="Overdue: days past due before an invoice warns. Pre-due: days before the due date.",
    )
    lookback_days = fields.Integer(
        string="Look-back (days)",
        default=7,
        tracking=True,
        help="How recent an event must be to raise a new warning (overdue crossing, order, "
        "grade change, broken promise).",
    )
    recent_count = fields.Integer(
        string="Recent payments",
        default=5,
        tracking=True,
        help="Lateness trend: the last k paid invoices are compared with the earlier ones.",
    )
    margin_days = fields.Float(
        string="Lateness margin (days)",
        default=10.0,
        tracking=True,
        help="Lateness trend: warn when recent payments are late by this many more days on "
        "average than earlier ones.",
    )
    amount_threshold = fields.Monetary(
        string="Order amount",
        default=10000.0,
        tracking=True,
        help="Large order: warn for confirmed orders above this amount (company currency).",
    )
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Collector",
        tracking=True,
        help="Gets the activity when the customer has no salesperson.",
    )
    warning_ids = fields.One2many("ar.credit.warning", "rule_id")
    active_warning_count = fields.Integer(compute="_compute_active_warning_count")

    @api.constrains(*NON_NEGATIVE)
    def _check_parameters(self):
        labels = {
            "threshold_percent": _("utilisation threshold"),
            "days": _("number of days"),
            "lookback_days": _("look-back period"),
            "recent_count": _("number of recent payments"),
            "margin_days": _("lateness margin"),
            "amount_threshold": _("order amount"),
        }
        for rule in self:
            for field_name in NON_NEGATIVE:
                if rule[field_name] < 0:
                    raise ValidationError(
                        _(
                            "Warning rule %(rule)s: the %(parameter)s cannot be negative "
                            "(%(value)s).",
                            rule=rule.name,
                            parameter=labels[field_name],
                            value=rule[field_name],
                        )
                    )
            if rule.rule_type == "lateness_trend" and rule.recent_count < 1:
                raise ValidationError(
                    _(
                        "Warning rule %(rule)s: compare at least one recent payment.",
                        rule=rule.name,
                    )
                )

    def _compute_active_warning_count(self):
        counts = dict(
            self.env["ar.credit.warning"]._read_group(
                [("rule_id", "in", self.ids), ("state", "=", "active")],
                ["rule_id"],
                ["__count"],
            )
        )
        for rule in self:
            rule.active_warning_count = counts.get(rule, 0)

    def init(self):
        # Paid receivable instalments, the history read by the lateness trend and the
        # collection forecast: without it both scan every line with a due date.
        ensure_index(
            self.env.cr,
            "ar_warning_settled_line_idx",
            "CREATE INDEX ar_warning_settled_line_idx ON account_move_line "
            "(company_id, account_id) INCLUDE (id, partner_id, date_maturity, balance) "
            "WHERE parent_state = 'posted' AND reconciled AND balance > 0 "
            "AND date_maturity IS NOT NULL",
        )

    # ------------------------------------------------------------------ conditions

    def _conditions_query(self, today):
        """SQL of the conditions that hold now: (partner_id, condition_key, figures, is_new).

        ``is_new`` says whether the condition may raise a warning today; a condition that holds
        but is not new keeps an existing warning active without creating one.
        """
        self.ensure_one()
        builder = getattr(self, f"_conditions_{self.rule_type}")
        return builder(today)

    def _receivable_accounts(self):
        return self.env["ar.receivable"]._account_ids(self.company_id)

    def _conditions_utilisation(self, today):
        # The profile snapshot is refreshed in batch by the daily credit evaluation.
        return SQL(
            """
            SELECT profile.partner_id, 'utilisation' AS condition_key,
                   jsonb_build_object('utilisation', round(profile.utilisation::numeric, 1),
                                      'exposure', profile.exposure,
                                      'limit', profile.credit_limit,
                                      'threshold', %(threshold)s) AS figures,
                   true AS is_new
              FROM ar_credit_profile profile
             WHERE profile.company_id = %(company)s
               AND profile.credit_limit > 0
               AND profile.utilisation > %(threshold)s
            """,
            company=self.company_id.id,
            threshold=self.threshold_percent,
        )

    def _open_invoice_conditions(self, today, due_filter, new_filter, extra_join=None):
        """Open receivable instalments grouped per invoice, as conditions keyed by invoice."""
        return SQL(
            """
            SELECT rp.commercial_partner_id AS partner_id,
                   'invoice:' || move.id AS condition_key,
                   jsonb_build_object('invoice', move.name,
                                      'amount', SUM(aml.amount_residual),
                                      'due', MIN(aml.date_maturity),
                                      'days', %(today)s::date - MIN(aml.date_maturity)) AS figures,
                   bool_or(%(new_filter)s) AS is_new
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              JOIN res_partner rp ON rp.id = aml.partner_id
              %(extra_join)s
             WHERE aml.account_id = ANY(%(accounts)s)
               AND aml.company_id = %(company)s
               AND %(open_line)s
               AND aml.amount_residual > 0
               AND %(due_filter)s
               -- paid by a payment not yet matched with the bank: the money is on its way
               AND move.payment_state NOT IN ('in_payment', 'paid')
             GROUP BY rp.commercial_partner_id, move.id, move.name
            """,
            today=today,
            accounts=self._receivable_accounts(),
            company=self.company_id.id,
            open_line=OPEN_LINE,
            due_filter=due_filter,
            new_filter=new_filter,
            extra_join=extra_join or SQL(""),
        )

    def _conditions_overdue(self, today):
        limit = today - timedelta(days=self.days)
        return self._open_invoice_conditions(
            today,
            SQL("aml.date_maturity < %s", limit),
            # new: crossed the N days within the look-back period
            SQL("aml.date_maturity >= %s", limit - timedelta(days=self.lookback_days)),
        )

    def _conditions_pre_due(self, today):
        return self._open_invoice_conditions(
            today,
            SQL("aml.date_maturity BETWEEN %s AND %s", today, today + timedelta(days=self.days)),
            SQL("true"),
            extra_join=SQL(
                """
                JOIN ar_credit_profile profile
                  ON profile.partner_id = rp.commercial_partner_id
                 AND profile.company_id = %(company)s
                JOIN ar_credit_policy policy
                  ON policy.company_id = %(company)s
                 AND policy.grade = profile.grade
                 AND policy.pre_due_reminder
                """,
                company=self.company_id.id,
            ),
        )

    def _conditions_lateness_trend(self, today):
        """Average lateness of the last k paid instalments against the earlier ones (at least
        k of them), over two years of payments, in one pass of window functions."""
        return SQL(
            """
            WITH paid AS (
                SELECT rp.commercial_partner_id AS partner_id, aml.id,
                       GREATEST(MAX(part.max_date) - aml.date_maturity, 0) AS days_late,
                       MAX(part.max_date) AS paid_date
                  FROM account_move_line aml
                  JOIN res_partner rp ON rp.id = aml.partner_id
                  JOIN account_partial_reconcile part ON part.debit_move_id = aml.id
                 WHERE aml.account_id = ANY(%(accounts)s)
                   AND aml.company_id = %(company)s
                   AND aml.parent_state = 'posted'
                   AND aml.reconciled
                   AND aml.balance > 0
                   AND aml.date_maturity IS NOT NULL
                   AND part.max_date > %(since)s
                 GROUP BY rp.commercial_partner_id, aml.id, aml.date_maturity
            ),
            ranked AS (
                SELECT partner_id, days_late,
                       row_number() OVER (PARTITION BY partner_id
                                          ORDER BY paid_date DESC, id DESC) AS position,
                       count(*) OVER (PARTITION BY partner_id) AS paid_count
                  FROM paid
            ),
            trend AS (
                SELECT partner_id,
                       AVG(days_late) FILTER (WHERE position <= %(k)s) AS recent,
                       AVG(days_late) FILTER (WHERE position > %(k)s) AS earlier
                  FROM ranked
                 WHERE paid_count >= 2 * %(k)s
                 GROUP BY partner_id
            )
            SELECT partner_id, 'lateness' AS condition_key,
                   jsonb_build_object('recent', round(recent, 1), 'earlier', round(earlier, 1),
                                      'count', %(k)s, 'margin', %(margin)s) AS figures,
                   true AS is_new
              FROM trend
             WHERE recent - earlier > %(margin)s
            """,
            accounts=self._receivable_accounts(),
            company=self.company_id.id,
            since=today - timedelta(days=730),
            k=self.recent_count,
            margin=self.margin_days,
        )

    def _conditions_broken_promise(self, today):
        return SQL(
            """
            SELECT promise.partner_id, 'promise:' || promise.id AS condition_key,
                   jsonb_build_object('amount', promise.amount,
                                      'date', promise.promised_date) AS figures,
                   promise.promised_date >= %(since)s AS is_new
              FROM ar_payment_promise promise
             WHERE promise.company_id = %(company)s
               AND promise.state = 'broken'
            """,
            company=self.company_id.id,
            since=today - timedelta(days=self.lookback_days),
        )

    def _conditions_grade_downgrade(self, today):
        """A review that lowered the grade (A best, E worst), recent, and still in force."""
        return SQL(
            """
            SELECT review.partner_id, 'review:' || review.id AS condition_key,
                   jsonb_build_object('previous', review.previous_grade, 'grade', review.grade,
                                      'date', review.review_date::date) AS figures,
                   true AS is_new
              FROM ar_credit_review review
              JOIN ar_credit_profile profile ON profile.id = review.profile_id
             WHERE review.company_id = %(company)s
               AND review.review_date >= %(since)s
               AND array_position(%(rank)s, review.grade)
                   > array_position(%(rank)s, review.previous_grade)
               AND profile.grade = review.grade
            """,
            company=self.company_id.id,
            since=today - timedelta(days=self.lookback_days),
            rank=GRADE_RANK,
        )

    def _conditions_large_order(self, today):
        return SQL(
            """
            SELECT rp.commercial_partner_id AS partner_id, 'order:' || so.id AS condition_key,
                   jsonb_build_object('order', so.name,
                                      'amount', round((so.amount_total
                                          / COALESCE(NULLIF(so.currency_rate, 0), 1))::numeric,
                                          2)) AS figures,
                   true AS is_new
              FROM sale_order so
              JOIN res_partner rp ON rp.id = so.partner_id
              JOIN ar_credit_profile profile
                ON profile.partner_id = rp.commercial_partner_id
               AND profile.company_id = so.company_id
             WHERE so.company_id = %(company)s
               AND so.state = 'sale'
               AND so.date_order >= %(since)s
               AND profile.segment = 'watch'
               AND so.amount_total / COALESCE(NULLIF(so.currency_rate, 0), 1) > %(amount)s
            """,
            company=self.company_id.id,
            since=today - timedelta(days=self.lookback_days),
            amount=self.amount_threshold,
        )

    # ------------------------------------------------------------------ evaluation

    def _evaluate(self, today=None):
        """Evaluate these rules now; returns the warnings raised (new or raised again)."""
        today = today or fields.Date.context_today(self)
        warnings = self.env["ar.credit.warning"]
        self.env.flush_all()
        for rule in self.filtered("active"):
            warnings |= warnings._sync_conditions(rule, rule._conditions_query(today), today)
        warnings._schedule_activities()
        return warnings

    @api.model
    def _cron_evaluate_warnings(self):
        """Daily: every active rule of every company, then the digest to the credit managers."""
        rules = self.sudo().search([])
        rules._evaluate()
        self.env["ar.credit.warning"].sudo()._send_digest()
        return True

    @api.model
    def _ensure_default_rules(self, companies=None):
        """One rule of each kind per company (the lateness and order rules start switched off:
        they need a view of the customer's history and segments first)."""
        companies = companies or self.env["res.company"].sudo().search([])
        existing = set(
            self.sudo()
            .with_context(active_test=False)
            .search([("company_id", "in", companies.ids)])
            .mapped(lambda rule: (rule.company_id.id, rule.rule_type))
        )
        labels = dict(self._fields["rule_type"]._description_selection(self.env))
        vals = [
            {
                "company_id": company.id,
                "rule_type": rule_type,
                "name": labels[rule_type],
                "sequence": 10 * position,
                "days": 5 if rule_type == "pre_due" else 30,
                "lookback_days": 30 if rule_type in ("broken_promise", "grade_downgrade") else 7,
                "active": rule_type not in ("lateness_trend", "large_order"),
            }
            for company in companies
            for position, (rule_type, _label) in enumerate(RULE_TYPES, start=1)
            if (company.id, rule_type) not in existing
        ]
        return self.sudo().create(vals)

    def action_evaluate(self):
        if not self.env.user.has_group("ar_credit_control.group_credit_control_manager"):
            raise AccessError(self.env._("Only credit managers can evaluate warning rules."))
        self._evaluate()
        return True

    def action_open_warnings(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Warnings of %s", self.name),
            "res_model": "ar.credit.warning",
            "view_mode": "list,form",
            "domain": [("rule_id", "=", self.id)],
        }
