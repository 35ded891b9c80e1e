"""Credit grade and score of a customer in one company, from aggregated facts.

How a score is built (all numbers configurable in :class:`ScoringConfig`):

* Start at ``base_score`` (85). Each factor subtracts penalty points or adds bonus points;
  the sum is rounded half-up and clamped to 0..100.
* Penalties come from *bands*: ``((threshold, points), …)`` with ascending thresholds. A
  factor costs the points of the highest threshold its value is strictly **over** (a value
  exactly at a threshold does not reach that band).
* Analyst inputs (external rating, financial statements, industry risk) add a signed
  adjustment; ``None`` means "not assessed" and changes nothing.
* The grade follows from the score through ``grade_cutoffs`` (minimum score for A, B, C, D;
  below the last is E), except that a customer with fewer than ``min_paid_instalments``
  paid instalments in the window is graded ``"new"``: its score is still computed, because
  current overdue or disputes matter from day one.

Every factor that moved the score is returned as a :class:`Reason` (``code``, ``points``,
``params``) so the caller can render a translated sentence; :meth:`Reason.render` gives the
English one from :data:`REASON_TEMPLATES`.

Lateness is measured per paid instalment against its own maturity date; early payment counts
as 0 days late. ``avg_days_late`` is weighted by amount, ``share_paid_on_time`` is a share of
the amount (0..1, not a percentage).
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Literal

from .errors import InvalidInputError, require_finite, require_fraction, require_non_negative

Grade = Literal["A", "B", "C", "D", "E", "new"]
GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")
NEW_GRADE = "new"
FINANCIAL_ASSESSMENTS: tuple[str, ...] = ("strong", "adequate", "weak")
INDUSTRY_RISKS: tuple[str, ...] = ("low", "medium", "high")

Band = tuple[float, float]
_INF = math.inf
_DAYS_PER_MONTH = 365.25 / 12


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class CreditFacts:
    """What the addon's SQL knows about one (partner, company), plus analyst inputs.

    Amounts are in the company currency and must not be negative (clamp a net credit
    balance to 0). When ``paid_instalment_count`` is 0 the three lateness fields are ignored
    and may be ``None``; otherwise they are required.
    """

    partner_id: int
    company_id: int
    window_months: int = 12
    paid_instalment_count: int = 0
    avg_days_late: float | None = None
    share_paid_on_time: float | None = None
    max_days_late: float | None = None
    amount_overdue: float = 0.0
    oldest_overdue_days: int = 0
    open_exposure: float = 0.0
    credit_limit: float | None = None  # 0 or None: no limit, utilisation not applicable
    disputed_count: int = 0
    disputed_amount: float = 0.0
    customer_age_days: int | None = None  # days since the first invoice; None: unknown
    invoiced_amount: float = 0.0  # total invoiced in the window
    external_rating: str | float | None = None  # "A".."E" or a 0-100 bureau score
    financial_assessment: str | None = None  # strong / adequate / weak
    industry_risk: str | None = None  # low / medium / high

    @property
    def average_monthly_invoiced(self) -> float:
        """Invoiced amount per month, over the window or the customer's life if shorter."""
        months = float(self.window_months)
        if self.customer_age_days is not None:
            months = min(months, max(1.0, self.customer_age_days / _DAYS_PER_MONTH))
        return self.invoiced_amount / months


# --------------------------------------------------------------------------- config


def _default_external_points() -> Mapping[str, float]:
    return {"A": 8.0, "B": 3.0, "C": 0.0, "D": -10.0, "E": -20.0}


def _default_financial_points() -> Mapping[str, float]:
    return {"strong": 5.0, "adequate": 0.0, "weak": -10.0}


def _default_industry_points() -> Mapping[str, float]:
    return {"low": 2.0, "medium": 0.0, "high": -6.0}


@dataclass(frozen=True)
class ScoringConfig:
    """Weights and thresholds. Validated on construction (``InvalidInputError``)."""

    base_score: float = 85.0
    # Minimum score for A, B, C, D (strictly descending); anything lower is E.
    grade_cutoffs: tuple[float, float, float, float] = (80.0, 65.0, 50.0, 35.0)
    min_paid_instalments: int = 1
    # Share of the amount paid late (1 - share_paid_on_time).
    late_share_bands: tuple[Band, ...] = ((0.10, 5.0), (0.25, 12.0), (0.50, 20.0))
    avg_days_late_bands: tuple[Band, ...] = ((5, 4.0), (15, 8.0), (30, 15.0), (60, 22.0))
    max_days_late_bands: tuple[Band, ...] = ((60, 4.0), (90, 8.0), (180, 12.0))
    # Applies when amount_overdue is over overdue_tolerance_amount.
    oldest_overdue_bands: tuple[Band, ...] = ((0, 3.0), (30, 8.0), (60, 15.0), (90, 25.0))
    overdue_tolerance_amount: float = 0.0
    # open_exposure / credit_limit; only when a limit is set.
    utilisation_bands: tuple[Band, ...] = ((0.80, 3.0), (1.00, 10.0), (1.20, 18.0))
    # disputed_amount / invoiced_amount; any dispute is over the 0 threshold.
    dispute_share_bands: tuple[Band, ...] = ((0.0, 3.0), (0.05, 8.0), (0.15, 15.0))
    young_customer_days: int = 180  # strictly under this: penalty
    young_customer_points: float = 5.0
    long_relationship_days: int = 1095  # at or over this: bonus
    long_relationship_points: float = 3.0
    external_rating_points: Mapping[str, float] = field(default_factory=_default_external_points)
    # A numeric bureau score maps to a letter with these minimums for A, B, C, D.
    external_score_cutoffs: tuple[float, float, float, float] = (80.0, 65.0, 50.0, 35.0)
    financial_assessment_points: Mapping[str, float] = field(
        default_factory=_default_financial_points
    )
    industry_risk_points: Mapping[str, float] = field(default_factory=_default_industry_points)

    _bands: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        _check_range(self.base_score, "base_score", 0, 100)
        _check_cutoffs(self.grade_cutoffs, "grade_cutoffs")
        _check_cutoffs(self.external_score_cutoffs, "external_score_cutoffs")
        if isinstance(self.min_paid_instalments, bool) or not isinstance(
            self.min_paid_instalments, int
        ):
            raise InvalidInputError(
                "must be a whole number", field="min_paid_instalments", code="not_an_integer"
            )
        _check_weight(self.min_paid_instalments, "min_paid_instalments")
        require_non_negative(self.overdue_tolerance_amount, "overdue_tolerance_amount")
        for name in ("young_customer_points", "long_relationship_points"):
            _check_weight(getattr(self, name), name)
        for name in ("young_customer_days", "long_relationship_days"):
            require_non_negative(getattr(self, name), name)
        if self.young_customer_days > self.long_relationship_days:
            raise InvalidInputError(
                "young_customer_days must not exceed long_relationship_days",
                field="young_customer_days",
                code="thresholds_not_ascending",
            )
        bands: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
        for name in (
            "late_share_bands",
            "avg_days_late_bands",
            "max_days_late_bands",
            "oldest_overdue_bands",
            "utilisation_bands",
            "dispute_share_bands",
        ):
            bands[name] = _check_bands(getattr(self, name), name)
        object.__setattr__(self, "_bands", bands)
        for name, keys in (
            ("external_rating_points", GRADES),
            ("financial_assessment_points", FINANCIAL_ASSESSMENTS),
            ("industry_risk_points", INDUSTRY_RISKS),
        ):
            object.__setattr__(self, name, _check_adjustments(getattr(self, name), name, keys))

    def band_points(self, band_name: str, value: float) -> float:
        """Points of the highest threshold ``value`` is strictly over (0 if none)."""
        return _band(self._bands[band_name], value)

    def grade_for_score(self, score: float) -> str:
        for grade, cutoff in zip(GRADES, self.grade_cutoffs):
            if score >= cutoff:
                return grade
        return GRADES[-1]

    def letter_for_external_score(self, external_score: float) -> str:
        for grade, cutoff in zip(GRADES, self.external_score_cutoffs):
            if external_score >= cutoff:
                return grade
        return GRADES[-1]


def _check_range(value: float, name: str, low: float, high: float) -> None:
    require_finite(value, name)
    if not low <= value <= high:
        raise InvalidInputError(
            f"must be between {low} and {high}, got {value!r}",
            field=name,
            code="out_of_range",
            params={"min": low, "max": high},
        )


def _check_weight(value: float, name: str) -> None:
    require_finite(value, name)
    if value < 0:
        raise InvalidInputError(
            f"weights must not be negative, got {value!r}", field=name, code="negative_weight"
        )


def _check_cutoffs(cutoffs: Sequence[float], name: str) -> None:
    if len(cutoffs) != len(GRADES) - 1:
        raise InvalidInputError(
            f"expected {len(GRADES) - 1} cut-offs (for {', '.join(GRADES[:-1])}), got "
            f"{len(cutoffs)}",
            field=name,
            code="wrong_length",
        )
    for index, cutoff in enumerate(cutoffs):
        _check_range(cutoff, f"{name}[{index}]", 0, 100)
    if any(higher <= lower for higher, lower in zip(cutoffs, cutoffs[1:])):
        raise InvalidInputError(
            f"grade cut-offs must be strictly descending (A first), got {tuple(cutoffs)}",
            field=name,
            code="cutoffs_not_descending",
        )


def _check_bands(bands: Sequence[Band], name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    thresholds: list[float] = []
    points: list[float] = []
    for index, band in enumerate(bands):
        if len(band) != 2:
            raise InvalidInputError(
                "each band is a (threshold, points) pair",
                field=f"{name}[{index}]",
                code="wrong_length",
            )
        threshold, band_points = band
        require_non_negative(threshold, f"{name}[{index}].threshold")
        _check_weight(band_points, f"{name}[{index}].points")
        if thresholds and threshold <= thresholds[-1]:
            raise InvalidInputError(
                f"thresholds must be strictly ascending, got {[b[0] for b in bands]}",
                field=name,
                code="thresholds_not_ascending",
            )
        if points and band_points < points[-1]:
            raise InvalidInputError(
                "a higher band must not cost fewer points than a lower one",
                field=f"{name}[{index}].points",
                code="points_not_ascending",
            )
        thresholds.append(float(threshold))
        points.append(float(band_points))
    return tuple(thresholds), tuple(points)


def _check_adjustments(
    adjustments: Mapping[str, float], name: str, keys: Sequence[str]
) -> Mapping[str, float]:
    if set(adjustments) != set(keys):
        raise InvalidInputError(
            f"expected exactly the keys {list(keys)}, got {sorted(adjustments)}",
            field=name,
            code="wrong_keys",
            params={"keys": list(keys)},
        )
    for key in keys:
        require_finite(adjustments[key], f"{name}[{key}]")
    ordered = [adjustments[key] for key in keys]
    if any(better < worse for better, worse in zip(ordered, ordered[1:])):
        raise InvalidInputError(
            f"adjustments must not improve as the assessment worsens ({', '.join(keys)})",
            field=name,
            code="not_monotonic",
        )
    return MappingProxyType({key: float(adjustments[key]) for key in keys})


DEFAULT_SCORING_CONFIG = ScoringConfig()


# --------------------------------------------------------------------------- outputs

# English sentences; ``params`` of each Reason fills them with ``%`` formatting. The addon
# keeps its own translatable copy of each template, keyed by code.
REASON_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        "no_payment_history": (
            "no payment history yet (%(paid_instalment_count)d paid instalments, "
            "%(min_paid_instalments)d needed for a grade)"
        ),
        "late_payments": (
            "paid %(late_share_pct)d%% of the amount due late in the last %(window_months)d "
            "months, average %(avg_days_late)d days"
        ),
        "max_days_late": (
            "worst payment was %(max_days_late)d days late in the last %(window_months)d months"
        ),
        "overdue": "%(amount_overdue).2f currently overdue, oldest %(oldest_overdue_days)d days",
        "credit_limit_utilisation": (
            "open exposure is %(utilisation_pct)d%% of the credit limit "
            "(%(open_exposure).2f of %(credit_limit).2f)"
        ),
        "disputes": (
            "%(disputed_count)d disputed invoices totalling %(disputed_amount).2f "
            "(%(disputed_share_pct)d%% of the amount invoiced in the last %(window_months)d "
            "months)"
        ),
        "young_customer": "customer for only %(customer_age_days)d days",
        "long_relationship": "customer for %(customer_age_years)d years",
        "external_rating": "external credit rating %(rating)s",
        "external_score": "external credit score %(external_score)g (rated %(rating)s)",
        "financial_assessment": "financial statements assessed as %(assessment)s",
        "industry_risk": "%(industry_risk)s industry risk",
    }
)


# Result records are plain (not frozen) slotted dataclasses: a batch builds ~100,000 of them
# and frozen construction costs twice as much. Treat them as read-only.
@dataclass(slots=True)
class Reason:
    """One factor that moved the score: negative ``points`` lowered it, positive raised it."""

    code: str
    points: float
    params: Mapping[str, Any]

    def render(self) -> str:
        return REASON_TEMPLATES[self.code] % self.params


@dataclass(slots=True)
class CreditScore:
    """The result for one (partner, company)."""

    partner_id: int
    company_id: int
    grade: str  # "A".."E" or "new"
    score: int  # 0..100
    reasons: tuple[Reason, ...]  # most negative first

    def render_reasons(self) -> list[str]:
        return [reason.render() for reason in self.reasons]


# --------------------------------------------------------------------------- scoring


def score_partners(
    facts: Iterable[CreditFacts], config: ScoringConfig = DEFAULT_SCORING_CONFIG
) -> list[CreditScore]:
    """Score many (partner, company) facts; results come back in input order."""
    # A batch allocates ~100,000 small acyclic objects (reasons and their params); pausing
    # the cyclic garbage collector meanwhile saves about a third of the time, and nothing
    # built here can form a cycle that would need it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return [_score(item, config, index) for index, item in enumerate(facts)]
    finally:
        if gc_was_enabled:
            gc.enable()


def score_partner(
    facts: CreditFacts, config: ScoringConfig = DEFAULT_SCORING_CONFIG
) -> CreditScore:
    return _score(facts, config, None)


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _pct(share: float) -> int:
    return math.floor(share * 100 + 0.5)


def _band(band: tuple[tuple[float, ...], tuple[float, ...]], value: float) -> float:
    index = bisect_left(band[0], value)
    return band[1][index - 1] if index else 0.0


_points_of = attrgetter("points")


def _score(facts: CreditFacts, config: ScoringConfig, index: int | None) -> CreditScore:
    # Hot path (20,000 partners per batch): reasons are built in a fixed order and sorted
    # stably by points, so ties keep that order and the output is deterministic.
    if not _looks_valid(facts):
        _raise_for_facts(facts, index)
    reasons: list[Reason] = []
    bands = config._bands
    window = facts.window_months
    paid_count = facts.paid_instalment_count
    has_history = paid_count >= config.min_paid_instalments
    if not has_history:
        reasons.append(
            Reason(
                "no_payment_history",
                0.0,
                {
                    "paid_instalment_count": paid_count,
                    "min_paid_instalments": config.min_paid_instalments,
                },
            )
        )

    share_paid_on_time, avg_days_late = facts.share_paid_on_time, facts.avg_days_late
    max_days_late = facts.max_days_late
    # With payments, the three are set (checked by _looks_valid / _raise_for_facts).
    if paid_count and share_paid_on_time is not None and avg_days_late is not None:
        # Ratios are rounded to 9 places so that a value meant to sit exactly on a threshold
        # (1 - 0.9 = 0.09999999999999998) is not pushed across it by binary noise.
        late_share = round(1.0 - share_paid_on_time, 9)
        points = _band(bands["late_share_bands"], late_share) + _band(
            bands["avg_days_late_bands"], avg_days_late
        )
        if points:
            reasons.append(
                Reason(
                    "late_payments",
                    -points,
                    {
                        "late_share_pct": _pct(late_share),
                        "avg_days_late": _round_half_up(avg_days_late),
                        "window_months": window,
                    },
                )
            )
    if paid_count and max_days_late is not None:
        points = _band(bands["max_days_late_bands"], max_days_late)
        if points:
            reasons.append(
                Reason(
                    "max_days_late",
                    -points,
                    {"max_days_late": _round_half_up(max_days_late), "window_months": window},
                )
            )

    if facts.amount_overdue > config.overdue_tolerance_amount:
        points = _band(bands["oldest_overdue_bands"], facts.oldest_overdue_days)
        if points:
            reasons.append(
                Reason(
                    "overdue",
                    -points,
                    {
                        "amount_overdue": facts.amount_overdue,
                        "oldest_overdue_days": facts.oldest_overdue_days,
                    },
                )
            )

    credit_limit = facts.credit_limit
    if credit_limit:
        utilisation = round(facts.open_exposure / credit_limit, 9)
        points = _band(bands["utilisation_bands"], utilisation)
        if points:
            reasons.append(
                Reason(
                    "credit_limit_utilisation",
                    -points,
                    {
                        "utilisation_pct": _pct(utilisation),
                        "open_exposure": facts.open_exposure,
                        "credit_limit": credit_limit,
                    },
                )
            )

    if facts.disputed_amount > 0 or facts.disputed_count > 0:
        invoiced = facts.invoiced_amount
        share = min(1.0, round(facts.disputed_amount / invoiced, 9)) if invoiced > 0 else 1.0
        points = _band(bands["dispute_share_bands"], share)
        if points:
            reasons.append(
                Reason(
                    "disputes",
                    -points,
                    {
                        "disputed_count": facts.disputed_count,
                        "disputed_amount": facts.disputed_amount,
                        "disputed_share_pct": _pct(share),
                        "window_months": window,
                    },
                )
            )

    age = facts.customer_age_days
    if age is not None:
        if age < config.young_customer_days:
            if config.young_customer_points:
                reasons.append(
                    Reason(
                        "young_customer",
                        -config.young_customer_points,
                        {"customer_age_days": age},
                    )
                )
        elif age >= config.long_relationship_days and config.long_relationship_points:
            reasons.append(
                Reason(
                    "long_relationship",
                    config.long_relationship_points,
                    {"customer_age_years": int(age // 365.25)},
                )
            )

    if (
        facts.external_rating is not None
        or facts.financial_assessment is not None
        or facts.industry_risk is not None
    ):
        _analyst_reasons(facts, config, index, reasons)

    total = config.base_score
    for reason in reasons:
        total += reason.points
    score = min(100, max(0, _round_half_up(total)))
    grade = config.grade_for_score(score) if has_history else NEW_GRADE
    reasons.sort(key=_points_of)
    return CreditScore(facts.partner_id, facts.company_id, grade, score, tuple(reasons))


def _analyst_reasons(
    facts: CreditFacts, config: ScoringConfig, index: int | None, reasons: list[Reason]
) -> None:
    rating = facts.external_rating
    if rating is not None:
        if isinstance(rating, str):
            letter = rating.strip().upper()
            if letter not in config.external_rating_points:
                raise InvalidInputError(
                    f"external rating must be one of {GRADES} or a 0-100 score, got {rating!r}",
                    field=_field(index, "external_rating"),
                    code="invalid_choice",
                    params={"choices": GRADES},
                )
            points = config.external_rating_points[letter]
            if points:
                reasons.append(Reason("external_rating", points, {"rating": letter}))
        else:
            if (
                isinstance(rating, bool)
                or not isinstance(rating, int | float)
                or not 0 <= rating <= 100
            ):
                # Slow path: raises the precise error (not a number, NaN, out of range).
                _check_range(rating, _field(index, "external_rating"), 0, 100)
            letter = config.letter_for_external_score(rating)
            points = config.external_rating_points[letter]
            if points:
                reasons.append(
                    Reason(
                        "external_score",
                        points,
                        {"external_score": rating, "rating": letter},
                    )
                )
    assessment = facts.financial_assessment
    if assessment is not None:
        points = _choice_points(
            config.financial_assessment_points, assessment, index, "financial_assessment"
        )
        if points:
            reasons.append(Reason("financial_assessment", points, {"assessment": assessment}))
    risk = facts.industry_risk
    if risk is not None:
        points = _choice_points(config.industry_risk_points, risk, index, "industry_risk")
        if points:
            reasons.append(Reason("industry_risk", points, {"industry_risk": risk}))


def _choice_points(table: Mapping[str, float], value: str, index: int | None, name: str) -> float:
    try:
        return table[value]
    except (KeyError, TypeError):
        raise InvalidInputError(
            f"must be one of {tuple(table)}, got {value!r}",
            field=_field(index, name),
            code="invalid_choice",
            params={"choices": tuple(table)},
        ) from None


def _looks_valid(f: CreditFacts) -> bool:
    """Fast path: one chained comparison per field. ``0 <= x < inf`` is False for NaN."""
    try:
        if not (
            0 < f.window_months < _INF
            and 0 <= f.paid_instalment_count < _INF
            and 0 <= f.amount_overdue < _INF
            and 0 <= f.oldest_overdue_days < _INF
            and 0 <= f.open_exposure < _INF
            and 0 <= f.disputed_count < _INF
            and 0 <= f.disputed_amount < _INF
            and 0 <= f.invoiced_amount < _INF
            and (f.credit_limit is None or 0 <= f.credit_limit < _INF)
            and (f.customer_age_days is None or 0 <= f.customer_age_days < _INF)
        ):
            return False
        if f.paid_instalment_count:
            return (
                f.avg_days_late is not None
                and f.share_paid_on_time is not None
                and f.max_days_late is not None
                and 0 <= f.avg_days_late < _INF
                and 0 <= f.share_paid_on_time <= 1
                and 0 <= f.max_days_late < _INF
            )
        return True
    except TypeError:
        return False


def _field(index: int | None, name: str) -> str:
    return name if index is None else f"facts[{index}].{name}"


def _raise_for_facts(f: CreditFacts, index: int | None) -> None:
    """Slow path: find the first bad field and raise a precise error."""
    if isinstance(f.window_months, bool) or not isinstance(f.window_months, int):
        raise InvalidInputError(
            "must be a whole number of months",
            field=_field(index, "window_months"),
            code="not_an_integer",
        )
    if f.window_months <= 0:
        raise InvalidInputError(
            f"must be positive, got {f.window_months}",
            field=_field(index, "window_months"),
            code="not_positive",
        )
    for name in (
        "paid_instalment_count",
        "amount_overdue",
        "oldest_overdue_days",
        "open_exposure",
        "disputed_count",
        "disputed_amount",
        "invoiced_amount",
    ):
        require_non_negative(getattr(f, name), _field(index, name))
    for name in ("credit_limit", "customer_age_days"):
        if getattr(f, name) is not None:
            require_non_negative(getattr(f, name), _field(index, name))
    if f.paid_instalment_count:
        for name in ("avg_days_late", "share_paid_on_time", "max_days_late"):
            if getattr(f, name) is None:
                raise InvalidInputError(
                    "required when paid_instalment_count is not 0",
                    field=_field(index, name),
                    code="required",
                )
        require_non_negative(f.avg_days_late, _field(index, "avg_days_late"))
        require_fraction(f.share_paid_on_time, _field(index, "share_paid_on_time"))
        require_non_negative(f.max_days_late, _field(index, "max_days_late"))
    raise InvalidInputError(  # pragma: no cover - the fast path and this one disagree
        "invalid credit facts", field=_field(index, "facts"), code="invalid"
    )


# --------------------------------------------------------------------------- grade policy


@dataclass(frozen=True, slots=True)
class GradePolicy:
    """What a grade suggests. ``limit_months``: credit limit as a multiple of the average
    monthly invoiced amount; ``None`` suggests no limit change, and is only allowed with a
    credit hold or a prepayment (a limit of 0 would mean "no limit" in Odoo)."""

    grade: str
    limit_months: float | None
    payment_term_code: str
    prepayment_percent: float = 0.0
    credit_hold: bool = False


@dataclass(frozen=True, slots=True)
class PolicySuggestion:
    grade: str
    credit_limit: float | None  # never 0; None: leave the limit, hold/prepayment governs
    payment_term_code: str
    prepayment_percent: float
    credit_hold: bool


DEFAULT_GRADE_POLICIES: tuple[GradePolicy, ...] = (
    GradePolicy("A", 3.0, "net_45"),
    GradePolicy("B", 2.0, "net_30"),
    GradePolicy("C", 1.0, "net_30"),
    GradePolicy("D", 0.5, "net_15", prepayment_percent=50.0),
    GradePolicy("E", None, "immediate", prepayment_percent=100.0, credit_hold=True),
    GradePolicy(NEW_GRADE, 1.0, "net_15"),
)


@dataclass(frozen=True)
class PolicyTable:
    """Grade -> policy, with the rounding of suggested limits. Covers A..E and "new"."""

    policies: tuple[GradePolicy, ...] = DEFAULT_GRADE_POLICIES
    limit_rounding: float = 1000.0  # suggested limits are multiples of this (half-up)
    minimum_credit_limit: float = 1000.0  # floor, > 0: a suggestion is never "no limit"

    _by_grade: Mapping[str, GradePolicy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        policies = tuple(self.policies)
        object.__setattr__(self, "policies", policies)
        for name in ("limit_rounding", "minimum_credit_limit"):
            require_finite(getattr(self, name), name)
            if getattr(self, name) <= 0:
                raise InvalidInputError("must be positive", field=name, code="not_positive")
        grades = [policy.grade for policy in policies]
        expected = [*GRADES, NEW_GRADE]
        if sorted(grades) != sorted(expected):
            raise InvalidInputError(
                f"expected one policy for each of {expected}, got {grades}",
                field="policies",
                code="wrong_keys",
                params={"keys": expected},
            )
        for policy in policies:
            prefix = f"policies[{policy.grade}]"
            _check_range(policy.prepayment_percent, f"{prefix}.prepayment_percent", 0, 100)
            if not policy.payment_term_code:
                raise InvalidInputError(
                    "a payment term code is required",
                    field=f"{prefix}.payment_term_code",
                    code="required",
                )
            if policy.limit_months is None:
                if not (policy.credit_hold or policy.prepayment_percent > 0):
                    raise InvalidInputError(
                        "a grade without a credit limit must use a credit hold or a prepayment",
                        field=f"{prefix}.limit_months",
                        code="no_limit_without_hold",
                    )
            else:
                require_finite(policy.limit_months, f"{prefix}.limit_months")
                if policy.limit_months <= 0:
                    raise InvalidInputError(
                        "the limit multiple must be positive (a limit of 0 means no limit); "
                        "use None with a credit hold or prepayment instead",
                        field=f"{prefix}.limit_months",
                        code="not_positive",
                    )
        object.__setattr__(
            self, "_by_grade", MappingProxyType({policy.grade: policy for policy in policies})
        )

    def policy_for(self, grade: str) -> GradePolicy:
        try:
            return self._by_grade[grade]
        except KeyError:
            raise InvalidInputError(
                f"unknown grade {grade!r}", field="grade", code="invalid_choice"
            ) from None

    def suggest(self, grade: str, average_monthly_invoiced: float) -> PolicySuggestion:
        """Suggested terms for ``grade``; the limit is rounded half-up to ``limit_rounding``
        and never below ``minimum_credit_limit``."""
        require_non_negative(average_monthly_invoiced, "average_monthly_invoiced")
        policy = self.policy_for(grade)
        credit_limit: float | None = None
        if policy.limit_months is not None:
            raw = float(average_monthly_invoiced) * policy.limit_months
            rounded = math.floor(raw / self.limit_rounding + 0.5) * self.limit_rounding
            credit_limit = max(self.minimum_credit_limit, float(rounded))
        return PolicySuggestion(
            grade=grade,
            credit_limit=credit_limit,
            payment_term_code=policy.payment_term_code,
            prepayment_percent=policy.prepayment_percent,
            credit_hold=policy.credit_hold,
        )


DEFAULT_POLICY_TABLE = PolicyTable()
