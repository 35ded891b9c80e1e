"""DSO and CEI of each company's last 12 closed months, kept for the overview.

A month's KPIs take an aging query as of its last day (seconds on a million receivable lines),
too slow for a landing screen. A daily cron recomputes the last 12 months of every company with
the receivables KPIs (``ar.receivable.kpi``, the one home of the computation) and keeps them
here: a late posting or reconciliation dated in a past month is taken into account the next day.
"""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

TREND_MONTHS = 12


class ArReceivableKpiMonth(models.Model):
    _name = "ar.receivable.kpi.month"
    _description = "Receivables KPIs of a closed month"
    _order = "company_id, month"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    month = fields.Date(required=True, readonly=True, help="First day of the month.")
    ending_receivables = fields.Monetary(readonly=True)
    overdue_amount = fields.Monetary(readonly=True)
    dso = fields.Float(string="DSO", readonly=True)
    cei = fields.Float(string="CEI (%)", readonly=True)
    has_dso = fields.Boolean(readonly=True)
    has_cei = fields.Boolean(readonly=True)
    date_computed = fields.Date(readonly=True)

    _sql_constraints = [
        ("company_month_unique", "UNIQUE(company_id, month)", "One KPI row per company and month.")
    ]

    @api.model
    def _trend_months(self, today):
        """(first day of the first month, last day of the last month) of the 12 closed months
        before `today`."""
        last_month_end = today.replace(day=1) - timedelta(days=1)
        first_month = last_month_end.replace(day=1) - relativedelta(months=TREND_MONTHS - 1)
        return first_month, last_month_end

    @api.model
    def _refresh(self, companies=None, today=None):
        """Recompute the 12 closed months before `today` of `companies` (all by default)."""
        companies = companies or self.env["res.company"].sudo().search([])
        today = today or fields.Date.context_today(self)
        first_month, last_month_end = self._trend_months(today)
        for company in companies:
            wizard = (
                self.env["ar.receivable.kpi"]
                .sudo()
                .with_company(company)
                .create(
                    {
                        "company_id": company.id,
                        "date_from": first_month,
                        "date_to": last_month_end,
                        "dimension": "company",
                        "bucket_set_id": self.env["ar.aging.bucket.set"]._get_default(company).id,
                    }
                )
            )
            line_values, _buckets = wizard._compute_values()
            months = self.sudo().search([("company_id", "=", company.id)])
            months.filtered(lambda row: row.month < first_month).unlink()
            existing = {row.month: row for row in months if row.month >= first_month}
            # One row per month, even a month without receivables (no DSO, no CEI then): the
            # overview knows the months are computed.
            by_month = {line["month"]: line for line in line_values if line["kind"] == "month"}
            for month_start, _month_end in wizard._months():
                line = by_month.get(month_start, {})
                values = {
                    "ending_receivables": line.get("ending_receivables", 0.0),
                    "overdue_amount": line.get("overdue_amount", 0.0),
                    "dso": line.get("dso") or 0.0,
                    "cei": line.get("cei") or 0.0,
                    "has_dso": line.get("has_dso", False),
                    "has_cei": line.get("has_cei", False),
                    "date_computed": today,
                }
                if month_start in existing:
                    existing[month_start].write(values)
                else:
                    self.sudo().create({"company_id": company.id, "month": month_start, **values})
            wizard.unlink()
        return True

    @api.model
    def _cron_refresh(self):
        """Every company, one at a time, each committed (a minute or more per million
        receivable lines): what is done survives an interrupted run."""
        companies = self.env["res.company"].sudo().search([])
        for done, company in enumerate(companies, start=1):
            self.sudo()._refresh(company)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(companies) - done)
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return True
