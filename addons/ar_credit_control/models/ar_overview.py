"""The credit controller's overview: the app's landing screen, every figure in one call.

``get_overview`` returns the figures of the companies selected in the company switcher
(``allowed_company_ids``, i.e. ``env.companies``), in the current company's currency. Each
figure comes from the feature that owns it: the aging query (receivables, overdue, buckets,
largest overdue customers), the receivables KPIs (DSO and CEI by month), the collection
forecast lines, the worklist view, and plain counts of holds, promises, disputes and warnings.
``action_open_tile`` gives the records behind a tile.
"""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ar_engine.forecast import iso_week_start

from .ar_collection_forecast import HORIZON_WEEKS

TREND_MONTHS = 12  # the DSO and CEI trend: the last twelve closed months

USER_GROUP = "ar_credit_control.group_credit_control_user"
TOP_CUSTOMERS = 10


class ArOverview(models.AbstractModel):
    _name = "ar.overview"
    _description = "Credit control overview"

    # ------------------------------------------------------------------ entry points

    @api.model
    def get_overview(self):
        """Every figure of the overview for the selected companies (credit users only)."""
        self._check_credit_user()
        companies = self.env.companies
        currency = self.env.company.currency_id
        today = fields.Date.context_today(self)
        aging = self._aging_figures(companies, today)
        unapplied = self._unapplied_cash(companies, aging)
        trend = self._kpi_trend(companies, today)
        return {
            "companies": companies.mapped("name"),
            "currency": {
                "id": currency.id,
                "symbol": currency.symbol,
                "position": currency.position,
                "digits": currency.decimal_places,
            },
            "today": fields.Date.to_string(today),
            "receivable": aging["receivable"],
            "overdue": aging["overdue"],
            "overdue_share": aging["overdue_share"],
            "unapplied_cash": sum(
                self._in_main_currency(company, unapplied.get(company.id, 0.0), today)
                for company in companies
            ),
            "buckets": aging["buckets"],
            "top_overdue": aging["top_overdue"],
            # The latest month with a figure: a month without credit sales has no DSO.
            "dso": self._latest(trend, "dso"),
            "cei": self._latest(trend, "cei"),
            "trend": trend,
            **self._counts(companies, today),
            "forecast": self._forecast_weeks(companies, today),
        }

    @api.model
    def action_open_tile(self, tile=None, value=None):
        """The window action listing the records behind a tile of the overview. `value` is the
        bucket or customer id of a bar or a row; the records are searched with the user's own
        rights, so an id from outside shows nothing more than the user may see."""
        self._check_credit_user()
        companies = self.env.companies
        today = fields.Date.context_today(self)
        company_domain = [("company_id", "in", companies.ids)]
        bucket_set = self._bucket_set()
        overdue_buckets = bucket_set.line_ids - bucket_set._current_lines()
        aging_context = {
            "aging_bucket_set_id": bucket_set.id,
            "aging_as_of": fields.Date.to_string(today),
        }
        _ = self.env._
        record_id = self._tile_record_id(tile, value)
        tiles = {
            "receivable": ("ar_credit_control.action_ar_aging_report", [], _("Receivables")),
            "overdue": (
                "ar_credit_control.action_ar_aging_report",
                [("bucket_id", "in", overdue_buckets.ids), ("amount_residual", ">", 0)],
                _("Overdue receivables"),
            ),
            "bucket": (
                "ar_credit_control.action_ar_aging_report",
                [("bucket_id", "=", record_id)],
                _("Receivables in the bucket"),
            ),
            "customer": (
                "ar_credit_control.action_ar_aging_report",
                [
                    ("partner_id", "=", record_id),
                    ("bucket_id", "in", overdue_buckets.ids),
                    ("amount_residual", ">", 0),
                ],
                _("Overdue receivables of the customer"),
            ),
            "unapplied_cash": (
                "account.action_account_moves_all",
                [
                    *company_domain,
                    ("account_id", "in", self.env["ar.receivable"]._account_ids(companies)),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                    ("amount_residual", "<", 0),
                    ("date", "<=", today),
                ],
                _("Unapplied cash"),
            ),
            "kpi_months": (
                "ar_credit_control.action_ar_receivable_kpi_month",
                company_domain,
                _("DSO and CEI by month"),
            ),
            "hold_orders": (
                "ar_credit_control.action_credit_hold_orders",
                [*company_domain, ("credit_hold", "=", True)]
                + [("credit_approval_state", "=", "requested")],
                _("Orders awaiting a credit decision"),
            ),
            "broken_promises": (
                "ar_credit_control.action_ar_payment_promise",
                [*company_domain, ("state", "=", "broken")],
                _("Broken promises"),
            ),
            "open_disputes": (
                "ar_credit_control.action_ar_dispute",
                [*company_domain, ("state", "=", "open")],
                _("Open disputes"),
            ),
            "warnings_week": (
                "ar_credit_control.action_ar_credit_warning",
                [*company_domain, ("date_detected", ">=", iso_week_start(today))],
                _("Warnings raised this week"),
            ),
            "worklist": (
                "ar_credit_control.action_ar_collection_worklist",
                company_domain,
                _("Today's worklist"),
            ),
            "forecast": (
                "ar_credit_control.action_ar_collection_forecast",
                [*company_domain, ("in_horizon", "=", True)],
                _("Forecast collections, next 13 weeks"),
            ),
        }
        if tile == "forecast_week":
            # One bar of the forecast: the lines expected that week (the first bar also holds
            # those expected before it, as on the chart).
            try:
                week = iso_week_start(fields.Date.to_date(value))
            except (TypeError, ValueError):
                raise UserError(self.env._("%s is not a date.", value)) from None
            week_domain = (
                [("week_start", "<=", week)]
                if week <= iso_week_start(today)
                else [("week_start", "=", week)]
            )
            tiles[tile] = (
                "ar_credit_control.action_ar_collection_forecast",
                [*company_domain, ("in_horizon", "=", True), *week_domain],
                _("Forecast collections of the week of %s", fields.Date.to_string(week)),
            )
        if tile not in tiles:
            raise UserError(self.env._("The overview has no tile %s.", tile))
        xmlid, domain, name = tiles[tile]
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action.update(domain=domain, name=name, display_name=name, context={"create": False})
        # Returned by a method call, the help would show as escaped HTML.
        action.pop("help", None)
        if action["res_model"] == "ar.aging.report":
            action["context"].update(aging_context)
            action["views"] = [(False, "list"), (False, "pivot"), (False, "graph")]
        return action

    @api.model
    def _tile_record_id(self, tile, value):
        """The bucket or customer id of a bar or row of the overview (0 for other tiles)."""
        if tile not in ("bucket", "customer"):
            return 0
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UserError(self.env._("%s is not a record id.", value)) from None

    # ------------------------------------------------------------------ figures

    @api.model
    def _check_credit_user(self):
        if not self.env.user.has_group(USER_GROUP):
            raise AccessError(self.env._("Only credit control users can see the overview."))

    @api.model
    def _bucket_set(self):
        """The current company's default bucket set: the columns of the aging chart for every
        selected company."""
        return self.env["ar.aging.bucket.set"]._get_default(self.env.company)

    @api.model
    def _main_currency_rates(self, companies, day):
        """{company id: rate from its currency to the current company's}, looked up once for
        the thousands of rows of a grouped query."""
        main = self.env.company
        return {
            company.id: self.env["res.currency"]._get_conversion_rate(
                company.currency_id, main.currency_id, main, day
            )
            for company in companies
        }

    @api.model
    def _in_main_currency(self, company, amount, day):
        """`amount` in `company`'s currency, in the current company's currency."""
        if not amount:
            return 0.0
        return amount * self._main_currency_rates(company, day)[company.id]

    @api.model
    def _aging_figures(self, companies, today):
        """From today's aging, in one grouped query over the aging's open items: the total
        receivable and the amount of each bucket (net, as the aging report shows them), the
        overdue invoices (open debit items in the overdue buckets: a payment not yet matched
        is unapplied cash, not a smaller overdue) and the customers with the most overdue."""
        bucket_set = self._bucket_set()
        current = bucket_set._current_lines()
        aging_report = self.env["ar.aging.report"]
        self.env.flush_all()
        aging_report._disable_jit()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT items.company_id, items.partner_id, items.bucket_id,
                       SUM(items.amount_residual),
                       SUM(items.amount_residual) FILTER (WHERE items.amount_residual > 0),
                       SUM(items.amount_residual) FILTER (WHERE items.amount_residual < 0)
                  FROM (%s) AS items
                 GROUP BY 1, 2, 3
                """,
                aging_report._open_items_sql(bucket_set, today, companies.ids),
            )
        )
        rates = self._main_currency_rates(companies, today)
        current_ids = set(current.ids)
        by_bucket, overdue_by_customer, open_credits = {}, {}, {}
        receivable = overdue = open_debits = 0.0
        for company_id, partner_id, bucket_id, net, debits, credits in rows:
            net = (net or 0.0) * rates[company_id]
            debits = (debits or 0.0) * rates[company_id]
            open_credits[company_id] = open_credits.get(company_id, 0.0) - (credits or 0.0)
            by_bucket[bucket_id] = by_bucket.get(bucket_id, 0.0) + net
            receivable += net
            open_debits += debits
            if bucket_id not in current_ids:
                overdue += debits
                overdue_by_customer[partner_id] = overdue_by_customer.get(partner_id, 0.0) + debits
        largest = sorted(
            (item for item in overdue_by_customer.items() if item[1] > 0),
            key=lambda item: -item[1],
        )[:TOP_CUSTOMERS]
        names = {
            partner.id: partner.display_name
            for partner in self.env["res.partner"].browse([partner_id for partner_id, _ in largest])
        }
        columns = bucket_set.line_ids.filtered(lambda line: line.kind == "in_payment") | (
            bucket_set._aging_lines()
        )
        return {
            "receivable": receivable,
            "overdue": overdue,
            "open_credits": open_credits,
            "overdue_share": 100.0 * overdue / open_debits if open_debits else 0.0,
            "buckets": [
                {
                    "id": line.id,
                    "name": line.name,
                    "amount": by_bucket.get(line.id, 0.0),
                    "overdue": line not in current,
                }
                for line in columns
            ],
            "top_overdue": [
                {"id": partner_id, "name": names.get(partner_id, ""), "amount": amount}
                for partner_id, amount in largest
            ],
        }

    @api.model
    def _unapplied_cash(self, companies, aging):
        """{company id: unapplied cash in company currency}: payments and credit notes not
        matched with an invoice yet, i.e. the open credit lines of today's aging, summed by
        the aging query itself (a query of their own would read every open line again)."""
        return {company.id: aging["open_credits"].get(company.id, 0.0) for company in companies}

    @api.model
    def _kpi_trend(self, companies, today):
        """DSO and CEI of each of the last 12 closed months, from the monthly receivables KPIs
        (their one home, refreshed daily): each month's ratios are computed from the summed
        figures of the companies shown, not averaged. Months not refreshed yet are missing:
        the refresh is started for them, the overview does not wait."""
        kpi_months = self.env["ar.receivable.kpi.month"]
        last = today.replace(day=1) - relativedelta(months=1)
        first = last - relativedelta(months=TREND_MONTHS - 1)
        if kpi_months._months_due():
            self.env.ref("ar_credit_control.ir_cron_receivable_kpi_refresh").sudo()._trigger()
        groups = kpi_months.read_group(
            [("company_id", "in", companies.ids), ("month", ">=", first), ("month", "<=", last)],
            ["dso", "cei"],
            ["month:month"],
            lazy=False,
        )
        by_month = {
            fields.Date.to_date(group["__range"]["month:month"]["from"]): group for group in groups
        }
        if not by_month:
            return []  # nothing refreshed yet
        trend = []
        for index in range(TREND_MONTHS):
            month = first + relativedelta(months=index)
            group = by_month.get(month, {})
            trend.append(
                {
                    "month": fields.Date.to_string(month),
                    "label": month.strftime("%Y-%m"),
                    "dso": group.get("dso"),
                    "cei": group.get("cei"),
                }
            )
        return trend

    @api.model
    def _latest(self, trend, kpi):
        """{"value", "month"} of the latest month of the trend with a value of `kpi`."""
        for month in reversed(trend):
            if month[kpi] is not None:
                return {"value": month[kpi], "month": month["label"]}
        return {"value": None, "month": None}

    @api.model
    def _counts(self, companies, today):
        """Tiles that count records: held orders, broken promises, open disputes, warnings of
        this week, today's worklist; searched with the user's own rights."""
        company_domain = [("company_id", "in", companies.ids)]
        promises = self.env["ar.payment.promise"]._read_group(
            [*company_domain, ("state", "=", "broken")], ["company_id"], ["__count", "amount:sum"]
        )
        return {
            "hold_orders": self.env["sale.order"].search_count(
                [
                    *company_domain,
                    ("credit_hold", "=", True),
                    ("credit_approval_state", "=", "requested"),
                ]
            ),
            "broken_promises": sum(count for _company, count, _amount in promises),
            "broken_promises_amount": sum(
                self._in_main_currency(company, amount, today)
                for company, _count, amount in promises
            ),
            "open_disputes": self.env["ar.dispute"].search_count(
                [*company_domain, ("state", "=", "open")]
            ),
            "warnings_week": self.env["ar.credit.warning"].search_count(
                [*company_domain, ("date_detected", ">=", iso_week_start(today))]
            ),
            "worklist": self.env["ar.collection.worklist"].search_count(company_domain),
        }

    @api.model
    def _forecast_weeks(self, companies, today):
        """Expected collections of each of the next 13 weeks (from this week's Monday), from
        the forecast lines; lines expected before this week count in this week."""
        first_monday = iso_week_start(today)
        weeks = [first_monday + timedelta(weeks=index) for index in range(HORIZON_WEEKS)]
        amounts = dict.fromkeys(weeks, 0.0)
        groups = self.env["ar.collection.forecast"]._read_group(
            [("company_id", "in", companies.ids), ("in_horizon", "=", True)],
            ["company_id", "week_start:day"],
            ["amount:sum"],
        )
        for company, week_start, amount in groups:
            week = max(first_monday, fields.Date.to_date(week_start))
            if week in amounts:
                amounts[week] += self._in_main_currency(company, amount, today)
        return [
            {
                "week": fields.Date.to_string(week),
                "label": week.strftime("%G-W%V"),
                "amount": amount,
            }
            for week, amount in amounts.items()
        ]
