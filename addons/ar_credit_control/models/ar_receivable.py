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
"""

from odoo import api, models
from odoo.tools import SQL

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
