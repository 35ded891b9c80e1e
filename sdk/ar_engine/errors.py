"""Errors raised by ar_engine.

Every rejected input raises :class:`InvalidInputError`, a ``ValueError`` that names the
offending ``field`` and a stable machine ``code`` (``"negative"``, ``"not_finite"``…), so the
Odoo addon can map it to a translated message without parsing English text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


class ArEngineError(Exception):
    """Base class of every error raised by ar_engine."""


class InvalidInputError(ArEngineError, ValueError):
    """An input value or configuration is unusable.

    ``field`` is the dotted name of the offending input (``"facts[3].credit_limit"``,
    ``"config.grade_cutoffs"``), ``code`` a stable identifier of the rule it broke and
    ``params`` the values a translated message may quote.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str,
        code: str,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code
        self.params: dict[str, Any] = dict(params or {})


# Small shared checks used by every module. They accept int, float and Decimal; bool is refused
# because ``True`` silently passing as ``1`` hides a caller's field mix-up.


def require_finite(value: object, field: str) -> None:
    """Reject NaN, infinities and anything that is not a number."""
    _finite(value, field)


def _finite(value: object, field: str) -> int | float | Decimal:
    """``value`` as the finite number it must be."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidInputError(
            f"expected a number, got {value!r}", field=field, code="not_a_number"
        )
    finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    if not finite:
        raise InvalidInputError(
            f"must be a finite number, got {value!r}", field=field, code="not_finite"
        )
    return value


def require_non_negative(value: object, field: str) -> None:
    """Reject negative, NaN and infinite values."""
    if _finite(value, field) < 0:
        raise InvalidInputError(
            f"must not be negative, got {value!r}", field=field, code="negative"
        )


def require_fraction(value: object, field: str) -> None:
    """Reject values outside [0, 1] (a share, not a percentage)."""
    if not 0 <= _finite(value, field) <= 1:
        raise InvalidInputError(
            f"must be a share between 0 and 1, got {value!r}",
            field=field,
            code="out_of_range",
            params={"min": 0, "max": 1},
        )
