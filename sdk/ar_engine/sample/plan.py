"""Pure planning of receivable documents: invoices, their instalments and how they get settled.

Amounts are integer cents so every sum is exact. A plan knows nothing of database ids: ``rows``
turns it into table rows. Everything here is driven by a ``random.Random`` so a seed gives the
same data every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from .instalments import TERMS, TermSpec, due_dates, split_amount
from .profiles import PaymentProfile

TAX_PERCENT = 15  # the generic chart's default sale tax, price-excluded
# Payments this recent are not yet matched with the bank statement: their outstanding-receipts
# line stays open, which makes a fully paid invoice "in payment".
UNMATCHED_PAYMENT_DAYS = 7


@dataclass(frozen=True)
class CompanySpec:
    """One company of the data set and the invoice currencies it uses (code -> share)."""

    name: str
    currency: str
    foreign_currencies: tuple[tuple[str, float], ...]
    share: float  # share of all invoices issued by this company


COMPANIES: tuple[CompanySpec, ...] = (
    CompanySpec("ARCC Demo US Inc.", "USD", (("EUR", 0.10), ("CNY", 0.04)), 0.65),
    CompanySpec("ARCC Demo Europe GmbH", "EUR", (("USD", 0.10),), 0.35),
)

# Units of the foreign currency per unit of company currency (Odoo's res.currency.rate.rate).
BASE_RATES: dict[tuple[str, str], float] = {
    ("USD", "EUR"): 0.92,
    ("USD", "CNY"): 7.15,
    ("EUR", "USD"): 1.087,
}


def currency_rate(company_currency: str, currency: str, day: date) -> float:
    """Monthly rate of ``currency`` against ``company_currency``, deterministic per month."""
    if currency == company_currency:
        return 1.0
    base = BASE_RATES[(company_currency, currency)]
    month_index = day.year * 12 + day.month
    # A slow deterministic wave: rates move a few percent over the two years.
    drift = ((month_index * 7919) % 101 - 50) / 1000.0
    return round(base * (1.0 + drift), 6)


def convert(amount_cents: int, rate: float) -> int:
    """Company-currency cents of a document-currency amount (Odoo: amount_currency / rate)."""
    value = amount_cents / rate
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


@dataclass(frozen=True)
class ProductLine:
    product_index: int
    quantity: int
    price_cents: int  # unit price in document currency

    @property
    def subtotal_cents(self) -> int:
        return self.quantity * self.price_cents

    @property
    def tax_cents(self) -> int:
        # Odoo rounds the tax per line (round_per_line), half away from zero.
        return (self.subtotal_cents * TAX_PERCENT + 50) // 100


@dataclass
class Receivable:
    """One receivable line (an instalment, or the single line of a credit note / payment)."""

    due: date
    amount_cents: int  # document currency, signed (debit > 0)
    balance_cents: int  # company currency, signed
    residual_cents: int = 0
    residual_balance_cents: int = 0

    def __post_init__(self) -> None:
        self.residual_cents = self.amount_cents
        self.residual_balance_cents = self.balance_cents


@dataclass
class Piece:
    """Part of a settlement applied to one instalment: one account.partial.reconcile."""

    instalment: int
    amount_cents: int  # document currency, > 0
    balance_cents: int  # company currency, > 0


@dataclass
class Settlement:
    """A payment or a credit note applied to the invoice (or left open: no pieces)."""

    kind: str  # "payment" or "refund"
    day: date
    matched_with_bank: bool = True
    pieces: list[Piece] = field(default_factory=list)
    refund_lines: list[ProductLine] = field(default_factory=list)
    receivable: Receivable | None = None  # refunds: their own receivable line

    @property
    def amount_cents(self) -> int:
        if self.receivable is not None:
            return -self.receivable.amount_cents
        return sum(piece.amount_cents for piece in self.pieces)

    @property
    def balance_cents(self) -> int:
        if self.receivable is not None:
            return -self.receivable.balance_cents
        return sum(piece.balance_cents for piece in self.pieces)


@dataclass
class InvoicePlan:
    company: int
    customer: int
    currency: str
    rate: float
    invoice_date: date
    term: int
    lines: list[ProductLine]
    instalments: list[Receivable]
    settlements: list[Settlement]
    from_sale_order: bool = False

    @property
    def untaxed_cents(self) -> int:
        return sum(line.subtotal_cents for line in self.lines)

    @property
    def tax_cents(self) -> int:
        return sum(line.tax_cents for line in self.lines)

    @property
    def receivable_line_count(self) -> int:
        return len(self.instalments) + len(self.settlements)


@dataclass(frozen=True)
class UnappliedPayment:
    """A customer payment matched to no invoice (money on account)."""

    company: int
    customer: int
    day: date
    amount_cents: int
    matched_with_bank: bool


@dataclass(frozen=True)
class OpenSaleOrder:
    """A confirmed sale order; ``invoice`` set when part of it was invoiced by that plan."""

    company: int
    customer: int
    day: date
    lines: tuple[ProductLine, ...]


def is_matched_on(day: date, today: date) -> bool:
    return (today - day).days > UNMATCHED_PAYMENT_DAYS


def plan_product_lines(
    rng: random.Random, product_prices: list[int], rate: float, max_lines: int = 3
) -> list[ProductLine]:
    lines = []
    for _ in range(rng.randint(1, max_lines)):
        product_index = rng.randrange(len(product_prices))
        price = max(1, convert(product_prices[product_index], 1.0 / rate))
        lines.append(ProductLine(product_index, rng.choice((1, 1, 2, 3, 5, 10, 20)), price))
    return lines


def _receivables(lines_total: int, balance_total: int, day: date, term: TermSpec):
    percents = [percent for percent, _days in term.lines]
    amounts = split_amount(lines_total, percents)
    balances = split_amount(balance_total, percents)
    return [
        Receivable(due, amount, balance)
        for due, amount, balance in zip(due_dates(day, term), amounts, balances)
    ]


def _apply(
    settlement: Settlement, instalments: list[Receivable], index: int, amount_cents: int
) -> int:
    """Apply up to ``amount_cents`` on one instalment; return the part applied."""
    line = instalments[index]
    applied = min(amount_cents, line.residual_cents)
    if applied <= 0:
        return 0
    if applied == line.residual_cents:
        balance = line.residual_balance_cents  # clears the line in both currencies
    else:
        balance = round(applied * line.balance_cents / line.amount_cents)
        balance = min(balance, line.residual_balance_cents - 1)
    line.residual_cents -= applied
    line.residual_balance_cents -= balance
    settlement.pieces.append(Piece(index, applied, balance))
    return applied


def plan_invoice(
    rng: random.Random,
    *,
    company: int,
    customer: int,
    profile: PaymentProfile,
    invoice_date: date,
    today: date,
    product_prices: list[int],
    term_weights: list[float],
) -> InvoicePlan:
    """Plan one customer invoice and every settlement of it that happened by ``today``."""
    spec = COMPANIES[company]
    currency = spec.currency
    draw = rng.random()
    for foreign, share in spec.foreign_currencies:
        if draw < share:
            currency = foreign
            break
        draw -= share
    rate = currency_rate(spec.currency, currency, invoice_date)
    term_index = rng.choices(range(len(TERMS)), weights=term_weights)[0]
    term = TERMS[term_index]
    lines = plan_product_lines(rng, product_prices, rate)
    untaxed = sum(line.subtotal_cents for line in lines)
    tax = sum(line.tax_cents for line in lines)
    # Company-currency side: each product line and the tax line converted on their own.
    balance_total = sum(convert(line.subtotal_cents, rate) for line in lines) + convert(tax, rate)
    instalments = _receivables(untaxed + tax, balance_total, invoice_date, term)
    plan = InvoicePlan(
        company, customer, currency, rate, invoice_date, term_index, lines, instalments, []
    )
    _plan_settlements(rng, plan, profile, today)
    return plan


def _plan_settlements(
    rng: random.Random, plan: InvoicePlan, profile: PaymentProfile, today: date
) -> None:
    # Events: (day, order, kind, instalment or None, fraction of the residual to pay)
    events: list[tuple[date, int, str, int | None, float]] = []
    if plan.currency == COMPANIES[plan.company].currency and rng.random() < (
        profile.dispute_probability
    ):
        day = plan.invoice_date + timedelta(days=rng.randint(5, 60))
        events.append(
            (day, 0, "refund", None, 1.0 if rng.random() < 0.3 else rng.uniform(0.1, 0.6))
        )
    if rng.random() < profile.lump_sum_probability and rng.random() < profile.pay_probability:
        day = plan.instalments[0].due + timedelta(days=profile.draw_delay(rng))
        events.append((day, 1, "lump", None, 1.0))
    else:
        for index, line in enumerate(plan.instalments):
            if rng.random() >= profile.pay_probability:
                continue
            day = line.due + timedelta(days=profile.draw_delay(rng))
            if rng.random() < profile.partial_probability:
                events.append((day, 1 + index, "pay", index, rng.uniform(0.2, 0.8)))
                later = day + timedelta(days=rng.randint(10, 60))
                if rng.random() < profile.pay_probability:
                    events.append((later, 1 + index, "pay", index, 1.0))
            else:
                events.append((day, 1 + index, "pay", index, 1.0))
    events.sort(key=lambda event: (event[0], event[1]))
    for day, _order, kind, instalment, fraction in events:
        if day > today:
            continue
        day = max(day, plan.invoice_date)
        if kind == "refund":
            _plan_refund(rng, plan, day, fraction)
            continue
        settlement = Settlement("payment", day, is_matched_on(day, today))
        targets = range(len(plan.instalments)) if instalment is None else (instalment,)
        for target in targets:
            residual = plan.instalments[target].residual_cents
            wanted = residual if fraction >= 1.0 else max(1, int(residual * fraction))
            _apply(settlement, plan.instalments, target, wanted)
        if settlement.pieces:
            plan.settlements.append(settlement)


def _plan_refund(rng: random.Random, plan: InvoicePlan, day: date, fraction: float) -> None:
    """A credit note: a full reversal (same lines) or a partial one (one line), then applied."""
    if fraction >= 1.0:
        refund_lines = list(plan.lines)
    else:
        first = plan.lines[0]
        price = max(1, int(plan.untaxed_cents * fraction))
        refund_lines = [ProductLine(first.product_index, 1, price)]
    total = sum(line.subtotal_cents + line.tax_cents for line in refund_lines)
    balance = sum(convert(line.subtotal_cents, plan.rate) for line in refund_lines)
    balance += convert(sum(line.tax_cents for line in refund_lines), plan.rate)
    receivable = Receivable(day, -total, -balance)
    settlement = Settlement("refund", day, True, refund_lines=refund_lines, receivable=receivable)
    if rng.random() < 0.85:  # the rest stays an open credit on the customer's account
        remaining = total
        for index in range(len(plan.instalments)):
            if remaining <= 0:
                break
            remaining -= _apply(settlement, plan.instalments, index, remaining)
        receivable.residual_cents = -remaining
        applied_balance = sum(piece.balance_cents for piece in settlement.pieces)
        receivable.residual_balance_cents = -balance + applied_balance
        if remaining == 0:
            receivable.residual_balance_cents = 0
            # Both sides must clear together in company currency: a full reversal uses the
            # invoice's own rounding, a partial refund only ever clears itself.
            if applied_balance != balance:
                _rebalance_last_piece(settlement, plan.instalments, balance - applied_balance)
    plan.settlements.append(settlement)


def _rebalance_last_piece(
    settlement: Settlement, instalments: list[Receivable], delta: int
) -> None:
    """Shift a cent of rounding from the refund onto the last instalment it touched.

    Only same-currency refunds exist (amount == balance), so ``delta`` is 0 in practice; this
    keeps the invariant if rates ever apply.
    """
    piece = settlement.pieces[-1]
    piece.balance_cents += delta
    instalments[piece.instalment].residual_balance_cents -= delta


def plan_unapplied_payment(
    rng: random.Random, *, company: int, customer: int, day: date, today: date
) -> UnappliedPayment:
    amount = rng.choice((50, 100, 250, 500, 1000, 2500)) * 100 + rng.randrange(100)
    return UnappliedPayment(company, customer, day, amount, is_matched_on(day, today))


def plan_sale_order(
    rng: random.Random, *, company: int, customer: int, day: date, product_prices: list[int]
) -> OpenSaleOrder:
    return OpenSaleOrder(
        company, customer, day, tuple(plan_product_lines(rng, product_prices, 1.0))
    )
