"""The dunning decision for one customer in one company, on plain data.

Rules, in the order they apply on a run date (the company's local date, given by the caller):

1. ``no_dunning`` customers get nothing (``reason="no_dunning"``) and are never put on hold.
2. Items are open receivable instalments. Skipped, and listed in ``skipped`` with why:
   ``in_payment`` (paid, not yet matched with the bank), ``promised`` (under an active
   payment promise), ``disputed``; items with a residual of 0 or less are open credits
   (``credit``): they are netted from the amount due so that a customer whose credits cover
   the overdue amount is not dunned.
3. Levels with ``days <= 0`` are *reminders* sent before (or on) the due date; levels with
   ``days >= 1`` form the *escalation* ladder. ``days_overdue = run_date - due_date``.
4. Each overdue dunnable item targets the highest escalation level whose ``days`` it reached.
   The customer targets the highest item target, but climbs at most ONE escalation step per
   run above its base level: its ``current_level``, or the highest level one of its open
   overdue items already received if that is higher (so a pause, e.g. a broken promise, does
   not restart the ladder from the bottom). Targets at or below the base are taken directly.
5. A communication goes out when a level was reached, at least one item moves to a higher
   item level (otherwise there is nothing new to say), the amount due (overdue dunnable
   residuals net of open credits) is positive and reaches the level's ``min_amount``, and no
   communication was sent to this customer today (``last_dunning_date == run_date``).
   Listed items get level ``max(previous, min(item target, customer level))``.
6. Without an overdue communication, a reminder goes out for not-yet-due items that reached
   a reminder level they have not received yet (same amount and same-day rules).
7. At most one communication per customer per run. Each decision carries a deterministic
   ``key`` ``(partner_id, company_id, level sequence, run_date)`` for a unique constraint.
8. ``customer_level`` is what to store after the run: the new level if an overdue
   communication went out, 0 when no overdue open item remains, otherwise unchanged.
   ``credit_hold`` is true when that level is at or above a level with ``sets_credit_hold``.

Late-payment fees (:func:`late_fee`, :func:`late_fee_proposals`) are proposals only: the
addon decides whether to invoice them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from .errors import InvalidInputError, require_finite, require_non_negative

CHANNELS: tuple[str, ...] = ("email", "sms", "phone", "letter", "lawyer_letter", "legal")
SKIP_REASONS: tuple[str, ...] = ("in_payment", "promised", "disputed", "credit")


@dataclass(frozen=True, slots=True)
class DunningLevel:
    sequence: int  # positive, unique; items and customers store it as their level
    name: str
    days: int  # relative to the due date; <= 0 is a reminder before/on the due date
    channels: tuple[str, ...] = ("email",)
    min_amount: float = 0.0
    sets_credit_hold: bool = False

    @property
    def is_reminder(self) -> bool:
        return self.days <= 0


@dataclass(frozen=True)
class DunningPolicy:
    """Ordered levels: sequences and days both strictly ascending."""

    levels: tuple[DunningLevel, ...]
    _reminders: tuple[DunningLevel, ...] = field(init=False, repr=False, compare=False)
    _escalation: tuple[DunningLevel, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        levels = tuple(self.levels)
        object.__setattr__(self, "levels", levels)
        if not levels:
            raise InvalidInputError(
                "a policy needs at least one level", field="levels", code="empty"
            )
        for index, level in enumerate(levels):
            prefix = f"levels[{index}]"
            for name in ("sequence", "days"):
                value = getattr(level, name)
                if isinstance(value, bool) or not isinstance(value, int):
                    raise InvalidInputError(
                        f"must be a whole number, got {value!r}",
                        field=f"{prefix}.{name}",
                        code="not_an_integer",
                    )
            if level.sequence <= 0:
                raise InvalidInputError(
                    "level sequences start at 1 (0 means 'never dunned')",
                    field=f"{prefix}.sequence",
                    code="not_positive",
                )
            if not level.name:
                raise InvalidInputError(
                    "a level needs a name", field=f"{prefix}.name", code="required"
                )
            if not level.channels:
                raise InvalidInputError(
                    "a level needs at least one channel",
                    field=f"{prefix}.channels",
                    code="required",
                )
            unknown = [channel for channel in level.channels if channel not in CHANNELS]
            if unknown:
                raise InvalidInputError(
                    f"unknown channels {unknown}; allowed: {CHANNELS}",
                    field=f"{prefix}.channels",
                    code="invalid_choice",
                    params={"choices": CHANNELS},
                )
            require_non_negative(level.min_amount, f"{prefix}.min_amount")
            if level.is_reminder and level.sets_credit_hold:
                raise InvalidInputError(
                    "a reminder sent before the due date cannot put the customer on hold",
                    field=f"{prefix}.sets_credit_hold",
                    code="hold_on_reminder",
                )
        for index, (previous, current) in enumerate(zip(levels, levels[1:]), start=1):
            if current.sequence <= previous.sequence:
                raise InvalidInputError(
                    "level sequences must be strictly ascending",
                    field=f"levels[{index}].sequence",
                    code="not_ascending",
                )
            if current.days <= previous.days:
                raise InvalidInputError(
                    "level days must be strictly ascending with the sequence",
                    field=f"levels[{index}].days",
                    code="not_ascending",
                )
        object.__setattr__(self, "_reminders", tuple(lv for lv in levels if lv.is_reminder))
        object.__setattr__(self, "_escalation", tuple(lv for lv in levels if not lv.is_reminder))

    @property
    def reminder_levels(self) -> tuple[DunningLevel, ...]:
        return self._reminders

    @property
    def escalation_levels(self) -> tuple[DunningLevel, ...]:
        return self._escalation

    def level(self, sequence: int) -> DunningLevel:
        for level in self.levels:
            if level.sequence == sequence:
                return level
        raise InvalidInputError(
            f"no level with sequence {sequence}", field="sequence", code="unknown_level"
        )


@dataclass(frozen=True, slots=True)
class DunningItem:
    """One open receivable instalment (``account.move.line`` with its own due date)."""

    item_id: int
    amount_residual: float
    due_date: date
    level: int = 0  # sequence of the last level it was dunned at; 0 = never
    disputed: bool = False
    promised: bool = False  # under an active payment promise
    in_payment: bool = False


@dataclass(frozen=True, slots=True)
class CustomerDunningFacts:
    partner_id: int
    company_id: int
    items: tuple[DunningItem, ...] = ()
    current_level: int = 0  # stored customer level; 0 = not in dunning
    no_dunning: bool = False
    last_dunning_date: date | None = None  # date of the last communication sent


@dataclass(slots=True)
class DunningLine:
    item_id: int
    amount_residual: float
    due_date: date
    days_overdue: int  # negative: days until due (reminders)
    previous_level: int
    level: int  # item level to store once the communication is sent


@dataclass(slots=True)
class SkippedItem:
    item_id: int
    reason: str  # one of SKIP_REASONS


DecisionKind = Literal["overdue", "reminder"]


@dataclass(slots=True)
class DunningDecision:
    partner_id: int
    company_id: int
    run_date: date
    communicate: bool
    # "sent", "no_dunning", "nothing_due", "below_min_amount", "already_sent_today", "no_change"
    reason: str
    kind: DecisionKind | None  # set when communicate
    level: DunningLevel | None  # the level communicated
    key: tuple[int, int, int, date] | None  # (partner, company, level sequence, run date)
    customer_level: int  # store after the run
    credit_hold: bool
    amount_due: float  # listed residuals net of open credits
    lines: tuple[DunningLine, ...]  # items to list, sorted by due date then id
    skipped: tuple[SkippedItem, ...]


def decide_dunning(
    customer: CustomerDunningFacts, policy: DunningPolicy, run_date: date
) -> DunningDecision:
    """Decide this run for one customer; see the module docstring for the rules."""
    _check_customer(customer)
    partner_id, company_id = customer.partner_id, customer.company_id

    def decision(
        reason: str,
        customer_level: int,
        *,
        level: DunningLevel | None = None,
        kind: DecisionKind | None = None,
        lines: tuple[DunningLine, ...] = (),
        amount_due: float = 0.0,
        skipped: tuple[SkippedItem, ...] = (),
    ) -> DunningDecision:
        communicate = level is not None
        return DunningDecision(
            partner_id=partner_id,
            company_id=company_id,
            run_date=run_date,
            communicate=communicate,
            reason=reason,
            kind=kind,
            level=level,
            key=(partner_id, company_id, level.sequence, run_date) if level else None,
            customer_level=customer_level,
            # A no_dunning customer is never put on hold by dunning.
            credit_hold=not customer.no_dunning and _holds(policy, customer_level),
            amount_due=amount_due,
            lines=lines,
            skipped=skipped,
        )

    if customer.no_dunning:
        return decision("no_dunning", customer.current_level)

    overdue: list[tuple[DunningItem, int]] = []
    upcoming: list[tuple[DunningItem, int]] = []
    skipped: list[SkippedItem] = []
    credits = 0.0
    overdue_open_exists = False
    for item in customer.items:
        days = (run_date - item.due_date).days
        if item.amount_residual <= 0:
            credits += item.amount_residual
            skipped.append(SkippedItem(item.item_id, "credit"))
            continue
        if days >= 1:
            overdue_open_exists = True
        skip_reason = (
            "in_payment"
            if item.in_payment
            else "promised"
            if item.promised
            else "disputed"
            if item.disputed
            else None
        )
        if skip_reason:
            skipped.append(SkippedItem(item.item_id, skip_reason))
        elif days >= 1:
            overdue.append((item, days))
        else:
            upcoming.append((item, days))
    skipped_items = tuple(skipped)
    unchanged_level = customer.current_level if overdue_open_exists else 0
    already_sent_today = customer.last_dunning_date == run_date

    # Escalation.
    escalation = policy.escalation_levels
    targets = [_reached(escalation, days) for _, days in overdue]
    target = max(targets, default=0)
    if target:
        base = max(customer.current_level, max(item.level for item, _ in overdue))
        if target <= base:
            new_level = target
        else:
            new_level = min(target, _next_above(escalation, base))
        lines = tuple(
            sorted(
                (
                    DunningLine(
                        item.item_id,
                        item.amount_residual,
                        item.due_date,
                        days,
                        item.level,
                        max(item.level, min(item_target, new_level)),
                    )
                    for (item, days), item_target in zip(overdue, targets)
                ),
                key=_line_order,
            )
        )
        if any(line.level > line.previous_level for line in lines):
            level = policy.level(new_level)
            amount_due = sum(line.amount_residual for line in lines) + credits
            if already_sent_today:
                return decision("already_sent_today", unchanged_level, skipped=skipped_items)
            if amount_due <= 0 or amount_due < level.min_amount:
                return decision(
                    "below_min_amount",
                    unchanged_level,
                    amount_due=amount_due,
                    skipped=skipped_items,
                )
            return decision(
                "sent",
                new_level,
                level=level,
                kind="overdue",
                lines=lines,
                amount_due=amount_due,
                skipped=skipped_items,
            )

    # Reminder before the due date, only when no overdue communication went out.
    reminders = policy.reminder_levels
    reminder_lines = []
    for item, days in upcoming:
        item_target = _reached(reminders, days)
        if item_target > item.level:
            reminder_lines.append(
                DunningLine(
                    item.item_id, item.amount_residual, item.due_date, days, item.level, item_target
                )
            )
    if reminder_lines:
        reminder_lines.sort(key=_line_order)
        level = policy.level(max(line.level for line in reminder_lines))
        amount_due = sum(line.amount_residual for line in reminder_lines) + credits
        if already_sent_today:
            return decision("already_sent_today", unchanged_level, skipped=skipped_items)
        if amount_due <= 0 or amount_due < level.min_amount:
            return decision(
                "below_min_amount", unchanged_level, amount_due=amount_due, skipped=skipped_items
            )
        return decision(
            "sent",
            unchanged_level,
            level=level,
            kind="reminder",
            lines=tuple(reminder_lines),
            amount_due=amount_due,
            skipped=skipped_items,
        )

    reason = "no_change" if target else "nothing_due"
    return decision(reason, unchanged_level, skipped=skipped_items)


def decide_dunning_batch(
    customers: Iterable[CustomerDunningFacts], policy: DunningPolicy, run_date: date
) -> list[DunningDecision]:
    """One decision per customer, in input order."""
    return [decide_dunning(customer, policy, run_date) for customer in customers]


def _reached(levels: Sequence[DunningLevel], days: int) -> int:
    """Sequence of the highest level whose ``days`` threshold was reached, else 0."""
    reached = 0
    for level in levels:
        if days >= level.days:
            reached = level.sequence
        else:
            break
    return reached


def _next_above(levels: Sequence[DunningLevel], sequence: int) -> int:
    for level in levels:
        if level.sequence > sequence:
            return level.sequence
    return levels[-1].sequence


def _holds(policy: DunningPolicy, customer_level: int) -> bool:
    return any(
        level.sets_credit_hold and level.sequence <= customer_level
        for level in policy.escalation_levels
    )


def _line_order(line: DunningLine) -> tuple[date, int]:
    return (line.due_date, line.item_id)


def _check_customer(customer: CustomerDunningFacts) -> None:
    level = customer.current_level
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise InvalidInputError(
            f"must be a level sequence >= 0, got {level!r}",
            field="current_level",
            code="invalid_level",
        )
    seen: set[int] = set()
    for index, item in enumerate(customer.items):
        prefix = f"items[{index}]"
        require_finite(item.amount_residual, f"{prefix}.amount_residual")
        if not isinstance(item.due_date, date):
            raise InvalidInputError(
                f"must be a date, got {item.due_date!r}",
                field=f"{prefix}.due_date",
                code="not_a_date",
            )
        if isinstance(item.level, bool) or not isinstance(item.level, int) or item.level < 0:
            raise InvalidInputError(
                f"must be a level sequence >= 0, got {item.level!r}",
                field=f"{prefix}.level",
                code="invalid_level",
            )
        if item.item_id in seen:
            raise InvalidInputError(
                f"item {item.item_id} appears twice", field=f"{prefix}.item_id", code="duplicate"
            )
        seen.add(item.item_id)


# --------------------------------------------------------------------------- late fees


FeeMethod = Literal["percent_per_annum", "fixed"]


@dataclass(frozen=True)
class LateFeeRule:
    """Interest at ``annual_rate_percent`` per year on the overdue amount, or a fixed fee per
    item; nothing until ``days_overdue`` is over ``grace_days``."""

    method: FeeMethod
    annual_rate_percent: float = 0.0
    fixed_amount: float = 0.0
    day_count: int = 365  # 365 or 360 days a year
    grace_days: int = 0
    decimals: int = 2  # currency precision of the result

    def __post_init__(self) -> None:
        if self.method not in ("percent_per_annum", "fixed"):
            raise InvalidInputError(
                f"unknown fee method {self.method!r}",
                field="method",
                code="invalid_choice",
                params={"choices": ("percent_per_annum", "fixed")},
            )
        require_non_negative(self.annual_rate_percent, "annual_rate_percent")
        require_non_negative(self.fixed_amount, "fixed_amount")
        if self.day_count not in (360, 365):
            raise InvalidInputError(
                "day_count must be 360 or 365",
                field="day_count",
                code="invalid_choice",
                params={"choices": (360, 365)},
            )
        for name in ("grace_days", "decimals"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError(
                    f"must be a whole number >= 0, got {value!r}", field=name, code="negative"
                )
        if self.method == "percent_per_annum" and not self.annual_rate_percent:
            raise InvalidInputError(
                "a percentage fee needs a rate", field="annual_rate_percent", code="required"
            )
        if self.method == "fixed" and not self.fixed_amount:
            raise InvalidInputError(
                "a fixed fee needs an amount", field="fixed_amount", code="required"
            )


@dataclass(slots=True)
class FeeProposal:
    item_id: int
    days_overdue: int
    base_amount: Decimal
    fee: Decimal


def _decimal(value: float | Decimal | int) -> Decimal:
    # str() keeps the float's shortest repr: 0.1 -> Decimal("0.1"), not 0.1000000000000000055.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def late_fee(amount: float | Decimal, days_overdue: int, rule: LateFeeRule) -> Decimal:
    """Fee proposed for one overdue amount, rounded half-up to ``rule.decimals``."""
    require_finite(amount, "amount")
    quantum = Decimal(1).scaleb(-rule.decimals)
    if amount <= 0 or days_overdue <= rule.grace_days:
        return Decimal(0).quantize(quantum)
    if rule.method == "fixed":
        fee = _decimal(rule.fixed_amount)
    else:
        fee = (
            _decimal(amount)
            * _decimal(rule.annual_rate_percent)
            / Decimal(100)
            * Decimal(days_overdue)
            / Decimal(rule.day_count)
        )
    return fee.quantize(quantum, rounding=ROUND_HALF_UP)


def late_fee_proposals(lines: Iterable[DunningLine], rule: LateFeeRule) -> list[FeeProposal]:
    """Fee proposals for the listed overdue lines (zero fees left out), in line order."""
    proposals = []
    for line in lines:
        fee = late_fee(line.amount_residual, line.days_overdue, rule)
        if fee > 0:
            proposals.append(
                FeeProposal(line.item_id, line.days_overdue, _decimal(line.amount_residual), fee)
            )
    return proposals
