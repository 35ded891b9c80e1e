"""Open balances per customer, company, account and maturity date, kept by PostgreSQL itself.

A credit check must read a customer's open receivable and overdue amount in a few milliseconds,
also for a customer with 10,000 open invoices. Summing their open move lines takes longer, so
this table holds the same sums in few rows:

    one row per (partner, company, account, maturity date, sign of the residual) and change

Statement-level triggers on ``account_move_line`` append the change of every statement (new
contributions minus old ones, from the transition tables) as new rows. Nothing is ever updated
in place: concurrent postings for one customer never wait on a shared row, and a reader sees
exactly the rows of the transactions its snapshot sees, like the move lines themselves. The
triggers catch every writer, the ORM and plain SQL alike.

A line contributes its ``amount_residual`` (company currency) while it is posted, has a
partner and is not settled; the sums per key are therefore the sums of the open lines. A cron
compacts the rows appended since its last run into one row per key. ``_rebuild`` recomputes the
whole table from the lines (install, repair) and ``_drift`` lists the keys where the table and
the lines disagree (tests and support).
"""

import logging

from odoo import api, models
from odoo.tools import SQL

from ..database_objects import ensure_function, ensure_table, ensure_trigger

_logger = logging.getLogger(__name__)

TABLE = "ar_open_balance"
TRIGGER_FUNCTION = "ar_open_balance_track"
TRIGGERS = (
    ("ar_open_balance_on_insert", "INSERT", "NEW TABLE AS new_rows"),
    ("ar_open_balance_on_update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("ar_open_balance_on_delete", "DELETE", "OLD TABLE AS old_rows"),
)
KEY_COLUMNS = "partner_id, company_id, account_id, date_maturity, is_debit"


def _contributions(rows_table, negate=False):
    """SELECT of what the move lines of `rows_table` contribute (negated: what they stop
    contributing). A line without maturity date is never overdue: 'infinity'."""
    return SQL(
        """
        SELECT partner_id, company_id, account_id,
               COALESCE(date_maturity, 'infinity'::date) AS date_maturity,
               amount_residual > 0 AS is_debit,
               %s amount_residual AS amount
          FROM %s
         WHERE parent_state = 'posted' AND partner_id IS NOT NULL AND amount_residual <> 0
        """,
        SQL("-" if negate else ""),
        SQL.identifier(rows_table),
    )


def _summed(*selects):
    """The contributions of `selects` summed per key, zero sums left out."""
    return SQL(
        "SELECT %(key)s, SUM(amount) AS amount FROM (%(union)s) AS change "
        "GROUP BY %(key)s HAVING SUM(amount) <> 0",
        key=SQL(KEY_COLUMNS),
        union=SQL(" UNION ALL ").join(selects),
    )


def _append(*selects):
    return SQL(
        "INSERT INTO %s (%s, amount) %s;",
        SQL.identifier(TABLE),
        SQL(KEY_COLUMNS),
        _summed(*selects),
    )


class ArOpenBalance(models.AbstractModel):
    _name = "ar.open.balance"
    _description = "Open balances per customer and maturity date (SQL service)"

    def init(self):
        # A table of our own, not a model's: the triggers append to it on every posting, and
        # an ORM table would add foreign-key triggers to each of those rows. Its figures are
        # derived from the move lines: a table of another shape is made again and rebuilt.
        cr = self.env.cr
        rebuild = ensure_table(
            cr,
            TABLE,
            SQL(
                """
                CREATE TABLE %(table)s (
                    id bigserial PRIMARY KEY,
                    partner_id integer NOT NULL,
                    company_id integer NOT NULL,
                    account_id integer NOT NULL,
                    date_maturity date NOT NULL,
                    is_debit boolean NOT NULL,
                    amount numeric NOT NULL,
                    compacted boolean NOT NULL DEFAULT false
                );
                -- The credit check reads a customer's rows in a company, index-only, and
                -- walks its debits in maturity order to find the oldest open one.
                CREATE INDEX %(due_index)s ON %(table)s
                    (partner_id, company_id, is_debit, date_maturity, account_id)
                    INCLUDE (amount);
                -- What the compaction has not folded yet.
                CREATE INDEX %(pending_index)s ON %(table)s (id) WHERE NOT compacted;
                """,
                table=SQL.identifier(TABLE),
                due_index=SQL.identifier(f"{TABLE}_due_idx"),
                pending_index=SQL.identifier(f"{TABLE}_pending_idx"),
            ),
        )
        new_rows = _contributions("new_rows")
        old_rows_removed = _contributions("old_rows", negate=True)
        ensure_function(
            cr,
            TRIGGER_FUNCTION,
            SQL(
                """
                CREATE FUNCTION %s() RETURNS trigger
                LANGUAGE plpgsql AS $function$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        %s
                    ELSIF TG_OP = 'UPDATE' THEN
                        %s
                    ELSE
                        %s
                    END IF;
                    RETURN NULL;
                END
                $function$
                """,
                SQL.identifier(TRIGGER_FUNCTION),
                _append(new_rows),
                _append(new_rows, old_rows_removed),
                _append(old_rows_removed),
            ),
        )
        for name, event, referencing in TRIGGERS:
            # A trigger made again may have missed postings (dropped by hand, or by its
            # function): rebuild the sums then too.
            rebuild |= ensure_trigger(
                cr,
                name,
                "account_move_line",
                SQL(
                    "CREATE TRIGGER %s AFTER %s ON account_move_line REFERENCING %s "
                    "FOR EACH STATEMENT EXECUTE FUNCTION %s()",
                    SQL.identifier(name),
                    SQL(event),
                    SQL(referencing),
                    SQL.identifier(TRIGGER_FUNCTION),
                ),
            )
        if rebuild:
            self._rebuild()

    @api.model
    def _rebuild(self):
        """Recompute the whole table from the move lines."""
        self.env.flush_all()
        table = SQL.identifier(TABLE)
        self.env.cr.execute(SQL("LOCK TABLE %s IN EXCLUSIVE MODE", table))
        self.env.cr.execute(SQL("DELETE FROM %s", table))
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s, amount, compacted) SELECT *, true FROM (%s) AS summed",
                table,
                SQL(KEY_COLUMNS),
                _summed(_contributions("account_move_line")),
            )
        )
        _logger.info("Open balances rebuilt: %s rows", self.env.cr.rowcount)

    @api.model
    def _compact(self):
        """Fold every row appended since the last compaction into one row per key.

        Only keys with new rows are rewritten. Rows of transactions still running are not
        visible here and stay as they are: the sums are right either way.
        """
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH touched AS (
                    SELECT DISTINCT %(key)s FROM %(table)s WHERE NOT compacted
                ),
                folded AS (
                    DELETE FROM %(table)s balance
                     USING touched
                     WHERE (balance.partner_id, balance.company_id, balance.account_id,
                            balance.date_maturity, balance.is_debit)
                         = (touched.partner_id, touched.company_id, touched.account_id,
                            touched.date_maturity, touched.is_debit)
                    RETURNING balance.*
                )
                INSERT INTO %(table)s (%(key)s, amount, compacted)
                SELECT %(key)s, SUM(amount), true
                  FROM folded
                 GROUP BY %(key)s
                HAVING SUM(amount) <> 0
                """,
                table=SQL.identifier(TABLE),
                key=SQL(KEY_COLUMNS),
            )
        )
        return self.env.cr.rowcount

    @api.model
    def _cron_compact(self):
        rows = self._compact()
        _logger.info("Open balances compacted into %s rows", rows)

    @api.model
    def _drift(self):
        """[(key..., table amount, lines amount)] where the table and the lines disagree."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH kept AS (
                    SELECT %(key)s, SUM(amount) AS amount FROM %(table)s GROUP BY %(key)s
                ),
                actual AS (%(actual)s)
                SELECT %(key)s, COALESCE(kept.amount, 0), COALESCE(actual.amount, 0)
                  FROM kept FULL JOIN actual USING (%(key)s)
                 WHERE COALESCE(kept.amount, 0) <> COALESCE(actual.amount, 0)
                """,
                table=SQL.identifier(TABLE),
                key=SQL(KEY_COLUMNS),
                actual=_summed(_contributions("account_move_line")),
            )
        )
        return self.env.cr.fetchall()
