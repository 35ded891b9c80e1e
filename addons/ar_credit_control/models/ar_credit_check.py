"""The credit check of sale orders: which rules an order fails, with the figures behind them.

Rules (each order, in its company), in the order of ``_credit_rules()``:

- rejected: a credit manager rejected the order;
- limit: exposure + this order (company currency, at the order date, net of online payments not
  yet in the ledger) above the customer's credit limit (0 = no limit);
- overdue: more than the company's minimum amount overdue by more than its tolerance in days
  (company setting, off by default), less the customer's unapplied cash where the company
  nets it (``ar_net_unapplied_cash``);
- hold / prepayment: the customer is on credit hold, or their grade asks for a prepayment the
  order has not received (done/authorized transactions and paid down-payment invoices).

Each rule ``name`` is a method ``_rule_<name>`` that returns the failure's sentence, or None
when the order passes. Another addon adds a rule the OCA way: it extends ``_credit_rules()``
with ``super()``, defines ``_rule_<name>``, and gets the figures its rule needs from
``_extra_figures`` (one set-based query for the batch, on ``OrderCredit.extra``), without
touching the SQL function below (readme/DEVELOP.md).

A valid manager approval (``sale.order._credit_approval_valid``) lets an order through: no rule
is applied to it. Every figure of the standard rules for a batch of orders in one company comes
from one call of the PL/pgSQL function ``ar_credit_check_figures``: it resolves the customers,
locks and bumps their ``ar.credit.state`` rows (``lock=True``), and returns exposure
(``ar.credit.exposure``), credit terms, limit, prepaid amounts and the company's overdue rule,
as named columns. A confirmation thus adds one round trip to the database, not one per figure.
"""

from dataclasses import dataclass, field

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from ..database_objects import ensure_function
from .ar_credit_exposure import Exposure


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
    # the company's overdue rule
    block_overdue: bool = False
    overdue_days: int = 0
    overdue_tolerance: float = 0.0
    approved: bool = False
    # the figures of rules added by other addons (``_extra_figures``), by name
    extra: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def available(self) -> float:
        return self.credit_limit - self.exposure if self.credit_limit else 0.0

    @property
    def excess(self) -> float:
        if not self.credit_limit:
            return 0.0
        return max(0.0, self.exposure + self.order_amount - self.credit_limit)


# The figures of a batch of orders in one company, the body of the PL/pgSQL function
# ar_credit_check_figures: one row per order (p_orders and p_customers are parallel arrays; an
# order not saved yet is 0), read by column name. PostgreSQL keeps the function's plans for the
# session.
CHECK_FUNCTION = "ar_credit_check_figures"
CHECK_FUNCTION_SQL = """
CREATE FUNCTION %(function)s(
    p_orders integer[], p_customers integer[], p_company integer, p_today date,
    p_lock boolean, p_limit_fallback double precision
)
RETURNS TABLE (
    order_position integer, commercial_partner_id integer,
    open_receivable numeric, draft_invoiced numeric, uninvoiced_orders numeric,
    amount_overdue numeric, oldest_due_date date,
    grade varchar, credit_hold boolean, prepayment_percent double precision,
    credit_limit double precision, prepaid numeric, prepaid_off_ledger numeric,
    company_currency_id integer, block_overdue boolean, overdue_days integer,
    overdue_amount numeric, unapplied_cash numeric, net_unapplied boolean
)
LANGUAGE plpgsql VOLATILE
-- A check is about a few customers: one plan, kept for the session, fits every call (custom
-- plans for each call's arrays would cost more to plan than to run), the exposure's included.
SET plan_cache_mode = force_generic_plan
AS $function$
#variable_conflict use_column
DECLARE
    v_company record;
    v_partners integer[];
BEGIN
    SELECT company.currency_id,
           -- the company and its parents, whose receivable accounts it shares
           string_to_array(rtrim(company.parent_path, '/'), '/')::integer[] AS parents,
           COALESCE(company.ar_credit_block_overdue, false) AS block_overdue,
           COALESCE(company.ar_credit_overdue_days, 0) AS overdue_days,
           COALESCE(company.ar_credit_overdue_amount, 0) AS overdue_amount,
           COALESCE(company.ar_exposure_include_draft_invoices, false) AS include_draft,
           COALESCE(company.ar_net_unapplied_cash, false) AS net_unapplied
      INTO v_company
      FROM res_company company
     WHERE company.id = p_company;
    v_partners := ARRAY(
        SELECT DISTINCT COALESCE(partner.commercial_partner_id, partner.id)
          FROM res_partner partner
         WHERE partner.id = ANY(p_customers)
         ORDER BY 1
    );
    IF p_lock THEN
        -- One statement inserts missing rows and locks and bumps existing ones, in partner
        -- order so that two batches never deadlock. At REPEATABLE READ, an upsert that meets
        -- a row changed by a transaction committed after our snapshot fails with a
        -- serialization error (Odoo retries the request): the figures below can never be
        -- older than the last confirmation for these customers.
        INSERT INTO ar_credit_state AS state (partner_id, company_id, check_count, last_check)
        SELECT partner, p_company, 1, NOW() AT TIME ZONE 'UTC'
          FROM unnest(v_partners) AS partner
         ORDER BY partner
            ON CONFLICT (partner_id, company_id) DO UPDATE
           SET check_count = state.check_count + 1,
               last_check = EXCLUDED.last_check;
    END IF;
    RETURN QUERY
        WITH orders AS (
            SELECT o.order_id, o.position::integer AS position,
                   COALESCE(partner.commercial_partner_id, partner.id) AS partner_id
              FROM unnest(p_orders, p_customers) WITH ORDINALITY
                   AS o(order_id, customer_id, position)
              JOIN res_partner partner ON partner.id = o.customer_id
        ),
        -- Overdue beyond the tolerance: "today" moved back by the tolerance gives the amount
        -- due before that day (the other figures do not depend on it).
        exposure AS (
            SELECT *
              FROM ar_credit_exposure(
                  v_partners, p_company, v_company.parents,
                  p_today - CASE WHEN v_company.block_overdue
                                 THEN v_company.overdue_days ELSE 0 END,
                  v_company.include_draft
              )
        ),
        -- The prepayment asked is the higher of the profile's own and its grade policy's.
        terms AS (
            SELECT profile.partner_id, profile.grade,
                   COALESCE(profile.credit_hold, false) AS credit_hold,
                   GREATEST(COALESCE(profile.prepayment_percent, 0),
                            COALESCE(policy.prepayment_percent, 0))::double precision
                       AS prepayment_percent
              FROM ar_credit_profile profile
              LEFT JOIN ar_credit_policy policy
                     ON policy.company_id = profile.company_id
                    AND policy.grade = profile.grade
             WHERE profile.partner_id = ANY(v_partners)
               AND profile.company_id = p_company
        ),
        -- Prepaid: done/authorized online transactions and paid down-payment invoices. A done
        -- transaction whose payment exists is in the ledger already (it lowers the open
        -- receivable): "off ledger" is what must still be deducted from the order.
        transactions AS (
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
        SELECT o.position,
               o.partner_id,
               COALESCE(exposure.open_receivable, 0),
               COALESCE(exposure.draft_invoiced, 0),
               COALESCE(exposure.uninvoiced_orders, 0),
               COALESCE(exposure.amount_overdue, 0),
               exposure.oldest_due_date,
               terms.grade,
               COALESCE(terms.credit_hold, false),
               COALESCE(terms.prepayment_percent, 0),
               -- Odoo's company-dependent credit limit, with the ORM's fallback (ir.default)
               -- for companies without a value of their own
               CASE WHEN commercial.credit_limit ? p_company::text
                    THEN COALESCE(
                        (commercial.credit_limit -> p_company::text ->> 0)::double precision, 0
                    )
                    ELSE p_limit_fallback END,
               COALESCE(tx.prepaid, 0) + COALESCE(dp.prepaid, 0),
               COALESCE(tx.off_ledger, 0),
               v_company.currency_id,
               v_company.block_overdue,
               v_company.overdue_days,
               v_company.overdue_amount,
               COALESCE(exposure.unapplied_cash, 0),
               v_company.net_unapplied
          FROM orders o
          JOIN res_partner commercial ON commercial.id = o.partner_id
          LEFT JOIN exposure ON exposure.exposure_partner_id = o.partner_id
          LEFT JOIN terms ON terms.partner_id = o.partner_id
          LEFT JOIN transactions tx ON tx.order_id = o.order_id
          LEFT JOIN down_payments dp ON dp.order_id = o.order_id
         ORDER BY o.position;
END
$function$
"""


class ArCreditCheck(models.AbstractModel):
    _name = "ar.credit.check"
    _description = "Credit check of sale orders"

    def init(self):
        ensure_function(
            self.env.cr,
            CHECK_FUNCTION,
            SQL(CHECK_FUNCTION_SQL, function=SQL.identifier(CHECK_FUNCTION)),
        )

    @api.model
    def _evaluate(self, orders, lock=False):
        """{order (record): OrderCredit} for these orders, without changing them.

        Orders of one customer in one batch count each other: the second sees the first.
        """
        results = {}
        for company in orders.company_id:
            company_orders = orders.filtered(lambda o, c=company: o.company_id == c).sorted(
                lambda o: o._origin.id or 0
            )
            results.update(self._evaluate_company(company_orders, company, lock))
        return results

    def _credit_partner_ids(self, orders):
        """[partner id] the check is about, one per order: the invoice address's or the
        customer's (their commercial partner is the customer whose credit is checked)."""
        return [(order.partner_invoice_id or order.partner_id).id for order in orders]

    def _figures(self, orders, company, today, lock):
        """The figures of these orders of one company, in their order: one dict per order, the
        function's columns by name."""
        # The ORM's fallback of the company-dependent limit (ir.default, cached).
        partners = self.env["res.partner"].sudo().with_company(company)
        limit_fallback = partners._fields["credit_limit"].get_company_dependent_fallback(partners)
        self.env.flush_all()
        return self.env.execute_query_dict(
            SQL(
                "SELECT * FROM %s(%s::int[], %s::int[], %s, %s, %s, %s)",
                SQL.identifier(CHECK_FUNCTION),
                [order._origin.id or 0 for order in orders],
                self._credit_partner_ids(orders),
                company.id,
                today,
                bool(lock),
                limit_fallback or 0.0,
            )
        )

    def _extra_figures(self, orders, company, today):
        """{order: {name: value}}: the figures of the rules other addons add, for a batch of
        orders of one company (some maybe not saved yet), before the rules run.

        None by default. A rule's addon extends this with ``super()`` and adds its figures to
        every order's dict, from one set-based query for the whole batch (the database is
        flushed; ``_credit_partner_ids`` gives the customers); its ``_rule_<name>`` reads them
        on ``credit.extra``.
        """
        return {order: {} for order in orders}

    def _evaluate_company(self, orders, company, lock):
        # Nothing of the company or the customers is read through the ORM: one record field
        # read fetches every field of its model (res.company and res.partner have hundreds),
        # which costs more than the check. The function returns what the rules need.
        today = fields.Date.context_today(self)
        figures = self._figures(orders.sudo(), company, today, lock)
        if not figures:
            return {}
        extra = self._extra_figures(orders.sudo(), company, today)
        currency = self.env["res.currency"].browse(figures[0]["company_currency_id"])
        batch_amounts = {}  # customer -> orders of this batch counted so far
        results = {}
        for order, row in zip(orders, figures, strict=True):
            partner_id = row["commercial_partner_id"]
            exposure = Exposure.rounded(
                currency,
                partner_id,
                row["open_receivable"],
                row["draft_invoiced"],
                row["uninvoiced_orders"],
                row["amount_overdue"],
                row["oldest_due_date"],
                row["unapplied_cash"],
            )
            net_amount = max(0.0, order.amount_total - float(row["prepaid_off_ledger"]))
            order_amount = order.currency_id._convert(
                net_amount, currency, company, order.date_order or today
            )
            result = OrderCredit(
                order_id=order._origin.id,
                grade=row["grade"] or False,
                credit_limit=row["credit_limit"],
                exposure=exposure.total + batch_amounts.get(partner_id, 0.0),
                order_amount=order_amount,
                # less the unapplied cash where the company nets it: a customer who paid is
                # not blocked while the payment waits to be matched
                amount_overdue=exposure.overdue(row["net_unapplied"]),
                oldest_overdue_days=exposure.oldest_overdue_days(today, row["net_unapplied"]),
                prepaid=float(row["prepaid"]),
                prepayment_required=order.currency_id.round(
                    order.amount_total * row["prepayment_percent"] / 100
                ),
                credit_hold=row["credit_hold"],
                block_overdue=row["block_overdue"],
                overdue_days=row["overdue_days"],
                overdue_tolerance=float(row["overdue_amount"]),
                approved=order._credit_approval_valid(),
                extra=extra.get(order, {}),
            )
            batch_amounts[partner_id] = batch_amounts.get(partner_id, 0.0) + order_amount
            if not result.approved:
                result.failures = self._failures(order, company, currency, result)
            results[order] = result
        return results

    def _credit_rules(self):
        """The names of the credit check's rules, in the order their failures are listed.

        Each ``name`` is a method ``_rule_<name>(order, company, currency, credit)`` returning
        the failure's sentence (its figures and what to do), or None when the order passes.
        Another addon adds a rule: ``return super()._credit_rules() + ["mine"]`` and a method
        ``_rule_mine``.
        """
        return ["rejected", "limit", "overdue", "hold", "prepayment"]

    def _failures(self, order, company, currency, credit):
        """The failed rules of one order, each a sentence with its figures and what to do."""
        failures = []
        for name in self._credit_rules():
            failure = getattr(self, f"_rule_{name}")(order, company, currency, credit)
            if failure:
                failures.append(failure)
        if failures and (lapsed := order._credit_approval_lapse_note()):
            failures.insert(0, lapsed)
        return failures

    def _format_amount(self, amount, currency):
        return formatLang(self.env, amount, currency_obj=currency)

    def _rule_rejected(self, order, company, currency, credit):
        # The approval fields are for the check to read, whoever confirms.
        approval = order.sudo()
        if approval.credit_approval_state != "rejected":
            return None
        _ = self.env._
        return _(
            "A credit manager rejected this order: %(reason)s. Change the order and "
            "request a new approval.",
            reason=approval.credit_approval_reason or _("no reason given"),
        )

    def _rule_limit(self, order, company, currency, credit):
        if not credit.credit_limit or credit.excess <= currency.rounding / 2:
            return None
        money = self._format_amount
        return self.env._(
            "Credit limit exceeded: exposure %(exposure)s + this order %(order)s is "
            "%(excess)s over the limit of %(limit)s. Collect a payment or a prepayment, "
            "reduce the order, or request a credit approval.",
            exposure=money(credit.exposure, currency),
            order=money(credit.order_amount, currency),
            excess=money(credit.excess, currency),
            limit=money(credit.credit_limit, currency),
        )

    def _rule_overdue(self, order, company, currency, credit):
        if not (
            credit.block_overdue
            and credit.amount_overdue > credit.overdue_tolerance
            and credit.amount_overdue > currency.rounding / 2
        ):
            return None
        money = self._format_amount
        return self.env._(
            "Overdue: %(amount)s is more than %(days)s days past due (tolerance "
            "%(tolerance)s; oldest item %(oldest)s days). Collect the overdue invoices "
            "or request a credit approval.",
            amount=money(credit.amount_overdue, currency),
            days=credit.overdue_days,
            tolerance=money(credit.overdue_tolerance, currency),
            oldest=credit.oldest_overdue_days,
        )

    def _rule_hold(self, order, company, currency, credit):
        if not credit.credit_hold:
            return None
        return self.env._(
            "The customer is on credit hold in %(company)s: a credit manager must "
            "approve this order. Request a credit approval.",
            company=company.name,
        )

    def _rule_prepayment(self, order, company, currency, credit):
        missing = credit.prepayment_required - credit.prepaid
        if not credit.prepayment_required or missing <= order.currency_id.rounding / 2:
            return None
        money = self._format_amount
        return self.env._(
            "Prepayment required: grade %(grade)s asks for %(required)s before "
            "confirmation, %(prepaid)s is paid (%(missing)s missing). Have the customer "
            "pay online or a down-payment invoice, or request a credit approval.",
            grade=credit.grade or "-",
            required=money(credit.prepayment_required, order.currency_id),
            prepaid=money(credit.prepaid, order.currency_id),
            missing=money(missing, order.currency_id),
        )
