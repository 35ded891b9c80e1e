"""Turn plans into table rows (COPY text format) with ids, names and every stored column Odoo 18
keeps for posted invoices, credit notes, payments and reconciliations.

Pure: ids come from counters seeded by the caller, names from per-(journal, year) counters. The
column lists match Odoo 18.0's tables (checked against rows the ORM writes).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from ar_engine.sample.plan import (
    COMPANIES,
    InvoicePlan,
    OpenSaleOrder,
    ProductLine,
    Settlement,
    UnappliedPayment,
    convert,
)

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "account_move": (
        "id",
        "name",
        "sequence_prefix",
        "sequence_number",
        "journal_id",
        "company_id",
        "currency_id",
        "partner_id",
        "commercial_partner_id",
        "partner_shipping_id",
        "invoice_payment_term_id",
        "reversed_entry_id",
        "origin_payment_id",
        "invoice_user_id",
        "team_id",
        "ref",
        "state",
        "move_type",
        "auto_post",
        "payment_reference",
        "payment_state",
        "invoice_partner_display_name",
        "invoice_origin",
        "date",
        "invoice_date",
        "invoice_date_due",
        "invoice_currency_rate",
        "amount_untaxed",
        "amount_tax",
        "amount_total",
        "amount_residual",
        "amount_untaxed_signed",
        "amount_untaxed_in_currency_signed",
        "amount_tax_signed",
        "amount_total_signed",
        "amount_total_in_currency_signed",
        "amount_residual_signed",
        "quick_edit_total_amount",
        "is_storno",
        "always_tax_exigible",
        "checked",
        "posted_before",
        "made_sequence_gap",
        "is_manually_modified",
        "create_uid",
        "write_uid",
        "create_date",
        "write_date",
    ),
    "account_move_line": (
        "id",
        "move_id",
        "journal_id",
        "company_id",
        "company_currency_id",
        "sequence",
        "account_id",
        "currency_id",
        "partner_id",
        "payment_id",
        "tax_line_id",
        "tax_group_id",
        "tax_repartition_line_id",
        "full_reconcile_id",
        "product_id",
        "product_uom_id",
        "move_name",
        "parent_state",
        "ref",
        "name",
        "matching_number",
        "display_type",
        "date",
        "invoice_date",
        "date_maturity",
        "debit",
        "credit",
        "balance",
        "amount_currency",
        "tax_base_amount",
        "amount_residual",
        "amount_residual_currency",
        "quantity",
        "price_unit",
        "price_subtotal",
        "price_total",
        "discount",
        "discount_amount_currency",
        "discount_balance",
        "is_imported",
        "tax_tag_invert",
        "reconciled",
        "is_downpayment",
        "create_uid",
        "write_uid",
        "create_date",
        "write_date",
    ),
    "account_move_line_account_tax_rel": ("account_move_line_id", "account_tax_id"),
    "account_partial_reconcile": (
        "id",
        "debit_move_id",
        "credit_move_id",
        "full_reconcile_id",
        "debit_currency_id",
        "credit_currency_id",
        "company_id",
        "max_date",
        "amount",
        "debit_amount_currency",
        "credit_amount_currency",
        "create_uid",
        "write_uid",
        "create_date",
        "write_date",
    ),
    "account_full_reconcile": ("id", "create_uid", "write_uid", "create_date", "write_date"),
    "account_payment": (
        "id",
        "move_id",
        "journal_id",
        "company_id",
        "payment_method_line_id",
        "payment_method_id",
        "currency_id",
        "partner_id",
        "outstanding_account_id",
        "destination_account_id",
        "name",
        "state",
        "payment_type",
        "partner_type",
        "memo",
        "date",
        "amount",
        "amount_company_currency_signed",
        "is_reconciled",
        "is_matched",
        "is_sent",
        "create_uid",
        "write_uid",
        "create_date",
        "write_date",
    ),
    "account_move__account_payment": ("invoice_id", "payment_id"),
    "sale_order": (
        "id",
        "company_id",
        "partner_id",
        "partner_invoice_id",
        "partner_shipping_id",
        "pricelist_id",
        "currency_id",
        "user_id",
        "team_id",
        "name",
        "state",
        "invoice_status",
        "validity_date",
        "currency_rate",
        "amount_untaxed",
        "amount_tax",
        "amount_total",
        "locked",
        "require_signature",
        "require_payment",
        "date_order",
        "prepayment_percent",
        "create_uid",
        "write_uid",
        "create_date",
        "write_date",
    ),
    "sale_order_line": (
        "id",
        "order_id",
        "sequence",
        "company_id",
        "currency_id",
        "order_partner_id",
        "salesman_id",
        "product_id",
        "product_uom",
        "state",
        "qty_delivered_method",
        "invoice_status",
        "name",
        "product_uom_qty",
        "price_unit",
        "discount",
        "price_subtotal",
        "price_total",
        "price_reduce_taxexcl",
        "price_reduce_taxinc",
        "qty_delivered",
        "qty_invoiced",
        "qty_to_invoice",
        "untaxed_amount_invoiced",
        "untaxed_amount_to_invoice",
        "is_downpayment",
        "is_expense",
        "technical_price_unit",
        "price_tax",
        "product_packaging_qty",
        "customer_lead",
        "create_uid",
        "write_uid",
        "create_date",
        "write_date",
    ),
    "account_tax_sale_order_line_rel": ("sale_order_line_id", "account_tax_id"),
    "sale_order_line_invoice_rel": ("invoice_line_id", "order_line_id"),
}

# Tables with an id sequence, in the order they are flushed (referenced ones first).
ID_TABLES = (
    "account_full_reconcile",
    "account_move",
    "account_payment",
    "account_move_line",
    "account_partial_reconcile",
    "sale_order",
    "sale_order_line",
)

N = "\\N"


def money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def text(value: str | None) -> str:
    if value is None:
        return N
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " ")


def opt(value: int | None) -> str:
    return N if value is None else str(value)


def flag(value: bool) -> str:
    return "t" if value else "f"


@dataclass(frozen=True)
class CompanyContext:
    """Database ids of one company's accounting set-up, looked up once by the generator."""

    company_id: int
    currency_id: int
    sale_journal_id: int
    sale_journal_code: str
    outstanding_journal_id: int  # bank journal whose payments go to Outstanding Receipts
    outstanding_journal_code: str
    outstanding_method_line_id: int
    outstanding_account_id: int
    direct_journal_id: int  # bank journal whose payments post on the bank account directly
    direct_journal_code: str
    direct_method_line_id: int
    direct_account_id: int
    receivable_account_id: int
    income_account_id: int
    tax_account_id: int
    tax_id: int
    tax_name: str
    tax_group_id: int
    tax_invoice_repartition_id: int
    tax_refund_repartition_id: int
    pricelist_id: int
    team_id: int


@dataclass(frozen=True)
class GenerationContext:
    companies: tuple[CompanyContext, ...]
    currency_ids: dict[str, int]
    customer_ids: list[int]
    customer_names: list[str]
    product_ids: list[int]
    product_names: list[str]
    uom_id: int
    term_ids: list[int]
    payment_method_id: int
    user_id: int
    in_payment_state: str  # what Odoo shows for a paid invoice whose payment is not matched
    stamp: str  # create/write date of every row


@dataclass
class IdCounters:
    """Next free id per table (from the database's current max id)."""

    next_ids: dict[str, int]

    def take(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value


@dataclass
class Sequences:
    """Name counters per (journal, prefix): Odoo's sequence mixin numbers per journal and year."""

    numbers: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    sale_order: int = 0

    def next_name(self, journal_id: int, prefix: str) -> tuple[str, str, int]:
        key = (journal_id, prefix)
        self.numbers[key] += 1
        number = self.numbers[key]
        return f"{prefix}{number:05d}", prefix, number


class RowBuilder:
    """Accumulates rows per table for one chunk; ``take_buffers`` hands them to the writer."""

    def __init__(self, ctx: GenerationContext, ids: IdCounters, sequences: Sequences) -> None:
        self.ctx = ctx
        self.ids = ids
        self.seq = sequences
        self.buffers: dict[str, list[str]] = {table: [] for table in TABLE_COLUMNS}
        self.receivable_lines = 0

    def take_buffers(self) -> dict[str, list[str]]:
        buffers = self.buffers
        self.buffers = {table: [] for table in TABLE_COLUMNS}
        return buffers

    def _row(self, table: str, values: list[str]) -> None:
        self.buffers[table].append("\t".join(values))

    # -- moves -------------------------------------------------------------------------------

    def _move(
        self,
        move_id: int,
        name: tuple[str, str, int],
        company: CompanyContext,
        journal_id: int,
        currency_id: int,
        customer: int,
        move_type: str,
        day: date,
        *,
        ref: str | None = None,
        payment_reference: str | None = None,
        payment_state: str = "not_paid",
        invoice_date: date | None = None,
        date_due: date | None = None,
        rate: float = 1.0,
        term_id: int | None = None,
        reversed_entry_id: int | None = None,
        origin_payment_id: int | None = None,
        invoice_origin: str | None = None,
        amounts: tuple[int, int, int, int] = (0, 0, 0, 0),
        signed: tuple[int, int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0, 0),
    ) -> None:
        ctx = self.ctx
        partner_id = ctx.customer_ids[customer]
        is_invoice = move_type != "entry"
        untaxed, tax, total, residual = amounts
        (untaxed_s, untaxed_cur_s, tax_s, total_s, total_cur_s, residual_s, quick) = signed
        self._row(
            "account_move",
            [
                str(move_id),
                name[0],
                name[1],
                str(name[2]),
                str(journal_id),
                str(company.company_id),
                str(currency_id),
                str(partner_id),
                str(partner_id),
                str(partner_id) if is_invoice else N,
                opt(term_id),
                opt(reversed_entry_id),
                opt(origin_payment_id),
                str(ctx.user_id) if is_invoice else N,
                str(company.team_id),
                text(ref),
                "posted",
                move_type,
                "no",
                text(payment_reference),
                payment_state,
                text(ctx.customer_names[customer]),
                text(invoice_origin),
                day.isoformat(),
                invoice_date.isoformat() if invoice_date else N,
                (date_due or day).isoformat(),
                repr(rate) if is_invoice else "0.0",
                money(untaxed),
                money(tax),
                money(total),
                money(residual),
                money(untaxed_s),
                money(untaxed_cur_s),
                money(tax_s),
                money(total_s),
                money(total_cur_s),
                money(residual_s),
                money(quick) if is_invoice else N,
                "f",
                flag(not is_invoice),
                "t",
                "t",
                "f",
                "f",
                str(ctx.user_id),
                str(ctx.user_id),
                ctx.stamp,
                ctx.stamp,
            ],
        )

    def _line(
        self,
        line_id: int,
        move_id: int,
        move_name: str,
        company: CompanyContext,
        journal_id: int,
        currency_id: int,
        customer: int,
        account_id: int,
        display_type: str,
        day: date,
        *,
        balance: int,
        amount_currency: int,
        residual: int = 0,
        residual_currency: int = 0,
        sequence: int = 100,
        name: str | None = None,
        ref: str | None = None,
        invoice_date: date | None = None,
        date_maturity: date | None = None,
        payment_id: int | None = None,
        product: int | None = None,
        quantity: int = 0,
        price_unit: int = 0,
        price_subtotal: int = 0,
        price_total: int = 0,
        tax_line: bool = False,
        tax_repartition_id: int | None = None,
        tax_base: int = 0,
        tax_tag_invert: bool = False,
        full_reconcile_id: int | None = None,
        matching_number: str | None = None,
        reconciled: bool = False,
    ) -> None:
        ctx = self.ctx
        self._row(
            "account_move_line",
            [
                str(line_id),
                str(move_id),
                str(journal_id),
                str(company.company_id),
                str(company.currency_id),
                str(sequence),
                str(account_id),
                str(currency_id),
                str(ctx.customer_ids[customer]),
                opt(payment_id),
                str(company.tax_id) if tax_line else N,
                str(company.tax_group_id) if tax_line else N,
                opt(tax_repartition_id),
                opt(full_reconcile_id),
                opt(ctx.product_ids[product] if product is not None else None),
                str(ctx.uom_id) if product is not None else N,
                move_name,
                "posted",
                text(ref),
                text(name),
                text(matching_number),
                display_type,
                day.isoformat(),
                invoice_date.isoformat() if invoice_date else N,
                date_maturity.isoformat() if date_maturity else N,
                money(max(balance, 0)),
                money(max(-balance, 0)),
                money(balance),
                money(amount_currency),
                money(tax_base),
                money(residual),
                money(residual_currency),
                f"{quantity}.00",
                money(price_unit),
                money(price_subtotal),
                money(price_total),
                "0.00",
                "0.00",
                "0.00",
                "f",
                flag(tax_tag_invert),
                flag(reconciled),
                "f",
                str(ctx.user_id),
                str(ctx.user_id),
                ctx.stamp,
                ctx.stamp,
            ],
        )

    def _document_lines(
        self,
        move_id: int,
        move_name: str,
        company: CompanyContext,
        currency_id: int,
        customer: int,
        day: date,
        lines: list[ProductLine],
        rate: float,
        sign: int,
        ref: str | None,
        refund: bool,
    ) -> list[int]:
        """Product and tax lines of an invoice (sign -1: credit) or credit note (sign +1)."""
        ctx = self.ctx
        line_ids = []
        untaxed_balance = 0
        for line in lines:
            line_id = self.ids.take("account_move_line")
            line_ids.append(line_id)
            balance = convert(line.subtotal_cents, rate)
            untaxed_balance += balance
            self._line(
                line_id,
                move_id,
                move_name,
                company,
                company.sale_journal_id,
                currency_id,
                customer,
                company.income_account_id,
                "product",
                day,
                ref=ref,
                balance=sign * balance,
                amount_currency=sign * line.subtotal_cents,
                name=ctx.product_names[line.product_index],
                invoice_date=day,
                product=line.product_index,
                quantity=line.quantity,
                price_unit=line.price_cents,
                price_subtotal=line.subtotal_cents,
                price_total=line.subtotal_cents + line.tax_cents,
                tax_tag_invert=not refund,
            )
            self._row("account_move_line_account_tax_rel", [str(line_id), str(company.tax_id)])
        tax = sum(line.tax_cents for line in lines)
        self._line(
            self.ids.take("account_move_line"),
            move_id,
            move_name,
            company,
            company.sale_journal_id,
            currency_id,
            customer,
            company.tax_account_id,
            "tax",
            day,
            ref=ref,
            balance=sign * convert(tax, rate),
            amount_currency=sign * tax,
            sequence=10000,
            name=company.tax_name,
            invoice_date=day,
            tax_line=True,
            tax_repartition_id=(
                company.tax_refund_repartition_id if refund else company.tax_invoice_repartition_id
            ),
            tax_base=untaxed_balance,
            tax_tag_invert=not refund,
        )
        return line_ids

    # -- invoices ----------------------------------------------------------------------------

    def add_invoice(self, plan: InvoicePlan, sale_order_name: str | None = None) -> list[int]:
        """Write one invoice with its settlements; return the ids of its product lines."""
        ctx = self.ctx
        company = ctx.companies[plan.company]
        currency_id = ctx.currency_ids[plan.currency]
        year = plan.invoice_date.year
        move_id = self.ids.take("account_move")
        name = self.seq.next_name(company.sale_journal_id, f"{company.sale_journal_code}/{year}/")
        instalment_line_ids = [self.ids.take("account_move_line") for _ in plan.instalments]
        # Settlements first: their ids feed the partial reconciliations of the instalments.
        partial_rows, components = self._settle(plan, move_id, name[0], instalment_line_ids)
        untaxed = plan.untaxed_cents
        tax = plan.tax_cents
        total = untaxed + tax
        residual = sum(line.residual_cents for line in plan.instalments)
        residual_balance = sum(line.residual_balance_cents for line in plan.instalments)
        balance_untaxed = sum(convert(line.subtotal_cents, plan.rate) for line in plan.lines)
        balance_tax = convert(tax, plan.rate)
        self._move(
            move_id,
            name,
            company,
            company.sale_journal_id,
            currency_id,
            plan.customer,
            "out_invoice",
            plan.invoice_date,
            payment_reference=name[0],
            payment_state=self._invoice_payment_state(plan, residual),
            invoice_date=plan.invoice_date,
            date_due=max(line.due for line in plan.instalments),
            rate=plan.rate,
            term_id=ctx.term_ids[plan.term],
            invoice_origin=sale_order_name,
            amounts=(untaxed, tax, total, residual),
            signed=(
                balance_untaxed,
                untaxed,
                balance_tax,
                balance_untaxed + balance_tax,
                total,
                residual_balance,
                0,
            ),
        )
        product_line_ids = self._document_lines(
            move_id,
            name[0],
            company,
            currency_id,
            plan.customer,
            plan.invoice_date,
            plan.lines,
            plan.rate,
            -1,
            None,
            refund=False,
        )
        for number, (line_id, line) in enumerate(zip(instalment_line_ids, plan.instalments), 1):
            full_id, matching = components.get(line_id, (None, None))
            label = f"{name[0]} installment #{number}" if len(plan.instalments) > 1 else name[0]
            self._receivable_line(
                line_id,
                move_id,
                name[0],
                company,
                company.sale_journal_id,
                currency_id,
                plan.customer,
                plan.invoice_date,
                line.due,
                line.balance_cents,
                line.amount_cents,
                line.residual_balance_cents,
                line.residual_cents,
                label,
                None,
                full_id,
                matching,
                invoice_date=plan.invoice_date,
            )
        for row in partial_rows:
            partial_id, debit_id, credit_id, piece, day = row
            full_id = components.get(debit_id, (None, None))[0]
            self._row(
                "account_partial_reconcile",
                [
                    str(partial_id),
                    str(debit_id),
                    str(credit_id),
                    opt(full_id),
                    str(currency_id),
                    str(currency_id),
                    str(company.company_id),
                    day.isoformat(),
                    money(piece.balance_cents),
                    money(piece.amount_cents),
                    money(piece.amount_cents),
                    str(ctx.user_id),
                    str(ctx.user_id),
                    ctx.stamp,
                    ctx.stamp,
                ],
            )
        return product_line_ids

    def _receivable_line(
        self,
        line_id: int,
        move_id: int,
        move_name: str,
        company: CompanyContext,
        journal_id: int,
        currency_id: int,
        customer: int,
        day: date,
        due: date,
        balance: int,
        amount_currency: int,
        residual: int,
        residual_currency: int,
        label: str | None,
        ref: str | None,
        full_id: int | None,
        matching: str | None,
        *,
        invoice_date: date | None = None,
        payment_id: int | None = None,
        display_type: str = "payment_term",
    ) -> None:
        self.receivable_lines += 1
        is_payment = display_type == "product"
        self._line(
            line_id,
            move_id,
            move_name,
            company,
            journal_id,
            currency_id,
            customer,
            company.receivable_account_id,
            display_type,
            day,
            balance=balance,
            amount_currency=amount_currency,
            residual=residual,
            residual_currency=residual_currency,
            sequence=100 if is_payment else 12000,
            name=label,
            ref=ref,
            invoice_date=invoice_date,
            date_maturity=due,
            payment_id=payment_id,
            quantity=1 if is_payment else 0,
            price_subtotal=amount_currency if is_payment else 0,
            price_total=amount_currency if is_payment else 0,
            full_reconcile_id=full_id,
            matching_number=matching,
            reconciled=residual == 0 and residual_currency == 0,
        )

    def _invoice_payment_state(self, plan: InvoicePlan, residual: int) -> str:
        applied = [s for s in plan.settlements if s.pieces]
        if residual != 0:
            return "partial" if applied else "not_paid"
        payments = [s for s in applied if s.kind == "payment"]
        if not payments:
            return "reversed"
        if all(s.matched_with_bank for s in payments):
            return "paid"
        return self.ctx.in_payment_state

    def _settle(
        self,
        plan: InvoicePlan,
        invoice_move_id: int,
        invoice_name: str,
        instalment_line_ids: list[int],
    ) -> tuple[list[tuple[int, int, int, object, date]], dict[int, tuple[int | None, str]]]:
        """Write each settlement's document; return partial rows and line -> (full id, number)."""
        partial_rows = []
        # Union-find over line ids: each connected set of lines shares one matching number.
        parent: dict[int, int] = {}

        def find(node: int) -> int:
            while parent[node] != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        settlement_lines: list[tuple[int, Settlement]] = []
        for settlement in plan.settlements:
            credit_line_id = self._add_settlement(plan, settlement, invoice_move_id, invoice_name)
            settlement_lines.append((credit_line_id, settlement))
            for piece in settlement.pieces:
                debit_id = instalment_line_ids[piece.instalment]
                partial_id = self.ids.take("account_partial_reconcile")
                partial_rows.append((partial_id, debit_id, credit_line_id, piece, settlement.day))
                for node in (debit_id, credit_line_id):
                    parent.setdefault(node, node)
                parent[find(credit_line_id)] = find(debit_id)
        # Residual of every line taking part, in both currencies, to decide full reconciliation.
        open_lines: set[int] = set()
        for line_id, line in zip(instalment_line_ids, plan.instalments):
            if line.residual_cents or line.residual_balance_cents:
                open_lines.add(line_id)
        for line_id, settlement in settlement_lines:
            receivable = settlement.receivable
            if receivable is not None and (
                receivable.residual_cents or receivable.residual_balance_cents
            ):
                open_lines.add(line_id)
        groups: dict[int, list[int]] = defaultdict(list)
        for node in parent:
            groups[find(node)].append(node)
        first_partial: dict[int, int] = {}
        for partial_id, debit_id, _credit, _piece, _day in partial_rows:
            root = find(debit_id)
            first_partial[root] = min(first_partial.get(root, partial_id), partial_id)
        components: dict[int, tuple[int | None, str]] = {}
        for root, members in groups.items():
            if any(member in open_lines for member in members):
                value: tuple[int | None, str] = (None, f"P{first_partial[root]}")
            else:
                full_id = self.ids.take("account_full_reconcile")
                self._row(
                    "account_full_reconcile",
                    [
                        str(full_id),
                        str(self.ctx.user_id),
                        str(self.ctx.user_id),
                        self.ctx.stamp,
                        self.ctx.stamp,
                    ],
                )
                value = (full_id, str(full_id))
            for member in members:
                components[member] = value
        self._pending_components = components
        self._flush_settlement_lines(settlement_lines, components)
        return partial_rows, components

    # Settlement receivable lines are written after the components are known.
    def _add_settlement(
        self, plan: InvoicePlan, settlement: Settlement, invoice_move_id: int, invoice_name: str
    ) -> int:
        line_id = self.ids.take("account_move_line")
        self._deferred.append((line_id, plan, settlement, invoice_move_id, invoice_name))
        return line_id

    @property
    def _deferred(self) -> list:
        if not hasattr(self, "_deferred_list"):
            self._deferred_list: list = []
        return self._deferred_list

    def _flush_settlement_lines(self, settlement_lines, components) -> None:
        for line_id, plan, settlement, invoice_move_id, invoice_name in self._deferred:
            full_id, matching = components.get(line_id, (None, None))
            if settlement.kind == "refund":
                self._write_refund(
                    line_id, plan, settlement, invoice_move_id, invoice_name, full_id, matching
                )
            else:
                self._write_payment(
                    plan.company,
                    plan.customer,
                    plan.currency,
                    settlement.day,
                    settlement.amount_cents,
                    settlement.balance_cents,
                    settlement.matched_with_bank,
                    memo=invoice_name,
                    receivable_line_id=line_id,
                    receivable_residual=(0, 0),
                    full_id=full_id,
                    matching=matching,
                    invoice_move_id=invoice_move_id,
                    invoice_paid=not any(line.residual_cents for line in plan.instalments)
                    and self._invoice_payment_state(plan, 0) == "paid",
                )
        self._deferred.clear()

    def _write_refund(
        self,
        line_id: int,
        plan: InvoicePlan,
        settlement: Settlement,
        invoice_move_id: int,
        invoice_name: str,
        full_id: int | None,
        matching: str | None,
    ) -> None:
        company = self.ctx.companies[plan.company]
        currency_id = self.ctx.currency_ids[plan.currency]
        receivable = settlement.receivable
        assert receivable is not None
        move_id = self.ids.take("account_move")
        name = self.seq.next_name(
            company.sale_journal_id, f"R{company.sale_journal_code}/{settlement.day.year}/"
        )
        ref = f"Reversal of: {invoice_name}, pricing dispute"
        lines = settlement.refund_lines
        untaxed = sum(line.subtotal_cents for line in lines)
        tax = sum(line.tax_cents for line in lines)
        balance_untaxed = sum(convert(line.subtotal_cents, plan.rate) for line in lines)
        balance_tax = convert(tax, plan.rate)
        residual = -receivable.residual_cents
        if residual == 0:
            state = "paid"
        elif settlement.pieces:
            state = "partial"
        else:
            state = "not_paid"
        self._move(
            move_id,
            name,
            company,
            company.sale_journal_id,
            currency_id,
            plan.customer,
            "out_refund",
            settlement.day,
            ref=ref,
            payment_state=state,
            invoice_date=settlement.day,
            date_due=settlement.day,
            rate=plan.rate,
            term_id=None,
            reversed_entry_id=invoice_move_id,
            amounts=(untaxed, tax, untaxed + tax, residual),
            signed=(
                -balance_untaxed,
                -untaxed,
                -balance_tax,
                -(balance_untaxed + balance_tax),
                -(untaxed + tax),
                receivable.residual_balance_cents,
                0,
            ),
        )
        self._document_lines(
            move_id,
            name[0],
            company,
            currency_id,
            plan.customer,
            settlement.day,
            lines,
            plan.rate,
            1,
            ref,
            refund=True,
        )
        self._receivable_line(
            line_id,
            move_id,
            name[0],
            company,
            company.sale_journal_id,
            currency_id,
            plan.customer,
            settlement.day,
            settlement.day,
            receivable.balance_cents,
            receivable.amount_cents,
            receivable.residual_balance_cents,
            receivable.residual_cents,
            None,
            ref,
            full_id,
            matching,
            invoice_date=settlement.day,
        )

    # -- payments ----------------------------------------------------------------------------

    def _write_payment(
        self,
        company_index: int,
        customer: int,
        currency: str,
        day: date,
        amount: int,
        balance: int,
        matched_with_bank: bool,
        *,
        memo: str | None,
        receivable_line_id: int,
        receivable_residual: tuple[int, int],
        full_id: int | None,
        matching: str | None,
        invoice_move_id: int | None,
        invoice_paid: bool,
    ) -> None:
        """An account.payment with its journal entry: liquidity debit, receivable credit."""
        ctx = self.ctx
        company = ctx.companies[company_index]
        currency_id = ctx.currency_ids[currency]
        if matched_with_bank:
            journal_id, code = company.direct_journal_id, company.direct_journal_code
            method_line_id, liquidity_account = (
                company.direct_method_line_id,
                company.direct_account_id,
            )
        else:
            journal_id, code = company.outstanding_journal_id, company.outstanding_journal_code
            method_line_id, liquidity_account = (
                company.outstanding_method_line_id,
                company.outstanding_account_id,
            )
        payment_id = self.ids.take("account_payment")
        move_id = self.ids.take("account_move")
        name = self.seq.next_name(journal_id, f"P{code}/{day.year}/")
        label = f"Manual Payment: {memo}" if memo else "Manual Payment"
        residual_balance, residual_currency = receivable_residual
        self._move(
            move_id,
            name,
            company,
            journal_id,
            currency_id,
            customer,
            "entry",
            day,
            ref=memo,
            origin_payment_id=payment_id,
            amounts=(0, 0, amount, 0),
            signed=(0, 0, 0, balance, amount, 0, 0),
        )
        # Liquidity line: bank or outstanding account; its residual is its balance until the
        # bank statement matches it.
        self._line(
            self.ids.take("account_move_line"),
            move_id,
            name[0],
            company,
            journal_id,
            currency_id,
            customer,
            liquidity_account,
            "product",
            day,
            balance=balance,
            amount_currency=amount,
            residual=balance,
            residual_currency=amount,
            name=label,
            ref=memo,
            date_maturity=day,
            payment_id=payment_id,
            quantity=1,
            price_subtotal=amount,
            price_total=amount,
        )
        self._receivable_line(
            receivable_line_id,
            move_id,
            name[0],
            company,
            journal_id,
            currency_id,
            customer,
            day,
            day,
            -balance,
            -amount,
            -residual_balance,
            -residual_currency,
            label,
            memo,
            full_id,
            matching,
            payment_id=payment_id,
            display_type="product",
        )
        is_reconciled = residual_balance == 0 and residual_currency == 0
        # Community Odoo: a payment is "paid" once every invoice it pays is paid.
        state = "paid" if (matched_with_bank and invoice_paid) else "in_process"
        self._row(
            "account_payment",
            [
                str(payment_id),
                str(move_id),
                str(journal_id),
                str(company.company_id),
                str(method_line_id),
                str(ctx.payment_method_id),
                str(currency_id),
                str(ctx.customer_ids[customer]),
                str(liquidity_account),
                str(company.receivable_account_id),
                name[0],
                state,
                "inbound",
                "customer",
                text(memo),
                day.isoformat(),
                money(amount),
                money(balance),
                flag(is_reconciled),
                flag(matched_with_bank),
                "f",
                str(ctx.user_id),
                str(ctx.user_id),
                ctx.stamp,
                ctx.stamp,
            ],
        )
        if invoice_move_id is not None:
            self._row("account_move__account_payment", [str(invoice_move_id), str(payment_id)])

    def add_unapplied_payment(self, payment: UnappliedPayment) -> None:
        currency = COMPANIES[payment.company].currency
        self._write_payment(
            payment.company,
            payment.customer,
            currency,
            payment.day,
            payment.amount_cents,
            payment.amount_cents,
            payment.matched_with_bank,
            memo=None,
            receivable_line_id=self.ids.take("account_move_line"),
            receivable_residual=(payment.amount_cents, payment.amount_cents),
            full_id=None,
            matching=None,
            invoice_move_id=None,
            invoice_paid=False,
        )

    # -- sale orders -------------------------------------------------------------------------

    def add_sale_order(
        self,
        order: OpenSaleOrder,
        invoiced: list[tuple[ProductLine, int]] | None = None,
        name: str | None = None,
    ) -> None:
        """A confirmed order: ``invoiced`` lines (with their invoice line ids) are billed."""
        ctx = self.ctx
        company = ctx.companies[order.company]
        currency_id = ctx.currency_ids[COMPANIES[order.company].currency]
        partner_id = ctx.customer_ids[order.customer]
        order_id = self.ids.take("sale_order")
        name = name or self.next_sale_order_name()
        all_lines = [(line, invoice_line) for line, invoice_line in (invoiced or [])]
        all_lines += [(line, None) for line in order.lines]
        untaxed = sum(line.subtotal_cents for line, _ in all_lines)
        tax = sum(line.tax_cents for line, _ in all_lines)
        for sequence, (line, invoice_line_id) in enumerate(all_lines, 1):
            line_id = self.ids.take("sale_order_line")
            done = invoice_line_id is not None
            price_incl = (line.price_cents * 115 + 50) // 100
            self._row(
                "sale_order_line",
                [
                    str(line_id),
                    str(order_id),
                    str(sequence * 10),
                    str(company.company_id),
                    str(currency_id),
                    str(partner_id),
                    str(ctx.user_id),
                    str(ctx.product_ids[line.product_index]),
                    str(ctx.uom_id),
                    "sale",
                    "manual",
                    "invoiced" if done else "to invoice",
                    text(ctx.product_names[line.product_index]),
                    f"{line.quantity}.00",
                    money(line.price_cents),
                    "0.00",
                    money(line.subtotal_cents),
                    money(line.subtotal_cents + line.tax_cents),
                    money(line.price_cents),
                    money(price_incl),
                    "0.00",
                    f"{line.quantity if done else 0}.00",
                    f"{0 if done else line.quantity}.00",
                    money(line.subtotal_cents if done else 0),
                    money(0 if done else line.subtotal_cents),
                    "f",
                    "f",
                    money(line.price_cents),
                    money(line.tax_cents),
                    "0",
                    "0",
                    str(ctx.user_id),
                    str(ctx.user_id),
                    ctx.stamp,
                    ctx.stamp,
                ],
            )
            self._row("account_tax_sale_order_line_rel", [str(line_id), str(company.tax_id)])
            if done:
                self._row("sale_order_line_invoice_rel", [str(invoice_line_id), str(line_id)])
        self._row(
            "sale_order",
            [
                str(order_id),
                str(company.company_id),
                str(partner_id),
                str(partner_id),
                str(partner_id),
                str(company.pricelist_id),
                str(currency_id),
                str(ctx.user_id),
                str(company.team_id),
                name,
                "sale",
                "to invoice",
                (order.day + timedelta(days=30)).isoformat(),
                "1.0",
                money(untaxed),
                money(tax),
                money(untaxed + tax),
                "f",
                "t",
                "f",
                f"{order.day.isoformat()} 09:00:00",
                "1",
                str(ctx.user_id),
                str(ctx.user_id),
                ctx.stamp,
                ctx.stamp,
            ],
        )

    def next_sale_order_name(self) -> str:
        self.seq.sale_order += 1
        return f"S{self.seq.sale_order:05d}"
