"""Receivables KPIs by month, stored so that the report opens at once with data.

One row per (month, company, customer, salesperson): the figures of that customer's invoices
of that salesperson over the month (the current month up to today). A cron refreshes the last
13 months every night, one company-month per committed chunk; a credit manager can ask for a
refresh at any time. Segments are the customers' current ones.

The facts come from the queries the KPI wizard uses too (``_aging_facts``, ``_sales_facts``):
the aging query at each month end and the credit sales per month. Each row stores figures that
add up (``ar_engine.kpi.KpiSums``); ``read_group`` gives each pivot or graph cell the ratios of
the summed figures (``ar_engine.kpi.group_kpis``), never an average of ratios.
"""

import calendar
import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from time import monotonic

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ar_engine.kpi import KpiSums, MonthlySales, PeriodFigures, dso_countback, group_kpis

from .ar_credit_profile import SEGMENTS

_logger = logging.getLogger(__name__)

COUNTBACK_MONTHS = 12
REFRESHED_MONTHS = 13  # the current month and the twelve before it
# The aging row column of each dimension, and the SQL giving it for a sales line.
AGING_COLUMN = {
    "company": "company_id",
    "salesperson": "user_id",
    "segment": "segment",
    "customer": "partner_id",
}
SALES_EXPRESSION = {
    "company": SQL("aml.company_id"),
    "salesperson": SQL("move.invoice_user_id"),
    "segment": SQL("profile.segment"),
    "customer": SQL("move.commercial_partner_id"),
}
ROW_DIMENSIONS = ("salesperson", "segment", "customer")
# Ratio field -> GroupKpis attribute; the figures they are computed from are KpiSums' fields.
RATIOS = {
    "dso": "dso",
    "dso_countback": "dso_countback",
    "best_possible_dso": "best_possible_dso",
    "average_days_delinquent": "average_days_delinquent",
    "cei": "collection_effectiveness_index",
    "overdue_share": "overdue_share",
}
SUMS = {
    "beginning_receivables": "beginning_receivables",
    "credit_sales": "credit_sales",
    "ending_receivables": "ending_receivables",
    "current_receivables": "ending_current_receivables",
    "receivable_days": "receivable_days",
    "current_receivable_days": "current_receivable_days",
    "countback_weight": "countback_weight",
    "countback_weighted": "countback_weighted",
}


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def current_net_of_unapplied(total, current, unapplied):
    """Current receivables once unapplied cash (`unapplied`: negative, of no age) is set
    against the overdue first, as dunning and the credit check do; what is left of it lowers
    the current receivables. One large unmatched payment then leaves the ratios meaningful:
    current stays between 0 and the total while the total is positive."""
    overdue = total - current - unapplied
    return total - max(0.0, overdue + unapplied)


def countback_history(sales, key, last_day, history_start):
    """MonthlySales of `key` from the month of `last_day` back to `history_start`, latest
    first, from `sales` {(key, first day of month): amount}. A month of net credit notes sold
    nothing: it counts as zero sales."""
    history = []
    month_start = last_day.replace(day=1)
    while month_start >= history_start:
        days = (min(month_end(month_start), last_day) - month_start).days + 1
        history.append(MonthlySales(max(sales.get((key, month_start), 0.0), 0.0), days))
        month_start -= relativedelta(months=1)
    return tuple(history)


def _positions(count):
    """GROUP BY 1, 2, … count."""
    return SQL(", ").join(SQL(str(position)) for position in range(1, count + 1))


class ArReceivableKpiMonth(models.Model):
    _name = "ar.receivable.kpi.month"
    _description = "Receivables KPIs of one customer and month"
    _order = "month desc, company_id, partner_id"
    _rec_name = "partner_id"

    month = fields.Date(required=True, index=True, readonly=True)
    days = fields.Integer(
        string="Days covered", readonly=True, aggregator="max", help="Up to today this month."
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", index=True, readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    segment = fields.Selection(SEGMENTS, string="Customer segment", readonly=True)

    beginning_receivables = fields.Monetary(readonly=True)
    credit_sales = fields.Monetary(readonly=True)
    ending_receivables = fields.Monetary(readonly=True)
    current_receivables = fields.Monetary(
        readonly=True, help="Not due or in payment at the end of the month."
    )
    overdue_amount = fields.Monetary(readonly=True)
    overdue_count = fields.Integer(string="Overdue items", readonly=True)
    # Figures the ratios of a group are computed from (see ar_engine.kpi.KpiSums).
    receivable_days = fields.Float(readonly=True)
    current_receivable_days = fields.Float(readonly=True)
    countback_weight = fields.Float(readonly=True)
    countback_weighted = fields.Float(readonly=True)
    # The ratios of the row; read_group replaces them by each group's own.
    dso = fields.Float(string="DSO", readonly=True, aggregator="avg")
    dso_countback = fields.Float(string="DSO (countback)", readonly=True, aggregator="avg")
    best_possible_dso = fields.Float(string="Best possible DSO", readonly=True, aggregator="avg")
    average_days_delinquent = fields.Float(
        string="Avg. days delinquent", readonly=True, aggregator="avg"
    )
    cei = fields.Float(string="CEI (%)", readonly=True, aggregator="avg")
    overdue_share = fields.Float(string="Overdue (%)", readonly=True, aggregator="avg")

    # ------------------------------------------------------------------ the report

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        """Each cell's ratios from the sums of its figures (a pivot would average them)."""
        ratios = [spec for spec in fields if spec.split(":")[0] in RATIOS]
        if not ratios:
            return super().read_group(domain, fields, groupby, offset, limit, orderby, lazy)
        sum_specs = [f"__arcc_{name}:sum({name})" for name in SUMS]
        groups = super().read_group(
            domain, [*fields, *sum_specs], groupby, offset, limit, orderby, lazy
        )
        for group in groups:
            sums = KpiSums(
                **{
                    attribute: group.pop(f"__arcc_{name}") or 0.0
                    for name, attribute in SUMS.items()
                }
            )
            kpis = group_kpis(sums)
            for spec in ratios:
                name = spec.split(":")[0]
                group[name] = getattr(kpis, RATIOS[name])
        return groups

    @api.model
    def action_refresh(self):
        """Refresh the KPIs of the current companies in the background (credit managers)."""
        if not self.env.user.has_group("ar_credit_control.group_credit_control_manager"):
            raise AccessError(self.env._("Only credit managers can refresh the KPIs."))
        self.env["ar.receivable.kpi.refresh"].sudo().search(
            [("company_id", "in", self.env.companies.ids)]
        ).unlink()
        self.env.ref("ar_credit_control.ir_cron_receivable_kpi_refresh").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "The KPIs are being refreshed; reload the report in a few minutes."
                ),
            },
        }

    # ------------------------------------------------------------------ facts

    @api.model
    def _aging_facts(self, company, bucket_set, as_of, dimensions):
        """{((dimension values), bucket line id): (amount, count)} of the receivables of
        `company` open at the end of `as_of`, grouped by `dimensions` (keys of AGING_COLUMN)."""
        self.env["ar.aging.report"]._disable_jit()
        columns = [SQL.identifier("items", AGING_COLUMN[name]) for name in dimensions]
        query = SQL(
            "SELECT %s, items.bucket_id, SUM(items.amount_residual), COUNT(*)"
            " FROM (%s) AS items GROUP BY %s",
            SQL(", ").join(columns),
            self.env["ar.aging.report"]._open_items_sql(bucket_set, as_of, [company.id]),
            _positions(len(columns) + 1),
        )
        return {
            (tuple(row[: len(columns)]), row[-3]): (row[-2], row[-1])
            for row in self.env.execute_query(query)
        }

    @api.model
    def _sales_facts(self, company, date_from, date_to, dimensions):
        """{((dimension values), first day of month): credit sales}: the receivable side of
        posted customer invoices net of credit notes, in company currency."""
        columns = [SALES_EXPRESSION[name] for name in dimensions]
        query = SQL(
            """
            SELECT %(columns)s, date_trunc('month', aml.date)::date, SUM(aml.balance)
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              LEFT JOIN ar_credit_profile profile
                     ON profile.partner_id = move.commercial_partner_id
                    AND profile.company_id = aml.company_id
             WHERE aml.account_id = ANY(%(accounts)s)
               AND aml.company_id = %(company)s
               AND aml.parent_state = 'posted'
               AND move.move_type IN ('out_invoice', 'out_refund')
               AND aml.date BETWEEN %(date_from)s AND %(date_to)s
             GROUP BY %(positions)s
            """,
            columns=SQL(", ").join(columns),
            positions=SQL(", ").join(
                SQL(str(position + 1)) for position in range(len(columns) + 1)
            ),
            accounts=self.env["ar.receivable"]._account_ids([company.id]),
            company=company.id,
            date_from=date_from,
            date_to=date_to,
        )
        return {(tuple(row[:-2]), row[-2]): row[-1] for row in self.env.execute_query(query)}

    @api.model
    def _current_bucket_ids(self, bucket_set):
        """Buckets of what is not late: not due yet, and in payment (unapplied cash, of no
        age, is set against the overdue: ``current_net_of_unapplied``)."""
        return set((bucket_set._aging_lines()[:1] | bucket_set._line_of_kind("in_payment")).ids)

    # ------------------------------------------------------------------ refresh

    @api.model
    def _refresh_month(self, company, month):
        """Replace the rows of `company` for the month starting on `month`."""
        self = self.sudo()  # the rows are derived figures: nobody writes them by hand
        today = fields.Date.context_today(self.with_company(company))
        end = min(month_end(month), today)
        bucket_set = self.env["ar.aging.bucket.set"].sudo()._get_default(company)
        current_buckets = self._current_bucket_ids(bucket_set)
        unapplied_bucket = bucket_set._line_of_kind("unapplied").id
        self.env.flush_all()
        opening = self._aging_facts(company, bucket_set, month - timedelta(days=1), ROW_DIMENSIONS)
        closing = self._aging_facts(company, bucket_set, end, ROW_DIMENSIONS)
        history_start = month - relativedelta(months=COUNTBACK_MONTHS - 1)
        sales = self._sales_facts(company, history_start, end, ROW_DIMENSIONS)

        figures = defaultdict(lambda: defaultdict(float))
        for (key, _bucket_id), (amount, _count) in opening.items():
            figures[key]["beginning"] += amount
        for (key, bucket_id), (amount, count) in closing.items():
            figures[key]["ending"] += amount
            if bucket_id == unapplied_bucket:
                figures[key]["unapplied"] += amount
            elif bucket_id in current_buckets:
                figures[key]["current"] += amount
            else:
                figures[key]["overdue_count"] += count
        for (key, sales_month), amount in sales.items():
            if sales_month == month:
                figures[key]["sales"] += amount

        days = (end - month).days + 1
        values = []
        for key, figure in figures.items():
            period = PeriodFigures(
                days_in_period=days,
                beginning_receivables=figure["beginning"],
                credit_sales=figure["sales"],
                ending_receivables=figure["ending"],
                ending_current_receivables=current_net_of_unapplied(
                    figure["ending"], figure["current"], figure["unapplied"]
                ),
            )
            countback = None
            if period.ending_receivables > 0:
                countback = dso_countback(
                    period.ending_receivables,
                    countback_history(sales, key, end, history_start),
                )
            sums = KpiSums.of_period(period, countback)
            kpis = group_kpis(sums)
            salesperson, segment, partner = key
            row = {
                "month": month,
                "days": days,
                "company_id": company.id,
                "partner_id": partner,
                "user_id": salesperson,
                "segment": segment,
                "overdue_amount": period.ending_receivables - period.ending_current_receivables,
                "overdue_count": int(figure["overdue_count"]),
            }
            row.update({name: getattr(sums, attribute) for name, attribute in SUMS.items()})
            row.update(
                {name: getattr(kpis, attribute) or 0.0 for name, attribute in RATIOS.items()}
            )
            values.append(row)
        self.search([("company_id", "=", company.id), ("month", "=", month)]).unlink()
        self.create(values)
        refresh = self.env["ar.receivable.kpi.refresh"]
        refresh.search([("company_id", "=", company.id), ("month", "=", month)]).unlink()
        refresh.create({"company_id": company.id, "month": month})
        return len(values)

    @api.model
    def _months_due(self):
        """[(company, first day of month)] of the last REFRESHED_MONTHS months not refreshed
        since the start of today (UTC), oldest first."""
        self = self.sudo()
        today = fields.Date.today()
        since = datetime.combine(today, time.min)
        first = today.replace(day=1) - relativedelta(months=REFRESHED_MONTHS - 1)
        done = {
            (refresh.company_id.id, refresh.month)
            for refresh in self.env["ar.receivable.kpi.refresh"].search(
                [("month", ">=", first), ("refreshed_at", ">=", since)]
            )
        }
        months = [first + relativedelta(months=index) for index in range(REFRESHED_MONTHS)]
        return [
            (company, month)
            for month in months
            for company in self.env["res.company"].search([])
            if (company.id, month) not in done
        ]

    @api.model
    def _cron_refresh(self, time_budget=240.0):
        """Refresh the months due, one committed company-month at a time, until the time
        budget is spent; then Odoo runs the cron again for the rest. Returns whether all
        were done."""
        self = self.sudo()
        started = monotonic()
        due = self._months_due()
        for done, (company, month) in enumerate(due, start=1):
            rows = self._refresh_month(company, month)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(due) - done)
            self.env.cr.commit()  # pylint: disable=invalid-commit
            _logger.debug("receivables KPIs: %s %s refreshed, %d rows", company.name, month, rows)
            # At least one month per call, so a small budget still makes progress.
            if monotonic() - started > time_budget and done < len(due):
                return False
        return True


class ArReceivableKpiRefresh(models.Model):
    _name = "ar.receivable.kpi.refresh"
    _description = "When a company-month of the receivables KPIs was last refreshed"
    _order = "month desc"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    month = fields.Date(required=True)
    refreshed_at = fields.Datetime(required=True, default=fields.Datetime.now)
