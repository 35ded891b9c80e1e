import random
from collections import Counter
from datetime import date

import pytest

from ar_engine.sample.instalments import TERMS, TermSpec, due_dates, split_amount
from ar_engine.sample.profiles import PROFILES, assign_profiles


def test_split_amount_sums_exactly_and_puts_remainder_last():
    parts = split_amount(100_01, [33.33, 33.33, 33.34])
    assert sum(parts) == 100_01
    assert parts[:2] == [3333, 3333]
    assert parts[2] == 100_01 - 6666


@pytest.mark.parametrize("total", [1, 2, 99, 12_345_67, -50_00, -1])
def test_split_amount_keeps_sign_and_total_for_every_term(total):
    for term in TERMS:
        parts = split_amount(total, [percent for percent, _days in term.lines])
        assert sum(parts) == total
        assert all(part * total >= 0 for part in parts)


def test_split_amount_rejects_bad_percentages():
    with pytest.raises(ValueError):
        split_amount(100, [])
    with pytest.raises(ValueError):
        split_amount(100, [80.0, 80.0])


def test_term_spec_validates_percentages_and_delays():
    with pytest.raises(ValueError, match="sum to"):
        TermSpec("bad", ((50.0, 30), (40.0, 60)))
    with pytest.raises(ValueError, match="negative"):
        TermSpec("bad", ((100.0, -1),))
    with pytest.raises(ValueError, match="no instalment"):
        TermSpec("bad", ())


def test_due_dates_follow_term_delays():
    term = TermSpec("t", ((30.0, 0), (70.0, 60)))
    assert due_dates(date(2025, 1, 31), term) == [date(2025, 1, 31), date(2025, 4, 1)]


def test_assign_profiles_covers_every_profile_and_follows_weights():
    assigned = assign_profiles(5000, random.Random(3))
    counts = Counter(profile.name for profile in assigned)
    assert set(counts) == {profile.name for profile in PROFILES}
    for profile in PROFILES:
        assert abs(counts[profile.name] / 5000 - profile.weight) < 0.03
    small = assign_profiles(len(PROFILES), random.Random(1))
    assert {profile.name for profile in small} == {profile.name for profile in PROFILES}
    with pytest.raises(ValueError):
        assign_profiles(-1, random.Random(1))


def test_profiles_order_delays_from_prompt_to_defaulting():
    rng = random.Random(7)
    mean_delay = {
        profile.name: sum(profile.draw_delay(rng) for _ in range(2000)) / 2000
        for profile in PROFILES
    }
    assert mean_delay["prompt"] < 5 < mean_delay["slow"] < mean_delay["defaulting"]
    for profile in PROFILES:
        delays = [profile.draw_delay(rng) for _ in range(500)]
        assert profile.delay_min <= min(delays) and max(delays) <= profile.delay_max
