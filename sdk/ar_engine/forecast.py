"""Collection forecast: when will each open invoice be paid, and how much comes in each week.

The model learns each customer's *delay* (days between due date and payment) from the invoices
it settled, weighting recent payments more (exponential decay with a half-life). A customer's
delay is the weighted median of its own delays, shrunk towards a prior by the amount of
evidence: ``(n * customer + k * prior) / (n + k)`` with ``n`` the recency-weighted number of
observations and ``k`` = ``prior_weight``. The prior is the customer's segment median when the
segment has enough observations, else the population median; a customer without history gets
the prior alone.

An invoice already past its expected payment date at the as-of date is still unpaid, which is
news: its date is moved to the median of the delays longer than the time already elapsed
(conditional median), never before the as-of date. A promised payment date replaces the
estimate; a disputed invoice is excluded from expected collections.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from itertools import accumulate
from typing import NamedTuple

from .errors import InvalidInputError

__all__ = [
    "BacktestResult",
    "CollectionForecast",
    "CustomerProfile",
    "ForecastConfig",
    "HistoricalInvoice",
    "OpenInvoice",
    "PaymentBehaviour",
    "PaymentPrediction",
    "PredictionBasis",
    "SettledInvoice",
    "WeeklyCollection",
    "backtest",
    "fit_payment_behaviour",
    "forecast_collections",
    "iso_week_start",
]


class PredictionBasis(str, Enum):
    PROMISE = "promise"
    CUSTOMER = "customer"  # the customer's own history (blended with the prior)
    SEGMENT = "segment"  # no history: the segment's prior
    POPULATION = "population"  # no history, no usable segment: the population prior
    DISPUTED = "disputed"  # excluded while disputed


@dataclass(frozen=True, slots=True)
class SettledInvoice:
    """One paid invoice of the history the model learns from."""

    customer_id: Hashable
    due_date: date
    settled_date: date
    amount: float
    segment: Hashable | None = None


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An open invoice (or instalment) to forecast; ``dimensions`` feed ``group_by``."""

    id: Hashable
    customer_id: Hashable
    due_date: date
    amount: float
    promised_date: date | None = None
    disputed: bool = False
    segment: Hashable | None = None
    dimensions: Mapping[str, Hashable] = field(default_factory=dict)


class PaymentPrediction(NamedTuple):
    """A named tuple, not a dataclass: a forecast makes millions of them."""

    invoice_id: Hashable
    predicted_date: date | None  # None when disputed
    basis: PredictionBasis
    delay_days: float | None  # expected days after the due date (before the as-of clamp)


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    customer_id: Hashable
    observations: int
    weight: float  # recency-weighted number of observations (the ``n`` of the shrinkage)
    own_delay: float | None  # weighted median of the customer's own delays
    delay_days: float  # blended estimate used for prediction
    basis: PredictionBasis


@dataclass(frozen=True, slots=True)
class WeeklyCollection:
    group: tuple[Hashable, ...]
    week: str  # ISO week, e.g. "2024-W05"
    week_start: date  # its Monday
    amount: float


@dataclass(frozen=True)
class CollectionForecast:
    """Expected collections per group and ISO week, from the week containing ``as_of``.

    Invoices expected after the last week are summed in ``beyond_horizon``; disputed ones in
    ``disputed`` (excluded from the weeks).
    """

    as_of: date
    week_starts: tuple[date, ...]
    rows: tuple[WeeklyCollection, ...]
    beyond_horizon: Mapping[tuple[Hashable, ...], float]
    disputed: Mapping[tuple[Hashable, ...], float]

    def total_by_week(self) -> dict[date, float]:
        totals = dict.fromkeys(self.week_starts, 0.0)
        for row in self.rows:
            totals[row.week_start] += row.amount
        return totals


@dataclass(frozen=True)
class ForecastConfig:
    """Model settings; every value is validated on creation."""

    prior_weight: float = 3.0
    recency_half_life_days: float = 365.0
    amount_weighted: bool = False
    min_segment_observations: int = 30
    horizon_weeks: int = 13
    max_history_days: int | None = 730

    def __post_init__(self) -> None:
        _check_number(self.prior_weight, "prior_weight", 0.0, 1e6)
        _check_number(self.recency_half_life_days, "recency_half_life_days", 1.0, 1e6)
        if not isinstance(self.amount_weighted, bool):
            raise InvalidInputError(
                "must be true or false", field="amount_weighted", code="not_boolean"
            )
        _check_int(self.min_segment_observations, "min_segment_observations", 1, 10**9)
        _check_int(self.horizon_weeks, "horizon_weeks", 1, 520)
        if self.max_history_days is not None:
            _check_int(self.max_history_days, "max_history_days", 1, 100 * 366)


def _check_number(value: object, name: str, minimum: float, maximum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError("must be a finite number", field=name, code="not_finite")
    if not minimum <= value <= maximum:
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


def _check_amount(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError("must be a finite number", field=name, code="not_finite")
    return float(value)


def _check_date(value: object, name: str) -> date:
    if not isinstance(value, date):
        raise InvalidInputError("must be a date", field=name, code="not_a_date")
    return value


def iso_week_start(day: date) -> date:
    """The Monday of the ISO week containing ``day``."""
    return day - timedelta(days=day.weekday())


def _iso_week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


class _FrozenDelays:
    """Sorted delays with cumulative weights: weighted medians, also above a threshold."""

    __slots__ = ("delays", "cumulative", "weight", "count")

    def __init__(self, observations: list[tuple[int, float, float]]) -> None:
        """``observations``: (delay days, weight for the median, recency weight)."""
        observations.sort()
        self.delays = [delay for delay, _, _ in observations]
        self.cumulative = list(accumulate(weight for _, weight, _ in observations))
        self.weight = sum(recency for _, _, recency in observations)  # the shrinkage's n
        self.count = len(observations)

    def median(self, above: float | None = None) -> float | None:
        """Weighted median of the delays (strictly greater than ``above`` when given)."""
        start = 0 if above is None else bisect.bisect_right(self.delays, above)
        if start >= len(self.delays):
            return None
        base = self.cumulative[start - 1] if start else 0.0
        total = self.cumulative[-1] - base
        if total <= 0:
            return None
        position = bisect.bisect_left(self.cumulative, base + total / 2, lo=start)
        return float(self.delays[min(position, len(self.delays) - 1)])


class PaymentBehaviour:
    """Fitted delays per customer, segment and population; predicts payment dates."""

    def __init__(
        self,
        config: ForecastConfig,
        population: _FrozenDelays,
        segments: dict[Hashable, _FrozenDelays],
        customers: dict[Hashable, _FrozenDelays],
        customer_segment: dict[Hashable, Hashable],
    ) -> None:
        self.config = config
        self._population = population
        self._segments = segments
        self._customers = customers
        self._customer_segment = customer_segment
        self._profiles: dict[tuple[Hashable, Hashable], CustomerProfile] = {}
        self._still_open: dict[tuple[Hashable, int], float | None] = {}

    @property
    def observations(self) -> int:
        return self._population.count

    def _prior(self, segment: Hashable | None) -> tuple[float, PredictionBasis, _FrozenDelays]:
        delays = self._segments.get(segment) if segment is not None else None
        if delays is not None and delays.count >= self.config.min_segment_observations:
            median = delays.median()
            if median is not None:
                return median, PredictionBasis.SEGMENT, delays
        median = self._population.median()
        # An empty history knows nothing: "pays on the due date" is the only neutral guess.
        return (0.0 if median is None else median), PredictionBasis.POPULATION, self._population

    def profile(self, customer_id: Hashable, segment: Hashable | None = None) -> CustomerProfile:
        """The blended delay estimate of a customer (segment: for customers without history)."""
        if segment is None:
            segment = self._customer_segment.get(customer_id)
        key = (customer_id, segment)
        found = self._profiles.get(key)
        if found is not None:
            return found
        prior, prior_basis, _ = self._prior(segment)
        own = self._customers.get(customer_id)
        own_median = own.median() if own is not None else None
        if own is None or own_median is None:
            profile = CustomerProfile(customer_id, 0, 0.0, None, prior, prior_basis)
        else:
            k = self.config.prior_weight
            blended = (own.weight * own_median + k * prior) / (own.weight + k)
            profile = CustomerProfile(
                customer_id, own.count, own.weight, own_median, blended, PredictionBasis.CUSTOMER
            )
        self._profiles[key] = profile
        return profile

    def _still_open_delay(
        self, customer_id: Hashable, segment: Hashable | None, elapsed: int
    ) -> float | None:
        """Median delay among payments later than ``elapsed`` days past due."""
        own = self._customers.get(customer_id)
        if own is not None and own.count - bisect.bisect_right(own.delays, elapsed) >= 3:
            return own.median(above=elapsed)
        key = (segment, elapsed)  # the prior's answer is shared by many invoices: cache it
        if key not in self._still_open:
            self._still_open[key] = self._prior(segment)[2].median(above=elapsed)
        return self._still_open[key]

    def predict(self, open_invoices: Iterable[OpenInvoice], as_of: date) -> list[PaymentPrediction]:
        """Predicted payment date of each invoice, never before ``as_of``."""
        _check_date(as_of, "as_of")
        as_of_ordinal = as_of.toordinal()
        fromordinal = date.fromordinal
        predictions: list[PaymentPrediction] = []
        append = predictions.append
        new = tuple.__new__  # NamedTuple's keyword-checking constructor costs a lot per line
        # Keyed by the invoice's own segment (None included), unlike the shared cache.
        profiles: dict[tuple[Hashable, Hashable], tuple[int, PredictionBasis, float]] = {}
        for position, invoice in enumerate(open_invoices):
            if not isinstance(invoice.due_date, date):
                _check_date(invoice.due_date, f"open_invoices[{position}].due_date")
            if invoice.disputed:
                predictions.append(
                    PaymentPrediction(invoice.id, None, PredictionBasis.DISPUTED, None)
                )
                continue
            promised = invoice.promised_date
            if promised is not None:
                _check_date(promised, f"open_invoices[{position}].promised_date")
                if promised >= as_of:
                    predictions.append(
                        PaymentPrediction(invoice.id, promised, PredictionBasis.PROMISE, None)
                    )
                    continue
                # A broken promise says nothing about the new date: back to the model.
            key = (invoice.customer_id, invoice.segment)
            cached = profiles.get(key)
            if cached is None:
                profile = self.profile(*key)
                cached = profiles[key] = (
                    round(profile.delay_days),
                    profile.basis,
                    profile.delay_days,
                )
            due = invoice.due_date.toordinal()
            expected = due + cached[0]
            if expected < as_of_ordinal:
                later = self._still_open_delay(*key, as_of_ordinal - due)
                expected = as_of_ordinal if later is None else max(due + round(later), expected)
                if expected < as_of_ordinal:
                    expected = as_of_ordinal
            append(
                new(
                    PaymentPrediction,
                    (invoice.id, fromordinal(expected), cached[1], cached[2]),
                )
            )
        return predictions


def fit_payment_behaviour(
    history: Iterable[SettledInvoice], as_of: date, config: ForecastConfig | None = None
) -> PaymentBehaviour:
    """Learn delays from invoices settled on or before ``as_of`` (later ones are ignored)."""
    config = config or ForecastConfig()
    _check_date(as_of, "as_of")
    as_of_ordinal = as_of.toordinal()
    decay = math.log(2) / config.recency_half_life_days
    oldest = None if config.max_history_days is None else as_of_ordinal - config.max_history_days
    Observation = tuple[int, float, float]
    population: list[Observation] = []
    segments: dict[Hashable, list[Observation]] = {}
    customers: dict[Hashable, list[Observation]] = {}
    customer_segment: dict[Hashable, Hashable] = {}
    recency_of_day: dict[int, float] = {}
    for position, paid in enumerate(history):
        settled = paid.settled_date
        due = paid.due_date
        amount = paid.amount
        if (
            not isinstance(settled, date)
            or not isinstance(due, date)
            or isinstance(amount, bool)
            or not isinstance(amount, (int, float))
            or not math.isfinite(amount)
        ):
            _check_date(settled, f"history[{position}].settled_date")
            _check_date(due, f"history[{position}].due_date")
            _check_amount(amount, f"history[{position}].amount")
        settled_ordinal = settled.toordinal()
        if settled_ordinal > as_of_ordinal or (oldest is not None and settled_ordinal < oldest):
            continue
        recency = recency_of_day.get(settled_ordinal)
        if recency is None:
            recency = recency_of_day[settled_ordinal] = math.exp(
                -decay * (as_of_ordinal - settled_ordinal)
            )
        median_weight = recency * abs(amount) if config.amount_weighted else recency
        observation = (settled_ordinal - due.toordinal(), median_weight, recency)
        population.append(observation)
        customer = customers.get(paid.customer_id)
        if customer is None:
            customers[paid.customer_id] = [observation]
        else:
            customer.append(observation)
        if paid.segment is not None:
            segment = segments.get(paid.segment)
            if segment is None:
                segments[paid.segment] = [observation]
            else:
                segment.append(observation)
            customer_segment[paid.customer_id] = paid.segment
    return PaymentBehaviour(
        config,
        _FrozenDelays(population),
        {key: _FrozenDelays(observations) for key, observations in segments.items()},
        {key: _FrozenDelays(observations) for key, observations in customers.items()},
        customer_segment,
    )


def forecast_collections(
    open_invoices: Sequence[OpenInvoice],
    predictions: Sequence[PaymentPrediction],
    as_of: date,
    group_by: Sequence[str] = (),
    horizon_weeks: int = 13,
) -> CollectionForecast:
    """Sum expected collections per ISO week (the week of ``as_of`` first) and group.

    ``group_by`` names keys of each invoice's ``dimensions`` (company, segment, salesperson...);
    a missing key groups under ``None``. Predictions are matched to invoices by position.
    """
    _check_date(as_of, "as_of")
    _check_int(horizon_weeks, "horizon_weeks", 1, 520)
    if len(open_invoices) != len(predictions):
        raise InvalidInputError(
            "one prediction per open invoice is expected", field="predictions", code="mismatch"
        )
    first_monday = iso_week_start(as_of).toordinal()
    week_starts = tuple(date.fromordinal(first_monday + 7 * week) for week in range(horizon_weeks))
    labels = [_iso_week_label(monday) for monday in week_starts]
    sums: dict[tuple[tuple[Hashable, ...], int], float] = {}
    beyond: dict[tuple[Hashable, ...], float] = {}
    disputed: dict[tuple[Hashable, ...], float] = {}
    keys = tuple(group_by)
    for position, (invoice, prediction) in enumerate(zip(open_invoices, predictions)):
        if prediction.invoice_id != invoice.id:
            raise InvalidInputError(
                "predictions are not in the order of the invoices",
                field=f"predictions[{position}]",
                code="mismatch",
            )
        amount = invoice.amount
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount != amount:
            _check_amount(amount, f"open_invoices[{position}].amount")
        dimensions = invoice.dimensions
        group = tuple(dimensions.get(key) for key in keys) if keys else ()
        if prediction.predicted_date is None:
            disputed[group] = disputed.get(group, 0.0) + amount
            continue
        week = (prediction.predicted_date.toordinal() - first_monday) // 7
        if week < 0:
            week = 0  # predictions are never before as_of; be lenient with hand-made ones
        if week >= horizon_weeks:
            beyond[group] = beyond.get(group, 0.0) + amount
            continue
        slot = (group, week)
        sums[slot] = sums.get(slot, 0.0) + amount
    rows = tuple(
        WeeklyCollection(group, labels[week], week_starts[week], round(total, 2))
        for (group, week), total in sorted(
            sums.items(), key=lambda pair: (str(pair[0][0]), pair[0][1])
        )
    )
    return CollectionForecast(as_of, week_starts, rows, beyond, disputed)


# -- backtest ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoricalInvoice:
    """An invoice of the past with its outcome (``settled_date`` None: never paid)."""

    id: Hashable
    customer_id: Hashable
    invoice_date: date
    due_date: date
    amount: float
    settled_date: date | None
    segment: Hashable | None = None


@dataclass(frozen=True)
class BacktestResult:
    cutoff: date
    train_invoices: int
    test_invoices: int
    model_mae_days: float
    naive_mae_days: float
    model_weekly_mae: float
    naive_weekly_mae: float
    weeks: int


def backtest(
    history: Sequence[HistoricalInvoice], cutoff: date, config: ForecastConfig | None = None
) -> BacktestResult:
    """Train on what was known at ``cutoff``, predict the rest, compare with what happened.

    Training uses invoices issued before the cut-off and settled before it. The test set is
    every invoice settled on or after the cut-off (open at the cut-off, or issued later); each
    is predicted as of ``max(cutoff, invoice_date)``. The naive forecast says "paid on the due
    date", also never before that as-of date. Both are scored by the mean absolute error of the
    payment date in days, and of the amount collected per ISO week (from the cut-off week to
    the last week anything was paid or predicted).
    """
    _check_date(cutoff, "cutoff")
    training = [
        SettledInvoice(
            past.customer_id, past.due_date, past.settled_date, past.amount, past.segment
        )
        for past in history
        if past.invoice_date < cutoff
        and past.settled_date is not None
        and past.settled_date < cutoff
    ]
    tested = [
        past for past in history if past.settled_date is not None and past.settled_date >= cutoff
    ]
    if not training or not tested:
        raise InvalidInputError(
            "the cut-off leaves no training or no test invoice", field="cutoff", code="empty_split"
        )
    model = fit_payment_behaviour(training, cutoff - timedelta(days=1), config)
    model_dates: list[date] = []
    naive_dates: list[date] = []
    for past in tested:
        as_of = max(cutoff, past.invoice_date)
        invoice = OpenInvoice(
            past.id, past.customer_id, past.due_date, past.amount, segment=past.segment
        )
        [prediction] = model.predict([invoice], as_of)
        assert prediction.predicted_date is not None
        model_dates.append(prediction.predicted_date)
        naive_dates.append(max(past.due_date, as_of))
    actual_dates = [past.settled_date for past in tested if past.settled_date is not None]
    amounts = [past.amount for past in tested]

    def mae_days(predicted: list[date]) -> float:
        return sum(abs((p - a).days) for p, a in zip(predicted, actual_dates)) / len(tested)

    first = iso_week_start(cutoff).toordinal()

    def weekly(dates: list[date]) -> dict[int, float]:
        sums: dict[int, float] = {}
        for day, amount in zip(dates, amounts):
            week = (day.toordinal() - first) // 7
            sums[week] = sums.get(week, 0.0) + amount
        return sums

    actual_weeks = weekly(actual_dates)
    model_weeks = weekly(model_dates)
    naive_weeks = weekly(naive_dates)
    span = max(max(actual_weeks), max(model_weeks), max(naive_weeks)) + 1

    def mae_weeks(predicted: dict[int, float]) -> float:
        return (
            sum(abs(predicted.get(w, 0.0) - actual_weeks.get(w, 0.0)) for w in range(span)) / span
        )

    return BacktestResult(
        cutoff=cutoff,
        train_invoices=len(training),
        test_invoices=len(tested),
        model_mae_days=mae_days(model_dates),
        naive_mae_days=mae_days(naive_dates),
        model_weekly_mae=mae_weeks(model_weeks),
        naive_weekly_mae=mae_weeks(naive_weeks),
        weeks=span,
    )
