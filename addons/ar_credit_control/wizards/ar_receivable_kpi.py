"""Receivables KPIs per company, salesperson, segment or customer over a period.

Facts come from SQL aggregates: the aging query at each month end (open receivables and their
buckets as they stood then) and the credit sales (receivable side of customer invoices and
credit notes) per month. ``ar_engine.kpi`` turns them into DSO (standard and countback), best
possible DSO, average days delinquent and CEI. Definitions: ``readme/USAGE.md``.
"""

from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ar_engine.errors import InvalidInputError
from ar_engine.kpi import PeriodFigures, ReceivableKpis, compute_kpis, overdue_share

from ..models.ar_credit_profile import SEGMENTS
from ..models.ar_receivable_kpi_month import (
    COUNTBACK_MONTHS,
    countback_history,
    current_net_of_unapplied,
    month_end,
)

DIMENSIONS = [
    ("company", "Company"),
    ("salesperson", "Salesperson"),
    ("segment", "Segment"),
    ("customer", "Customer"),
]
# Each month costs an aging query: a longer period is refused, not left to run for hours.
MAX_PERIOD_MONTHS = 36


class ArReceivableKpi(models.TransientModel):
    _name = "ar.receivable.kpi"
    _description = "Receivables KPIs"
    _check_company_auto = True

    @api.model
    def _default_date_to(self):
        return fields.Date.context_today(self).replace(day=1) - timedelta(days=1)

    @api.model
    def _default_date_from(self):
        return self._default_date_to().replace(day=1) - relativedelta(months=2)

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    date_from = fields.Date(required=True, default=lambda self: self._default_date_from())
    date_to = fields.Date(required=True, default=lambda self: self._default_date_to())
    dimension = fields.Selection(DIMENSIONS, string="Per", required=True, default="company")
    bucket_set_id = fields.Many2one(
        "ar.aging.bucket.set",
        string="Aging buckets",
        required=True,
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        default=lambda self: self.env["ar.aging.bucket.set"]._get_default(self.env.company),
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.One2many("ar.receivable.kpi.line", "kpi_id", string="KPIs")
    bucket_ids = fields.One2many("ar.receivable.kpi.bucket", "kpi_id", string="Overdue by bucket")

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise UserError(self.env._("The period must start before it ends."))
            months = (
                (wizard.date_to.year - wizard.date_from.year) * 12
                + (wizard.date_to.month - wizard.date_from.month)
                + 1
            )
            if months > MAX_PERIOD_MONTHS:
                raise ValidationError(
                    self.env._(
                        "The period covers %(months)s months: choose at most %(max)s.",
                        months=months,
                        max=MAX_PERIOD_MONTHS,
                    )
                )

    # ------------------------------------------------------------------ facts

    def _aging_by_dimension(self, as_of):
        """{(dimension value, bucket line id): (amount, count)} of the receivables open at the
        end of `as_of`."""
        facts = self.env["ar.receivable.kpi.month"]._aging_facts(
            self.company_id, self.bucket_set_id, as_of, (self.dimension,)
        )
        return {(key, bucket_id): figures for ((key,), bucket_id), figures in facts.items()}

    def _monthly_sales(self, date_from, date_to):
        """{(dimension value, first day of month): credit sales}."""
        facts = self.env["ar.receivable.kpi.month"]._sales_facts(
            self.company_id, date_from, date_to, (self.dimension,)
        )
        return {(key, month): amount for ((key,), month), amount in facts.items()}

    def _months(self):
        """(first day, last day) of each calendar month of the period, clipped to it."""
        months = []
        start = self.date_from
        while start <= self.date_to:
            end = min(month_end(start), self.date_to)
            months.append((start, end))
            start = end + timedelta(days=1)
        return months

    def _dimension_label(self, key):
        if key is None:
            return self.env._("None")
        if self.dimension == "segment":
            return dict(SEGMENTS).get(key, key)
        model = {"company": "res.company", "salesperson": "res.users", "customer": "res.partner"}
        return self.env[model[self.dimension]].browse(key).display_name

    # ------------------------------------------------------------------ compute

    def action_compute(self):
        self.ensure_one()
        self.env.flush_all()
        self.line_ids.unlink()
        self.bucket_ids.unlink()
        bucket_set = self.bucket_set_id
        current_buckets = self.env["ar.receivable.kpi.month"]._current_bucket_ids(bucket_set)
        months = self._months()
        history_start = (self.date_to.replace(day=1)) - relativedelta(months=COUNTBACK_MONTHS - 1)
        history_start = min(history_start, self.date_from.replace(day=1))
        sales = self._monthly_sales(history_start, self.date_to)
        period_sales = self._monthly_sales(self.date_from, self.date_to)
        beginning = self._aging_by_dimension(self.date_from - timedelta(days=1))
        month_agings = [self._aging_by_dimension(end) for _start, end in months]

        unapplied_bucket = bucket_set._line_of_kind("unapplied").id
        late_buckets = set(bucket_set.line_ids.ids) - current_buckets - {unapplied_bucket}

        def totals(aging):
            total, current, unapplied = defaultdict(float), defaultdict(float), defaultdict(float)
            for (key, bucket_id), (amount, _count) in aging.items():
                total[key] += amount
                if bucket_id == unapplied_bucket:
                    unapplied[key] += amount
                elif bucket_id in current_buckets:
                    current[key] += amount
            return total, {
                key: current_net_of_unapplied(total[key], current[key], unapplied[key])
                for key in total
            }

        line_values, bucket_values = [], []

        def add_lines(kind, month, start, end, opening, closing, period_credit_sales):
            opening_total, _ = totals(opening)
            closing_total, closing_current = totals(closing)
            keys = set(opening_total) | set(closing_total) | set(period_credit_sales)
            for key in keys:
                figures = PeriodFigures(
                    days_in_period=(end - start).days + 1,
                    beginning_receivables=opening_total.get(key, 0.0),
                    credit_sales=period_credit_sales.get(key, 0.0),
                    ending_receivables=closing_total.get(key, 0.0),
                    ending_current_receivables=closing_current.get(key, 0.0),
                    monthly_sales=countback_history(sales, key, end, history_start),
                )
                try:
                    kpis = compute_kpis(figures)
                except InvalidInputError:
                    # More credit than owed at the end of the period (payments in advance,
                    # credit notes) or more credited than sold: the ratios mean nothing then.
                    kpis = ReceivableKpis(None, None, None, None, None)
                overdue = figures.ending_receivables - figures.ending_current_receivables
                overdue_count = sum(
                    count
                    for (k, bucket_id), (_amount, count) in closing.items()
                    if k == key and bucket_id in late_buckets
                )
                line_values.append(
                    {
                        "kpi_id": self.id,
                        "kind": kind,
                        "month": month,
                        "dimension_key": str(key),
                        "dimension_name": self._dimension_label(key),
                        "beginning_receivables": figures.beginning_receivables,
                        "credit_sales": figures.credit_sales,
                        "ending_receivables": figures.ending_receivables,
                        "current_receivables": figures.ending_current_receivables,
                        "overdue_amount": overdue,
                        "overdue_count": overdue_count,
                        "overdue_share": overdue_share(
                            figures.ending_receivables, figures.ending_current_receivables
                        )
                        or 0.0,
                        "dso": kpis.dso,
                        "dso_countback": kpis.dso_countback,
                        "best_possible_dso": kpis.best_possible_dso,
                        "average_days_delinquent": kpis.average_days_delinquent,
                        "cei": kpis.collection_effectiveness_index,
                        "has_dso": kpis.dso is not None,
                        "has_cei": kpis.collection_effectiveness_index is not None,
                    }
                )
            for (key, bucket_id), (amount, count) in closing.items():
                if bucket_id not in late_buckets:
                    continue
                total = closing_total.get(key, 0.0)
                bucket_values.append(
                    {
                        "kpi_id": self.id,
                        "kind": kind,
                        "month": month,
                        "dimension_name": self._dimension_label(key),
                        "bucket_id": bucket_id,
                        "amount": amount,
                        "count": count,
                        "share": 100.0 * amount / total if total else 0.0,
                    }
                )

        add_lines(
            "period",
            False,
            self.date_from,
            self.date_to,
            beginning,
            month_agings[-1],
            self._sum_by_key(period_sales),
        )
        opening = beginning
        for (start, end), closing in zip(months, month_agings, strict=True):
            month_sales = {key: amount for (key, month), amount in sales.items() if month == start}
            add_lines("month", start, start, end, opening, closing, month_sales)
            opening = closing
        self.env["ar.receivable.kpi.line"].create(line_values)
        self.env["ar.receivable.kpi.bucket"].create(bucket_values)
        return self._action_show()

    @staticmethod
    def _sum_by_key(amounts_by_key_and_month):
        summed = defaultdict(float)
        for (key, _month), amount in amounts_by_key_and_month.items():
            summed[key] += amount
        return summed

    def _action_show(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
            "name": self.env._("Receivables KPIs"),
        }


class ArReceivableKpiLine(models.TransientModel):
    _name = "ar.receivable.kpi.line"
    _description = "Receivables KPIs of one group and period"
    _order = "kind desc, month, dimension_name"

    kpi_id = fields.Many2one("ar.receivable.kpi", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="kpi_id.currency_id")
    kind = fields.Selection([("period", "Whole period"), ("month", "Month")], required=True)
    month = fields.Date()
    dimension_key = fields.Char()
    dimension_name = fields.Char(string="Group")
    beginning_receivables = fields.Monetary()
    credit_sales = fields.Monetary()
    ending_receivables = fields.Monetary()
    current_receivables = fields.Monetary(help="Not due or in payment at the end of the period.")
    overdue_amount = fields.Monetary()
    overdue_count = fields.Integer(string="Overdue items")
    overdue_share = fields.Float(string="Overdue (%)", aggregator="avg")
    dso = fields.Float(string="DSO", aggregator="avg")
    dso_countback = fields.Float(string="DSO (countback)", aggregator="avg")
    best_possible_dso = fields.Float(string="Best possible DSO", aggregator="avg")
    average_days_delinquent = fields.Float(string="Avg. days delinquent", aggregator="avg")
    cei = fields.Float(string="CEI (%)", aggregator="avg")
    has_dso = fields.Boolean(help="False when the group had no credit sales: no DSO then.")
    has_cei = fields.Boolean(help="False when nothing was collectable: no CEI then.")


class ArReceivableKpiBucket(models.TransientModel):
    _name = "ar.receivable.kpi.bucket"
    _description = "Overdue receivables of one group by bucket"
    _order = "kind desc, month, dimension_name, bucket_id"

    kpi_id = fields.Many2one("ar.receivable.kpi", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="kpi_id.currency_id")
    kind = fields.Selection([("period", "Whole period"), ("month", "Month")], required=True)
    month = fields.Date()
    dimension_name = fields.Char(string="Group")
    bucket_id = fields.Many2one("ar.aging.bucket.set.line", string="Bucket")
    amount = fields.Monetary(string="Overdue amount")
    count = fields.Integer(string="Overdue items")
    share = fields.Float(string="Share of the group's receivables (%)")
