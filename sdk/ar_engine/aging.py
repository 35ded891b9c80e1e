"""Aging buckets for open receivables.

Semantics (the conventional ones):

* ``days_past_due = as_of - due_date`` in whole days (or ``as_of - invoice_date`` with the
  ``"invoice_date"`` basis).
* ``days_past_due <= 0`` is **not due**: day 0 is "due today", which is not late yet.
* The default buckets are ``Not due`` (<= 0), ``0-30`` (1..30), ``31-60`` (31..60),
  ``61-90`` (61..90) and ``90+`` (91 and over). The label ``0-30`` is the customary name of the
  first overdue bucket; it holds 1..30 days because day 0 is not due. Bounds are inclusive.

A :class:`BucketSet` is validated on construction: the first bucket is open below and ends at
0, the buckets are contiguous and non-overlapping, the last one is open-ended, keys and
labels are unique. The addon builds one SQL ``CASE`` from :meth:`BucketSet.bounds`; Python
callers use :meth:`BucketSet.bucket_index` on plain numbers.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from .errors import InvalidInputError, require_finite

AgingBasis = Literal["due_date", "invoice_date"]
AGING_BASES: tuple[AgingBasis, ...] = ("due_date", "invoice_date")


@dataclass(frozen=True, slots=True)
class Bucket:
    """One aging bucket: ``min_days..max_days`` inclusive; ``None`` means open on that side."""

    key: str
    label: str
    min_days: int | None
    max_days: int | None

    def contains(self, days_past_due: int) -> bool:
        return (self.min_days is None or days_past_due >= self.min_days) and (
            self.max_days is None or days_past_due <= self.max_days
        )


@dataclass(frozen=True)
class BucketSet:
    """An ordered, validated set of aging buckets and the date they are measured from."""

    buckets: tuple[Bucket, ...]
    basis: AgingBasis = "due_date"
    # Upper bounds of every bucket but the last, for bisect; derived, not an input.
    _upper_bounds: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        buckets = tuple(self.buckets)
        object.__setattr__(self, "buckets", buckets)
        if self.basis not in AGING_BASES:
            raise InvalidInputError(
                f"basis must be one of {AGING_BASES}, got {self.basis!r}",
                field="basis",
                code="invalid_choice",
                params={"choices": AGING_BASES},
            )
        if len(buckets) < 2:
            raise InvalidInputError(
                "a bucket set needs a 'not due' bucket and at least one overdue bucket",
                field="buckets",
                code="too_few_buckets",
            )
        first, last = buckets[0], buckets[-1]
        if first.min_days is not None or first.max_days != 0:
            raise InvalidInputError(
                "the first bucket must be the open-below 'not due' bucket ending at day 0",
                field="buckets[0]",
                code="first_bucket_not_not_due",
            )
        if last.max_days is not None:
            raise InvalidInputError(
                "the last bucket must be open-ended (max_days=None)",
                field=f"buckets[{len(buckets) - 1}].max_days",
                code="last_bucket_not_open",
            )
        for index, (previous, current) in enumerate(zip(buckets, buckets[1:]), start=1):
            if previous.max_days is None:
                raise InvalidInputError(
                    "only the last bucket may be open-ended",
                    field=f"buckets[{index - 1}].max_days",
                    code="open_bucket_not_last",
                )
            if current.min_days != previous.max_days + 1:
                raise InvalidInputError(
                    f"bucket {current.label!r} must start at day {previous.max_days + 1} "
                    f"(the day after {previous.label!r} ends), got {current.min_days}",
                    field=f"buckets[{index}].min_days",
                    code="not_contiguous",
                    params={"expected": previous.max_days + 1, "got": current.min_days},
                )
            if current.max_days is not None and current.max_days < current.min_days:
                raise InvalidInputError(
                    f"bucket {current.label!r} ends before it starts",
                    field=f"buckets[{index}].max_days",
                    code="empty_bucket",
                )
        for attribute in ("key", "label"):
            values = [getattr(bucket, attribute) for bucket in buckets]
            if any(not value for value in values):
                raise InvalidInputError(
                    f"every bucket needs a non-empty {attribute}",
                    field=f"buckets.{attribute}",
                    code="empty",
                )
            if len(set(values)) != len(values):
                raise InvalidInputError(
                    f"bucket {attribute}s must be unique, got {values}",
                    field=f"buckets.{attribute}",
                    code="duplicate",
                )
        upper_bounds = tuple(bucket.max_days for bucket in buckets[:-1])
        object.__setattr__(self, "_upper_bounds", upper_bounds)

    @classmethod
    def from_upper_bounds(
        cls,
        upper_bounds: Sequence[int],
        labels: Sequence[str] | None = None,
        keys: Sequence[str] | None = None,
        basis: AgingBasis = "due_date",
    ) -> BucketSet:
        """Build a set from the last day of each overdue bucket but the open-ended one.

        ``from_upper_bounds([30, 60, 90])`` gives not due / 1-30 / 31-60 / 61-90 / 91+ with the
        labels ``Not due``, ``0-30``, ``31-60``, ``61-90``, ``90+`` unless ``labels`` is given
        (one per bucket, ``len(upper_bounds) + 2``).
        """
        bounds = list(upper_bounds)
        for index, bound in enumerate(bounds):
            if isinstance(bound, bool) or not isinstance(bound, int):
                raise InvalidInputError(
                    f"bucket bounds must be whole days, got {bound!r}",
                    field=f"upper_bounds[{index}]",
                    code="not_an_integer",
                )
        if any(bound < 1 for bound in bounds) or bounds != sorted(set(bounds)):
            raise InvalidInputError(
                f"upper bounds must be positive and strictly increasing, got {bounds}",
                field="upper_bounds",
                code="not_ascending",
            )
        # The buckets after "not due": from ``low`` days overdue to ``high`` (None: no end).
        overdue: list[tuple[int, int | None]] = []
        start = 1
        for bound in bounds:
            overdue.append((start, bound))
            start = bound + 1
        overdue.append((start, None))
        ranges: list[tuple[int | None, int | None]] = [(None, 0), *overdue]
        if labels is None:
            labels = ["Not due"] + [
                f"{0 if low == 1 else low}-{high}" if high is not None else f"{low - 1}+"
                for low, high in overdue
            ]
        if keys is None:
            keys = ["not_due"] + [
                f"{low}_{high}" if high is not None else f"{low}_plus" for low, high in overdue
            ]
        if len(labels) != len(ranges) or len(keys) != len(ranges):
            raise InvalidInputError(
                f"expected {len(ranges)} labels and keys, got {len(labels)} and {len(keys)}",
                field="labels",
                code="wrong_length",
                params={"expected": len(ranges)},
            )
        buckets = tuple(
            Bucket(key=key, label=label, min_days=low, max_days=high)
            for key, label, (low, high) in zip(keys, labels, ranges)
        )
        return cls(buckets=buckets, basis=basis)

    def bucket_index(self, days_past_due: int | float) -> int:
        """Index of the bucket holding ``days_past_due`` (0 = not due).

        A fractional value belongs to the bucket of the next whole day: 30.2 days is past
        the end of day 30.
        """
        # bisect_left on inclusive upper bounds: 30 -> index of the bucket ending at 30.
        return bisect_left(self._upper_bounds, days_past_due)

    def bucket_for(self, days_past_due: int | float) -> Bucket:
        return self.buckets[self.bucket_index(days_past_due)]

    def bounds(self) -> list[tuple[str, int | None, int | None]]:
        """``[(label, min_days, max_days), …]``; ``None`` is an open side. Build SQL from this."""
        return [(bucket.label, bucket.min_days, bucket.max_days) for bucket in self.buckets]

    def keyed_bounds(self) -> list[tuple[str, int | None, int | None]]:
        """Same as :meth:`bounds` with the stable bucket key instead of the label."""
        return [(bucket.key, bucket.min_days, bucket.max_days) for bucket in self.buckets]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(bucket.key for bucket in self.buckets)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(bucket.label for bucket in self.buckets)

    def days_past(self, as_of: date, due_date: date, invoice_date: date | None = None) -> int:
        """Whole days from the basis date to ``as_of`` (negative when in the future)."""
        if self.basis == "invoice_date":
            if invoice_date is None:
                raise InvalidInputError(
                    "the invoice_date basis needs the invoice date",
                    field="invoice_date",
                    code="required",
                )
            return (as_of - invoice_date).days
        return (as_of - due_date).days

    def totals(self, rows: Iterable[tuple[int | float, float]]) -> list[float]:
        """Sum ``(days_past_due, amount)`` rows per bucket, in bucket order."""
        sums = [0.0] * len(self.buckets)
        for position, (days, amount) in enumerate(rows):
            require_finite(days, f"rows[{position}].days_past_due")
            require_finite(amount, f"rows[{position}].amount")
            sums[self.bucket_index(days)] += amount
        return sums


DEFAULT_BUCKETS = BucketSet.from_upper_bounds([30, 60, 90])
