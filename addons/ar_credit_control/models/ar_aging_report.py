"""Aging analysis: one row per open receivable line, built by one SQL query per request.

The query depends on the bucket set and the as-of date found in the context
(``aging_bucket_set_id``, ``aging_as_of``; by default the company's default set and today),
so pivot, graph and list group it like any table.

Open amount as of a date. A line's residual today is its balance less every reconciliation
on it. To see it as it stood on an earlier date, the reconciliations dated after that date
(``account_partial_reconcile.max_date > as_of``) are added back, and lines dated after it
are left out. A reconciliation dated on or before ``as_of`` joins two lines both dated on or
before it, so across all lines they cancel out: the total as of a date equals the general
ledger receivable balance at that date, exchange-difference entries included (they are
receivable lines dated when the reconciliation happened).

Invoices paid by a payment the bank has not matched yet (``payment_state`` "in payment", or
"paid" in Community which hides that state) keep their receivable open; their open debit
lines go to the set's "in payment" bucket, not to an overdue one, once the payment's date is
reached.

Unapplied cash (payments and credit notes not matched with an invoice yet: open credits, see
``ar.receivable``) is no receivable of any age: it goes to the set's "unapplied" bucket, not to
"Not due" or an overdue one. Shares are of the gross receivables (the open debits): unapplied
cash has no share, and the buckets' shares add up to 100 % however much customers paid ahead.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from ..database_objects import ensure_index
from .ar_credit_profile import GRADES, SEGMENTS
from .ar_receivable import OPEN_LINE, unapplied_item


class ArAgingReport(models.Model):
    _name = "ar.aging.report"
    _description = "Receivables aging"
    _auto = False
    _order = "days_past_due desc, id"
    _rec_name = "move_line_id"
    # What the query reads: flushed before every search or read of the report.
    _depends = {
        "account.move.line": [
            "account_id",
            "amount_residual",
            "amount_residual_currency",
            "balance",
            "company_id",
            "currency_id",
            "date",
            "date_maturity",
            "move_id",
            "parent_state",
            "partner_id",
            "reconciled",
        ],
        "account.move": ["invoice_date", "invoice_user_id", "payment_state", "matched_payment_ids"],
        "account.partial.reconcile": [
            "amount",
            "credit_amount_currency",
            "credit_move_id",
            "debit_amount_currency",
            "debit_move_id",
            "max_date",
            "company_id",
        ],
        "account.payment": ["date"],
        "res.partner": ["commercial_partner_id", "country_id"],
        "ar.credit.profile": ["partner_id", "company_id", "grade", "segment"],
    }

    move_line_id = fields.Many2one("account.move.line", string="Journal item", readonly=True)
    move_id = fields.Many2one("account.move", string="Entry", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    segment = fields.Selection(SEGMENTS, readonly=True)
    grade = fields.Selection(GRADES, readonly=True)
    date = fields.Date(string="Accounting date", readonly=True)
    invoice_date = fields.Date(readonly=True)
    date_maturity = fields.Date(string="Due date", readonly=True)
    days_past_due = fields.Integer(readonly=True, aggregator="max")
    bucket_id = fields.Many2one("ar.aging.bucket.set.line", string="Bucket", readonly=True)
    in_payment = fields.Boolean(readonly=True)
    unapplied = fields.Boolean(
        string="Unapplied cash",
        readonly=True,
        help="A payment or credit note not matched with an invoice yet.",
    )
    amount_residual = fields.Monetary(
        string="Open amount", currency_field="company_currency_id", readonly=True
    )
    amount_residual_currency = fields.Monetary(
        string="Open amount in currency", currency_field="currency_id", readonly=True
    )
    share = fields.Float(
        string="Share (%)",
        readonly=True,
        help="Share of the gross open receivables, unapplied payments and credit notes left out "
        "(grouped: of the groups shown).",
    )

    def init(self):
        # As-of-date aging reads the reconciliations made after a date.
        ensure_index(
            self.env.cr,
            "ar_credit_control_partial_max_date_idx",
            "CREATE INDEX ar_credit_control_partial_max_date_idx "
            "ON account_partial_reconcile (max_date)",
        )
        # Every column the aging reads of an open line: today's aging is an index-only scan
        # of the open lines instead of a visit of the table pages they are scattered over.
        ensure_index(
            self.env.cr,
            "ar_aging_open_line_idx",
            SQL(
                "CREATE INDEX ar_aging_open_line_idx ON account_move_line (account_id) "
                "INCLUDE (id, company_id, partner_id, move_id, date, date_maturity, "
                "invoice_date, currency_id, company_currency_id, amount_residual, "
                "amount_residual_currency) "
                "WHERE %s",
                SQL(OPEN_LINE),
            ),
        )

    # ------------------------------------------------------------------ query

    @api.model
    def _disable_jit(self):
        """PostgreSQL's JIT spends seconds compiling this query (its estimated cost is high)
        and gains nothing on it: off for the rest of this transaction. The grouping of up to
        a million open lines gets the memory to sort and hash in RAM instead of on disk."""
        self.env.cr.execute("SET LOCAL jit = off")
        self.env.cr.execute("SET LOCAL work_mem = '64MB'")

    def _aging_parameters(self):
        """(bucket set, as-of date) from the context, with their defaults."""
        context = self.env.context
        bucket_set = self.env["ar.aging.bucket.set"]
        if context.get("aging_bucket_set_id"):
            bucket_set = bucket_set.browse(context["aging_bucket_set_id"]).exists()
        if not bucket_set:
            bucket_set = bucket_set._get_default(self.env.company)
        as_of = fields.Date.to_date(context.get("aging_as_of")) or fields.Date.context_today(self)
        return bucket_set, as_of

    @api.model
    def _for_aging(self, bucket_set, as_of):
        """The report for one bucket set and as-of date.

        Rows are keyed by journal item, whatever the date: the record cache, shared across
        contexts, is dropped so that rows read for another date are not served from it.
        """
        self.invalidate_model()
        return self.with_context(
            aging_bucket_set_id=bucket_set.id, aging_as_of=fields.Date.to_string(as_of)
        )

    @property
    def _table_query(self):
        bucket_set, as_of = self._aging_parameters()
        self._disable_jit()
        # The share's total is a scalar subquery, not a window over every line: PostgreSQL
        # leaves it out when the share is not read, and a query without window functions or
        # CTEs is flattened into the grouping and can be grouped in parallel. Grouped reads
        # compute the share per group instead (see _read_group_select). Shares are of the
        # gross receivables: the open debits.
        items = self._open_items_sql(bucket_set, as_of, self.env.companies.ids)
        return SQL(
            """
            SELECT items.*,
                   100.0 * GREATEST(items.amount_residual, 0)
                   / NULLIF((SELECT SUM(GREATEST(total.amount_residual, 0))
                               FROM (%s) AS total), 0) AS share
              FROM (%s) AS items
            """,
            items,
            items,
        )

    @api.model
    def _read_group_select(self, aggregate_spec, query):
        """The share of a group is its gross open amount (its open debits) over that of all
        groups: one window over the grouped rows, instead of a total read again for every
        line. Unapplied cash has no share: a group of it shows 0 %, not a negative share."""
        if aggregate_spec == "share:sum":
            amount = self._field_to_sql(self._table, "amount_residual", query)
            gross = SQL("SUM(GREATEST(%s, 0))", amount)
            return SQL("100.0 * %s / NULLIF(SUM(%s) OVER (), 0)", gross, gross)
        return super()._read_group_select(aggregate_spec, query)

    @api.model
    def _bucket_case_sql(self, bucket_set, days_sql: SQL) -> SQL:
        """One CASE giving the bucket line id for a number of days, from the engine's bounds."""
        conditions = []
        for key, min_days, max_days in bucket_set._engine_bucket_set().keyed_bounds():
            if max_days is None:
                conditions.append(SQL("WHEN %s >= %s THEN %s", days_sql, min_days, int(key)))
            elif min_days is None:
                conditions.append(SQL("WHEN %s <= %s THEN %s", days_sql, max_days, int(key)))
            else:
                conditions.append(
                    SQL("WHEN %s BETWEEN %s AND %s THEN %s", days_sql, min_days, max_days, int(key))
                )
        return SQL("CASE %s END", SQL(" ").join(conditions))

    @api.model
    def _reconciled_after(self, as_of, company_ids) -> bool:
        """Whether any reconciliation of these companies is dated after `as_of`."""
        self.env["account.partial.reconcile"].flush_model(["max_date", "company_id"])
        rows = self.env.execute_query(
            SQL(
                "SELECT 1 FROM account_partial_reconcile"
                " WHERE max_date > %s AND company_id = ANY(%s) LIMIT 1",
                as_of,
                list(company_ids),
            )
        )
        return bool(rows)

    @api.model
    def _paid_open_move_ids(self, as_of, company_ids) -> list[int]:
        """Invoices of these companies paid by a payment dated by `as_of` that the bank has not
        matched yet: "in payment" (or "paid" in Community, which hides that state) while their
        receivable is still open (see ar.credit.exposure). Few, found by a partial index."""
        self.env["account.move"].flush_model(["payment_state", "amount_residual", "company_id"])
        self.env["account.payment"].flush_model(["date"])
        # The candidates first, by the partial index: PostgreSQL overestimates them and would
        # otherwise hash every payment of the books (most of a second on a million lines) to
        # find usually none.
        candidates = [
            move_id
            for (move_id,) in self.env.execute_query(
                SQL(
                    "SELECT id FROM account_move WHERE payment_state IN ('in_payment', 'paid')"
                    " AND amount_residual <> 0 AND company_id = ANY(%s)",
                    list(company_ids),
                )
            )
        ]
        if not candidates:
            return []
        rows = self.env.execute_query(
            SQL(
                """
                SELECT paid.id
                  FROM account_move paid
                 WHERE paid.id = ANY(%(candidates)s)
                   AND EXISTS (
                       SELECT 1
                         FROM account_move__account_payment rel
                         JOIN account_payment payment ON payment.id = rel.payment_id
                        WHERE rel.invoice_id = paid.id
                          AND payment.date <= %(as_of)s
                   )
                """,
                candidates=candidates,
                as_of=as_of,
            )
        )
        return [move_id for (move_id,) in rows]

    @api.model
    def _open_items_sql(self, bucket_set, as_of, company_ids, partner_ids=None) -> SQL:
        """SELECT of the receivable lines open at the end of `as_of`, with their bucket.

        `partner_ids` (commercial partners) narrows it to those customers and their contacts.
        """
        in_payment_line = bucket_set._line_of_kind("in_payment")
        unapplied_line = bucket_set._line_of_kind("unapplied")
        if bucket_set.basis == "invoice_date":
            basis_date = SQL("COALESCE(open_lines.invoice_date, open_lines.date)")
        else:
            basis_date = SQL("COALESCE(open_lines.date_maturity, open_lines.date)")
        days_sql = SQL("(%s::date - %s)", as_of, basis_date)
        partner_filter = SQL("")
        if partner_ids is not None:
            partner_filter = SQL(
                "AND aml.partner_id IN (SELECT id FROM res_partner"
                " WHERE commercial_partner_id = ANY(%s))",
                list(partner_ids),
            )
        accounts = self.env["ar.receivable"]._account_ids(list(company_ids))
        params = {
            # receivable lines open today, dated by the as-of date
            "open_now": SQL(
                """aml.account_id = ANY(%(accounts)s)
                   -- the exact predicate of Odoo's account_move_line__unreconciled_index
                   AND (aml.reconciled IS NULL OR aml.reconciled = false
                        OR aml.reconciled IS NOT true)
                   AND aml.company_id = ANY(%(companies)s)
                   AND aml.parent_state = 'posted'
                   AND aml.date <= %(as_of)s
                   %(partner_filter)s""",
                accounts=accounts,
                companies=list(company_ids),
                as_of=as_of,
                partner_filter=partner_filter,
            ),
            "as_of": as_of,
            "companies": list(company_ids),
            "accounts": accounts,
            "partner_filter": partner_filter,
        }
        # Today, and on most dates, nothing was reconciled later: the residuals stand as they
        # are, and the reconstruction (which keeps PostgreSQL from planning in parallel) is
        # left out.
        if self._reconciled_after(as_of, company_ids):
            open_lines = SQL(
                """
            WITH undone AS (
                -- reconciliations after the as-of date, undone to rebuild the residual
                SELECT later.line_id, SUM(later.amount) AS amount,
                       SUM(later.amount_currency) AS amount_currency
                  FROM (
                    SELECT part.debit_move_id AS line_id, part.amount,
                           part.debit_amount_currency AS amount_currency
                      FROM account_partial_reconcile part
                     WHERE part.max_date > %(as_of)s AND part.company_id = ANY(%(companies)s)
                    UNION ALL
                    SELECT part.credit_move_id, -part.amount, -part.credit_amount_currency
                      FROM account_partial_reconcile part
                     WHERE part.max_date > %(as_of)s AND part.company_id = ANY(%(companies)s)
                  ) AS later
                 GROUP BY later.line_id
            )
                -- open now (reconciled or not later on)
                SELECT aml.id, aml.move_id, aml.partner_id, aml.company_id, aml.currency_id,
                       aml.company_currency_id, aml.date, aml.date_maturity, aml.invoice_date,
                       aml.amount_residual + COALESCE(undone.amount, 0) AS amount_residual,
                       aml.amount_residual_currency + COALESCE(undone.amount_currency, 0)
                           AS amount_residual_currency
                  FROM account_move_line aml
                  LEFT JOIN undone ON undone.line_id = aml.id
                 WHERE %(open_now)s
                UNION ALL
                -- fully reconciled now, but only after the as-of date
                SELECT aml.id, aml.move_id, aml.partner_id, aml.company_id, aml.currency_id,
                       aml.company_currency_id, aml.date, aml.date_maturity, aml.invoice_date,
                       aml.amount_residual + undone.amount,
                       aml.amount_residual_currency + undone.amount_currency
                  FROM undone
                  JOIN account_move_line aml ON aml.id = undone.line_id
                 WHERE aml.reconciled IS TRUE
                   AND aml.account_id = ANY(%(accounts)s)
                   AND aml.company_id = ANY(%(companies)s)
                   AND aml.parent_state = 'posted'
                   AND aml.date <= %(as_of)s
                   %(partner_filter)s
                """,
                **params,
            )
        else:
            open_lines = SQL(
                """
                -- no reconciliation after the as-of date: the residuals are those of today
                SELECT aml.id, aml.move_id, aml.partner_id, aml.company_id, aml.currency_id,
                       aml.company_currency_id, aml.date, aml.date_maturity, aml.invoice_date,
                       aml.amount_residual, aml.amount_residual_currency
                  FROM account_move_line aml
                 WHERE %(open_now)s
                """,
                **params,
            )
        # In payment on the as-of date: an open debit of an invoice paid but not matched with
        # the bank, by a payment dated by then. The few such invoices are found first and
        # joined by id (none: no join at all), so the expression on each line is a plain
        # join result that PostgreSQL computes and groups in its parallel workers.
        paid_open_ids = self._paid_open_move_ids(as_of, company_ids)
        # Unapplied cash: an open credit, but of a document awaiting the bank.
        if paid_open_ids:
            in_payment = SQL("(paid_open.id IS NOT NULL AND open_lines.amount_residual > 0)")
            unapplied = SQL("(%s AND paid_open.id IS NULL)", unapplied_item("open_lines"))
            paid_open_join = SQL(
                "LEFT JOIN (VALUES %s) AS paid_open(id) ON paid_open.id = open_lines.move_id",
                SQL(", ").join(SQL("(%s::integer)", move_id) for move_id in paid_open_ids),
            )
        else:
            in_payment = SQL("false")
            unapplied = unapplied_item("open_lines")
            paid_open_join = SQL("")
        # Subqueries, not CTEs: PostgreSQL flattens them into the caller's grouping.
        return SQL(
            """
            SELECT open_lines.id,
                   open_lines.id AS move_line_id,
                   open_lines.move_id,
                   partner.commercial_partner_id AS partner_id,
                   move.invoice_user_id AS user_id,
                   open_lines.company_id,
                   commercial.country_id,
                   open_lines.currency_id,
                   open_lines.company_currency_id,
                   profile.segment,
                   profile.grade,
                   open_lines.date,
                   open_lines.invoice_date,
                   open_lines.date_maturity,
                   %(days)s AS days_past_due,
                   %(in_payment)s AS in_payment,
                   %(unapplied)s AS unapplied,
                   bucket.id AS bucket_id,
                   open_lines.amount_residual,
                   open_lines.amount_residual_currency
              FROM (%(open_lines)s) AS open_lines
              -- only for the salesperson: PostgreSQL drops this join when it is not read
              LEFT JOIN account_move move ON move.id = open_lines.move_id
              -- invoices paid by a payment not yet matched with the bank (see above)
              %(paid_open_join)s
              -- The bucket is a column of a list of the set's buckets, not an expression over
              -- each line's dates: PostgreSQL then knows a grouping by bucket and customer
              -- makes few groups, and sums them in its parallel workers (hash aggregation).
              LEFT JOIN (VALUES %(bucket_ids)s) AS bucket(id)
                     ON bucket.id = CASE WHEN %(in_payment)s THEN %(in_payment_bucket)s
                                         WHEN %(unapplied)s THEN %(unapplied_bucket)s
                                         ELSE %(bucket_case)s END
              -- Every partner has its commercial partner (itself for companies): a column,
              -- like the bucket, for the same reason.
              LEFT JOIN res_partner partner ON partner.id = open_lines.partner_id
              LEFT JOIN res_partner commercial ON commercial.id = partner.commercial_partner_id
              -- on the partner's column, not the commercial partner's row: PostgreSQL drops
              -- both joins when neither is read
              LEFT JOIN ar_credit_profile profile
                     ON profile.partner_id = partner.commercial_partner_id
                    AND profile.company_id = open_lines.company_id
             WHERE open_lines.amount_residual != 0
                OR open_lines.amount_residual_currency != 0
            """,
            open_lines=open_lines,
            as_of=as_of,
            companies=list(company_ids),
            days=days_sql,
            in_payment_bucket=in_payment_line.id or None,
            unapplied_bucket=unapplied_line.id or None,
            bucket_ids=SQL(", ").join(
                SQL("(%s::integer)", bucket_id) for bucket_id in bucket_set.line_ids.ids or [None]
            ),
            bucket_case=self._bucket_case_sql(bucket_set, days_sql),
            in_payment=in_payment,
            unapplied=unapplied,
            paid_open_join=paid_open_join,
        )

    # ------------------------------------------------------------------ summaries

    @api.model
    def _bucket_totals(self, bucket_set, as_of, company_ids, partner_ids=None):
        """{(commercial partner id, bucket line id): (open amount, line count)} in company
        currency, for the PDF, the XLSX export and the partner form."""
        self.env.flush_all()
        self._disable_jit()
        query = SQL(
            """
            SELECT items.partner_id, items.bucket_id,
                   SUM(items.amount_residual), COUNT(*)
              FROM (%s) AS items
             GROUP BY items.partner_id, items.bucket_id
            """,
            self._open_items_sql(bucket_set, as_of, company_ids, partner_ids),
        )
        return {
            (partner_id, bucket_id): (amount, count)
            for partner_id, bucket_id, amount, count in self.env.execute_query(query)
        }

    @api.model
    def _summary_rows(self, bucket_set, as_of, company_ids, partner_ids=None):
        """Per customer: name, amounts per bucket (in the set's line order) and total."""
        totals = self._bucket_totals(bucket_set, as_of, company_ids, partner_ids)
        columns = bucket_set._columns()
        partners = self.env["res.partner"].browse(
            sorted({partner_id for partner_id, _bucket in totals if partner_id})
        )
        rows = []
        for partner in partners.sorted(lambda p: (p.name or "").lower()):
            amounts = [totals.get((partner.id, column.id), (0.0, 0))[0] for column in columns]
            rows.append({"partner": partner, "amounts": amounts, "total": sum(amounts)})
        return columns, rows

    # ------------------------------------------------------------------ actions

    def action_open_move_lines(self):
        """The journal items behind the selected aging rows."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Journal items"),
            "res_model": "account.move.line",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", self.move_line_id.ids)],
            "context": {"create": False},
        }
