import math
from dataclasses import fields

import pytest

from ar_engine.errors import InvalidInputError
from ar_engine.kpi import (
    KpiSums,
    MonthlySales,
    PeriodFigures,
    average_days_delinquent,
    best_possible_dso,
    collection_effectiveness_index,
    compute_kpis,
    dso_countback,
    dso_standard,
    group_kpis,
    overdue_share,
)

# Q1 2024 (91 days: Jan 31 + Feb 29 + Mar 31), latest month first for the countback.
Q1_MONTHS = (
    MonthlySales.for_month(2024, 3, 100_000.0),
    MonthlySales.for_month(2024, 2, 80_000.0),
    MonthlySales.for_month(2024, 1, 120_000.0),
)


def test_month_lengths_follow_the_calendar():
    assert [month.days for month in Q1_MONTHS] == [31, 29, 31]
    assert MonthlySales.for_month(2023, 2, 1.0).days == 28


def test_dso_standard():
    # 150,000 / 300,000 x 91 = 45.5
    assert dso_standard(150_000.0, 300_000.0, 91) == pytest.approx(45.5)
    # 0 receivables: 0 days
    assert dso_standard(0.0, 300_000.0, 91) == 0.0
    # no credit sales: undefined
    assert dso_standard(150_000.0, 0.0, 91) is None


def test_best_possible_dso_and_average_days_delinquent():
    # best: 90,000 current / 300,000 x 91 = 27.3
    assert best_possible_dso(90_000.0, 300_000.0, 91) == pytest.approx(27.3)
    # ADD = 45.5 - 27.3 = 18.2 (= 60,000 overdue / 300,000 x 91)
    assert average_days_delinquent(150_000.0, 90_000.0, 300_000.0, 91) == pytest.approx(18.2)
    # all current: no delinquency
    assert average_days_delinquent(90_000.0, 90_000.0, 300_000.0, 91) == 0.0
    assert average_days_delinquent(90_000.0, 90_000.0, 0.0, 91) is None


def test_dso_countback_partial_month():
    # 150,000 - March 100,000 = 50,000 left -> 31 days
    # February: 50,000 of 80,000 -> 29 x 50,000 / 80,000 = 18.125
    # total 31 + 18.125 = 49.125
    assert dso_countback(150_000.0, Q1_MONTHS) == pytest.approx(49.125)


def test_dso_countback_inside_latest_month_and_exact_month():
    # 25,000 of March's 100,000 -> 31 x 0.25 = 7.75
    assert dso_countback(25_000.0, Q1_MONTHS) == pytest.approx(7.75)
    # exactly March + February = 180,000 -> 31 + 29 = 60
    assert dso_countback(180_000.0, Q1_MONTHS) == pytest.approx(60.0)
    assert dso_countback(0.0, Q1_MONTHS) == 0.0


def test_dso_countback_month_without_sales_counts_whole_month():
    months = (MonthlySales(0.0, 31), MonthlySales(10_000.0, 30))
    # March had no sales: 31 days; then 5,000 of April's 10,000 -> 15 days; 46
    assert dso_countback(5_000.0, months) == pytest.approx(46.0)


def test_dso_countback_history_exhausted_extrapolates_at_average_daily_sales():
    # 400,000 - 300,000 of Q1 = 100,000 left after 91 days
    # average daily sales 300,000 / 91; 100,000 / (300,000 / 91) = 30.333...
    # total 91 + 30.333 = 121.333
    assert dso_countback(400_000.0, Q1_MONTHS) == pytest.approx(91 + 91 / 3)
    assert dso_countback(10.0, ()) is None
    assert dso_countback(10.0, (MonthlySales(0.0, 30),)) is None


def test_collection_effectiveness_index():
    # (120,000 + 300,000 - 150,000) / (120,000 + 300,000 - 90,000) x 100
    # = 270,000 / 330,000 x 100 = 81.8181...
    assert collection_effectiveness_index(
        120_000.0, 300_000.0, 150_000.0, 90_000.0
    ) == pytest.approx(81.818181818)
    # everything collected except what is not yet due: 100%
    # (100 + 200 - 50) / (100 + 200 - 50) = 1
    assert collection_effectiveness_index(100.0, 200.0, 50.0, 50.0) == pytest.approx(100.0)
    # nothing collectable: undefined
    assert collection_effectiveness_index(0.0, 0.0, 0.0, 0.0) is None


def test_compute_kpis_gathers_everything():
    kpis = compute_kpis(
        PeriodFigures(
            days_in_period=91,
            beginning_receivables=120_000.0,
            credit_sales=300_000.0,
            ending_receivables=150_000.0,
            ending_current_receivables=90_000.0,
            monthly_sales=Q1_MONTHS,
        )
    )
    assert kpis.dso == pytest.approx(45.5)
    assert kpis.dso_countback == pytest.approx(49.125)
    assert kpis.best_possible_dso == pytest.approx(27.3)
    assert kpis.average_days_delinquent == pytest.approx(18.2)
    assert kpis.collection_effectiveness_index == pytest.approx(81.818181818)
    without_months = compute_kpis(PeriodFigures(30, 0.0, 100.0, 50.0, 10.0))
    # 50 / 100 x 30 = 15; no monthly sales -> no countback
    assert (without_months.dso, without_months.dso_countback) == (15.0, None)


@pytest.mark.parametrize(
    ("call", "field", "code"),
    [
        (lambda: dso_standard(-1.0, 10.0, 30), "ending_receivables", "negative"),
        (lambda: dso_standard(1.0, math.nan, 30), "credit_sales", "not_finite"),
        (lambda: dso_standard(1.0, 10.0, 0), "days_in_period", "not_positive"),
        (lambda: dso_standard(1.0, 10.0, 30.5), "days_in_period", "not_positive"),
        (
            lambda: average_days_delinquent(100.0, 120.0, 10.0, 30),
            "ending_current_receivables",
            "current_exceeds_total",
        ),
        (
            lambda: collection_effectiveness_index(1.0, 1.0, 1.0, 2.0),
            "ending_current_receivables",
            "current_exceeds_total",
        ),
        (
            lambda: dso_countback(1.0, (MonthlySales(-5.0, 30),)),
            "monthly_sales[0].credit_sales",
            "negative",
        ),
        (
            lambda: dso_countback(1.0, (MonthlySales(5.0, 30), MonthlySales(5.0, 0))),
            "monthly_sales[1].days",
            "not_positive",
        ),
    ],
)
def test_invalid_inputs(call, field, code):
    with pytest.raises(InvalidInputError) as error:
        call()
    assert (error.value.field, error.value.code) == (field, code)


def _sum(rows: list[KpiSums]) -> KpiSums:
    return KpiSums(*(sum(getattr(row, field.name) for row in rows) for field in fields(KpiSums)))


def test_group_kpis_of_one_row_equal_the_period_kpis():
    period = PeriodFigures(31, 1000.0, 5600.0, 5600.0, 5000.0, (MonthlySales(5600.0, 31),))
    kpis = compute_kpis(period)
    group = group_kpis(KpiSums.of_period(period, kpis.dso_countback))
    assert group.dso == pytest.approx(kpis.dso)
    assert group.best_possible_dso == pytest.approx(kpis.best_possible_dso)
    assert group.average_days_delinquent == pytest.approx(kpis.average_days_delinquent)
    assert group.collection_effectiveness_index == pytest.approx(62.5)
    assert group.dso_countback == pytest.approx(31.0)
    assert group.overdue_share == pytest.approx(600 / 5600 * 100)


def test_group_kpis_sum_numerators_and_denominators_not_ratios():
    # Two customers in one month: a big one with DSO 15, a small one with DSO 300. The
    # group's DSO is that of the summed figures (about 16), not the mean of the two (157.5).
    big = PeriodFigures(30, 0.0, 10_000.0, 5_000.0, 5_000.0)
    small = PeriodFigures(30, 0.0, 100.0, 1_000.0, 0.0)
    group = group_kpis(_sum([KpiSums.of_period(big, None), KpiSums.of_period(small, None)]))
    together = compute_kpis(PeriodFigures(30, 0.0, 10_100.0, 6_000.0, 5_000.0))
    assert group.dso == pytest.approx(together.dso)
    assert group.dso == pytest.approx(6_000 / 10_100 * 30)
    assert group.collection_effectiveness_index == pytest.approx(
        together.collection_effectiveness_index
    )
    assert group.overdue_share == pytest.approx(1_000 / 6_000 * 100)
    assert group.dso_countback is None


def test_group_kpis_over_months_weight_by_sales_and_balance():
    january = PeriodFigures(31, 0.0, 1_000.0, 500.0, 500.0)
    february = PeriodFigures(28, 500.0, 3_000.0, 1_500.0, 1_000.0)
    group = group_kpis(_sum([KpiSums.of_period(january, 20.0), KpiSums.of_period(february, 10.0)]))
    dso_january, dso_february = 500 / 1_000 * 31, 1_500 / 3_000 * 28
    assert group.dso == pytest.approx((dso_january * 1_000 + dso_february * 3_000) / 4_000)
    assert group.dso_countback == pytest.approx((20 * 500 + 10 * 1_500) / 2_000)


def test_group_kpis_undefined_without_sales_or_with_a_credit_balance():
    group = group_kpis(KpiSums(ending_receivables=-50.0, credit_sales=-10.0))
    assert group.dso is None
    assert group.best_possible_dso is None
    assert group.average_days_delinquent is None
    assert group.collection_effectiveness_index is None
    assert group.overdue_share is None
    assert overdue_share(200.0, 50.0) == pytest.approx(75.0)
