"""A customer's credit exposure, computed in PostgreSQL in one query per batch of customers.

Exposure = posted open receivables (net of unapplied cash: unreconciled payments and credit notes)
         + draft customer invoices (company setting)
         + confirmed sale orders not yet invoiced (tax included, ordered minus invoiced quantity)

Invoices already paid by a payment not yet matched with the bank count neither as exposure
nor as overdue: the money is on its way. Odoo keeps their receivable open and shows them "in
payment" (Enterprise) or "paid" (Community), so open lines of such invoices are left out.

Open receivables are read from ``ar.open.balance`` (sums per maturity date that PostgreSQL
triggers append to on every change of a move line), so a customer with 10,000 open invoices
costs a few hundred rows, not 10,000 lines. Nothing is recomputed on posting: the partner form
asks for one customer, the snapshot refresh and the credit check ask for a batch. All figures
are in company currency.
"""

from dataclasses import dataclass
from datetime import date

from odoo import api, fields, models
from odoo.tools import SQL

from ..database_objects import ensure_function, ensure_index
from .ar_receivable import OPEN_LINE, net_overdue

# The exposure query, the body of the PL/pgSQL function ar_credit_exposure: PostgreSQL keeps
# a function's plan for the session, so a credit check does not plan this query every time.
# The receivable accounts (v_accounts) are those shared with the company or its parents, as
# ``ar.receivable._account_ids`` says (SQL here: the function runs in the credit check's SQL).
EXPOSURE_FUNCTION = "ar_credit_exposure"
EXPOSURE_QUERY = """
            WITH members AS (
                SELECT id, commercial_partner_id
                  FROM res_partner
                 WHERE commercial_partner_id = ANY(p_partners)
            ),
            -- Paid by a payment not yet matched with the bank: "in payment" (or "paid" in
            -- Community, which hides that state) while their receivable is still open.
            -- Few such invoices: their ids, not a join of every open line with its move.
            paid_open AS (
                SELECT commercial_partner_id AS partner_id, ARRAY_AGG(id) AS move_ids
                  FROM account_move
                 WHERE commercial_partner_id = ANY(p_partners)
                   AND payment_state IN ('in_payment', 'paid')
                   AND amount_residual <> 0
                 GROUP BY commercial_partner_id
            ),
            -- Open receivables from the open balances kept per maturity date and sign
            -- (ar.open.balance: few rows even for 10,000 open invoices), less the open lines
            -- of the invoices paid but not matched (few lines, found by their moves).
            balances AS NOT MATERIALIZED (
                SELECT mb.commercial_partner_id AS partner_id, balance.date_maturity,
                       balance.is_debit, balance.amount
                  FROM members mb
                  JOIN ar_open_balance balance ON balance.partner_id = mb.id
                 WHERE balance.company_id = p_company
                   AND balance.account_id = ANY(v_accounts)
                UNION ALL
                SELECT paid_open.partner_id, COALESCE(aml.date_maturity, 'infinity'::date),
                       aml.amount_residual > 0, -aml.amount_residual
                  FROM paid_open
                  JOIN account_move_line aml ON aml.move_id = ANY(paid_open.move_ids)
                 WHERE aml.account_id = ANY(v_accounts)
                   AND aml.company_id = p_company
                   AND aml.partner_id IS NOT NULL
                   AND aml.parent_state = 'posted'
                   AND aml.amount_residual <> 0
            ),
            -- Sums are linear: no grouping by maturity date for them.
            open_items AS (
                SELECT partner_id,
                       SUM(amount) AS open_receivable,
                       SUM(amount) FILTER (
                           WHERE is_debit AND date_maturity < p_today
                       ) AS amount_overdue
                  FROM balances
                 GROUP BY partner_id
            ),
            -- The oldest maturity date with an open debit before p_today. Debit rows sum to
            -- zero or more per key, so a date is open when its debits sum above zero, and the
            -- first such date of each contact is found by walking the index in date order
            -- (ar_open_balance_due_idx), stopping at the first one.
            oldest_open AS (
                SELECT mb.commercial_partner_id AS partner_id,
                       MIN(first_open.date_maturity) AS oldest_due_date
                  FROM members mb
                  CROSS JOIN LATERAL (
                      SELECT balance.date_maturity
                        FROM ar_open_balance balance
                       WHERE balance.partner_id = mb.id
                         AND balance.company_id = p_company
                         AND balance.is_debit
                         AND balance.date_maturity < p_today
                         AND balance.account_id = ANY(v_accounts)
                       GROUP BY balance.date_maturity
                      HAVING SUM(balance.amount) > 0
                       ORDER BY balance.date_maturity
                       LIMIT 1
                  ) AS first_open
                 WHERE mb.commercial_partner_id NOT IN (SELECT partner_id FROM paid_open)
                 GROUP BY mb.commercial_partner_id
                UNION ALL
                -- customers with invoices paid but not matched: net per date, those lines out
                SELECT by_date.partner_id, MIN(by_date.date_maturity)
                  FROM (
                      SELECT partner_id, date_maturity
                        FROM balances
                       WHERE is_debit AND date_maturity < p_today
                         AND partner_id IN (SELECT partner_id FROM paid_open)
                       GROUP BY partner_id, date_maturity
                      HAVING SUM(amount) > 0
                  ) AS by_date
                 GROUP BY by_date.partner_id
            ),
            drafts AS (
                SELECT move.commercial_partner_id AS partner_id,
                       SUM(move.amount_total_signed) AS draft_invoiced
                  FROM account_move move
                 WHERE p_include_draft
                   AND move.commercial_partner_id = ANY(p_partners)
                   AND move.company_id = p_company
                   AND move.state = 'draft'
                   AND move.move_type IN ('out_invoice', 'out_refund')
                 GROUP BY move.commercial_partner_id
            ),
            orders AS (
                SELECT mb.commercial_partner_id AS partner_id,
                       SUM(
                           (sol.product_uom_qty - sol.qty_invoiced)
                           * sol.price_total / sol.product_uom_qty
                           / COALESCE(NULLIF(so.currency_rate, 0), 1)
                       ) AS uninvoiced_orders
                  FROM sale_order so
                  JOIN members mb ON mb.id = so.partner_invoice_id
                  JOIN sale_order_line sol ON sol.order_id = so.id
                 WHERE so.company_id = p_company
                   AND so.state = 'sale'
                   AND sol.display_type IS NULL
                   AND sol.is_downpayment IS NOT TRUE
                   AND sol.product_uom_qty > 0
                   AND sol.product_uom_qty > sol.qty_invoiced
                 GROUP BY mb.commercial_partner_id
            )
            SELECT p.id,
                   COALESCE(oi.open_receivable, 0),
                   COALESCE(d.draft_invoiced, 0),
                   COALESCE(o.uninvoiced_orders, 0),
                   COALESCE(oi.amount_overdue, 0),
                   oldest.oldest_due_date,
                   COALESCE(unapplied.unapplied_cash, 0)
              FROM unnest(p_partners::int[]) AS p(id)
              LEFT JOIN open_items oi ON oi.partner_id = p.id
              -- the one definition of unapplied cash (ar.receivable)
              LEFT JOIN ar_unapplied_cash(p_partners, p_company, v_accounts) AS unapplied
                     ON unapplied.partner_id = p.id
              LEFT JOIN oldest_open oldest ON oldest.partner_id = p.id
              LEFT JOIN drafts d ON d.partner_id = p.id
              LEFT JOIN orders o ON o.partner_id = p.id
"""


@dataclass(slots=True)
class Exposure:
    partner_id: int
    open_receivable: float = 0.0
    draft_invoiced: float = 0.0
    uninvoiced_orders: float = 0.0
    amount_overdue: float = 0.0
    oldest_due_date: date | None = None
    # payments and credit notes not matched yet (positive): ar.receivable._unapplied_cash
    unapplied_cash: float = 0.0

    @classmethod
    def rounded(
        cls,
        currency,
        partner_id,
        open_receivable,
        draft_invoiced,
        uninvoiced_orders,
        amount_overdue,
        oldest_due_date,
        unapplied_cash=0.0,
    ):
        """An exposure from the figures of ar_credit_exposure, rounded in company currency."""
        return cls(
            partner_id,
            open_receivable=currency.round(open_receivable),
            draft_invoiced=currency.round(draft_invoiced),
            uninvoiced_orders=currency.round(uninvoiced_orders),
            amount_overdue=currency.round(amount_overdue),
            oldest_due_date=oldest_due_date,
            unapplied_cash=currency.round(unapplied_cash),
        )

    @property
    def total(self) -> float:
        return self.open_receivable + self.draft_invoiced + self.uninvoiced_orders

    def oldest_overdue_days(self, today: date, net_unapplied: bool = False) -> int:
        if not self.oldest_due_date or not self.overdue(net_unapplied):
            return 0
        return (today - self.oldest_due_date).days

    def overdue(self, net_unapplied: bool) -> float:
        """The overdue amount, less the unapplied cash when the company nets it
        (``res.company.ar_net_unapplied_cash``): what dunning and the credit check see."""
        return net_overdue(self.amount_overdue, self.unapplied_cash, net_unapplied)


class ArCreditExposure(models.AbstractModel):
    _name = "ar.credit.exposure"
    _description = "Credit exposure (SQL service)"

    def init(self):
        cr = self.env.cr
        ensure_function(
            cr,
            EXPOSURE_FUNCTION,
            SQL(
                """
                CREATE FUNCTION %s(
                    p_partners integer[], p_company integer, p_company_parents integer[],
                    p_today date, p_include_draft boolean
                )
                RETURNS TABLE (
                    exposure_partner_id integer, open_receivable numeric,
                    draft_invoiced numeric, uninvoiced_orders numeric, amount_overdue numeric,
                    oldest_due_date date, unapplied_cash numeric
                )
                LANGUAGE plpgsql STABLE AS $function$
                #variable_conflict use_column
                DECLARE
                    -- the receivable accounts shared with the company or its parents
                    v_accounts integer[] := ARRAY(
                        SELECT rel.account_account_id
                          FROM account_account_res_company_rel rel
                          JOIN account_account account ON account.id = rel.account_account_id
                         WHERE account.account_type = 'asset_receivable'
                           AND rel.res_company_id = ANY(p_company_parents)
                    );
                BEGIN
                    RETURN QUERY %s;
                END
                $function$
                """,
                SQL.identifier(EXPOSURE_FUNCTION),
                SQL(EXPOSURE_QUERY),
            ),
        )
        # Open lines by customer, covering what exposure reads: an index-only scan.
        ensure_index(
            cr,
            "ar_credit_open_line_idx",
            SQL(
                "CREATE INDEX ar_credit_open_line_idx ON account_move_line "
                "(partner_id, account_id) "
                "INCLUDE (company_id, amount_residual, date_maturity, move_id) "
                "WHERE %s",
                SQL(OPEN_LINE),
            ),
        )
        # The few invoices paid by a payment not yet matched with the bank that stay open.
        ensure_index(
            cr,
            "ar_credit_paid_open_move_idx",
            "CREATE INDEX ar_credit_paid_open_move_idx ON account_move (commercial_partner_id) "
            "WHERE payment_state IN ('in_payment', 'paid') AND amount_residual <> 0",
        )
        ensure_index(
            cr,
            "ar_credit_draft_invoice_idx",
            "CREATE INDEX ar_credit_draft_invoice_idx ON account_move (commercial_partner_id) "
            "WHERE state = 'draft' AND move_type IN ('out_invoice', 'out_refund')",
        )
        # Invoicing history of a batch of customers (first invoice, invoiced in a window).
        ensure_index(
            cr,
            "ar_credit_customer_invoice_idx",
            "CREATE INDEX ar_credit_customer_invoice_idx ON account_move "
            "(commercial_partner_id, company_id) INCLUDE (invoice_date, amount_total_signed) "
            "WHERE state = 'posted' AND move_type IN ('out_invoice', 'out_refund')",
        )

    @api.model
    def _compute_exposures(self, commercial_partner_ids, company, today=None, include_draft=None):
        """{commercial partner id: Exposure} for the given commercial partners in `company`.

        Contacts' documents count for their commercial partner. One call of the SQL
        function ``ar_credit_exposure`` (EXPOSURE_QUERY).
        """
        today = today or fields.Date.context_today(self)
        if include_draft is None:
            include_draft = company.ar_exposure_include_draft_invoices
        result = {pid: Exposure(pid) for pid in commercial_partner_ids}
        if not commercial_partner_ids:
            return result
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT * FROM ar_credit_exposure(%s::int[], %s, %s::int[], %s, %s)",
                list(commercial_partner_ids),
                company.id,
                # The company and its parents (read from parent_path: parent_ids would fetch
                # every field of the companies to filter out archived ones).
                [int(company_id) for company_id in company.parent_path.split("/") if company_id],
                today,
                bool(include_draft),
            )
        )
        for row in rows:
            result[row[0]] = Exposure.rounded(company.currency_id, *row)
        return result
