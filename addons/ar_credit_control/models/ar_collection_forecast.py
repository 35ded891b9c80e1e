"""Collection forecast: for every open receivable instalment, when it is expected to be paid.

Facts come from PostgreSQL in two set-based queries per company (settled instalments with due
and paid dates; open instalments with their promise and dispute), the prediction from
``ar_engine.forecast`` (each customer's own lateness, a segment or population fallback for
customers without history, the promised date where an open promise covers the invoice), and
the lines go back in bulk INSERTs. Invoices under an open dispute are left out.
"""

import io
import logging
from datetime import timedelta
from itertools import starmap
from time import monotonic

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, drop_view_if_exists

from ar_engine.errors import InvalidInputError
from ar_engine.forecast import (
    ForecastConfig,
    OpenInvoice,
    PredictionBasis,
    SettledInvoice,
    fit_payment_behaviour,
    iso_week_start,
)

from ..database_objects import ensure_table
from .ar_credit_profile import SEGMENTS
from .ar_receivable import open_line

_logger = logging.getLogger(__name__)

BASES = [
    ("promise", "Promised date"),
    ("customer", "Customer's history"),
    ("segment", "Segment (no history)"),
    ("population", "All customers (no history)"),
]
HORIZON_WEEKS = 13
HISTORY_DAYS = 730


# The lines live in a plain table without foreign keys, shown through a view: a refresh
# rewrites every open line, and foreign-key triggers would cost more than the insert itself
# (seven row triggers per line). A refresh replaces everything it points to, so a dangling id
# lasts one day at most.
DATA_TABLE = "ar_collection_forecast_data"
COLUMNS = """
    company_id integer NOT NULL,
    partner_id integer,
    segment varchar,
    user_id integer,
    move_id integer,
    move_line_id integer,
    amount numeric,
    due_date date,
    predicted_date date,
    week_start date,
    week varchar,
    in_horizon boolean,
    basis varchar,
    as_of_date date
"""


class ArCollectionForecast(models.Model):
    _name = "ar.collection.forecast"
    _description = "Collection forecast line"
    _auto = False
    _order = "predicted_date, id"
    _check_company_auto = True
    _rec_name = "move_id"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    segment = fields.Selection(SEGMENTS, readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    move_line_id = fields.Many2one("account.move.line", string="Instalment", readonly=True)
    amount = fields.Monetary(string="Expected amount", readonly=True)
    due_date = fields.Date(readonly=True)
    predicted_date = fields.Date(readonly=True, index=True)
    week_start = fields.Date(string="Week", readonly=True)
    week = fields.Char(string="ISO week", readonly=True)
    in_horizon = fields.Boolean(
        string="Next 13 weeks", readonly=True, help="Expected within the next 13 weeks."
    )
    basis = fields.Selection(BASES, readonly=True)
    as_of_date = fields.Date(readonly=True)

    def init(self):
        cr = self.env.cr
        made = ensure_table(
            cr,
            DATA_TABLE,
            SQL(
                "CREATE TABLE %(table)s (id serial PRIMARY KEY, %(columns)s); "
                "CREATE INDEX ar_collection_forecast_company_week_idx "
                "ON %(table)s (company_id, week_start)",
                table=SQL.identifier(DATA_TABLE),
                columns=SQL(COLUMNS),
            ),
        )
        # Its lines are figures of the day: after an upgrade that made it again, the refresh
        # runs now rather than at its next daily time (on install there is nothing to show).
        cron = self.env.ref("ar_credit_control.ir_cron_collection_forecast", False)
        if made and cron:
            cron._trigger()
        drop_view_if_exists(cr, self._table)
        cr.execute(
            SQL(
                "CREATE VIEW %s AS SELECT * FROM %s",
                SQL.identifier(self._table),
                SQL.identifier(DATA_TABLE),
            )
        )

    # ------------------------------------------------------------------ facts

    @api.model
    def _settled_history(self, company, today):
        """Fully paid receivable instalments of the last two years: customer, segment, due
        date, date of the last payment, amount."""
        query = SQL(
            """
            SELECT rp.commercial_partner_id, aml.date_maturity, MAX(part.max_date),
                   aml.balance::float8, profile.segment
              FROM account_move_line aml
              JOIN res_partner rp ON rp.id = aml.partner_id
              JOIN account_partial_reconcile part ON part.debit_move_id = aml.id
              LEFT JOIN ar_credit_profile profile
                ON profile.partner_id = rp.commercial_partner_id
               AND profile.company_id = aml.company_id
             WHERE aml.account_id = ANY(%(accounts)s)
               AND aml.company_id = %(company)s
               AND aml.parent_state = 'posted'
               AND aml.reconciled
               AND aml.balance > 0
               AND aml.date_maturity IS NOT NULL
               AND part.max_date > %(since)s
               AND part.max_date <= %(today)s
             GROUP BY aml.id, rp.commercial_partner_id, profile.segment
            """,
            accounts=self.env["ar.receivable"]._account_ids(company),
            company=company.id,
            since=today - timedelta(days=HISTORY_DAYS),
            today=today,
        )
        # Columns in SettledInvoice's order (customer, due, settled, amount, segment).
        return list(starmap(SettledInvoice, self.env.execute_query(query)))

    @api.model
    def _open_lines_query(self, company):
        """Open receivable instalments with the earliest open promise covering their invoice
        and whether an open dispute covers it."""
        return SQL(
            """
            WITH promised AS (
                SELECT rel.move_id, MIN(promise.promised_date) AS promised_date
                  FROM ar_payment_promise promise
                  JOIN ar_payment_promise_account_move_rel rel ON rel.promise_id = promise.id
                 WHERE promise.company_id = %(company)s AND promise.state = 'open'
                 GROUP BY rel.move_id
            ),
            disputed AS (
                SELECT DISTINCT rel.move_id
                  FROM ar_dispute dispute
                  JOIN ar_dispute_account_move_rel rel ON rel.dispute_id = dispute.id
                 WHERE dispute.company_id = %(company)s AND dispute.state = 'open'
            )
            SELECT aml.id AS line_id, aml.move_id, cp.id AS partner_id,
                   COALESCE(aml.date_maturity, aml.date) AS due_date,
                   aml.amount_residual AS amount, pr.promised_date,
                   ds.move_id IS NOT NULL AS disputed, profile.segment, cp.user_id
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              JOIN res_partner rp ON rp.id = aml.partner_id
              JOIN res_partner cp ON cp.id = rp.commercial_partner_id
              LEFT JOIN ar_credit_profile profile
                ON profile.partner_id = cp.id AND profile.company_id = aml.company_id
              LEFT JOIN promised pr ON pr.move_id = aml.move_id
              LEFT JOIN disputed ds ON ds.move_id = aml.move_id
             WHERE aml.account_id = ANY(%(accounts)s)
               AND aml.company_id = %(company)s
               AND %(open_line)s
               AND aml.amount_residual > 0
               AND move.payment_state NOT IN ('in_payment', 'paid')
            """,
            company=company.id,
            accounts=self.env["ar.receivable"]._account_ids(company),
            open_line=open_line("aml"),
        )

    # ------------------------------------------------------------------ refresh

    @api.model
    def _refresh(self, companies=None, today=None):
        """Recompute the forecast lines of `companies` (all by default). Returns line counts
        per company id."""
        companies = companies or self.env["res.company"].sudo().search([])
        today = today or fields.Date.context_today(self)
        self.env.flush_all()
        return {company.id: self._refresh_company(company, today) for company in companies}

    @api.model
    def _refresh_company(self, company, today):
        cr = self.env.cr
        started = monotonic()
        history = self._settled_history(company, today)
        try:
            behaviour = fit_payment_behaviour(history, today, ForecastConfig())
        except InvalidInputError as error:
            raise UserError(
                self.env._(
                    "The collection forecast of %(company)s failed on %(field)s: %(error)s",
                    company=company.name,
                    field=error.field,
                    error=error,
                )
            ) from error
        # The open lines stay in PostgreSQL: Python reads what the prediction needs and sends
        # back (line, predicted date, basis) with COPY; one INSERT ... SELECT joins the two.
        cr.execute("DROP TABLE IF EXISTS ar_forecast_open, ar_forecast_predicted")
        cr.execute(
            SQL(
                "CREATE TEMP TABLE ar_forecast_open ON COMMIT DROP AS %s",
                self._open_lines_query(company),
            )
        )
        open_rows = self.env.execute_query(
            SQL(
                "SELECT line_id, partner_id, due_date, amount::float8, promised_date, disputed, "
                "segment FROM ar_forecast_open"
            )
        )
        cr.execute("ANALYZE ar_forecast_open")
        invoices = [OpenInvoice(*row) for row in open_rows]
        del open_rows
        predictions = behaviour.predict(invoices, today)
        del invoices
        predicted = monotonic()
        cr.execute(
            "CREATE TEMP TABLE ar_forecast_predicted "
            "(line_id integer PRIMARY KEY, predicted date, basis varchar) ON COMMIT DROP"
        )
        buffer = io.StringIO()
        buffer.writelines(
            f"{prediction.invoice_id}\t{prediction.predicted_date.isoformat()}\t"
            f"{prediction.basis.value}\n"
            for prediction in predictions
            if prediction.basis is not PredictionBasis.DISPUTED  # excluded while disputed
        )
        del predictions
        buffer.seek(0)
        cr.copy_from(buffer, "ar_forecast_predicted", columns=("line_id", "predicted", "basis"))
        cr.execute("ANALYZE ar_forecast_predicted")
        cr.execute(
            SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(DATA_TABLE), company.id)
        )
        first_monday = iso_week_start(today)
        horizon_end = first_monday + timedelta(weeks=HORIZON_WEEKS)
        cr.execute(
            SQL(
                """
                INSERT INTO %(table)s
                       (company_id, partner_id, segment, user_id, move_id, move_line_id,
                        amount, due_date, predicted_date, week_start, week, in_horizon,
                        basis, as_of_date)
                SELECT %(company)s, o.partner_id, o.segment, o.user_id, o.move_id, o.line_id,
                       o.amount, o.due_date, p.predicted,
                       date_trunc('week', p.predicted)::date,
                       to_char(p.predicted, 'IYYY-"W"IW'),
                       p.predicted < %(horizon_end)s,
                       p.basis, %(today)s
                  FROM ar_forecast_open o
                  JOIN ar_forecast_predicted p ON p.line_id = o.line_id
                """,
                table=SQL.identifier(DATA_TABLE),
                company=company.id,
                horizon_end=horizon_end,
                today=today,
            )
        )
        inserted = cr.rowcount
        cr.execute("DROP TABLE ar_forecast_open, ar_forecast_predicted")
        self.invalidate_model()
        _logger.info(
            "collection forecast of %s: %d lines from %d settled instalments "
            "(facts and prediction %.1f s, insert %.1f s)",
            company.name,
            inserted,
            len(history),
            predicted - started,
            monotonic() - predicted,
        )
        return inserted

    @api.model
    def _cron_refresh_forecast(self):
        self.sudo()._refresh()
        return True

    @api.model
    def action_refresh(self):
        """Refresh the forecast of the current companies now (credit managers)."""
        if not self.env.user.has_group("ar_credit_control.group_credit_control_manager"):
            raise UserError(self.env._("Only credit managers can refresh the forecast."))
        self.sudo()._refresh(self.env.companies)
        return {"type": "ir.actions.client", "tag": "reload"}
