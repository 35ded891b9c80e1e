import math
from decimal import Decimal

import pytest

from ar_engine.aging import DEFAULT_BUCKETS, BucketSet
from ar_engine.errors import InvalidInputError
from ar_engine.provision import ProvisionMatrix, compute_provision

MATRIX = ProvisionMatrix.for_buckets(DEFAULT_BUCKETS, [0.5, 2, 10, 25, 60])
OPEN = {
    "not_due": 100_000.0,
    "1_30": 40_000.0,
    "31_60": 12_000.0,
    "61_90": 5_000.0,
    "91_plus": 2_000.0,
}


def test_required_allowance_per_bucket_and_increase():
    # 100,000 x 0.5% = 500; 40,000 x 2% = 800; 12,000 x 10% = 1,200;
    # 5,000 x 25% = 1,250; 2,000 x 60% = 1,200; total 4,950
    result = compute_provision(OPEN, 4_000.0, MATRIX)
    assert [(line.bucket_key, line.required) for line in result.lines] == [
        ("not_due", Decimal("500.00")),
        ("1_30", Decimal("800.00")),
        ("31_60", Decimal("1200.00")),
        ("61_90", Decimal("1250.00")),
        ("91_plus", Decimal("1200.00")),
    ]
    assert result.total_required == Decimal("4950.00")
    # 4,950 - 4,000 = +950: book more bad-debt expense
    assert result.adjustment == Decimal("950.00")
    assert result.lines[2].rate_percent == Decimal("10")


def test_decrease_reverses_part_of_the_allowance():
    # 4,950 - 6,000.50 = -1,050.50
    result = compute_provision(OPEN, Decimal("6000.50"), MATRIX)
    assert result.existing_allowance == Decimal("6000.50")
    assert result.adjustment == Decimal("-1050.50")


def test_no_change_when_allowance_matches():
    assert compute_provision(OPEN, 4_950, MATRIX).adjustment == Decimal("0.00")


def test_rounding_half_up_per_bucket_and_lines_add_up():
    matrix = ProvisionMatrix({"a": 50, "b": 100})
    # 0.05 x 50% = 0.025 -> 0.03 (half up; half even would give 0.02)
    # 1.005 as a float is 1.00499999...; converted through repr it is exactly 1.005 -> 1.01
    result = compute_provision({"a": 0.05, "b": 1.005}, 0, matrix)
    assert [line.required for line in result.lines] == [Decimal("0.03"), Decimal("1.01")]
    assert result.total_required == Decimal("1.04") == sum(line.required for line in result.lines)
    # currency without decimals: 5 x 50% = 2.5 -> 3
    assert compute_provision({"a": 5}, 0, matrix, decimals=0).total_required == Decimal("3")
    # three decimals (e.g. KWD): 1.0005 x 100% = 1.0005 -> 1.001
    assert compute_provision({"b": Decimal("1.0005")}, 0, matrix, decimals=3).total_required == (
        Decimal("1.001")
    )


def test_missing_and_negative_buckets_require_nothing():
    result = compute_provision({"1_30": -500.0, "91_plus": 1_000.0}, 0.0, MATRIX)
    assert [line.required for line in result.lines] == [
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("600.00"),
    ]
    assert result.lines[1].open_amount == Decimal("-500.0")


def test_matrix_on_a_custom_bucket_set():
    buckets = BucketSet.from_upper_bounds([60, 180])
    matrix = ProvisionMatrix.for_buckets(buckets, [1, 20, 50, 100])
    assert list(matrix.rates_percent) == ["not_due", "1_60", "61_180", "181_plus"]
    # 1,000 x 1% + 500 x 20% + 0 + 300 x 100% = 10 + 100 + 300 = 410
    result = compute_provision({"not_due": 1_000, "1_60": 500, "181_plus": 300}, 0, matrix)
    assert result.total_required == Decimal("410.00")


@pytest.mark.parametrize(
    ("rates", "field", "code"),
    [
        ({"a": 101}, "rates_percent[a]", "out_of_range"),
        ({"a": -0.1}, "rates_percent[a]", "out_of_range"),
        ({"a": math.nan}, "rates_percent[a]", "not_finite"),
        ({"a": "5"}, "rates_percent[a]", "not_a_number"),
        ({}, "rates_percent", "empty"),
    ],
)
def test_invalid_rates(rates, field, code):
    with pytest.raises(InvalidInputError) as error:
        ProvisionMatrix(rates)
    assert (error.value.field, error.value.code) == (field, code)


def test_rates_must_match_the_bucket_count():
    with pytest.raises(InvalidInputError) as error:
        ProvisionMatrix.for_buckets(DEFAULT_BUCKETS, [1, 2, 3])
    assert error.value.code == "wrong_length"


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"open_amounts": {"120_plus": 5.0}}, "open_amounts[120_plus]", "unknown_bucket"),
        ({"open_amounts": {"1_30": math.inf}}, "open_amounts[1_30]", "not_finite"),
        ({"existing_allowance": -1.0}, "existing_allowance", "negative"),
        ({"existing_allowance": math.nan}, "existing_allowance", "not_finite"),
        ({"decimals": 7}, "decimals", "out_of_range"),
        ({"decimals": 2.0}, "decimals", "out_of_range"),
    ],
)
def test_invalid_provision_inputs(kwargs, field, code):
    arguments = {"open_amounts": OPEN, "existing_allowance": 0.0, "matrix": MATRIX, **kwargs}
    with pytest.raises(InvalidInputError) as error:
        compute_provision(**arguments)
    assert (error.value.field, error.value.code) == (field, code)
