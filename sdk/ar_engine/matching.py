"""Cash application: propose which open items each bank payment settles.

A payment is compared with the open receivable items it may settle and gets a ranked list of
proposals, each with the rule that produced it and a confidence between 0 and 1. The best
proposal is flagged for automatic reconciliation only when it is confident enough *and* clearly
better than the runner-up, so ambiguous cases are left to a person.

Rules, strongest first:

* ``reference``: the memo names the item(s) by invoice number or payment reference, tolerant of
  spacing, separators, prefixes and leading zeros (``INV/2024/00012`` = ``inv 2024 12`` =
  ``2024/0012``); several numbers in one memo make a combined payment.
* ``reference_fuzzy``: the same with a typo, found through a deletion index (no scan of all items).
* ``exact_amount``: one of the customer's open items has exactly the payment's amount.
* ``combination``: a few of the customer's open items add up to the payment (bounded search).
* ``partial_oldest``: the payment is spread over the customer's oldest items.

A difference within the fee/FX tolerance is proposed as a write-off. Items of another company or
currency are never proposed, nor items of another partner when the payment has a partner; a
payment without partner is matched by reference only, within its own company, and one proposal
never mixes partners. Amounts are compared in integer minor units, so sums are exact.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from itertools import combinations

from .errors import InvalidInputError

__all__ = [
    "Allocation",
    "Matcher",
    "MatchingConfig",
    "MatchRule",
    "OpenItem",
    "Payment",
    "PaymentMatch",
    "Proposal",
    "match_payments",
    "normalise_reference",
]

_DIGIT_RUN = re.compile(r"\d+")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_DIGITS = "0123456789"
_RAW_PREFIX = "#"  # marks the "all digits glued together" form of a reference in the index


class MatchRule(str, Enum):
    REFERENCE = "reference"
    REFERENCE_FUZZY = "reference_fuzzy"
    EXACT_AMOUNT = "exact_amount"
    COMBINATION = "combination"
    PARTIAL_OLDEST = "partial_oldest"


@dataclass(frozen=True, slots=True)
class Payment:
    """A bank payment received (positive amount, in ``currency``)."""

    id: Hashable
    company_id: Hashable
    currency: str
    amount: float
    date: date
    memo: str = ""
    partner_id: Hashable | None = None


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open receivable item; a negative residual is a credit note (matched by reference only)."""

    id: Hashable
    partner_id: Hashable
    company_id: Hashable
    currency: str
    residual: float
    due_date: date
    invoice_number: str = ""
    payment_reference: str = ""


@dataclass(frozen=True, slots=True)
class Allocation:
    item_id: Hashable
    amount: float


@dataclass(frozen=True, slots=True)
class Proposal:
    """One way of applying a payment.

    ``write_off`` is the part of the allocated residual settled without cash (bank fee, FX
    difference): positive when the customer paid less than the items, negative when more.
    ``unapplied`` is the cash left on the customer's account (overpayment beyond tolerance).
    So ``sum(allocations) == payment.amount + write_off - unapplied``.
    """

    allocations: tuple[Allocation, ...]
    confidence: float
    rule: MatchRule
    write_off: float = 0.0
    unapplied: float = 0.0

    @property
    def item_ids(self) -> tuple[Hashable, ...]:
        return tuple(allocation.item_id for allocation in self.allocations)


@dataclass(frozen=True, slots=True)
class PaymentMatch:
    payment_id: Hashable
    proposals: tuple[Proposal, ...]
    auto_accept: bool

    @property
    def best(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None


@dataclass(frozen=True)
class MatchingConfig:
    """Tuning of the matcher; every value is validated on creation.

    A difference is written off when it is within ``write_off_tolerance_abs`` (bank fees, in
    currency units) *or* within ``write_off_tolerance_rel`` of the payment (FX differences).
    """

    write_off_tolerance_abs: float = 10.0
    write_off_tolerance_rel: float = 0.01
    max_combination_size: int = 4
    max_combination_candidates: int = 24
    max_combination_steps: int = 5_000
    auto_accept_threshold: float = 0.9
    min_auto_accept_margin: float = 0.05
    max_reference_typos: int = 1
    min_reference_digits: int = 4
    min_fuzzy_reference_digits: int = 5
    max_proposals: int = 5
    currency_decimals: Mapping[str, int] = field(default_factory=dict)
    known_currencies: frozenset[str] | None = None

    def __post_init__(self) -> None:
        _check_number(self.write_off_tolerance_abs, "write_off_tolerance_abs", minimum=0.0)
        _check_number(self.write_off_tolerance_rel, "write_off_tolerance_rel", 0.0, 0.5)
        _check_int(self.max_combination_size, "max_combination_size", 1, 8)
        _check_int(self.max_combination_candidates, "max_combination_candidates", 1, 64)
        _check_int(self.max_combination_steps, "max_combination_steps", 1, 10_000_000)
        _check_number(self.auto_accept_threshold, "auto_accept_threshold", 0.0, 1.0)
        _check_number(self.min_auto_accept_margin, "min_auto_accept_margin", 0.0, 1.0)
        _check_int(self.max_reference_typos, "max_reference_typos", 0, 2)
        _check_int(self.min_reference_digits, "min_reference_digits", 1, 30)
        _check_int(self.min_fuzzy_reference_digits, "min_fuzzy_reference_digits", 1, 30)
        _check_int(self.max_proposals, "max_proposals", 1, 100)
        for currency, decimals in self.currency_decimals.items():
            _check_currency(currency, "currency_decimals")
            _check_int(decimals, f"currency_decimals[{currency}]", 0, 6)
        if self.known_currencies is not None:
            for currency in self.known_currencies:
                _check_currency(currency, "known_currencies")


def _check_number(
    value: object, name: str, minimum: float | None = None, maximum: float | None = None
) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError("must be a finite number", field=name, code="not_finite")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidInputError(
            f"{value} is outside [{minimum}, {maximum}]", field=name, code="out_of_range"
        )


def _check_int(value: object, name: str, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError("must be an integer", field=name, code="not_integer")
    if not minimum <= value <= maximum:
        raise InvalidInputError(
            f"{value} is outside [{minimum}, {maximum}]", field=name, code="out_of_range"
        )


def _check_currency(value: object, name: str) -> None:
    if not isinstance(value, str) or not _CURRENCY_CODE.fullmatch(value):
        raise InvalidInputError(
            f"{value!r} is not a 3-letter ISO currency code",
            field=name,
            code="invalid_currency",
        )


def normalise_reference(text: str) -> tuple[str, str] | None:
    """The two index forms of a reference, or ``None`` when it holds no digit.

    The first form keeps digit groups, drops leading zeros and everything else
    (``INV/2024/00012`` -> ``2024/12``); the second glues all digits together and drops the
    leading zeros (``202400012``) for memos where separators were removed or added.
    """
    groups = _DIGIT_RUN.findall(text)
    if not groups:
        return None
    return (
        "/".join([group.lstrip("0") or "0" for group in groups]),
        "".join(groups).lstrip("0") or "0",
    )


def _significant_digits(stripped_key: str) -> int:
    return len(stripped_key) - stripped_key.count("/")


def _deletions(key: str, depth: int) -> set[str]:
    found = {key}
    frontier = {key}
    for _ in range(depth):
        frontier = {word[:i] + word[i + 1 :] for word in frontier for i in range(len(word))}
        found |= frontier
    return found


def _within_one_edit(left: str, right: str) -> bool:
    """True when one substitution, insertion, deletion or neighbour swap turns left into right."""
    if len(left) < len(right):
        left, right = right, left
    size = len(right)
    i = 0
    while i < size and left[i] == right[i]:
        i += 1
    if len(left) == size:
        if left[i + 1 :] == right[i + 1 :]:
            return True
        return (
            i + 1 < size
            and left[i] == right[i + 1]
            and left[i + 1] == right[i]
            and left[i + 2 :] == right[i + 2 :]
        )
    return len(left) == size + 1 and left[i + 1 :] == right[i:]


def _neighbours(key: str) -> set[str]:
    """Every digit string one edit away from a normalised key (the query side of a typo search).

    About 22 strings per character: cheaper than indexing every item's variants up front.
    """
    size = len(key)
    found = [key[:i] + digit + key[i:] for i in range(size + 1) for digit in _DIGITS]
    for i in range(size):
        head, char, tail = key[:i], key[i], key[i + 1 :]
        found.append(head + tail)
        if char != "/":
            found += [head + digit + tail for digit in _DIGITS]
        if i + 1 < size:
            found.append(head + key[i + 1] + char + key[i + 2 :])
    return set(found)


def _edit_distance(left: str, right: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours counts one), cut at limit+1."""
    if left == right:
        return 0
    if limit <= 1:
        return 1 if limit == 1 and _within_one_edit(left, right) else limit + 1
    if abs(len(left) - len(right)) > limit:
        return limit + 1
    previous_previous: list[int] = []
    previous = list(range(len(right) + 1))
    for i, left_char in enumerate(left, 1):
        current = [i] + [0] * len(right)
        for j, right_char in enumerate(right, 1):
            cost = left_char != right_char
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and left_char == right[j - 2] and left[i - 2] == right_char:
                best = min(best, previous_previous[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return previous[-1]


@dataclass(slots=True)
class _Candidate:
    confidence: float
    rule: MatchRule
    items: tuple[int, ...]
    applied: tuple[int, ...]  # minor units per item, same order
    write_off: int = 0
    unapplied: int = 0


class _Scope:
    """The open items of one (company, currency, partner), oldest first, with amount lookups."""

    __slots__ = ("items", "positive", "amount_index", "sorted_amounts", "sorted_amount_items")

    def __init__(self, items: list[int], minor: list[int]) -> None:
        self.items = items
        self.positive = [index for index in items if minor[index] > 0]
        self.amount_index: dict[int, list[int]] = {}
        for index in items:
            if minor[index] > 0:
                self.amount_index.setdefault(minor[index], []).append(index)
        positive = sorted((minor[i], i) for i in items if minor[i] > 0)
        self.sorted_amounts = [amount for amount, _ in positive]
        self.sorted_amount_items = [index for _, index in positive]


class Matcher:
    """Indexes open items once, then matches any number of payments against them.

    Build: O(items) plus a sort. Each payment costs a few dictionary look-ups per number in its
    memo, plus a bounded search over its own customer's items.
    """

    def __init__(self, open_items: Iterable[OpenItem], config: MatchingConfig | None = None):
        self.config = config or MatchingConfig()
        items = list(open_items)
        self._items = items
        self._minor = self._validated_minor_amounts(items)
        # Stable sort: equal due dates keep input order.
        order = sorted(range(len(items)), key=[item.due_date for item in items].__getitem__)
        self._scope_members: dict[tuple[Hashable, str, Hashable], list[int]] = {}
        for index in order:
            item = items[index]
            key = (item.company_id, item.currency, item.partner_id)
            self._scope_members.setdefault(key, []).append(index)
        self._scopes: dict[tuple[Hashable, str, Hashable], _Scope] = {}
        self._age_rank = [0] * len(items)
        for rank, index in enumerate(order):
            self._age_rank[index] = rank
        self._references: dict[str, list[int]] = {}
        self._window_lengths: set[int] = set()
        self._index_references(items)
        self._max_window = min(max(self._window_lengths, default=1) + 1, 6)
        self._fuzzy_index: dict[str, list[str]] | None = None

    # -- input checks ------------------------------------------------------------------------
    def _decimals(self, currency: str) -> int:
        return self.config.currency_decimals.get(currency, 2)

    def _check_currency_known(self, currency: object, name: str) -> None:
        _check_currency(currency, name)
        known = self.config.known_currencies
        if known is not None and currency not in known:
            raise InvalidInputError(
                f"currency {currency} is not configured",
                field=name,
                code="unknown_currency",
            )

    def _validated_minor_amounts(self, items: list[OpenItem]) -> list[int]:
        """Residuals in minor units; the full per-item check runs only on a suspect item."""
        minor: list[int] = []
        scales: dict[str, int] = {}
        seen: set[Hashable] = set()
        isfinite = math.isfinite
        for position, item in enumerate(items):
            scale = scales.get(item.currency)
            residual = item.residual
            if (
                scale is None
                or type(residual) not in (float, int)
                or not isfinite(residual)
                or item.id in seen
                or item.partner_id is None
                or not round(residual * scale)
                or not isinstance(item.due_date, date)
            ):
                self._validate_item(item, position, seen)
                scale = scales[item.currency] = 10 ** self._decimals(item.currency)
            seen.add(item.id)
            minor.append(round(residual * scale))
        if len(seen) != len(items):  # ids that compare equal but were not caught above
            raise InvalidInputError(
                "open_items: duplicate ids", field="open_items.id", code="duplicate_id"
            )
        return minor

    def _validate_item(self, item: OpenItem, position: int, seen: set[Hashable]) -> None:
        prefix = f"open_items[{position}]"
        if item.id in seen:
            raise InvalidInputError(
                f"duplicate id {item.id!r}", field=f"{prefix}.id", code="duplicate_id"
            )
        seen.add(item.id)
        if item.partner_id is None:
            raise InvalidInputError(
                "an open item needs a partner",
                field=f"{prefix}.partner_id",
                code="missing_partner",
            )
        self._check_currency_known(item.currency, f"{prefix}.currency")
        residual = item.residual
        if isinstance(residual, bool) or not isinstance(residual, (int, float)):
            raise InvalidInputError(
                "residual must be a number",
                field=f"{prefix}.residual",
                code="not_finite",
            )
        if not math.isfinite(residual):
            raise InvalidInputError(
                "residual is not finite", field=f"{prefix}.residual", code="not_finite"
            )
        if round(residual * 10 ** self._decimals(item.currency)) == 0:
            raise InvalidInputError(
                "residual is zero, the item is not open",
                field=f"{prefix}.residual",
                code="zero_amount",
            )
        if not isinstance(item.due_date, date):
            raise InvalidInputError(
                "due_date must be a date", field=f"{prefix}.due_date", code="not_a_date"
            )

    def _validate_payment(self, payment: Payment, position: int) -> None:
        prefix = f"payments[{position}]"
        self._check_currency_known(payment.currency, f"{prefix}.currency")
        amount = payment.amount
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise InvalidInputError(
                "amount must be a number", field=f"{prefix}.amount", code="not_finite"
            )
        if not math.isfinite(amount):
            raise InvalidInputError(
                "amount is not finite", field=f"{prefix}.amount", code="not_finite"
            )
        if round(amount * 10 ** self._decimals(payment.currency)) <= 0:
            raise InvalidInputError(
                "a received payment must be positive",
                field=f"{prefix}.amount",
                code="not_positive",
            )
        if not isinstance(payment.date, date):
            raise InvalidInputError(
                "date must be a date", field=f"{prefix}.date", code="not_a_date"
            )
        if not isinstance(payment.memo, str):
            raise InvalidInputError("memo must be text", field=f"{prefix}.memo", code="not_text")

    # -- reference index ---------------------------------------------------------------------
    def _index_references(self, items: list[OpenItem]) -> None:
        references = self._references
        minimum = self.config.min_reference_digits
        for index, item in enumerate(items):
            texts: tuple[str, ...] = (item.invoice_number,)
            if item.payment_reference and item.payment_reference != item.invoice_number:
                texts = (item.invoice_number, item.payment_reference)
            keys: list[str] = []
            for text in texts:
                normalised = normalise_reference(text) if text else None
                if normalised is None:
                    continue
                stripped, raw = normalised
                if _significant_digits(stripped) < minimum:
                    continue
                keys += (stripped, _RAW_PREFIX + raw)
                self._window_lengths.add(stripped.count("/") + 1)
            for key in dict.fromkeys(keys):
                bucket = references.get(key)
                if bucket is None:
                    references[key] = [index]
                else:
                    bucket.append(index)

    def _fuzzy(self) -> dict[str, list[str]]:
        # Deletion index for more than one typo, built on first need.
        if self._fuzzy_index is None:
            depth = self.config.max_reference_typos
            minimum = self.config.min_fuzzy_reference_digits
            index: defaultdict[str, list[str]] = defaultdict(list)
            for key in self._references:
                if key[0] == _RAW_PREFIX or _significant_digits(key) < minimum:
                    continue
                for variant in _deletions(key, depth):
                    index[variant].append(key)
            self._fuzzy_index = index
        return self._fuzzy_index

    def _scope(self, key: tuple[Hashable, str, Hashable]) -> _Scope | None:
        scope = self._scopes.get(key)
        if scope is None:
            members = self._scope_members.get(key)
            if members is None:
                return None
            scope = self._scopes[key] = _Scope(members, self._minor)
        return scope

    # -- matching ----------------------------------------------------------------------------
    def match(self, payments: Iterable[Payment]) -> list[PaymentMatch]:
        """Proposals for each payment, in input order. Raises InvalidInputError on bad input."""
        payment_list = list(payments)
        for position, payment in enumerate(payment_list):
            self._validate_payment(payment, position)
        return [self._match_one(payment) for payment in payment_list]

    def _find_references(
        self, payment: Payment, target: int, tolerance: int
    ) -> tuple[dict[int, None], dict[int, int], bool]:
        """Items named in the memo: exact hits, fuzzy hits (with distance), foreign-hit flag."""
        exact: dict[int, None] = {}
        fuzzy: dict[int, int] = {}
        names_foreign_item = False
        groups = _DIGIT_RUN.findall(payment.memo)
        if not groups:
            return exact, fuzzy, names_foreign_item
        stripped_groups = [group.lstrip("0") or "0" for group in groups]
        config = self.config
        limit = config.max_reference_typos
        items = self._items
        references = self._references
        doubtful: list[str] = []
        for start in range(len(groups)):
            for length in range(1, min(self._max_window, len(groups) - start) + 1):
                stripped = "/".join(stripped_groups[start : start + length])
                digits = _significant_digits(stripped)
                if digits < config.min_reference_digits:
                    continue
                raw = _RAW_PREFIX + ("".join(groups[start : start + length]).lstrip("0") or "0")
                names_own_item = False
                for key in (stripped, raw):
                    for index in references.get(key, ()):
                        if self._in_scope(items[index], payment):
                            exact[index] = None
                            names_own_item = True
                        elif items[index].company_id == payment.company_id:
                            names_foreign_item = True
                # With dense numbering a typo often lands on another real invoice number, so a
                # number is also read as a typo unless it names one of the payer's own items;
                # without a payer that cannot be told, so it is always read both ways.
                if (
                    limit
                    and length in self._window_lengths
                    and digits >= config.min_fuzzy_reference_digits
                ):
                    if not names_own_item:
                        self._find_fuzzy(stripped, payment, fuzzy, 0)
                    elif payment.partner_id is None:
                        doubtful.append(stripped)
        if doubtful and not self._explains_amount(exact, target, tolerance):
            # Without a payer, an exact hit may itself be a typo that landed on another real
            # number; its neighbours are then read as weaker (shadowed) candidates.
            for stripped in doubtful:
                self._find_fuzzy(stripped, payment, fuzzy, limit + 1)
        for index in exact:
            fuzzy.pop(index, None)
        return exact, fuzzy, names_foreign_item

    def _find_fuzzy(
        self, stripped: str, payment: Payment, found: dict[int, int], shadow: int
    ) -> None:
        limit = self.config.max_reference_typos
        references = self._references
        keys: set[str] = set()
        if limit == 1:
            # One typo: probe the exact index with every neighbour of the number.
            keys = references.keys() & _neighbours(stripped)
        else:
            fuzzy_index = self._fuzzy()
            for variant in _deletions(stripped, limit):
                keys.update(fuzzy_index.get(variant, ()))
        minimum = self.config.min_fuzzy_reference_digits
        items = self._items
        for key in keys:
            if _significant_digits(key) < minimum:
                continue
            distance = _edit_distance(stripped, key, limit)
            if distance > limit:
                continue
            distance += shadow
            for index in references[key]:
                if self._in_scope(items[index], payment):
                    found[index] = min(distance, found.get(index, distance))

    def _explains_amount(self, named: Iterable[int], target: int, tolerance: int) -> bool:
        """Whether the named items of some one partner add up to the payment (within tolerance)."""
        totals: dict[Hashable, int] = {}
        for index in named:
            partner = self._items[index].partner_id
            totals[partner] = totals.get(partner, 0) + self._minor[index]
        return any(abs(total - target) <= tolerance for total in totals.values())

    @staticmethod
    def _in_scope(item: OpenItem, payment: Payment) -> bool:
        return (
            item.company_id == payment.company_id
            and item.currency == payment.currency
            and (payment.partner_id is None or item.partner_id == payment.partner_id)
        )

    def _match_one(self, payment: Payment) -> PaymentMatch:
        config = self.config
        scale = 10 ** self._decimals(payment.currency)
        target = round(payment.amount * scale)
        tolerance = max(
            round(config.write_off_tolerance_abs * scale),
            round(config.write_off_tolerance_rel * target),
        )
        exact, fuzzy, names_foreign_item = self._find_references(payment, target, tolerance)
        candidates: list[_Candidate] = []
        self._reference_candidates(payment, target, tolerance, exact, fuzzy, candidates)
        if payment.partner_id is not None:
            scope = self._scope((payment.company_id, payment.currency, payment.partner_id))
            if scope is not None:
                # Amount-only evidence is weaker when the memo names other items.
                penalty = 1.0
                if exact:
                    penalty *= 0.6
                elif fuzzy:
                    penalty *= 0.8
                if names_foreign_item:
                    penalty *= 0.7
                self._amount_candidates(scope, target, tolerance, penalty, exact, candidates)
        return self._rank(payment, candidates, scale)

    # -- reference rule ----------------------------------------------------------------------
    def _reference_candidates(
        self,
        payment: Payment,
        target: int,
        tolerance: int,
        exact: dict[int, None],
        fuzzy: dict[int, int],
        out: list[_Candidate],
    ) -> None:
        if not exact and not fuzzy:
            return
        by_partner: dict[Hashable, list[int]] = {}
        for index in list(exact) + list(fuzzy):
            by_partner.setdefault(self._items[index].partner_id, []).append(index)
        partner_factor = 1.0 if payment.partner_id is not None else 0.97
        for partner_id, named in by_partner.items():
            named.sort(key=self._age_rank.__getitem__)
            named_exact = [index for index in named if index in exact]
            subsets: list[tuple[int, ...]] = []
            if len(named) <= 10:
                for size in range(1, len(named) + 1):
                    subsets.extend(combinations(named, size))
            else:
                subsets.append(tuple(named))
                if named_exact and len(named_exact) < len(named):
                    subsets.append(tuple(named_exact))
            # A partial payment is read only from numbers the payer or an exact hit vouch for.
            if named_exact:
                full_set: tuple[int, ...] | None = tuple(named_exact)
            else:
                full_set = tuple(named) if payment.partner_id is not None else None
            limit = self.config.max_reference_typos
            for subset in subsets:
                n_fuzzy = n_shadowed = 0
                for index in subset:
                    if index in fuzzy:
                        n_fuzzy += 1
                        n_shadowed += fuzzy[index] > limit
                missed = len(named_exact) - (len(subset) - n_fuzzy)
                quality = (
                    0.99
                    * 0.96 ** (n_fuzzy - n_shadowed)
                    * 0.8**n_shadowed
                    * 0.97**missed
                    * partner_factor
                )
                self._add_reference_candidate(
                    subset,
                    subset == full_set,
                    quality,
                    target,
                    tolerance,
                    n_fuzzy,
                    payment.partner_id is not None,
                    out,
                )
            if payment.partner_id is not None and named_exact:
                self._complete_with_combination(
                    payment, partner_id, tuple(named_exact), target, tolerance, out
                )

    def _add_reference_candidate(
        self,
        subset: tuple[int, ...],
        names_everything: bool,
        quality: float,
        target: int,
        tolerance: int,
        n_fuzzy: int,
        partner_known: bool,
        out: list[_Candidate],
    ) -> None:
        minor = self._minor
        rule = MatchRule.REFERENCE_FUZZY if n_fuzzy else MatchRule.REFERENCE
        total = sum(minor[index] for index in subset)
        difference = total - target
        full = tuple(minor[index] for index in subset)
        if difference == 0:
            out.append(_Candidate(quality, rule, subset, full))
        elif abs(difference) <= tolerance:
            out.append(_Candidate(quality * 0.96, rule, subset, full, write_off=difference))
        elif names_everything and difference > 0:
            # Partial payment of the named items: credit notes first, then oldest invoices.
            applied = self._spread(subset, target)
            used = tuple(i for i, amount in zip(subset, applied) if amount)
            kept = tuple(amount for amount in applied if amount)
            factor = 0.6 if n_fuzzy else (0.92 if partner_known else 0.75)
            out.append(_Candidate(quality * factor, rule, used, kept))
        elif names_everything:
            out.append(_Candidate(quality * 0.8, rule, subset, full, unapplied=-difference))

    def _spread(self, ordered_items: Sequence[int], target: int) -> list[int]:
        minor = self._minor
        available = target + sum(-minor[i] for i in ordered_items if minor[i] < 0)
        applied = []
        for index in ordered_items:
            amount = minor[index]
            if amount < 0:
                applied.append(amount)
            else:
                share = min(amount, max(available, 0))
                available -= share
                applied.append(share)
        return applied

    def _complete_with_combination(
        self,
        payment: Payment,
        partner_id: Hashable,
        named: tuple[int, ...],
        target: int,
        tolerance: int,
        out: list[_Candidate],
    ) -> None:
        """The memo names some items of a combined payment: find the rest among the oldest."""
        minor = self._minor
        gap = target - sum(minor[index] for index in named)
        room = self.config.max_combination_size - len(named)
        if gap <= tolerance or room < 1:
            return
        scope = self._scope((payment.company_id, payment.currency, partner_id))
        if scope is None:
            return
        exclude = set(named)
        found = self._subset_sums(scope, gap, tolerance, room, exclude, minimum_size=1)
        exact_found = [subset for subset, difference in found if difference == 0]
        if len(exact_found) == 1:
            items = tuple(sorted(named + exact_found[0], key=self._age_rank.__getitem__))
            out.append(
                _Candidate(0.93, MatchRule.COMBINATION, items, tuple(minor[i] for i in items))
            )

    # -- amount rules ------------------------------------------------------------------------
    def _amount_candidates(
        self,
        scope: _Scope,
        target: int,
        tolerance: int,
        penalty: float,
        named: dict[int, None],
        out: list[_Candidate],
    ) -> None:
        minor = self._minor
        # Beyond a few equal candidates the case is ambiguous anyway: keep only the oldest.
        keep = self.config.max_proposals
        same_amount = scope.amount_index.get(target, [])
        for rank, index in enumerate(same_amount[:keep]):
            confidence = 0.92 if len(same_amount) == 1 else (0.6 if rank == 0 else 0.55)
            out.append(
                _Candidate(confidence * penalty, MatchRule.EXACT_AMOUNT, (index,), (target,))
            )
        if tolerance:
            low = bisect.bisect_left(scope.sorted_amounts, target - tolerance)
            high = bisect.bisect_right(scope.sorted_amounts, target + tolerance)
            near = [
                scope.sorted_amount_items[k]
                for k in range(low, high)
                if scope.sorted_amounts[k] != target
            ]
            unique = len(near) == 1 and not same_amount
            near.sort(key=lambda index: abs(minor[index] - target))
            for index in near[:keep]:
                confidence = 0.8 if unique else 0.5
                out.append(
                    _Candidate(
                        confidence * penalty,
                        MatchRule.EXACT_AMOUNT,
                        (index,),
                        (minor[index],),
                        write_off=minor[index] - target,
                    )
                )
        best = max((candidate.confidence for candidate in out), default=0.0)
        if best < self.config.auto_accept_threshold:
            found = self._subset_sums(scope, target, tolerance, self.config.max_combination_size)
            exact_found = sum(1 for _, difference in found if difference == 0)
            for subset, difference in found[: self.config.max_proposals]:
                if difference == 0:
                    confidence = 0.86 if exact_found == 1 else 0.5
                else:
                    confidence = 0.7 if len(found) == 1 else 0.45
                out.append(
                    _Candidate(
                        confidence * penalty,
                        MatchRule.COMBINATION,
                        subset,
                        tuple(minor[index] for index in subset),
                        write_off=difference,
                    )
                )
        self._oldest_first_candidate(scope, target, penalty, out)

    def _oldest_first_candidate(
        self, scope: _Scope, target: int, penalty: float, out: list[_Candidate]
    ) -> None:
        minor = self._minor
        items: list[int] = []
        applied: list[int] = []
        remaining = target
        for index in scope.positive:
            if remaining <= 0:
                break
            share = min(minor[index], remaining)
            items.append(index)
            applied.append(share)
            remaining -= share
        if not items:
            return
        confidence = (0.4 if remaining == 0 else 0.3) * penalty
        out.append(
            _Candidate(
                confidence,
                MatchRule.PARTIAL_OLDEST,
                tuple(items),
                tuple(applied),
                unapplied=remaining,
            )
        )

    def _subset_sums(
        self,
        scope: _Scope,
        target: int,
        tolerance: int,
        max_size: int,
        exclude: set[int] | None = None,
        minimum_size: int = 2,
    ) -> list[tuple[tuple[int, ...], int]]:
        """Combinations of the scope's oldest positive items summing to target +/- tolerance.

        Bounded three ways: only the ``max_combination_candidates`` oldest items, at most
        ``max_size`` items per combination, at most ``max_combination_steps`` search steps.
        Returns (items oldest first, write-off) pairs, exact sums and older items first.
        """
        config = self.config
        minor = self._minor
        size = config.max_combination_candidates
        if exclude:
            pool = [i for i in scope.positive[: size + len(exclude)] if i not in exclude][:size]
        else:
            pool = scope.positive[:size]
        if len(pool) < minimum_size:
            return []
        pool = sorted(pool, key=minor.__getitem__)
        amounts = [minor[index] for index in pool]
        low, high = target - tolerance, target + tolerance
        found: list[tuple[int, ...]] = []
        steps = 0
        limit = config.max_combination_steps
        chosen: list[int] = []

        def search(start: int, total: int) -> bool:
            nonlocal steps
            for position in range(start, len(pool)):
                steps += 1
                if steps > limit or len(found) >= 20:
                    return False
                new_total = total + amounts[position]
                if new_total > high:
                    break  # amounts are sorted: every later item overshoots too
                chosen.append(position)
                if new_total >= low and len(chosen) >= minimum_size:
                    found.append(tuple(pool[k] for k in chosen))
                if len(chosen) < max_size and not search(position + 1, new_total):
                    chosen.pop()
                    return False
                chosen.pop()
            return True

        search(0, 0)
        age = self._age_rank.__getitem__
        results = []
        for subset in found:
            ordered = tuple(sorted(subset, key=age))
            results.append((ordered, sum(minor[index] for index in ordered) - target))
        results.sort(key=lambda pair: (pair[1] != 0, abs(pair[1]), [age(i) for i in pair[0]]))
        return results

    # -- ranking -----------------------------------------------------------------------------
    def _rank(self, payment: Payment, candidates: list[_Candidate], scale: int) -> PaymentMatch:
        best_by_items: dict[frozenset[int], _Candidate] = {}
        for candidate in candidates:
            key = frozenset(candidate.items)
            kept = best_by_items.get(key)
            if kept is None or candidate.confidence > kept.confidence:
                best_by_items[key] = candidate
        age = self._age_rank.__getitem__
        ranked = sorted(
            best_by_items.values(),
            key=lambda c: (-c.confidence, len(c.items), min(age(i) for i in c.items)),
        )[: self.config.max_proposals]
        decimals = round(math.log10(scale))
        proposals = tuple(self._to_proposal(candidate, scale, decimals) for candidate in ranked)
        auto_accept = bool(ranked) and ranked[0].confidence >= self.config.auto_accept_threshold
        if auto_accept and len(ranked) > 1:
            margin = ranked[0].confidence - ranked[1].confidence
            auto_accept = margin >= self.config.min_auto_accept_margin
        return PaymentMatch(payment.id, proposals, auto_accept)

    def _to_proposal(self, candidate: _Candidate, scale: int, decimals: int) -> Proposal:
        allocations = tuple(
            Allocation(self._items[index].id, round(amount / scale, decimals))
            for index, amount in zip(candidate.items, candidate.applied)
        )
        return Proposal(
            allocations=allocations,
            confidence=round(min(max(candidate.confidence, 0.0), 1.0), 4),
            rule=candidate.rule,
            write_off=round(candidate.write_off / scale, decimals),
            unapplied=round(candidate.unapplied / scale, decimals),
        )


def match_payments(
    payments: Iterable[Payment],
    open_items: Iterable[OpenItem],
    config: MatchingConfig | None = None,
) -> list[PaymentMatch]:
    """Match payments against open items in one call (builds a :class:`Matcher`)."""
    return Matcher(open_items, config).match(payments)
