"""Bad-debt provision (allowance for doubtful accounts) from a loss-rate matrix.

``required = open amount of a bucket x loss rate of that bucket``, for every aging bucket; the
adjustment to book is ``total required - existing allowance``: positive increases the
allowance (bad-debt expense), negative reverses part of it.

Conventions:

* Rates are percentages, 0..100, one per bucket key of the :class:`~ar_engine.aging.BucketSet`.
* The existing allowance is given as a positive magnitude (the credit balance of the
  allowance account).
* A bucket whose open amount is net negative (credits exceed debits) requires nothing.
* Computation is in ``Decimal``; floats are converted through their shortest ``repr`` so
  ``0.1`` is exactly ``0.1``. Each bucket is rounded half-up to the caller's currency
  ``decimals`` and the total is the sum of the rounded buckets, so the lines add up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from .aging import BucketSet
from .errors import InvalidInputError, require_finite

Number = float | int | Decimal
_HUNDRED = Decimal(100)


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class ProvisionMatrix:
    """Loss rate (percent) per bucket key, in bucket order."""

    rates_percent: Mapping[str, Number]

    def __post_init__(self) -> None:
        if not self.rates_percent:
            raise InvalidInputError(
                "the matrix needs at least one bucket", field="rates_percent", code="empty"
            )
        rates: dict[str, Decimal] = {}
        for key, rate in self.rates_percent.items():
            field = f"rates_percent[{key}]"
            if not isinstance(key, str) or not key:
                raise InvalidInputError(
                    "bucket keys must be non-empty strings", field=field, code="empty"
                )
            require_finite(rate, field)
            if not 0 <= rate <= 100:
                raise InvalidInputError(
                    f"a loss rate is a percentage between 0 and 100, got {rate!r}",
                    field=field,
                    code="out_of_range",
                    params={"min": 0, "max": 100},
                )
            rates[key] = _decimal(rate)
        object.__setattr__(self, "rates_percent", MappingProxyType(rates))

    @classmethod
    def for_buckets(cls, buckets: BucketSet, rates_percent: Sequence[Number]) -> ProvisionMatrix:
        """One rate per bucket of ``buckets``, in the same order."""
        if len(rates_percent) != len(buckets.buckets):
            raise InvalidInputError(
                f"expected {len(buckets.buckets)} rates (one per bucket), got {len(rates_percent)}",
                field="rates_percent",
                code="wrong_length",
                params={"expected": len(buckets.buckets)},
            )
        return cls(dict(zip(buckets.keys, rates_percent)))


@dataclass(slots=True)
class ProvisionLine:
    bucket_key: str
    open_amount: Decimal
    rate_percent: Decimal
    required: Decimal


@dataclass(slots=True)
class ProvisionResult:
    lines: tuple[ProvisionLine, ...]  # in matrix order, every bucket present
    total_required: Decimal
    existing_allowance: Decimal
    adjustment: Decimal  # > 0: book more expense; < 0: reverse


def compute_provision(
    open_amounts: Mapping[str, Number],
    existing_allowance: Number,
    matrix: ProvisionMatrix,
    decimals: int = 2,
) -> ProvisionResult:
    """Required allowance per bucket, total, and the adjustment against the existing balance.

    ``open_amounts`` maps bucket keys to open receivables (buckets left out count as 0);
    ``decimals`` is the currency precision (0..6).
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        raise InvalidInputError(
            f"decimals must be a whole number from 0 to 6, got {decimals!r}",
            field="decimals",
            code="out_of_range",
            params={"min": 0, "max": 6},
        )
    quantum = Decimal(1).scaleb(-decimals)
    unknown = sorted(set(open_amounts) - set(matrix.rates_percent))
    if unknown:
        raise InvalidInputError(
            f"no loss rate for buckets {unknown}",
            field=f"open_amounts[{unknown[0]}]",
            code="unknown_bucket",
            params={"buckets": unknown},
        )
    require_finite(existing_allowance, "existing_allowance")
    if existing_allowance < 0:
        raise InvalidInputError(
            "give the allowance balance as a positive amount",
            field="existing_allowance",
            code="negative",
        )
    lines = []
    total = Decimal(0).quantize(quantum)
    for key, rate in matrix.rates_percent.items():
        amount = open_amounts.get(key, 0)
        require_finite(amount, f"open_amounts[{key}]")
        open_amount = _decimal(amount)
        required = (max(open_amount, Decimal(0)) * _decimal(rate) / _HUNDRED).quantize(
            quantum, rounding=ROUND_HALF_UP
        )
        total += required
        lines.append(ProvisionLine(key, open_amount, _decimal(rate), required))
    existing = _decimal(existing_allowance).quantize(quantum, rounding=ROUND_HALF_UP)
    return ProvisionResult(
        lines=tuple(lines),
        total_required=total,
        existing_allowance=existing,
        adjustment=total - existing,
    )
