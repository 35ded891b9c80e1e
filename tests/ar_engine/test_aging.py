from datetime import date

import pytest

from ar_engine.aging import DEFAULT_BUCKETS, Bucket, BucketSet
from ar_engine.errors import InvalidInputError


@pytest.mark.parametrize(
    ("days", "label"),
    [
        (-400, "Not due"),
        (-1, "Not due"),
        (0, "Not due"),  # due today is not late yet
        (1, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (10_000, "90+"),
    ],
)
def test_default_bucket_edges(days, label):
    assert DEFAULT_BUCKETS.bucket_for(days).label == label
    assert DEFAULT_BUCKETS.labels[DEFAULT_BUCKETS.bucket_index(days)] == label


def test_fractional_day_falls_in_next_bucket():
    assert DEFAULT_BUCKETS.bucket_for(30.5).label == "31-60"
    assert DEFAULT_BUCKETS.bucket_for(0.5).label == "0-30"


def test_bounds_for_sql_case():
    assert DEFAULT_BUCKETS.bounds() == [
        ("Not due", None, 0),
        ("0-30", 1, 30),
        ("31-60", 31, 60),
        ("61-90", 61, 90),
        ("90+", 91, None),
    ]
    assert DEFAULT_BUCKETS.keyed_bounds()[-1] == ("91_plus", 91, None)
    assert DEFAULT_BUCKETS.keys == ("not_due", "1_30", "31_60", "61_90", "91_plus")


def test_every_day_lands_in_exactly_the_bucket_that_contains_it():
    wider = BucketSet.from_upper_bounds([15, 30, 60, 90, 120, 180, 365])
    for days in range(-5, 400):
        holders = [i for i, bucket in enumerate(wider.buckets) if bucket.contains(days)]
        assert holders == [wider.bucket_index(days)]


def test_custom_labels_keys_and_invoice_date_basis():
    buckets = BucketSet.from_upper_bounds(
        [45], labels=["Current", "Up to 45", "Over 45"], keys=["c", "a", "b"], basis="invoice_date"
    )
    assert buckets.bounds() == [("Current", None, 0), ("Up to 45", 1, 45), ("Over 45", 46, None)]
    as_of = date(2024, 3, 31)
    # invoice_date basis ignores the due date: 2024-03-31 - 2024-02-10 = 50 days
    days = buckets.days_past(as_of, due_date=date(2024, 4, 30), invoice_date=date(2024, 2, 10))
    assert days == 50
    assert buckets.bucket_for(days).key == "b"
    with pytest.raises(InvalidInputError) as error:
        buckets.days_past(as_of, due_date=date(2024, 4, 30))
    assert error.value.code == "required"


def test_days_past_due_date_basis():
    assert DEFAULT_BUCKETS.days_past(date(2024, 3, 1), date(2024, 2, 28)) == 2  # leap year
    assert DEFAULT_BUCKETS.days_past(date(2024, 3, 1), date(2024, 3, 1)) == 0
    assert DEFAULT_BUCKETS.days_past(date(2024, 3, 1), date(2024, 3, 11)) == -10


def test_totals_sum_amounts_per_bucket():
    rows = [(-3, 100.0), (0, 50.0), (1, 10.0), (30, 5.0), (31, 7.0), (91, 1.0), (200, 2.0)]
    assert DEFAULT_BUCKETS.totals(rows) == [150.0, 15.0, 7.0, 0.0, 3.0]


def test_totals_rejects_nan_amount():
    with pytest.raises(InvalidInputError) as error:
        DEFAULT_BUCKETS.totals([(1, float("nan"))])
    assert error.value.field == "rows[0].amount"
    assert error.value.code == "not_finite"


@pytest.mark.parametrize(
    ("buckets", "code"),
    [
        ((Bucket("nd", "Not due", None, 0),), "too_few_buckets"),
        (
            (Bucket("nd", "Not due", None, 5), Bucket("o", "Over", 6, None)),
            "first_bucket_not_not_due",
        ),
        (
            (Bucket("nd", "Not due", 0, 0), Bucket("o", "Over", 1, None)),
            "first_bucket_not_not_due",
        ),
        (
            (Bucket("nd", "Not due", None, 0), Bucket("o", "1-30", 1, 30)),
            "last_bucket_not_open",
        ),
        (  # gap: 31..39 belongs nowhere
            (
                Bucket("nd", "Not due", None, 0),
                Bucket("a", "1-30", 1, 30),
                Bucket("b", "40+", 40, None),
            ),
            "not_contiguous",
        ),
        (  # overlap: 30 in two buckets
            (
                Bucket("nd", "Not due", None, 0),
                Bucket("a", "1-30", 1, 30),
                Bucket("b", "30+", 30, None),
            ),
            "not_contiguous",
        ),
        (
            (
                Bucket("nd", "Not due", None, 0),
                Bucket("a", "1-?", 1, None),
                Bucket("b", "x", 2, None),
            ),
            "open_bucket_not_last",
        ),
        (
            (
                Bucket("nd", "Not due", None, 0),
                Bucket("a", "1-30", 1, 0),
                Bucket("b", "31+", 1, None),
            ),
            "empty_bucket",
        ),
        (
            (
                Bucket("nd", "Same", None, 0),
                Bucket("a", "Same", 1, None),
            ),
            "duplicate",
        ),
        (
            (
                Bucket("nd", "Not due", None, 0),
                Bucket("", "Over", 1, None),
            ),
            "empty",
        ),
    ],
)
def test_invalid_bucket_sets(buckets, code):
    with pytest.raises(InvalidInputError) as error:
        BucketSet(buckets=buckets)
    assert error.value.code == code


@pytest.mark.parametrize(
    ("bounds", "code"),
    [
        ([30, 30, 60], "not_ascending"),
        ([60, 30], "not_ascending"),
        ([0, 30], "not_ascending"),
        ([30.5], "not_an_integer"),
    ],
)
def test_invalid_upper_bounds(bounds, code):
    with pytest.raises(InvalidInputError) as error:
        BucketSet.from_upper_bounds(bounds)
    assert error.value.code == code


def test_wrong_number_of_labels_and_bad_basis():
    with pytest.raises(InvalidInputError) as error:
        BucketSet.from_upper_bounds([30], labels=["a", "b"])
    assert error.value.code == "wrong_length"
    with pytest.raises(InvalidInputError) as error:
        BucketSet.from_upper_bounds([30], basis="posting_date")  # type: ignore[arg-type]
    assert error.value.field == "basis"
