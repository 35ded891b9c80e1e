"""Receivables KPIs on plain period figures.

Definitions (amounts in company currency, credit sales net of credit notes):

- **DSO (standard)** = ending receivables / credit sales of the period x days in the period.
  Days of sales still unpaid.
- **DSO countback**: walk back month by month from the latest month. While the receivable
  balance covers a month's credit sales, subtract them and count the whole month's days; for
  the month only partly covered, count its days x remaining balance / that month's sales.
  Days of *recent* sales still unpaid; robust to seasonal swings.
- **Best possible DSO** = current (not yet due) receivables / credit sales x days in the
  period. The DSO if every customer paid exactly on the due date.
- **Average days delinquent (ADD)** = DSO - best possible DSO. Days beyond terms, on average.
- **Collection effectiveness index (CEI)** = (beginning receivables + credit sales - ending
  total receivables) / (beginning receivables + credit sales - ending current receivables)
  x 100. Share of what was collectable in the period that was collected; 100 is perfect.

- **Overdue share** = (ending receivables - current receivables) / ending receivables x 100.

Undefined ratios (no credit sales, a CEI denominator of 0 or less) return ``None`` rather than
a misleading number. When the countback runs out of history before the balance is consumed,
the rest is converted to days at the average daily credit sales of the history given.

A pivot table cannot average ratios: ``KpiSums`` holds figures that add up over any group of
(customer, month) rows, and ``group_kpis`` gives the ratios of a group from its sums. Within
one month they equal the ratios of the group's own figures; over several months DSO, best
possible DSO and ADD are the averages of the monthly values weighted by credit sales, CEI is
the collected share of everything collectable, and the countback DSO is the average of the
customers' countbacks weighted by their ending receivables.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import InvalidInputError, require_non_negative


@dataclass(frozen=True, slots=True)
class MonthlySales:
    """Credit sales of one calendar month (or any period) and its length in days."""

    credit_sales: float
    days: int

    @classmethod
    def for_month(cls, year: int, month: int, credit_sales: float) -> MonthlySales:
        return cls(credit_sales=credit_sales, days=calendar.monthrange(year, month)[1])


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """One period's figures; ``monthly_sales`` (latest month first) feeds the countback."""

    days_in_period: int
    beginning_receivables: float
    credit_sales: float
    ending_receivables: float
    ending_current_receivables: float
    monthly_sales: tuple[MonthlySales, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceivableKpis:
    dso: float | None
    dso_countback: float | None  # None when no monthly sales were given
    best_possible_dso: float | None
    average_days_delinquent: float | None
    collection_effectiveness_index: float | None  # percent


def _check_days(days: int, field: str) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise InvalidInputError(
            f"must be a positive whole number of days, got {days!r}",
            field=field,
            code="not_positive",
        )


def _check_current(current: float, total: float) -> None:
    if current > total:
        raise InvalidInputError(
            f"current receivables ({current}) cannot exceed total receivables ({total})",
            field="ending_current_receivables",
            code="current_exceeds_total",
        )


def dso_standard(
    ending_receivables: float, credit_sales: float, days_in_period: int
) -> float | None:
    """Ending receivables / credit sales x days; ``None`` without credit sales."""
    require_non_negative(ending_receivables, "ending_receivables")
    require_non_negative(credit_sales, "credit_sales")
    _check_days(days_in_period, "days_in_period")
    if not credit_sales:
        return None
    return float(ending_receivables) / float(credit_sales) * days_in_period


def best_possible_dso(
    current_receivables: float, credit_sales: float, days_in_period: int
) -> float | None:
    """Current (not due) receivables / credit sales x days; ``None`` without credit sales."""
    require_non_negative(current_receivables, "ending_current_receivables")
    return dso_standard(current_receivables, credit_sales, days_in_period)


def average_days_delinquent(
    ending_receivables: float,
    current_receivables: float,
    credit_sales: float,
    days_in_period: int,
) -> float | None:
    """DSO - best possible DSO, i.e. overdue receivables / credit sales x days."""
    require_non_negative(current_receivables, "ending_current_receivables")
    require_non_negative(ending_receivables, "ending_receivables")
    _check_current(current_receivables, ending_receivables)
    dso = dso_standard(ending_receivables, credit_sales, days_in_period)
    best = best_possible_dso(current_receivables, credit_sales, days_in_period)
    if dso is None or best is None:
        return None
    return dso - best


def dso_countback(ending_receivables: float, monthly_sales: Sequence[MonthlySales]) -> float | None:
    """Countback DSO; ``monthly_sales`` is ordered latest month first.

    Returns ``None`` when the balance is positive and the history holds no sales at all.
    """
    require_non_negative(ending_receivables, "ending_receivables")
    for index, month in enumerate(monthly_sales):
        require_non_negative(month.credit_sales, f"monthly_sales[{index}].credit_sales")
        _check_days(month.days, f"monthly_sales[{index}].days")
    remaining = float(ending_receivables)
    days = 0.0
    for month in monthly_sales:
        if remaining <= 0:
            return days
        sales = float(month.credit_sales)
        if remaining >= sales:
            remaining -= sales
            days += month.days
        else:
            return days + month.days * remaining / sales
    if remaining <= 0:
        return days
    total_sales = sum(float(month.credit_sales) for month in monthly_sales)
    if not total_sales:
        return None
    # History exhausted: convert the rest at the history's average daily sales.
    return days + remaining / (total_sales / days)


def collection_effectiveness_index(
    beginning_receivables: float,
    credit_sales: float,
    ending_receivables: float,
    ending_current_receivables: float,
) -> float | None:
    """CEI in percent; ``None`` when nothing was collectable (denominator <= 0)."""
    require_non_negative(beginning_receivables, "beginning_receivables")
    require_non_negative(credit_sales, "credit_sales")
    require_non_negative(ending_receivables, "ending_receivables")
    require_non_negative(ending_current_receivables, "ending_current_receivables")
    _check_current(ending_current_receivables, ending_receivables)
    collectable = float(beginning_receivables) + float(credit_sales)
    denominator = collectable - float(ending_current_receivables)
    if denominator <= 0:
        return None
    return (collectable - float(ending_receivables)) / denominator * 100


def compute_kpis(period: PeriodFigures) -> ReceivableKpis:
    """Every KPI of one period in one call."""
    dso = dso_standard(period.ending_receivables, period.credit_sales, period.days_in_period)
    add = average_days_delinquent(
        period.ending_receivables,
        period.ending_current_receivables,
        period.credit_sales,
        period.days_in_period,
    )
    return ReceivableKpis(
        dso=dso,
        dso_countback=(
            dso_countback(period.ending_receivables, period.monthly_sales)
            if period.monthly_sales
            else None
        ),
        best_possible_dso=best_possible_dso(
            period.ending_current_receivables, period.credit_sales, period.days_in_period
        ),
        average_days_delinquent=add,
        collection_effectiveness_index=collection_effectiveness_index(
            period.beginning_receivables,
            period.credit_sales,
            period.ending_receivables,
            period.ending_current_receivables,
        ),
    )


def overdue_share(ending_receivables: float, ending_current_receivables: float) -> float | None:
    """Share of the ending receivables past due, in percent; ``None`` without receivables."""
    if ending_receivables <= 0:
        return None
    return (
        (float(ending_receivables) - float(ending_current_receivables))
        / float(ending_receivables)
        * 100
    )


@dataclass(frozen=True, slots=True)
class KpiSums:
    """Figures of a group of (customer, month) rows that add up: sum them over the rows."""

    beginning_receivables: float = 0.0
    credit_sales: float = 0.0
    ending_receivables: float = 0.0
    ending_current_receivables: float = 0.0
    receivable_days: float = 0.0  # ending receivables x days of the row's period
    current_receivable_days: float = 0.0  # current receivables x days of the row's period
    countback_weight: float = 0.0  # ending receivables of the rows that have a countback DSO
    countback_weighted: float = 0.0  # countback DSO x countback_weight

    @classmethod
    def of_period(cls, period: PeriodFigures, countback: float | None) -> KpiSums:
        """The sums of one row: one customer's figures over one period."""
        days = period.days_in_period
        weight = period.ending_receivables if countback is not None else 0.0
        return cls(
            beginning_receivables=period.beginning_receivables,
            credit_sales=period.credit_sales,
            ending_receivables=period.ending_receivables,
            ending_current_receivables=period.ending_current_receivables,
            receivable_days=period.ending_receivables * days,
            current_receivable_days=period.ending_current_receivables * days,
            countback_weight=weight,
            countback_weighted=(countback or 0.0) * weight,
        )


@dataclass(frozen=True, slots=True)
class GroupKpis:
    dso: float | None
    dso_countback: float | None
    best_possible_dso: float | None
    average_days_delinquent: float | None
    collection_effectiveness_index: float | None
    overdue_share: float | None


def _defined(function: Callable[..., float | None], *args: float) -> float | None:
    # A group with a credit balance (negative receivables or sales) has no meaningful ratio.
    try:
        return function(*args)
    except InvalidInputError:
        return None


def group_kpis(sums: KpiSums) -> GroupKpis:
    """The ratios of a group of rows from the sums of their figures (see the module doc)."""
    # Days are already in the sums (x days per row): the ratios take a one-day period.
    dso = _defined(dso_standard, sums.receivable_days, sums.credit_sales, 1)
    best = _defined(best_possible_dso, sums.current_receivable_days, sums.credit_sales, 1)
    delinquent = None
    if dso is not None and best is not None:
        delinquent = dso - best
    return GroupKpis(
        dso=dso,
        dso_countback=(
            sums.countback_weighted / sums.countback_weight if sums.countback_weight > 0 else None
        ),
        best_possible_dso=best,
        average_days_delinquent=delinquent,
        collection_effectiveness_index=_defined(
            collection_effectiveness_index,
            sums.beginning_receivables,
            sums.credit_sales,
            sums.ending_receivables,
            sums.ending_current_receivables,
        ),
        overdue_share=overdue_share(sums.ending_receivables, sums.ending_current_receivables),
    )
