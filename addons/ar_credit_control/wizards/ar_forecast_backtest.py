"""Backtest of the collection forecast on the company's own history: train on what was known
at a cut-off date, predict what was paid after it, and compare the error with the naive
"paid on the due date" forecast. The computation is ``ar_engine.forecast.backtest``."""

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ar_engine.errors import InvalidInputError
from ar_engine.forecast import ForecastConfig, HistoricalInvoice, backtest


class ArForecastBacktest(models.TransientModel):
    _name = "ar.forecast.backtest"
    _description = "Collection forecast backtest"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    cutoff_date = fields.Date(
        string="Cut-off",
        required=True,
        default=lambda self: fields.Date.context_today(self) - relativedelta(months=3),
        help="The model learns from what was paid before this date and predicts what was "
        "paid after it.",
    )
    done = fields.Boolean(readonly=True)
    train_invoices = fields.Integer(string="Training instalments", readonly=True)
    test_invoices = fields.Integer(string="Tested instalments", readonly=True)
    model_mae_days = fields.Float(string="Model: error (days)", readonly=True, digits=(16, 2))
    naive_mae_days = fields.Float(string="Due date: error (days)", readonly=True, digits=(16, 2))
    model_weekly_mae = fields.Monetary(string="Model: weekly amount error", readonly=True)
    naive_weekly_mae = fields.Monetary(string="Due date: weekly amount error", readonly=True)
    weeks = fields.Integer(readonly=True)
    model_better = fields.Boolean(string="Model beats the due date", readonly=True)

    @api.model
    def _history(self, company):
        """Every receivable instalment of posted customer invoices, with the date of its last
        payment when fully paid (in company currency)."""
        query = SQL(
            """
            SELECT aml.id, rp.commercial_partner_id, profile.segment,
                   COALESCE(move.invoice_date, aml.date), aml.date_maturity, aml.balance,
                   CASE WHEN aml.reconciled THEN MAX(part.max_date) END
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              JOIN res_partner rp ON rp.id = aml.partner_id
              LEFT JOIN account_partial_reconcile part ON part.debit_move_id = aml.id
              LEFT JOIN ar_credit_profile profile
                ON profile.partner_id = rp.commercial_partner_id
               AND profile.company_id = aml.company_id
             WHERE aml.account_id = ANY(%(accounts)s)
               AND aml.company_id = %(company)s
               AND aml.parent_state = 'posted'
               AND move.move_type = 'out_invoice'
               AND aml.balance > 0
               AND aml.date_maturity IS NOT NULL
             GROUP BY aml.id, rp.commercial_partner_id, profile.segment, move.invoice_date
            """,
            accounts=self.env["ar.receivable"]._account_ids(company),
            company=company.id,
        )
        return [
            HistoricalInvoice(line, partner, invoice_date, due, float(amount), paid, segment)
            for line, partner, segment, invoice_date, due, amount, paid in self.env.execute_query(
                query
            )
        ]

    def action_run(self):
        self.ensure_one()
        self.env.flush_all()
        history = self.sudo()._history(self.company_id)
        try:
            result = backtest(history, self.cutoff_date, ForecastConfig())
        except InvalidInputError as error:
            if error.code == "empty_split":
                raise UserError(
                    self.env._(
                        "Nothing to compare around %(date)s: the company needs invoices paid "
                        "before and after the cut-off. Choose another date.",
                        date=self.cutoff_date,
                    )
                ) from error
            raise UserError(
                self.env._(
                    "The backtest failed on %(field)s: %(error)s", field=error.field, error=error
                )
            ) from error
        self.write(
            {
                "done": True,
                "train_invoices": result.train_invoices,
                "test_invoices": result.test_invoices,
                "model_mae_days": result.model_mae_days,
                "naive_mae_days": result.naive_mae_days,
                "model_weekly_mae": result.model_weekly_mae,
                "naive_weekly_mae": result.naive_weekly_mae,
                "weeks": result.weeks,
                "model_better": result.model_mae_days < result.naive_mae_days
                and result.model_weekly_mae < result.naive_weekly_mae,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
