"""A customer's credit exposure, computed in PostgreSQL in one query per batch of customers.

Exposure = posted open receivables (net of unreconciled payments and credit notes)
         + draft customer invoices (company setting)
         + confirmed sale orders not yet invoiced (tax included, ordered minus invoiced quantity)

Invoices already paid by a payment not yet matched with the bank count neither as exposure
nor as overdue: the money is on its way. Odoo keeps their receivable open and shows them "in
payment" (Enterprise) or "paid" (Community), so open lines of such invoices are left out. Only
a payment without journal entry leaves an invoice "paid" with its receivable open, so those
invoices are found from such payments rather than by joining every open line to its invoice.

Nothing here is stored or rewritten on posting: the partner form asks for one customer, the
snapshot refresh and the credit check ask for a batch. All figures are in company currency.
"""

from dataclasses import dataclass
from datetime import date

from odoo import api, fields, models
from odoo.tools import SQL


@dataclass(slots=True)
class Exposure:
    partner_id: int
    open_receivable: float = 0.0
    draft_invoiced: float = 0.0
    uninvoiced_orders: float = 0.0
    amount_overdue: float = 0.0
    oldest_due_date: date | None = None

    @property
    def total(self) -> float:
        return self.open_receivable + self.draft_invoiced + self.uninvoiced_orders

    def oldest_overdue_days(self, today: date) -> int:
        return (today - self.oldest_due_date).days if self.oldest_due_date else 0


class ArCreditExposure(models.AbstractModel):
    _name = "ar.credit.exposure"
    _description = "Credit exposure (SQL service)"

    @api.model
    def _receivable_account_ids(self, company):
        return (
            self.env["account.account"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("account_type", "=", "asset_receivable"),
                    *self.env["account.account"]._check_company_domain(company),
                ]
            )
            .ids
        )

    @api.model
    def compute(self, commercial_partner_ids, company, today=None, include_draft=None):
        """{commercial partner id: Exposure} for the given commercial partners in `company`.

        Contacts' documents count for their commercial partner. One SQL statement.
        """
        today = today or fields.Date.context_today(self)
        if include_draft is None:
            include_draft = company.ar_exposure_include_draft_invoices
        result = {pid: Exposure(pid) for pid in commercial_partner_ids}
        if not commercial_partner_ids:
            return result
        self.env.flush_all()
        query = SQL(
            """
            WITH members AS (
                SELECT id, commercial_partner_id
                  FROM res_partner
                 WHERE commercial_partner_id = ANY(%(partners)s)
            ),
            -- Invoices Odoo shows "in payment"/"paid" while their receivable is still open:
            -- those matched with a payment that has no journal entry (see account.move's
            -- _compute_payment_state). Found from those payments, a small set, so the open
            -- items below are read from one covering index without visiting account_move.
            paid_open AS (
                SELECT rel.invoice_id AS move_id
                  FROM account_payment pay
                  JOIN account_move__account_payment rel ON rel.payment_id = pay.id
                  JOIN account_move move ON move.id = rel.invoice_id
                 WHERE pay.move_id IS NULL
                   AND pay.state IN ('in_process', 'paid')
                   AND pay.partner_id IN (SELECT id FROM members)
                   AND move.payment_state IN ('in_payment', 'paid')
            ),
            open_items AS (
                SELECT mb.commercial_partner_id AS partner_id,
                       SUM(aml.amount_residual) AS open_receivable,
                       SUM(aml.amount_residual) FILTER (
                           WHERE aml.amount_residual > 0 AND aml.date_maturity < %(today)s
                       ) AS amount_overdue,
                       MIN(aml.date_maturity) FILTER (
                           WHERE aml.amount_residual > 0 AND aml.date_maturity < %(today)s
                       ) AS oldest_due_date
                  FROM account_move_line aml
                  JOIN members mb ON mb.id = aml.partner_id
                 WHERE aml.account_id = ANY(%(accounts)s)
                   AND aml.company_id = %(company)s
                   AND aml.parent_state = 'posted'
                   -- the exact predicate of Odoo's account_move_line__unreconciled_index
                   AND (aml.reconciled IS NULL OR aml.reconciled = false
                        OR aml.reconciled IS NOT true)
                   AND aml.move_id <> ALL(ARRAY(SELECT move_id FROM paid_open))
                 GROUP BY mb.commercial_partner_id
            ),
            drafts AS (
                SELECT move.commercial_partner_id AS partner_id,
                       SUM(move.amount_total_signed) AS draft_invoiced
                  FROM account_move move
                 WHERE %(include_draft)s
                   AND move.commercial_partner_id = ANY(%(partners)s)
                   AND move.company_id = %(company)s
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
                 WHERE so.company_id = %(company)s
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
                   oi.oldest_due_date
              FROM unnest(%(partners)s::int[]) AS p(id)
              LEFT JOIN open_items oi ON oi.partner_id = p.id
              LEFT JOIN drafts d ON d.partner_id = p.id
              LEFT JOIN orders o ON o.partner_id = p.id
            """,
            partners=list(commercial_partner_ids),
            accounts=self._receivable_account_ids(company),
            company=company.id,
            today=today,
            include_draft=bool(include_draft),
        )
        for pid, open_ar, draft, orders, overdue, oldest in self.env.execute_query(query):
            rounding = company.currency_id
            result[pid] = Exposure(
                pid,
                open_receivable=rounding.round(open_ar),
                draft_invoiced=rounding.round(draft),
                uninvoiced_orders=rounding.round(orders),
                amount_overdue=rounding.round(overdue),
                oldest_due_date=oldest,
            )
        return result
