"""Collection forecast: delays, promises, disputes, fallbacks, weekly buckets, backtest."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pytest

from ar_engine.errors import InvalidInputError
from ar_engine.forecast import (
    ForecastConfig,
    HistoricalInvoice,
    OpenInvoice,
    PaymentPrediction,
    PredictionBasis,
    SettledInvoice,
    backtest,
    fit_payment_behaviour,
    forecast_collections,
    iso_week_start,
)

AS_OF = date(2024, 6, 5)  # a Wednesday
IBM_FILE = Path("/work/shared/data/ibm-accounts-receivable.csv")


def paid(customer, delay, *, days_ago=30, amount=100.0, segment=None) -> SettledInvoice:
    settled = AS_OF - timedelta(days=days_ago)
    return SettledInvoice(customer, settled - timedelta(days=delay), settled, amount, segment)


def open_invoice(invoice_id, customer, due, amount=100.0, **extra) -> OpenInvoice:
    return OpenInvoice(invoice_id, customer, due, amount, **extra)


def test_customer_history_drives_the_predicted_date():
    history = [paid("late", 12) for _ in range(20)] + [paid("early", -5) for _ in range(20)]
    model = fit_payment_behaviour(history, AS_OF, ForecastConfig(prior_weight=0.0))
    due = AS_OF + timedelta(days=10)
    late, early = model.predict(
        [open_invoice(1, "late", due), open_invoice(2, "early", due)], AS_OF
    )
    assert late.predicted_date == due + timedelta(days=12)
    assert early.predicted_date == due - timedelta(days=5)
    assert late.basis is PredictionBasis.CUSTOMER


def test_few_observations_are_shrunk_towards_the_population():
    history = [paid("crowd", 0) for _ in range(50)] + [paid("one", 20)]
    model = fit_payment_behaviour(history, AS_OF, ForecastConfig(prior_weight=3.0))
    profile = model.profile("one")
    assert profile.own_delay == 20
    assert 0 < profile.delay_days < 20
    assert profile.delay_days == pytest.approx(profile.weight * 20 / (profile.weight + 3.0))
    many = fit_payment_behaviour(history + [paid("one", 20)] * 30, AS_OF).profile("one")
    assert many.delay_days > profile.delay_days  # more evidence, less shrinkage


def test_recent_payments_weigh_more():
    history = [paid("c", 30, days_ago=600) for _ in range(10)]
    history += [paid("c", 0, days_ago=5) for _ in range(6)]
    short_memory = ForecastConfig(prior_weight=0.0, recency_half_life_days=60.0)
    long_memory = ForecastConfig(prior_weight=0.0, recency_half_life_days=100_000.0)
    assert fit_payment_behaviour(history, AS_OF, short_memory).profile("c").delay_days == 0
    assert fit_payment_behaviour(history, AS_OF, long_memory).profile("c").delay_days == 30


def test_payments_after_the_as_of_date_are_not_learnt():
    future = SettledInvoice("c", AS_OF, AS_OF + timedelta(days=40), 100.0)
    model = fit_payment_behaviour([paid("c", 2), future], AS_OF)
    assert model.profile("c").observations == 1


def test_new_customer_falls_back_to_population_then_segment():
    history = [paid(f"a{k}", 4, segment="retail") for k in range(40)]
    history += [paid(f"b{k}", 20, segment="public") for k in range(40)]
    history += [paid(f"c{k}", 9, segment="tiny") for k in range(3)]
    model = fit_payment_behaviour(history, AS_OF, ForecastConfig(min_segment_observations=30))
    due = AS_OF + timedelta(days=30)
    new, public, tiny = model.predict(
        [
            open_invoice(1, "stranger", due),
            open_invoice(2, "stranger", due, segment="public"),
            open_invoice(3, "stranger", due, segment="tiny"),
        ],
        AS_OF,
    )
    population_median = model.profile("stranger").delay_days
    assert new.basis is PredictionBasis.POPULATION
    assert new.predicted_date == due + timedelta(days=round(population_median))
    assert public.basis is PredictionBasis.SEGMENT
    assert public.predicted_date == due + timedelta(days=20)
    assert tiny.basis is PredictionBasis.POPULATION  # too few observations in its segment


def test_empty_history_predicts_the_due_date():
    model = fit_payment_behaviour([], AS_OF)
    [prediction] = model.predict([open_invoice(1, "c", AS_OF + timedelta(days=9))], AS_OF)
    assert prediction.predicted_date == AS_OF + timedelta(days=9)


def test_promise_overrides_the_model_and_a_broken_one_does_not():
    model = fit_payment_behaviour([paid("c", 25) for _ in range(10)], AS_OF)
    due = AS_OF + timedelta(days=3)
    promise = AS_OF + timedelta(days=4)
    kept, broken = model.predict(
        [
            open_invoice(1, "c", due, promised_date=promise),
            open_invoice(2, "c", due, promised_date=AS_OF - timedelta(days=1)),
        ],
        AS_OF,
    )
    assert (kept.predicted_date, kept.basis) == (promise, PredictionBasis.PROMISE)
    assert broken.basis is PredictionBasis.CUSTOMER
    assert broken.predicted_date > due


def test_disputed_invoice_is_excluded_from_collections():
    model = fit_payment_behaviour([paid("c", 0)], AS_OF)
    invoices = [
        open_invoice(1, "c", AS_OF, 70.0, disputed=True, promised_date=AS_OF),
        open_invoice(2, "c", AS_OF, 30.0),
    ]
    predictions = model.predict(invoices, AS_OF)
    assert predictions[0].predicted_date is None
    assert predictions[0].basis is PredictionBasis.DISPUTED
    forecast = forecast_collections(invoices, predictions, AS_OF)
    assert sum(forecast.total_by_week().values()) == pytest.approx(30.0)
    assert forecast.disputed == {(): 70.0}


def test_overdue_invoice_still_open_is_predicted_after_as_of():
    history = [paid("c", delay) for delay in (0, 1, 2, 3, 40, 50, 60)]
    model = fit_payment_behaviour(history, AS_OF, ForecastConfig(prior_weight=0.0))
    due = AS_OF - timedelta(days=20)
    [prediction] = model.predict([open_invoice(1, "c", due)], AS_OF)
    # 20 days late and still open: of the delays above 20 days the median is 50.
    assert prediction.predicted_date == due + timedelta(days=50)
    [very_late] = model.predict([open_invoice(2, "c", AS_OF - timedelta(days=400))], AS_OF)
    assert very_late.predicted_date == AS_OF  # later than anything seen: expect it now


def _prediction(invoice_id, day):
    return PaymentPrediction(invoice_id, day, PredictionBasis.CUSTOMER, 0.0)


def test_weekly_buckets_follow_iso_weeks_and_the_horizon():
    as_of = date(2024, 6, 9)  # a Sunday: its week starts on Monday 3 June
    days = [
        as_of,  # same week
        date(2024, 6, 10),  # Monday: the next week
        date(2024, 6, 9) + timedelta(weeks=12),  # last week inside a 13-week horizon
        date(2024, 6, 10) + timedelta(weeks=12),  # first week beyond it
    ]
    invoices = [open_invoice(k, "c", day, 10.0 * (k + 1)) for k, day in enumerate(days)]
    predictions = [_prediction(k, day) for k, day in enumerate(days)]
    forecast = forecast_collections(invoices, predictions, as_of, horizon_weeks=13)
    assert forecast.week_starts[0] == date(2024, 6, 3)
    assert len(forecast.week_starts) == 13
    totals = forecast.total_by_week()
    assert totals[date(2024, 6, 3)] == 10.0
    assert totals[date(2024, 6, 10)] == 20.0
    assert totals[forecast.week_starts[-1]] == 30.0
    assert forecast.beyond_horizon == {(): 40.0}
    assert forecast.rows[0].week == "2024-W23"


def test_week_labels_across_the_year_end():
    as_of = date(2020, 12, 31)
    invoices = [open_invoice(1, "c", as_of), open_invoice(2, "c", date(2021, 1, 4))]
    predictions = [_prediction(1, as_of), _prediction(2, date(2021, 1, 4))]
    rows = forecast_collections(invoices, predictions, as_of, horizon_weeks=2).rows
    assert [row.week for row in rows] == ["2020-W53", "2021-W01"]
    assert iso_week_start(date(2021, 1, 3)) == date(2020, 12, 28)


def test_grouping_by_caller_keys():
    invoices = [
        open_invoice(1, "c", AS_OF, 5.0, dimensions={"company": 1, "salesperson": "ann"}),
        open_invoice(2, "c", AS_OF, 7.0, dimensions={"company": 1, "salesperson": "bob"}),
        open_invoice(3, "c", AS_OF, 11.0, dimensions={"company": 1, "salesperson": "ann"}),
        open_invoice(4, "c", AS_OF, 13.0, dimensions={"company": 2}),
    ]
    predictions = [_prediction(k, AS_OF) for k in range(1, 5)]
    rows = forecast_collections(invoices, predictions, AS_OF, ("company", "salesperson")).rows
    assert {row.group: row.amount for row in rows} == {
        (1, "ann"): 16.0,
        (1, "bob"): 7.0,
        (2, None): 13.0,
    }


@pytest.mark.parametrize(
    "settings",
    [
        {"prior_weight": -1.0},
        {"prior_weight": math.nan},
        {"recency_half_life_days": 0.0},
        {"horizon_weeks": 0},
        {"min_segment_observations": 1.5},
        {"amount_weighted": "yes"},
        {"max_history_days": 0},
    ],
)
def test_bad_config_is_rejected(settings):
    with pytest.raises(InvalidInputError):
        ForecastConfig(**settings)


def test_bad_input_is_rejected():
    with pytest.raises(InvalidInputError) as caught:
        fit_payment_behaviour([paid("c", 1, amount=math.nan)], AS_OF)
    assert caught.value.field == "history[0].amount"
    with pytest.raises(InvalidInputError):
        fit_payment_behaviour([], "2024-06-05")  # type: ignore[arg-type]
    invoices = [open_invoice(1, "c", AS_OF)]
    with pytest.raises(InvalidInputError) as caught:
        forecast_collections(invoices, [_prediction(2, AS_OF)], AS_OF)
    assert caught.value.code == "mismatch"
    with pytest.raises(InvalidInputError):
        forecast_collections(invoices, [], AS_OF)


def test_backtest_uses_only_what_was_known_at_the_cutoff():
    cutoff = date(2024, 1, 1)
    history = []
    for k in range(50):  # issued up to mid-February: some open at the cut-off, some later
        issued = date(2023, 6, 1) + timedelta(days=5 * k)
        history.append(
            HistoricalInvoice(
                k, "c", issued, issued + timedelta(days=30), 100.0, issued + timedelta(days=40)
            )
        )
    result = backtest(history, cutoff)
    expected_train = sum(
        1 for past in history if past.invoice_date < cutoff and past.settled_date < cutoff
    )
    assert result.train_invoices == expected_train
    assert result.test_invoices == len(history) - expected_train
    assert result.model_mae_days < result.naive_mae_days  # always 10 days late: learnt
    with pytest.raises(InvalidInputError):
        backtest(history, date(2020, 1, 1))


@pytest.mark.skipif(not IBM_FILE.exists(), reason=f"IBM sample not present at {IBM_FILE}")
def test_model_beats_naive_on_the_ibm_sample():
    from ar_engine._ibm_dataset import load_ibm_invoices

    history = [
        HistoricalInvoice(
            row.invoice_number,
            row.customer_id,
            row.invoice_date,
            row.due_date,
            row.amount,
            row.settled_date,
        )
        for row in load_ibm_invoices(IBM_FILE)
    ]
    result = backtest(history, date(2013, 7, 1))
    assert result.test_invoices > 500
    assert result.model_mae_days < result.naive_mae_days
    assert result.model_weekly_mae < result.naive_weekly_mae
