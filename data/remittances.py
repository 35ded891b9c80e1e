"""Seeded generator of open items and noisy bank remittances for the matching benchmark.

Each generated payment carries the truth (the item ids it really settles, or ``None`` when no
open item can be told from it), so a benchmark can measure precision and recall of automatic
matching. The noise mimics bank statements: reference formatting variants, typos, missing
references, combined payments, partial payments, bank fees, FX differences, payments booked on
the wrong customer and stray payments.

Usage from a script or test (``data/`` is not a package)::

    sys.path.insert(0, "<repo>/data"); import remittances
    items = remittances.generate_open_items(100_000, 20_000, seed=1)
    cases = remittances.generate_remittances(items, 10_000, seed=2)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ar_engine.matching import OpenItem, Payment

# Share of each kind of payment; the kinds are described in generate_remittances.
DEFAULT_MIX: Mapping[str, float] = {
    "clean": 0.50,
    "typo": 0.10,
    "no_reference": 0.07,
    "combined": 0.10,
    "partial": 0.05,
    "bank_fee": 0.06,
    "fx_difference": 0.04,
    "wrong_customer": 0.05,
    "stray": 0.03,
}

_NOISE_WORDS = ("PAYMENT", "Invoice", "REF", "Thank you", "SEPA CT", "remittance", "/ROC/")


@dataclass(frozen=True, slots=True)
class Remittance:
    payment: Payment
    true_item_ids: frozenset[Hashable] | None  # None: no open item can be told from it
    kind: str


def generate_open_items(
    n_items: int,
    n_partners: int,
    *,
    seed: int,
    companies: Sequence[Hashable] = (1, 2),
    start: date = date(2024, 1, 1),
) -> list[OpenItem]:
    """Open invoices numbered per company and year (``INV/2024/00012``), partners skewed.

    A fifth of the amounts are round numbers so that equal amounts within a customer happen,
    as they do with subscriptions and instalments.
    """
    rng = random.Random(seed)
    currency_of_company = {company: ("EUR", "USD")[k % 2] for k, company in enumerate(companies)}
    sequence = dict.fromkeys(companies, 0)
    # Pareto weights: a few customers hold many open items, most hold a handful.
    weights = [rng.paretovariate(1.2) for _ in range(n_partners)]
    partners = rng.choices(range(1, n_partners + 1), weights=weights, k=n_items)
    items = []
    for k in range(n_items):
        company = companies[k % len(companies)]
        sequence[company] += 1
        invoice_date = start + timedelta(days=rng.randrange(365))
        number = sequence[company]
        prefix = "INV" if company == companies[0] else "FAC"
        invoice_number = f"{prefix}/{invoice_date.year}/{number:05d}"
        if rng.random() < 0.2:
            amount = float(rng.choice((50, 100, 150, 200, 250, 500, 1000)))
        else:
            amount = round(rng.lognormvariate(6.5, 1.0), 2) + 1.0
        items.append(
            OpenItem(
                id=k + 1,
                partner_id=partners[k],
                company_id=company,
                currency=currency_of_company[company],
                residual=amount,
                due_date=invoice_date + timedelta(days=30),
                invoice_number=invoice_number,
                payment_reference=invoice_number,
            )
        )
    return items


def format_reference(reference: str, rng: random.Random) -> str:
    """The reference as a customer or bank may write it: case, separators, zeros, prefix."""
    prefix, _, rest = reference.partition("/")
    groups = rest.split("/") if rest else [reference]
    style = rng.randrange(7)
    if style == 0:
        return reference
    if style == 1:
        return " ".join([prefix.lower(), *(group.lstrip("0") or "0" for group in groups)])
    if style == 2:
        return "/".join([*groups[:-1], (groups[-1].lstrip("0") or "0").zfill(4)])  # "2024/0012"
    if style == 3:
        return prefix + "".join(groups)  # "INV202400012"
    if style == 4:
        return "-".join([prefix, *groups])
    if style == 5:
        return " ".join([prefix, *groups]).lower()
    return f"{prefix}.{'.'.join(groups)}"


def add_typo(text: str, rng: random.Random) -> str:
    """One edit (substitute, swap neighbours, drop or insert) on a digit of the text."""
    positions = [i for i, char in enumerate(text) if char.isdigit() and char != "0"]
    if not positions:
        return text
    i = rng.choice(positions)
    kind = rng.randrange(4)
    if kind == 0:
        replacement = rng.choice([d for d in "123456789" if d != text[i]])
        return text[:i] + replacement + text[i + 1 :]
    if kind == 1 and i + 1 < len(text) and text[i + 1].isdigit() and text[i + 1] != text[i]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 2:
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice("123456789") + text[i:]


def memo_for(references: Iterable[str], rng: random.Random) -> str:
    parts = [format_reference(reference, rng) for reference in references]
    if rng.random() < 0.6:
        parts.insert(0, rng.choice(_NOISE_WORDS))
    if rng.random() < 0.2:
        parts.append(f"{rng.randrange(1, 28):02d}.{rng.randrange(1, 13):02d}")
    return " ".join(parts)


def generate_remittances(
    items: Sequence[OpenItem],
    n_payments: int,
    *,
    seed: int,
    mix: Mapping[str, float] = DEFAULT_MIX,
    partnerless_share: float = 0.15,
) -> list[Remittance]:
    """Payments settling distinct open items, each of a kind drawn from ``mix``.

    clean: one item, exact amount, reference formatted in one of several ways.
    typo: as clean with one digit typo in the reference.
    no_reference: one item, exact amount, memo without number (payer known).
    combined: 2-4 items of one customer; memo lists all, some or none of them (payer known
    when not all are listed).
    partial: 30-90% of one item, referenced (payer known).
    bank_fee: one item less a fee of up to 1% and at most 10; fx_difference: +/-0.8%.
    wrong_customer: the bank booked the payment on another customer of the same company: no
    item of that customer is settled, so the truth is ``None``.
    stray: an amount and memo unrelated to any item (truth ``None``).
    """
    rng = random.Random(seed)
    by_partner: dict[tuple[Hashable, Hashable], list[OpenItem]] = {}
    for item in items:
        by_partner.setdefault((item.company_id, item.partner_id), []).append(item)
    partners_of_company: dict[Hashable, list[Hashable]] = {}
    for company, partner in by_partner:
        partners_of_company.setdefault(company, []).append(partner)
    order = list(items)
    rng.shuffle(order)
    used: set[Hashable] = set()
    kinds = list(mix)
    weights = [mix[kind] for kind in kinds]
    makers: dict[str, Callable[[int, OpenItem], Remittance | None]] = {}

    def fresh_from_partner(item: OpenItem, count: int) -> list[OpenItem]:
        pool = [
            other
            for other in by_partner[(item.company_id, item.partner_id)]
            if other.id not in used
        ]
        return pool[:count]

    def payment(
        pid: int, item: OpenItem, amount: float, memo: str, partner: Hashable | None
    ) -> Payment:
        return Payment(
            id=pid,
            company_id=item.company_id,
            currency=item.currency,
            amount=round(amount, 2),
            date=item.due_date + timedelta(days=rng.randrange(-20, 40)),
            memo=memo,
            partner_id=partner,
        )

    def maybe_partner(item: OpenItem) -> Hashable | None:
        return None if rng.random() < partnerless_share else item.partner_id

    def clean(pid: int, item: OpenItem) -> Remittance:
        memo = memo_for([item.invoice_number], rng)
        return Remittance(
            payment(pid, item, item.residual, memo, maybe_partner(item)),
            frozenset([item.id]),
            "clean",
        )

    def typo(pid: int, item: OpenItem) -> Remittance:
        memo = memo_for([add_typo(item.invoice_number, rng)], rng)
        return Remittance(
            payment(pid, item, item.residual, memo, maybe_partner(item)),
            frozenset([item.id]),
            "typo",
        )

    def no_reference(pid: int, item: OpenItem) -> Remittance:
        memo = rng.choice(_NOISE_WORDS)
        return Remittance(
            payment(pid, item, item.residual, memo, item.partner_id),
            frozenset([item.id]),
            "no_reference",
        )

    def combined(pid: int, item: OpenItem) -> Remittance | None:
        group = fresh_from_partner(item, rng.randint(2, 4))
        if len(group) < 2:
            return None
        listing = rng.random()
        if listing < 0.7:
            listed, partner = group, maybe_partner(item)
        elif listing < 0.9:
            listed, partner = group[: len(group) - 1], item.partner_id
        else:
            listed, partner = [], item.partner_id
        memo = memo_for([other.invoice_number for other in listed], rng) if listed else "PAYMENT"
        total = sum(other.residual for other in group)
        return Remittance(
            payment(pid, item, total, memo, partner),
            frozenset(other.id for other in group),
            "combined",
        )

    def partial(pid: int, item: OpenItem) -> Remittance:
        amount = round(item.residual * rng.uniform(0.3, 0.9), 2)
        memo = memo_for([item.invoice_number], rng)
        return Remittance(
            payment(pid, item, amount, memo, item.partner_id), frozenset([item.id]), "partial"
        )

    def bank_fee(pid: int, item: OpenItem) -> Remittance:
        fee = round(min(10.0, item.residual * 0.01) * rng.uniform(0.2, 1.0), 2)
        memo = memo_for([item.invoice_number], rng)
        return Remittance(
            payment(pid, item, item.residual - fee, memo, maybe_partner(item)),
            frozenset([item.id]),
            "bank_fee",
        )

    def fx_difference(pid: int, item: OpenItem) -> Remittance:
        amount = item.residual * (1 + rng.uniform(-0.008, 0.008))
        memo = memo_for([item.invoice_number], rng)
        return Remittance(
            payment(pid, item, amount, memo, maybe_partner(item)),
            frozenset([item.id]),
            "fx_difference",
        )

    def wrong_customer(pid: int, item: OpenItem) -> Remittance | None:
        others = partners_of_company[item.company_id]
        wrong = rng.choice(others)
        if wrong == item.partner_id:
            return None
        memo = memo_for([item.invoice_number], rng)
        return Remittance(payment(pid, item, item.residual, memo, wrong), None, "wrong_customer")

    def stray(pid: int, item: OpenItem) -> Remittance:
        amount = round(rng.lognormvariate(6.5, 1.0), 2) + 0.37
        memo = f"{rng.choice(_NOISE_WORDS)} {rng.randrange(10**6, 10**7)}"
        partner = rng.choice((None, item.partner_id))
        return Remittance(payment(pid, item, amount, memo, partner), None, "stray")

    makers.update(
        clean=clean,
        typo=typo,
        no_reference=no_reference,
        combined=combined,
        partial=partial,
        bank_fee=bank_fee,
        fx_difference=fx_difference,
        wrong_customer=wrong_customer,
        stray=stray,
    )
    result: list[Remittance] = []
    for item in order:
        if len(result) >= n_payments:
            break
        if item.id in used or item.residual <= 0:
            continue
        kind = rng.choices(kinds, weights)[0]
        remittance = makers[kind](len(result) + 1, item)
        if remittance is None:
            remittance = clean(len(result) + 1, item)
        if remittance.true_item_ids:
            used.update(remittance.true_item_ids)
        else:
            used.add(item.id)  # the stray/wrong payment "consumed" nothing, keep it simple
        result.append(remittance)
    return result


def score(remittances: Sequence[Remittance], matches: Sequence[object]) -> dict[str, float | int]:
    """Precision/recall of auto-accepted proposals and the share left for a person.

    precision = correct auto-accepted / auto-accepted; recall = correct auto-accepted /
    payments that have a true match; a proposal is correct when its item set is the truth.
    """
    auto = correct = with_truth = 0
    for remittance, match in zip(remittances, matches, strict=True):
        if remittance.true_item_ids is not None:
            with_truth += 1
        if not match.auto_accept:  # type: ignore[attr-defined]
            continue
        auto += 1
        proposed = frozenset(match.best.item_ids)  # type: ignore[attr-defined]
        if proposed == remittance.true_item_ids:
            correct += 1
    payments = len(remittances)
    return {
        "payments": payments,
        "with_true_match": with_truth,
        "auto_accepted": auto,
        "correct": correct,
        "precision": correct / auto if auto else 1.0,
        "recall": correct / with_truth if with_truth else 1.0,
        "left_for_person": (payments - auto) / payments if payments else 0.0,
    }
