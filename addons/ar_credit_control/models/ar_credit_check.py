"""The credit check of sale orders: which rules an order fails, with the figures behind them.

Rules (each order, in its company):
1. limit: exposure + this order (company currency, at the order date, net of online payments not
   yet in the ledger) above the customer's credit limit (0 = no limit);
2. overdue: more than the company's minimum amount overdue by more than its tolerance in days
   (company setting, off by default);
3. hold / prepayment: the customer is on credit hold, or their grade asks for a prepayment the
   order has not received (done/authorized transactions and paid down-payment invoices).

A valid manager approval covers an order's amount: no rule is applied to it. Figures come from
``ar.credit.exposure`` (one SQL query per company) and one SQL query for the prepaid amounts.
With ``lock=True`` the check first locks and bumps the customers' ``ar.credit.state`` rows.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang


@dataclass(slots=True)
class OrderCredit:
    order_id: int
    grade: str | bool = False
    credit_limit: float = 0.0
    exposure: float = 0.0
    order_amount: float = 0.0
    amount_overdue: float = 0.0
    oldest_overdue_days: int = 0
    prepaid: float = 0.0
    prepayment_required: float = 0.0
    credit_hold: bool = False
    approved: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def available(self) -> float:
        return self.credit_limit - self.exposure if self.credit_limit else 0.0

    @property
    def excess(self) -> float:
        if not self.credit_limit:
            return 0.0
        return max(0.0, self.exposure + self.order_amount - self.credit_limit)


# The prepaid amounts of orders, the body of the PL/pgSQL function ar_credit_prepaid (its plan
# is kept for the session, like the exposure's).
PREPAID_FUNCTION = "ar_credit_prepaid"
PREPAID_QUERY = """
        WITH tx AS (
            SELECT rel.sale_order_id AS order_id,
                   SUM(tx.amount) AS prepaid,
                   SUM(tx.amount) FILTER (WHERE tx.payment_id IS NULL) AS off_ledger
              FROM sale_order_transaction_rel rel
              JOIN payment_transaction tx ON tx.id = rel.transaction_id
              JOIN sale_order so ON so.id = rel.sale_order_id
             WHERE rel.sale_order_id = ANY(p_orders)
               AND tx.state IN ('done', 'authorized')
               AND tx.operation IS DISTINCT FROM 'validation'
               AND tx.currency_id = so.currency_id
             GROUP BY rel.sale_order_id
        ),
        down_payments AS (
            SELECT sol.order_id, SUM(aml.price_total) AS prepaid
              FROM sale_order_line sol
              JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
              JOIN account_move_line aml ON aml.id = rel.invoice_line_id
              JOIN account_move move ON move.id = aml.move_id
             WHERE sol.order_id = ANY(p_orders)
               AND sol.is_downpayment
               AND move.state = 'posted'
               AND move.move_type = 'out_invoice'
               AND move.payment_state IN ('paid', 'in_payment')
             GROUP BY sol.order_id
        )
        SELECT o.id,
               COALESCE(tx.prepaid, 0) + COALESCE(dp.prepaid, 0),
               COALESCE(tx.off_ledger, 0)
          FROM unnest(p_orders::int[]) AS o(id)
          LEFT JOIN tx ON tx.order_id = o.id
          LEFT JOIN down_payments dp ON dp.order_id = o.id
"""

# What the check reads of the company.
CHECK_COMPANY_FIELDS = [
    "currency_id",
    "parent_path",
    "ar_credit_block_overdue",
    "ar_credit_overdue_days",
    "ar_credit_overdue_amount",
    "ar_exposure_include_draft_invoices",
]


class ArCreditCheck(models.AbstractModel):
    _name = "ar.credit.check"
    _description = "Credit check of sale orders"

    def init(self):
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE FUNCTION %s(p_orders integer[])
                RETURNS TABLE (prepaid_order_id integer, prepaid numeric, off_ledger numeric)
                LANGUAGE plpgsql STABLE AS $function$
                #variable_conflict use_column
                BEGIN
                    RETURN QUERY %s;
                END
                $function$
                """,
                SQL.identifier(PREPAID_FUNCTION),
                SQL(PREPAID_QUERY),
            )
        )

    @api.model
    def _prepaid_amounts(self, orders):
        """{order id: (prepaid, prepaid outside the ledger)} in order currency, one query.

        Prepaid: done/authorized online transactions and paid down-payment invoices. A done
        transaction with its payment already created is in the ledger (it lowers the open
        receivable), so it must not be deducted a second time from the order's exposure.
        """
        order_ids = [oid for oid in orders._origin.ids if oid]
        if not order_ids:
            return {}
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL("SELECT * FROM %s(%s::int[])", SQL.identifier(PREPAID_FUNCTION), order_ids)
        )
        return {oid: (prepaid, off_ledger) for oid, prepaid, off_ledger in rows}

    @api.model
    def _credit_terms(self, partner_ids, company_id):
        """{customer id: (grade, credit hold, prepayment %)} from their credit profiles in this
        company: one query. The prepayment asked is the higher of the profile's own and its
        grade policy's."""
        self.env["ar.credit.profile"].flush_model()
        self.env["ar.credit.policy"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT profile.partner_id,
                       profile.grade,
                       COALESCE(profile.credit_hold, false),
                       GREATEST(COALESCE(profile.prepayment_percent, 0),
                                COALESCE(policy.prepayment_percent, 0))
                  FROM ar_credit_profile profile
                  LEFT JOIN ar_credit_policy policy
                         ON policy.company_id = profile.company_id
                        AND policy.grade = profile.grade
                 WHERE profile.partner_id = ANY(%(partners)s)
                   AND profile.company_id = %(company)s
                """,
                partners=list(partner_ids),
                company=company_id,
            )
        )
        return {
            partner_id: (grade or False, credit_hold, percent or 0.0)
            for partner_id, grade, credit_hold, percent in rows
        }

    @api.model
    def evaluate(self, orders, lock=False):
        """{order (record): OrderCredit} for these orders, without changing them.

        Orders of one customer in one batch count each other: the second sees the first.
        """
        results = {}
        prepaid_by_order = self._prepaid_amounts(orders)
        for company in orders.company_id:
            company_orders = orders.filtered(lambda o, c=company: o.company_id == c).sorted(
                lambda o: o._origin.id or 0
            )
            results.update(self._evaluate_company(company_orders, company, prepaid_by_order, lock))
        return results

    def _evaluate_company(self, orders, company, prepaid_by_order, lock):
        today = fields.Date.context_today(self)
        # Only the fields the check reads: reading one field of a record otherwise fetches
        # every field of its model (res.company and res.partner have hundreds), which costs
        # more than the check itself. Partners are read without record rules: the user may
        # confirm these orders.
        company.sudo().fetch(CHECK_COMPANY_FIELDS)
        company.sudo().currency_id.fetch(["rounding", "decimal_places"])
        orders_sudo = orders.sudo()
        (orders_sudo.partner_invoice_id | orders_sudo.partner_id).fetch(["commercial_partner_id"])
        partners = orders_sudo.mapped(lambda o: o._credit_partner()).sudo(False)
        if lock:
            self.env["ar.credit.state"].sudo()._lock_for_check(partners.ids, company.id)
        # Overdue beyond the tolerance: one exposure query with "today" moved back by the
        # tolerance gives the amount due before that day (the other figures do not depend on it).
        tolerance_days = company.ar_credit_overdue_days if company.ar_credit_block_overdue else 0
        exposures = self.env["ar.credit.exposure"].compute(
            partners.ids, company, today=today - timedelta(days=tolerance_days)
        )
        credit_terms = self._credit_terms(partners.ids, company.id)
        # Only the limit: a plain read of the partners would fetch every company-dependent
        # field of res.partner, each with its default.
        limit_partners = partners.with_company(company).sudo()
        limit_partners.fetch(["credit_limit"])
        limits = {p.id: p.credit_limit for p in limit_partners}
        currency = company.currency_id
        batch_amounts = {}  # customer -> orders of this batch counted so far
        results = {}
        for order in orders:
            partner = order._credit_partner()
            exposure = exposures[partner.id]
            grade, credit_hold, percent = credit_terms.get(partner.id, (False, False, 0.0))
            prepaid, off_ledger = prepaid_by_order.get(order._origin.id, (0.0, 0.0))
            net_amount = max(0.0, order.amount_total - off_ledger)
            order_amount = order.currency_id._convert(
                net_amount, currency, company, order.date_order or today
            )
            result = OrderCredit(
                order_id=order._origin.id,
                grade=grade,
                credit_limit=limits.get(partner.id, 0.0),
                exposure=exposure.total + batch_amounts.get(partner.id, 0.0),
                order_amount=order_amount,
                amount_overdue=exposure.amount_overdue,
                oldest_overdue_days=exposure.oldest_overdue_days(today),
                prepaid=prepaid,
                prepayment_required=order.currency_id.round(order.amount_total * percent / 100),
                credit_hold=credit_hold,
                approved=order._credit_approval_valid(),
            )
            batch_amounts[partner.id] = batch_amounts.get(partner.id, 0.0) + order_amount
            if not result.approved:
                result.failures = self._failures(order, company, result)
            results[order] = result
        return results

    def _failures(self, order, company, credit):
        """The failed rules of one order, each a sentence with its figures and what to do."""
        _ = self.env._
        currency = company.currency_id

        def money(amount, curr=currency):
            return formatLang(self.env, amount, currency_obj=curr)

        failures = []
        if order.credit_approval_state == "rejected":
            failures.append(
                _(
                    "A credit manager rejected this order: %(reason)s. Change the order and "
                    "request a new approval.",
                    reason=order.credit_approval_reason or _("no reason given"),
                )
            )
        if credit.credit_limit and credit.excess > currency.rounding / 2:
            failures.append(
                _(
                    "Credit limit exceeded: exposure %(exposure)s + this order %(order)s is "
                    "%(excess)s over the limit of %(limit)s. Collect a payment or a prepayment, "
                    "reduce the order, or request a credit approval.",
                    exposure=money(credit.exposure),
                    order=money(credit.order_amount),
                    excess=money(credit.excess),
                    limit=money(credit.credit_limit),
                )
            )
        if (
            company.ar_credit_block_overdue
            and credit.amount_overdue > company.ar_credit_overdue_amount
            and credit.amount_overdue > currency.rounding / 2
        ):
            failures.append(
                _(
                    "Overdue: %(amount)s is more than %(days)s days past due (tolerance "
                    "%(tolerance)s; oldest item %(oldest)s days). Collect the overdue invoices "
                    "or request a credit approval.",
                    amount=money(credit.amount_overdue),
                    days=company.ar_credit_overdue_days,
                    tolerance=money(company.ar_credit_overdue_amount),
                    oldest=credit.oldest_overdue_days,
                )
            )
        if credit.credit_hold:
            failures.append(
                _(
                    "The customer is on credit hold in %(company)s: a credit manager must "
                    "approve this order. Request a credit approval.",
                    company=company.name,
                )
            )
        missing = credit.prepayment_required - credit.prepaid
        if credit.prepayment_required and missing > order.currency_id.rounding / 2:
            failures.append(
                _(
                    "Prepayment required: grade %(grade)s asks for %(required)s before "
                    "confirmation, %(prepaid)s is paid (%(missing)s missing). Have the customer "
                    "pay online or a down-payment invoice, or request a credit approval.",
                    grade=credit.grade or "-",
                    required=money(credit.prepayment_required, order.currency_id),
                    prepaid=money(credit.prepaid, order.currency_id),
                    missing=money(missing, order.currency_id),
                )
            )
        return failures
