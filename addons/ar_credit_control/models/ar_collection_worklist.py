"""The collector's worklist: customers in dunning to contact today, most urgent first.

An SQL view, one row per (customer, company) in dunning with overdue open items, ranked by
priority: the sum over the overdue items of amount x days overdue, counting half for an item
under an open promise and half for one under an open dispute, times the factor of the
customer's grade (``GRADE_FACTORS``). ``rank_reason`` says it in words. The collector is the
customer's, else their segment's (``ar_credit_profile_dunning.collector_sql``). A customer drops
off the list for the day once a contact is logged, and until the next action date of the last
log. Days count in the company's time zone.
"""

from odoo import api, fields, models, tools
from odoo.tools import SQL, format_date, formatLang

from .ar_credit_profile import GRADES
from .ar_credit_profile_dunning import collector_sql
from .ar_receivable import awaiting_bank, open_line

# How much a customer's grade weighs on their rank: a weak payer first. No grade (or "new"): 1.
GRADE_FACTORS = {"A": 0.5, "B": 0.75, "C": 1.0, "D": 1.5, "E": 2.0}
# An item the customer promised to pay, or disputes, is worked through the promise or the
# dispute: it counts for less.
PROMISE_FACTOR = 0.5
DISPUTE_FACTOR = 0.5


class ArCollectionWorklist(models.Model):
    _name = "ar.collection.worklist"
    _description = "Collector worklist"
    _auto = False
    _order = "priority desc, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    dunning_level = fields.Integer(readonly=True)
    grade = fields.Selection(GRADES, readonly=True)
    amount_overdue = fields.Monetary(readonly=True)
    amount_promised = fields.Monetary(
        string="Overdue and promised", readonly=True, help="Under an open promise to pay."
    )
    amount_disputed = fields.Monetary(
        string="Overdue and disputed", readonly=True, help="Under an open dispute."
    )
    next_promise_date = fields.Date(
        string="Promised for", readonly=True, help="The earliest open promise on overdue items."
    )
    max_days_overdue = fields.Integer(string="Days overdue", readonly=True)
    lateness_days = fields.Float(
        string="Average days late",
        readonly=True,
        aggregator="avg",
        help="Days overdue, averaged over the overdue items weighted by their amount.",
    )
    priority = fields.Float(
        readonly=True,
        help="Overdue amount x days overdue per item (promised or disputed items count half), "
        "times the grade's factor.",
    )
    rank_reason = fields.Char(string="Why this rank", compute="_compute_rank_reason")
    last_contact_date = fields.Date(readonly=True)
    next_action_date = fields.Date(readonly=True)
    phone = fields.Char(related="partner_id.phone")
    email = fields.Char(related="partner_id.email")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    WITH today AS (
                        SELECT company.id AS company_id,
                               (now() AT TIME ZONE COALESCE(cp.tz, 'UTC'))::date AS day
                          FROM res_company company
                          JOIN res_partner cp ON cp.id = company.partner_id
                    )
                    SELECT profile.id, profile.partner_id, profile.company_id,
                           %(collector)s AS user_id, profile.dunning_level, profile.grade,
                           agg.amount_overdue, agg.amount_promised, agg.amount_disputed,
                           agg.next_promise_date, agg.max_days_overdue,
                           agg.amount_days / agg.amount_overdue AS lateness_days,
                           agg.weighted_amount_days * COALESCE(grade_factor.factor, 1.0)
                               AS priority,
                           last_log.date AS last_contact_date, last_log.next_action_date
                      FROM ar_credit_profile profile
                      JOIN today ON today.company_id = profile.company_id
                      LEFT JOIN (VALUES %(grade_factors)s) AS grade_factor(grade, factor)
                             ON grade_factor.grade = profile.grade
                      CROSS JOIN LATERAL (
                          SELECT SUM(item.amount) AS amount_overdue,
                                 SUM(item.amount) FILTER (WHERE item.promised_date IS NOT NULL)
                                     AS amount_promised,
                                 SUM(item.amount) FILTER (WHERE item.disputed)
                                     AS amount_disputed,
                                 MIN(item.promised_date) AS next_promise_date,
                                 MAX(item.days) AS max_days_overdue,
                                 SUM(item.amount * item.days) AS amount_days,
                                 SUM(item.amount * item.days
                                     * CASE WHEN item.promised_date IS NOT NULL
                                            THEN %(promise_factor)s ELSE 1.0 END
                                     * CASE WHEN item.disputed
                                            THEN %(dispute_factor)s ELSE 1.0 END)
                                     AS weighted_amount_days
                            FROM (
                              SELECT aml.amount_residual AS amount,
                                     today.day - aml.date_maturity AS days,
                                     EXISTS (
                                         SELECT 1 FROM ar_dispute_account_move_rel rel
                                           JOIN ar_dispute dispute ON dispute.id = rel.dispute_id
                                          WHERE rel.move_id = aml.move_id
                                            AND dispute.state = 'open') AS disputed,
                                     (SELECT MIN(promise.promised_date)
                                        FROM ar_payment_promise_account_move_rel rel
                                        JOIN ar_payment_promise promise
                                          ON promise.id = rel.promise_id
                                       WHERE rel.move_id = aml.move_id
                                         AND promise.state = 'open') AS promised_date
                                FROM res_partner member
                                JOIN account_move_line aml ON aml.partner_id = member.id
                                JOIN account_account account ON account.id = aml.account_id
                                JOIN account_move move ON move.id = aml.move_id
                               WHERE member.commercial_partner_id = profile.partner_id
                                 AND aml.company_id = profile.company_id
                                 AND %(open_line)s
                                 -- ar.receivable's accounts, in SQL: a view takes no parameter,
                                 -- and the line's company is filtered already
                                 AND account.account_type = 'asset_receivable'
                                 AND NOT (%(awaiting_bank)s)
                                 AND aml.amount_residual > 0
                                 AND aml.date_maturity < today.day
                            ) AS item
                      ) AS agg
                      LEFT JOIN LATERAL (
                          SELECT log.date, log.next_action_date
                            FROM ar_collection_log log
                           WHERE log.partner_id = profile.partner_id
                             AND log.company_id = profile.company_id
                           ORDER BY log.date DESC, log.id DESC
                           LIMIT 1
                      ) AS last_log ON true
                     WHERE profile.dunning_level > 0
                       AND agg.amount_overdue > 0
                       AND (last_log.date IS NULL OR last_log.date < today.day)
                       AND (last_log.next_action_date IS NULL
                            OR last_log.next_action_date <= today.day)
                )
                """,
                table=SQL.identifier(self._table),
                collector=collector_sql("profile"),
                grade_factors=SQL(", ").join(
                    SQL("(%s, %s::numeric)", grade, factor)
                    for grade, factor in GRADE_FACTORS.items()
                ),
                promise_factor=PROMISE_FACTOR,
                dispute_factor=DISPUTE_FACTOR,
                open_line=open_line("aml"),
                awaiting_bank=awaiting_bank("move"),
            )
        )

    @api.depends("amount_overdue", "lateness_days", "grade", "amount_promised", "amount_disputed")
    def _compute_rank_reason(self):
        for row in self:
            row.rank_reason = row._rank_reason()

    def _rank_reason(self):
        """E.g. "12,400 overdue × 45 days × grade D (×1.5); promise due 12/03/2026 halves it"."""
        _ = self.env._

        def amount(value):
            return formatLang(self.env, value, digits=0)

        reason = _(
            "%(amount)s overdue × %(days)s days",
            amount=amount(self.amount_overdue),
            days=round(self.lateness_days),
        )
        if self.grade in GRADE_FACTORS:
            reason = _(
                "%(reason)s × grade %(grade)s (×%(factor)s)",
                reason=reason,
                grade=self.grade,
                factor=GRADE_FACTORS[self.grade],
            )
        parts = [reason]
        for covered, label in (
            (
                self.amount_promised,
                _("promise due %s", format_date(self.env, self.next_promise_date)),
            ),
            (self.amount_disputed, _("dispute open")),
        ):
            if not covered:
                continue
            if self.currency_id.compare_amounts(covered, self.amount_overdue) >= 0:
                parts.append(_("%(what)s halves it", what=label))
            else:
                parts.append(
                    _("%(what)s halves %(amount)s of it", what=label, amount=amount(covered))
                )
        return "; ".join(parts)

    @api.model
    def count_today(self, only_mine=False):
        """How many customers are on today's worklist that the user may see: all of them, or
        with `only_mine` those of which they are the collector."""
        domain = [("user_id", "=", self.env.uid)] if only_mine else []
        return self.search_count(domain)

    def _log(self, result, **values):
        logs = self.env["ar.collection.log"].create(
            [
                {
                    "partner_id": row.partner_id.id,
                    "company_id": row.company_id.id,
                    "channel": "call",
                    "result": result,
                    **values,
                }
                for row in self
            ]
        )
        return logs

    def action_log_reached(self):
        self._log("reached")
        return True

    def action_log_no_answer(self):
        self._log("no_answer", next_action_date=fields.Date.add(fields.Date.today(), days=1))
        return True

    def action_log_wrong_contact(self):
        self._log("wrong_contact")
        return True

    def action_log_refused(self):
        self._log("refused")
        return True

    # One click from the row: a collection log form in a dialog, customer and result preset.
    # The row buttons' names are kept stable (the browser tour clicks them).

    def action_log_call(self):
        return self._log_form("reached")

    def action_log_promise(self):
        return self._log_form("promised")

    def action_log_dispute(self):
        return self._log_form("disputed")

    def _log_form(self, result):
        self.ensure_one()
        titles = {
            "reached": self.env._("Log a call with %s", self.partner_id.display_name),
            "promised": self.env._("Log a promise to pay by %s", self.partner_id.display_name),
            "disputed": self.env._("Log a dispute of %s", self.partner_id.display_name),
        }
        return {
            "type": "ir.actions.act_window",
            "name": titles[result],
            "res_model": "ar.collection.log",
            "view_mode": "form",
            "views": [(self.env.ref("ar_credit_control.ar_collection_log_view_form").id, "form")],
            "target": "new",
            "context": {
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
                "default_channel": "call",
                "default_result": result,
                "default_promise_amount": self.amount_overdue if result == "promised" else 0.0,
            },
        }
