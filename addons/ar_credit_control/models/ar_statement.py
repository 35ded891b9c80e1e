"""Customer statements computed in SQL: one query per statement kind over a set of customers.

Outstanding statement: the receivable items open at the end of a date, each with its aging
bucket, from the aging report's query (so a statement's total equals the customer's
general-ledger receivable balance at that date, exchange differences included).

Activity statement: the balance at the start of a period, the documents that moved the
receivable during it (invoices, credit notes, payments, other entries; one row per journal
entry) and the closing balance, which is the opening balance plus the movements.

Amounts are in company currency; each row also carries its amount in the document currency.
"""

from collections import defaultdict

from odoo import SUPERUSER_ID, api, models
from odoo.tools import SQL


class ArStatement(models.AbstractModel):
    _name = "ar.statement"
    _description = "Customer statement computation"

    @api.model
    def _commercial_partners(self, partners):
        return partners.commercial_partner_id

    # ------------------------------------------------------------------ outstanding

    @api.model
    def _outstanding_data(self, partners, company, as_of, bucket_set=None):
        """{commercial partner id: {"items": [...], "buckets": [(bucket, amount)], "total"}}.

        Only customers with open items are keys. `buckets` follows the set's column order
        (the "in payment" column first, the "unapplied" one last: payments and credit notes
        not matched yet, which ``total`` nets).
        """
        return self._as_superuser()._compute_outstanding(partners, company, as_of, bucket_set)

    @api.model
    def _partners_with_open_items(self, partners, company, as_of):
        """Ids of the commercial partners among `partners` with items open at the end of
        `as_of`: the keys of `_outstanding_data`, found by the database alone (a statement run
        picks its customers with it, before any statement is built)."""
        return self._as_superuser()._compute_partners_with_open_items(partners, company, as_of)

    @api.model
    def _compute_partners_with_open_items(self, partners, company, as_of):
        commercial = self._commercial_partners(partners)
        if not commercial:
            return []
        bucket_set = self.env["ar.aging.bucket.set"]._get_default(company)
        aging = self.env["ar.aging.report"]
        self.env.flush_all()
        aging._disable_jit()
        query = SQL(
            "SELECT DISTINCT items.partner_id FROM (%s) AS items ORDER BY 1",
            aging._open_items_sql(bucket_set, as_of, [company.id], commercial.ids),
        )
        return [row[0] for row in self.env.execute_query(query)]

    @api.model
    def _compute_outstanding(self, partners, company, as_of, bucket_set):
        bucket_set = bucket_set or self.env["ar.aging.bucket.set"]._get_default(company)
        aging = self.env["ar.aging.report"]
        commercial = self._commercial_partners(partners)
        if not commercial:
            return {}
        self.env.flush_all()
        aging._disable_jit()
        query = SQL(
            """
            SELECT items.partner_id, items.id, items.move_id, move.name, move.move_type,
                   move.origin_payment_id IS NOT NULL OR move.statement_line_id IS NOT NULL,
                   move.ref,
                   items.date, items.date_maturity, items.days_past_due, items.bucket_id,
                   items.in_payment, items.unapplied, items.currency_id, items.amount_residual,
                   items.amount_residual_currency
              FROM (%s) AS items
              JOIN account_move move ON move.id = items.move_id
             ORDER BY items.partner_id, COALESCE(items.date_maturity, items.date), items.id
            """,
            aging._open_items_sql(bucket_set, as_of, [company.id], commercial.ids),
        )
        columns = bucket_set._columns()
        kinds = self._move_kind_labels()
        currencies = self.env["res.currency"]
        result = {}
        for row in self.env.execute_query(query):
            (
                partner_id,
                line_id,
                move_id,
                name,
                move_type,
                is_payment,
                ref,
                line_date,
                date_maturity,
                days_past_due,
                bucket_id,
                in_payment,
                unapplied,
                currency_id,
                amount,
                amount_currency,
            ) = row
            data = result.setdefault(
                partner_id, {"items": [], "bucket_amounts": defaultdict(float), "total": 0.0}
            )
            data["items"].append(
                {
                    "line_id": line_id,
                    "move_id": move_id,
                    "name": name,
                    "ref": ref,
                    "kind": kinds[self._movement_kind(move_type, is_payment)],
                    "date": line_date,
                    "date_maturity": date_maturity,
                    "days_past_due": max(days_past_due or 0, 0),
                    "bucket_id": bucket_id,
                    "in_payment": in_payment,
                    "unapplied": unapplied,
                    "currency": currencies.browse(currency_id),
                    "amount": amount,
                    "amount_currency": amount_currency,
                }
            )
            data["bucket_amounts"][bucket_id] += amount
            data["total"] += amount
        for data in result.values():
            bucket_amounts = data.pop("bucket_amounts")
            data["buckets"] = [(column, bucket_amounts.get(column.id, 0.0)) for column in columns]
            data["total"] = company.currency_id.round(data["total"])
        return result

    # ------------------------------------------------------------------ activity

    @api.model
    def _activity_data(self, partners, company, date_from, date_to):
        """{commercial partner id: {"opening", "movements": [...], "closing"}} for every
        given customer (customers without balance nor movement get zeros)."""
        return self._as_superuser()._compute_activity(partners, company, date_from, date_to)

    @api.model
    def _compute_activity(self, partners, company, date_from, date_to):
        commercial = self._commercial_partners(partners)
        if not commercial:
            return {}
        if date_from > date_to:
            raise ValueError("date_from must not be after date_to")
        self.env.flush_all()
        query = SQL(
            """
            WITH lines AS (
                SELECT COALESCE(partner.commercial_partner_id, aml.partner_id) AS partner_id,
                       aml.move_id, aml.date, aml.balance, aml.amount_currency, aml.currency_id
                  FROM account_move_line aml
                  JOIN res_partner partner ON partner.id = aml.partner_id
                 WHERE aml.account_id = ANY(%(accounts)s)
                   AND aml.company_id = %(company)s
                   AND aml.parent_state = 'posted'
                   AND aml.date <= %(date_to)s
                   AND partner.commercial_partner_id = ANY(%(partners)s)
            )
            SELECT lines.partner_id, NULL::integer, NULL::date, SUM(lines.balance),
                   NULL::numeric, NULL::integer, NULL, NULL, NULL, NULL::boolean
              FROM lines
             WHERE lines.date < %(date_from)s
             GROUP BY lines.partner_id
            UNION ALL
            SELECT lines.partner_id, lines.move_id, lines.date, SUM(lines.balance),
                   SUM(lines.amount_currency), MIN(lines.currency_id), move.name, move.ref,
                   move.move_type,
                   move.origin_payment_id IS NOT NULL OR move.statement_line_id IS NOT NULL
              FROM lines
              JOIN account_move move ON move.id = lines.move_id
             WHERE lines.date >= %(date_from)s
             GROUP BY lines.partner_id, lines.move_id, lines.date, move.id
             ORDER BY 1, 3 NULLS FIRST, 2 NULLS FIRST
            """,
            accounts=self.env["ar.receivable"]._account_ids([company.id]),
            company=company.id,
            partners=commercial.ids,
            date_from=date_from,
            date_to=date_to,
        )
        kinds = self._move_kind_labels()
        currencies = self.env["res.currency"]
        result = {
            partner_id: {"opening": 0.0, "movements": [], "closing": 0.0}
            for partner_id in commercial.ids
        }
        for row in self.env.execute_query(query):
            partner_id, move_id, move_date, balance, amount_currency, currency_id = row[:6]
            name, ref, move_type, is_payment = row[6:]
            data = result[partner_id]
            if move_id is None:
                data["opening"] = balance
                continue
            kind = self._movement_kind(move_type, is_payment)
            data["movements"].append(
                {
                    "move_id": move_id,
                    "date": move_date,
                    "name": name,
                    "ref": ref,
                    "kind": kinds[kind],
                    "kind_code": kind,
                    "debit": balance if balance > 0 else 0.0,
                    "credit": -balance if balance < 0 else 0.0,
                    "balance": balance,
                    "currency": currencies.browse(currency_id),
                    "amount_currency": amount_currency,
                }
            )
        rounding = company.currency_id.round
        for data in result.values():
            running = data["opening"]
            for movement in data["movements"]:
                running += movement["balance"]
                movement["running_balance"] = rounding(running)
            data["opening"] = rounding(data["opening"])
            data["closing"] = rounding(running)
        return result

    # ------------------------------------------------------------------ helpers

    def _as_superuser(self):
        """Statements are computed as the superuser: the portal asks for them as the public or
        a portal user, for whom even sudo finds no receivable account of another company
        than their own. Callers decide who may see which customer's statement."""
        return self.with_user(SUPERUSER_ID)

    @api.model
    def _move_kind_labels(self):
        return {
            "invoice": self.env._("Invoice"),
            "credit_note": self.env._("Credit note"),
            "payment": self.env._("Payment"),
            "other": self.env._("Other entry"),
        }

    @api.model
    def _movement_kind(self, move_type, is_payment):
        if is_payment:
            return "payment"
        if move_type == "out_invoice":
            return "invoice"
        if move_type == "out_refund":
            return "credit_note"
        return "other"

    # ------------------------------------------------------------------ paying online

    @api.model
    def _pay_online_links(self, moves, company):
        """{invoice id: Odoo's pay-online link} for the open customer invoices among `moves`,
        when online payment is available: `account_payment` installed, portal payment on and
        a payment provider enabled for the company. Empty otherwise."""
        if "payment.link.wizard" not in self.env or "payment.provider" not in self.env:
            return {}
        has_provider = (
            self.env["payment.provider"]
            .sudo()
            .search_count(
                [("state", "in", ("enabled", "test")), ("company_id", "=", company.id)], limit=1
            )
        )
        if not has_provider:
            return {}
        wizard_model = self.env["payment.link.wizard"].sudo()
        links = {}
        for invoice in moves.sudo().filtered(lambda move: move.move_type == "out_invoice"):
            if hasattr(invoice, "_has_to_be_paid") and not invoice._has_to_be_paid():
                continue
            context = {"active_model": "account.move", "active_id": invoice.id}
            defaults = wizard_model.with_context(**context).default_get(list(wizard_model._fields))
            wizard = wizard_model.new(
                {name: value for name, value in defaults.items() if name in wizard_model._fields}
            )
            links[invoice.id] = wizard.link
        return links
