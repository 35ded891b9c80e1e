import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ar_engine.dunning import (
    CustomerDunningFacts,
    DunningItem,
    DunningLevel,
    DunningPolicy,
    LateFeeRule,
    decide_dunning,
    decide_dunning_batch,
    late_fee,
    late_fee_proposals,
)
from ar_engine.errors import InvalidInputError

RUN = date(2024, 6, 30)

POLICY = DunningPolicy(
    levels=(
        DunningLevel(1, "Friendly reminder", -3, ("email",)),
        DunningLevel(2, "First notice", 10, ("email",), min_amount=50.0),
        DunningLevel(3, "Second notice", 25, ("email", "letter")),
        DunningLevel(4, "Final notice", 40, ("letter", "phone"), sets_credit_hold=True),
        DunningLevel(5, "Lawyer", 60, ("lawyer_letter",), sets_credit_hold=True),
    )
)


def item(item_id, days_overdue, amount=100.0, **kwargs):
    return DunningItem(item_id, amount, RUN - timedelta(days=days_overdue), **kwargs)


def customer(*items, **kwargs):
    return CustomerDunningFacts(partner_id=42, company_id=1, items=tuple(items), **kwargs)


def written_back(facts, decision):
    """What the addon stores after sending: item levels, customer level, date."""
    levels = {line.item_id: line.level for line in decision.lines}
    return replace(
        facts,
        items=tuple(replace(i, level=levels.get(i.item_id, i.level)) for i in facts.items),
        current_level=decision.customer_level,
        last_dunning_date=decision.run_date,
    )


def test_policy_splits_reminders_from_escalation():
    assert [lv.sequence for lv in POLICY.reminder_levels] == [1]
    assert [lv.sequence for lv in POLICY.escalation_levels] == [2, 3, 4, 5]


def test_escalates_one_step_per_run():
    # 70 days overdue reaches level 5, but the customer climbs 2 -> 3 -> 4 -> 5
    facts = customer(item(1, 70, 500.0))
    seen = []
    run_date = RUN
    for _ in range(5):
        decision = decide_dunning(facts, POLICY, run_date)
        seen.append((decision.communicate, decision.customer_level, decision.credit_hold))
        if decision.communicate:
            assert decision.kind == "overdue"
            assert decision.level.sequence == decision.customer_level
            assert decision.key == (42, 1, decision.customer_level, run_date)
            facts = written_back(facts, decision)
        run_date += timedelta(days=1)
        facts = replace(
            facts,
            items=tuple(replace(i, due_date=i.due_date + timedelta(days=1)) for i in facts.items),
        )
    assert seen == [
        (True, 2, False),
        (True, 3, False),
        (True, 4, True),  # final notice sets the credit hold
        (True, 5, True),
        (False, 5, True),  # top of the ladder: nothing new to say
    ]


def test_item_levels_and_listed_days():
    # item 1 reaches level 3 (30 days), item 2 only 5 days overdue: listed, level unchanged
    facts = customer(
        item(1, 30, 200.0),
        item(2, 5, 80.0),
        current_level=2,
        last_dunning_date=RUN - timedelta(days=7),
    )
    decision = decide_dunning(facts, POLICY, RUN)
    assert decision.communicate and decision.reason == "sent"
    assert decision.level.name == "Second notice"
    assert [
        (ln.item_id, ln.days_overdue, ln.previous_level, ln.level) for ln in decision.lines
    ] == [
        (1, 30, 0, 3),
        (2, 5, 0, 0),
    ]
    assert decision.amount_due == 280.0


def test_same_day_rerun_is_idempotent_and_key_is_stable():
    facts = customer(item(1, 12))
    first = decide_dunning(facts, POLICY, RUN)
    again = decide_dunning(facts, POLICY, RUN)
    assert first == again
    assert first.key == (42, 1, 2, RUN)
    # after the addon stored the first run, a rerun the same day sends nothing
    rerun = decide_dunning(written_back(facts, first), POLICY, RUN)
    assert (rerun.communicate, rerun.reason, rerun.key) == (False, "no_change", None)
    # even if a further step were due, one communication per customer per day
    stored = replace(written_back(facts, first), items=(item(1, 30, level=2),))
    blocked = decide_dunning(stored, POLICY, RUN)
    assert (blocked.communicate, blocked.reason) == (False, "already_sent_today")
    assert blocked.customer_level == 2
    assert decide_dunning(stored, POLICY, RUN + timedelta(days=1)).level.sequence == 3


@pytest.mark.parametrize(("days_overdue", "sent"), [(-4, False), (-3, True), (0, True)])
def test_pre_due_reminder_window(days_overdue, sent):
    decision = decide_dunning(customer(item(1, days_overdue)), POLICY, RUN)
    assert decision.communicate is sent
    if sent:
        assert decision.kind == "reminder"
        assert decision.level.sequence == 1
        assert decision.lines[0].days_overdue == days_overdue
        assert decision.customer_level == 0  # a reminder is not an escalation step
    else:
        assert decision.reason == "nothing_due"


def test_reminder_is_sent_once_per_item():
    decision = decide_dunning(customer(item(1, -2, level=1)), POLICY, RUN)
    assert (decision.communicate, decision.reason) == (False, "nothing_due")


def test_reminded_item_then_escalates_from_the_first_overdue_level():
    decision = decide_dunning(customer(item(1, 50, level=1)), POLICY, RUN)
    assert decision.level.sequence == 2


def test_one_communication_per_customer_overdue_wins():
    facts = customer(item(1, 12), item(2, -1))
    decision = decide_dunning(facts, POLICY, RUN)
    assert decision.kind == "overdue"
    assert [line.item_id for line in decision.lines] == [1]
    # once nothing changes on the overdue side, the reminder goes out alone
    later = decide_dunning(
        customer(item(1, 12, level=2), item(2, -1), current_level=2), POLICY, RUN
    )
    assert (later.kind, [ln.item_id for ln in later.lines]) == ("reminder", [2])
    assert later.customer_level == 2


def test_skipped_items():
    facts = customer(
        item(1, 45, disputed=True),
        item(2, 45, promised=True),
        item(3, 45, in_payment=True, disputed=True),
        item(4, 45, amount=-20.0),
        current_level=3,
    )
    decision = decide_dunning(facts, POLICY, RUN)
    assert not decision.communicate
    assert decision.reason == "nothing_due"
    assert [(s.item_id, s.reason) for s in decision.skipped] == [
        (1, "disputed"),
        (2, "promised"),
        (3, "in_payment"),
        (4, "credit"),
    ]
    # overdue items still open: the level is kept (a pause, not a reset)
    assert decision.customer_level == 3


def test_level_resets_when_nothing_overdue_remains():
    decision = decide_dunning(customer(item(1, -20), current_level=4), POLICY, RUN)
    assert (decision.customer_level, decision.credit_hold) == (0, False)


def test_customer_drops_back_to_what_its_open_items_warrant():
    # the level-4 items were paid; a new item is 12 days overdue
    decision = decide_dunning(customer(item(9, 12), current_level=4), POLICY, RUN)
    assert decision.communicate
    assert (decision.level.sequence, decision.customer_level, decision.credit_hold) == (2, 2, False)


def test_broken_promise_resumes_from_the_item_level():
    # stored customer level 2 but the item already received level 3: next step is 4
    facts = customer(item(1, 50, level=3), current_level=2)
    decision = decide_dunning(facts, POLICY, RUN)
    assert decision.level.sequence == 4
    assert decision.credit_hold


@pytest.mark.parametrize(("amount", "sent"), [(49.99, False), (50.0, True)])
def test_minimum_amount(amount, sent):
    decision = decide_dunning(customer(item(1, 12, amount=amount)), POLICY, RUN)
    assert decision.communicate is sent
    if not sent:
        assert decision.reason == "below_min_amount"
        assert decision.customer_level == 0


def test_open_credits_are_netted_from_the_amount_due():
    covered = decide_dunning(customer(item(1, 30, 100.0), item(2, 0, -100.0)), POLICY, RUN)
    assert (covered.communicate, covered.reason, covered.amount_due) == (
        False,
        "below_min_amount",
        0.0,
    )
    partly = decide_dunning(customer(item(1, 30, 100.0), item(2, 0, -30.0)), POLICY, RUN)
    assert (partly.communicate, partly.amount_due) == (True, 70.0)


def test_no_dunning_customer():
    decision = decide_dunning(customer(item(1, 90), current_level=4, no_dunning=True), POLICY, RUN)
    assert (decision.communicate, decision.reason, decision.credit_hold) == (
        False,
        "no_dunning",
        False,
    )
    assert decision.customer_level == 4


def test_batch_keeps_order():
    customers = [
        CustomerDunningFacts(partner_id=p, company_id=1, items=(item(1, p * 10),))
        for p in (5, 1, 3)
    ]
    decisions = decide_dunning_batch(customers, POLICY, RUN)
    assert [d.partner_id for d in decisions] == [5, 1, 3]
    assert [d.communicate for d in decisions] == [True, True, True]
    assert decisions[1].level.sequence == 2


@pytest.mark.parametrize(
    ("levels", "field", "code"),
    [
        ((), "levels", "empty"),
        ((DunningLevel(0, "x", 5),), "levels[0].sequence", "not_positive"),
        ((DunningLevel(1, "a", 10), DunningLevel(2, "b", 10)), "levels[1].days", "not_ascending"),
        (
            (DunningLevel(2, "a", 10), DunningLevel(1, "b", 20)),
            "levels[1].sequence",
            "not_ascending",
        ),
        ((DunningLevel(1, "a", 10, ("fax",)),), "levels[0].channels", "invalid_choice"),
        ((DunningLevel(1, "a", 10, ()),), "levels[0].channels", "required"),
        ((DunningLevel(1, "", 10),), "levels[0].name", "required"),
        ((DunningLevel(1, "a", 10, min_amount=-1.0),), "levels[0].min_amount", "negative"),
        (
            (DunningLevel(1, "a", -5, sets_credit_hold=True),),
            "levels[0].sets_credit_hold",
            "hold_on_reminder",
        ),
        ((DunningLevel(1, "a", 1.5),), "levels[0].days", "not_an_integer"),
    ],
)
def test_invalid_policy(levels, field, code):
    with pytest.raises(InvalidInputError) as error:
        DunningPolicy(levels=levels)
    assert (error.value.field, error.value.code) == (field, code)


@pytest.mark.parametrize(
    ("facts", "field", "code"),
    [
        (customer(item(1, 5, amount=math.nan)), "items[0].amount_residual", "not_finite"),
        (customer(item(1, 5), item(1, 6)), "items[1].item_id", "duplicate"),
        (customer(item(1, 5, level=-1)), "items[0].level", "invalid_level"),
        (customer(current_level=-2), "current_level", "invalid_level"),
        (customer(DunningItem(1, 5.0, "2024-01-01")), "items[0].due_date", "not_a_date"),
    ],
)
def test_invalid_customer_facts(facts, field, code):
    with pytest.raises(InvalidInputError) as error:
        decide_dunning(facts, POLICY, RUN)
    assert (error.value.field, error.value.code) == (field, code)


# ----------------------------------------------------------------------------- fees


def test_percent_per_annum_fee():
    rule = LateFeeRule("percent_per_annum", annual_rate_percent=8.0)
    # 10,000 x 8% x 45 / 365 = 98.6301... -> 98.63
    assert late_fee(10_000.0, 45, rule) == Decimal("98.63")
    # 360-day year: 10,000 x 8% x 45 / 360 = 100.00
    assert late_fee(10_000.0, 45, replace(rule, day_count=360)) == Decimal("100.00")
    # 25 x 10% x 365 / 365 = 2.5 -> 3 with 0 decimals (half up, not half even)
    assert late_fee(25.0, 365, LateFeeRule("percent_per_annum", 10.0, decimals=0)) == Decimal(3)


def test_fee_grace_days_and_fixed_fee():
    rule = LateFeeRule("fixed", fixed_amount=40.0, grace_days=30)
    assert late_fee(1_000.0, 30, rule) == Decimal("0.00")  # not over the grace period
    assert late_fee(1_000.0, 31, rule) == Decimal("40.00")
    assert late_fee(-5.0, 90, rule) == Decimal("0.00")


def test_fee_proposals_from_a_decision():
    facts = customer(
        item(1, 45, 10_000.0),
        item(2, 5, 100.0),
        current_level=2,
        last_dunning_date=RUN - timedelta(days=10),
    )
    decision = decide_dunning(facts, POLICY, RUN)
    proposals = late_fee_proposals(
        decision.lines, LateFeeRule("percent_per_annum", annual_rate_percent=8.0, grace_days=5)
    )
    # item 2 (5 days, not over the 5-day grace) gets no fee
    assert [(p.item_id, p.days_overdue, p.base_amount, p.fee) for p in proposals] == [
        (1, 45, Decimal("10000.0"), Decimal("98.63"))
    ]


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"method": "compound", "annual_rate_percent": 5.0}, "method", "invalid_choice"),
        ({"method": "percent_per_annum"}, "annual_rate_percent", "required"),
        ({"method": "fixed"}, "fixed_amount", "required"),
        (
            {"method": "fixed", "fixed_amount": 40.0, "day_count": 364},
            "day_count",
            "invalid_choice",
        ),
        ({"method": "fixed", "fixed_amount": 40.0, "grace_days": -1}, "grace_days", "negative"),
        (
            {"method": "percent_per_annum", "annual_rate_percent": -8.0},
            "annual_rate_percent",
            "negative",
        ),
    ],
)
def test_invalid_fee_rule(kwargs, field, code):
    with pytest.raises(InvalidInputError) as error:
        LateFeeRule(**kwargs)
    assert (error.value.field, error.value.code) == (field, code)
