"""What "open receivable" means, in one place for every feature.

A company's receivable accounts are the accounts of type receivable shared with the company or
with one of its parents: a branch posts on its parent's accounts. A company's open receivable
lines are its own (``company_id``) posted, unreconciled lines on those accounts with a residual,
but for those of invoices paid and waiting for the bank (``awaiting_bank``); they count for the
commercial partner of their partner, so a contact's invoices count for its company.

Exposure, aging, statements, dunning, warnings, matching, forecast and the KPIs read the
accounts here and the lines with ``OPEN_LINE``/``open_line``. Two SQL-only readers repeat the
account rule where no Python runs: the PL/pgSQL exposure function (``ar_credit_exposure``: the
accounts shared with ``p_company_parents``) and the collection worklist view. The agreement test
(``tests/test_open_receivable_agreement.py``) holds them all to the same figures.

Unapplied cash is a customer's open credits: payments and credit notes not (or not wholly)
matched with an invoice yet, those of documents awaiting the bank left out. Aging and
statements show them in their own "Unapplied" column (``unapplied_item``); a customer's figure
is ``ar.receivable._unapplied_cash`` (the SQL function ``ar_unapplied_cash``, which exposure
and the credit check call too). Where the company nets it (``ar_net_unapplied_cash``, on by
default), dunning and the credit check set it against the overdue items (``net_overdue``): a
customer who paid but whose payment is not matched yet is neither dunned nor blocked.
"""

from odoo import api, models
from odoo.tools import SQL

from ..database_objects import ensure_function

# The predicate of Odoo's account_move_line__unreconciled_index, repeated in ours (the planner
# uses a partial index only when a query repeats its WHERE clause).
OPEN_LINE = (
    "parent_state = 'posted' "
    "AND (reconciled IS NULL OR reconciled = false OR reconciled IS NOT true)"
)


def open_line(alias):
    """The OPEN_LINE predicate on the move lines named `alias` in a query."""
    return SQL(
        "%(line)s.parent_state = 'posted' "
        "AND (%(line)s.reconciled IS NULL OR %(line)s.reconciled = false "
        "OR %(line)s.reconciled IS NOT true)",
        line=SQL.identifier(alias),
    )


def awaiting_bank(move):
    """SQL condition: the move named `move` is an invoice its customer has paid, by a payment
    the bank has not matched yet (Odoo's "in payment"). Its lines stay open in the ledger until
    then, but nothing is owed: no feature counts them as open receivable (the aging shows them
    in their own "In payment" column)."""
    return SQL("%s.payment_state IN ('in_payment', 'paid')", SQL.identifier(move))


def unapplied_item(line):
    """SQL condition: the open item named `line` is unapplied cash (an open credit: a payment
    or credit note not wholly matched). Callers leave out documents awaiting the bank."""
    return SQL("%s.amount_residual < 0", SQL.identifier(line))


def net_overdue(amount_overdue, unapplied_cash, net_unapplied=True):
    """What a customer still owes of `amount_overdue` once their unapplied cash is set against
    it (when the company nets it: ``ar_net_unapplied_cash``). Never below zero."""
    if not net_unapplied:
        return amount_overdue
    return max(0.0, amount_overdue - unapplied_cash)


# A customer's unapplied cash in a company: the open credits kept per customer in
# ar_open_balance (few rows), less the open credits of documents awaiting the bank (a credit
# note refunded by a payment the bank has not matched: that money is on its way out). In
# company currency, positive; customers without any are left out.
UNAPPLIED_CASH_FUNCTION = "ar_unapplied_cash"
UNAPPLIED_CASH_SQL = """
CREATE FUNCTION %(function)s(p_partners integer[], p_company integer, p_accounts integer[])
RETURNS TABLE (partner_id integer, unapplied_cash numeric)
-- PL/pgSQL: its body is checked when called, not when made (before ar_open_balance exists)
LANGUAGE plpgsql STABLE AS $function$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT credits.partner_id, -SUM(credits.amount)
      FROM (
        SELECT member.commercial_partner_id AS partner_id, balance.amount
          FROM res_partner member
          JOIN ar_open_balance balance ON balance.partner_id = member.id
         WHERE member.commercial_partner_id = ANY(p_partners)
           AND balance.company_id = p_company
           AND NOT balance.is_debit
           AND balance.account_id = ANY(p_accounts)
        UNION ALL
        SELECT member.commercial_partner_id, -aml.amount_residual
          FROM account_move move
          JOIN account_move_line aml ON aml.move_id = move.id
          JOIN res_partner member ON member.id = aml.partner_id
         WHERE move.commercial_partner_id = ANY(p_partners)
           AND move.payment_state IN ('in_payment', 'paid')
           AND move.amount_residual <> 0
           AND aml.account_id = ANY(p_accounts)
           AND aml.company_id = p_company
           AND aml.parent_state = 'posted'
           AND aml.amount_residual < 0
      ) AS credits
     GROUP BY credits.partner_id
    HAVING SUM(credits.amount) < 0;
END
$function$
"""


class ArReceivable(models.AbstractModel):
    _name = "ar.receivable"
    _description = "Open receivable (the definition every feature reads)"

    @api.model
    def _account_ids(self, companies):
        """Ids of the receivable accounts of `companies` (records or ids) and their parents,
        archived ones included (their open lines are still owed)."""
        return (
            self.env["account.account"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("account_type", "=", "asset_receivable"),
                    *self.env["account.account"]._check_company_domain(companies),
                ]
            )
            .ids
        )

    def init(self):
        ensure_function(
            self.env.cr,
            UNAPPLIED_CASH_FUNCTION,
            SQL(UNAPPLIED_CASH_SQL, function=SQL.identifier(UNAPPLIED_CASH_FUNCTION)),
        )

    @api.model
    def _unapplied_cash(self, company, partner_ids=None):
        """{commercial partner id: unapplied cash} of `company` (a record), in company currency
        (positive, rounded); customers without unapplied cash are left out.

        `partner_ids`: commercial partners to read (None: every customer of the company with
        unapplied cash, e.g. for an overview of the whole book). One SQL aggregate.
        """
        self.env.flush_all()
        accounts = self._account_ids(company)
        if partner_ids is None:
            partner_ids = [
                partner_id
                for (partner_id,) in self.env.execute_query(
                    SQL(
                        """
                        SELECT DISTINCT member.commercial_partner_id
                          FROM ar_open_balance balance
                          JOIN res_partner member ON member.id = balance.partner_id
                         WHERE balance.company_id = %s
                           AND NOT balance.is_debit
                           AND balance.account_id = ANY(%s)
                        """,
                        company.id,
                        accounts,
                    )
                )
            ]
        if not partner_ids:
            return {}
        rows = self.env.execute_query(
            SQL(
                "SELECT partner_id, unapplied_cash FROM %s(%s::int[], %s, %s::int[])",
                SQL.identifier(UNAPPLIED_CASH_FUNCTION),
                list(partner_ids),
                company.id,
                accounts,
            )
        )
        currency = company.currency_id
        return {partner_id: currency.round(float(amount)) for partner_id, amount in rows}
