"""Payment terms as data: split an amount in instalments and compute their due dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class TermSpec:
    """A payment term: one (percent, days after invoice date) pair per instalment."""

    name: str
    lines: tuple[tuple[float, int], ...]
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError(f"payment term {self.name!r} has no instalment")
        total = sum(percent for percent, _days in self.lines)
        if abs(total - 100.0) > 1e-9:
            raise ValueError(f"payment term {self.name!r} percentages sum to {total}, not 100")
        if any(days < 0 for _percent, days in self.lines):
            raise ValueError(f"payment term {self.name!r} has a negative delay")


TERMS: tuple[TermSpec, ...] = (
    TermSpec("Net 30", ((100.0, 30),), 5.0),
    TermSpec("Net 60", ((100.0, 60),), 2.0),
    TermSpec("Immediate", ((100.0, 0),), 1.0),
    TermSpec("30% Now, 70% in 60 Days", ((30.0, 0), (70.0, 60)), 1.0),
    TermSpec("50/50 in 30/60 Days", ((50.0, 30), (50.0, 60)), 1.5),
    TermSpec("3 Instalments 30/60/90", ((33.33, 30), (33.33, 60), (33.34, 90)), 1.0),
    TermSpec("4 Quarterly Instalments", ((25.0, 30), (25.0, 120), (25.0, 210), (25.0, 300)), 0.5),
)


def split_amount(total_cents: int, percents: tuple[float, ...] | list[float]) -> list[int]:
    """Split ``total_cents`` by percentages; the last instalment takes the rounding remainder.

    Works for negative totals (credit notes) too: parts keep the sign of the total. The parts
    always sum to the total exactly, as Odoo's payment-term lines do.
    """
    if not percents:
        raise ValueError("at least one percentage is needed")
    if abs(sum(percents) - 100.0) > 1e-6:
        raise ValueError(f"percentages {list(percents)} do not sum to 100")
    sign = -1 if total_cents < 0 else 1
    magnitude = abs(total_cents)
    parts = [int(round(magnitude * percent / 100.0)) for percent in percents[:-1]]
    last = magnitude - sum(parts)
    return [sign * part for part in [*parts, last]]


def due_dates(invoice_date: date, term: TermSpec) -> list[date]:
    """Due date of each instalment (``date_maturity`` of each receivable line)."""
    return [invoice_date + timedelta(days=days) for _percent, days in term.lines]
