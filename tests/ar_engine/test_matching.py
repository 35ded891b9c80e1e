"""Cash application: each rule on hand-built cases, scope safety, bad input, quality."""

from __future__ import annotations

import math
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from ar_engine.errors import InvalidInputError
from ar_engine.matching import (
    Matcher,
    MatchingConfig,
    MatchRule,
    OpenItem,
    Payment,
    match_payments,
    normalise_reference,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "data"))
import remittances  # noqa: E402

DAY = date(2024, 3, 1)


def item(
    item_id, amount, number="", partner=1, company=1, currency="EUR", due=DAY, reference=""
) -> OpenItem:
    return OpenItem(
        id=item_id,
        partner_id=partner,
        company_id=company,
        currency=currency,
        residual=amount,
        due_date=due,
        invoice_number=number,
        payment_reference=reference,
    )


def pay(amount, memo="", partner=1, company=1, currency="EUR", payment_id="P1") -> Payment:
    return Payment(
        id=payment_id,
        company_id=company,
        currency=currency,
        amount=amount,
        date=DAY,
        memo=memo,
        partner_id=partner,
    )


def one(payment: Payment, items: list[OpenItem], config: MatchingConfig | None = None):
    [match] = match_payments([payment], items, config)
    return match


BOOK = [
    item("a", 120.00, "INV/2024/00012", due=DAY),
    item("b", 75.50, "INV/2024/00345", due=DAY + timedelta(days=5)),
    item("c", 310.00, "INV/2024/01789", due=DAY + timedelta(days=10)),
    item("d", 99.99, "INV/2024/02222", partner=2),
]


@pytest.mark.parametrize(
    "memo",
    [
        "INV/2024/00012",
        "inv 2024 12",
        "2024/0012",
        "INV202400012",
        "Payment ref: INV-2024-00012, thank you",
        "inv.2024.012",
    ],
)
def test_reference_found_whatever_the_formatting(memo):
    match = one(pay(120.00, memo), BOOK)
    assert match.best.item_ids == ("a",)
    assert match.best.rule is MatchRule.REFERENCE
    assert match.auto_accept


def test_normalised_reference_forms():
    assert normalise_reference("INV/2024/00012") == ("2024/12", "202400012")
    assert normalise_reference("0000611365") == ("611365", "611365")
    assert normalise_reference("no digits") is None


def test_reference_with_a_typo_is_found_through_the_fuzzy_rule():
    match = one(pay(75.50, "INV/2024/00354"), BOOK)  # 345 with two digits swapped
    assert match.best.item_ids == ("b",)
    assert match.best.rule is MatchRule.REFERENCE_FUZZY
    assert match.auto_accept


def test_typo_that_changes_the_amount_story_is_not_auto_accepted():
    match = one(pay(50.00, "INV/2024/00354"), BOOK)
    assert not match.auto_accept


def test_several_numbers_in_one_memo_make_a_combined_payment():
    match = one(pay(195.50, "INV/2024/00012 + INV/2024/00345"), BOOK)
    assert set(match.best.item_ids) == {"a", "b"}
    assert match.best.write_off == 0
    assert match.auto_accept


def test_memo_naming_some_items_is_completed_by_a_combination():
    match = one(pay(505.50, "INV/2024/00012 and others"), BOOK)
    assert set(match.best.item_ids) == {"a", "b", "c"}
    assert match.best.rule is MatchRule.COMBINATION


def test_exact_amount_without_reference():
    match = one(pay(310.00, "monthly payment"), BOOK)
    assert match.best.item_ids == ("c",)
    assert match.best.rule is MatchRule.EXACT_AMOUNT
    assert match.auto_accept


def test_equal_amounts_without_reference_are_left_to_a_person():
    items = [item("x", 100.0, due=DAY), item("y", 100.0, due=DAY + timedelta(days=3))]
    match = one(pay(100.0), items)
    assert not match.auto_accept
    assert match.best.item_ids == ("x",)  # the oldest first


def test_combination_of_items_summing_to_the_payment():
    match = one(pay(430.00, "transfer"), BOOK)  # a + c
    assert set(match.best.item_ids) == {"a", "c"}
    assert match.best.rule is MatchRule.COMBINATION
    assert not match.auto_accept  # amount-only combinations are proposed, not applied


def test_combination_search_respects_the_size_cap():
    items = [item(k, 10.0 + k, due=DAY + timedelta(days=k)) for k in range(1, 6)]
    total = sum(10.0 + k for k in range(1, 6))  # needs all five items
    config = MatchingConfig(max_combination_size=4)
    match = one(pay(total), items, config)
    assert all(p.rule is not MatchRule.COMBINATION for p in match.proposals)
    assert one(pay(total), items, MatchingConfig(max_combination_size=5)).best.rule is (
        MatchRule.COMBINATION
    )


def test_partial_payment_is_spread_over_the_oldest_items():
    match = one(pay(150.00, "on account"), BOOK)
    best = match.best
    assert best.rule is MatchRule.PARTIAL_OLDEST
    assert [(a.item_id, a.amount) for a in best.allocations] == [("a", 120.0), ("b", 30.0)]
    assert not match.auto_accept


def test_partial_payment_of_a_referenced_invoice():
    match = one(pay(200.00, "INV/2024/01789 part 1"), BOOK)
    assert [(a.item_id, a.amount) for a in match.best.allocations] == [("c", 200.0)]
    assert match.best.rule is MatchRule.REFERENCE
    assert match.auto_accept


def test_overpayment_beyond_tolerance_leaves_cash_unapplied():
    match = one(pay(200.00, "INV/2024/00012"), BOOK)
    best = match.best
    assert best.item_ids == ("a",)
    assert best.unapplied == pytest.approx(80.0)
    assert best.write_off == 0


def test_bank_fee_within_tolerance_is_proposed_as_write_off():
    match = one(pay(305.50, "INV/2024/01789"), BOOK)
    best = match.best
    assert best.item_ids == ("c",)
    assert best.write_off == pytest.approx(4.5)
    assert best.allocations[0].amount == pytest.approx(310.0)
    assert match.auto_accept


def test_difference_beyond_tolerance_is_not_written_off():
    config = MatchingConfig(write_off_tolerance_abs=1.0, write_off_tolerance_rel=0.0)
    match = one(pay(305.50, "INV/2024/01789"), BOOK, config)
    assert match.best.write_off == 0
    assert match.best.allocations[0].amount == pytest.approx(305.5)  # a partial payment


def test_fx_difference_uses_the_relative_tolerance():
    items = [item("big", 20_000.0, "INV/2024/09999")]
    config = MatchingConfig(write_off_tolerance_abs=1.0, write_off_tolerance_rel=0.01)
    match = one(pay(20_150.0, "INV/2024/09999"), items, config)
    assert match.best.write_off == pytest.approx(-150.0)
    assert match.best.unapplied == 0


def test_items_of_another_partner_are_never_proposed():
    # The memo names partner 2's invoice but the bank booked the payment on partner 1.
    match = one(pay(99.99, "INV/2024/02222", partner=1), BOOK)
    assert all("d" not in p.item_ids for p in match.proposals)
    assert not match.auto_accept


def test_items_of_another_company_or_currency_are_never_proposed():
    items = [
        item("eur", 50.0, "INV/2024/00050"),
        item("usd", 50.0, "INV/2024/00050", currency="USD"),
        item("co2", 50.0, "INV/2024/00050", company=2),
    ]
    for payment, expected in (
        (pay(50.0, "INV/2024/00050"), "eur"),
        (pay(50.0, "INV/2024/00050", currency="USD"), "usd"),
        (pay(50.0, "INV/2024/00050", company=2), "co2"),
        (pay(50.0, "INV/2024/00050", partner=None, company=2), "co2"),
    ):
        match = one(payment, items)
        assert {i for p in match.proposals for i in p.item_ids} == {expected}


def test_payment_without_partner_is_matched_by_reference_only():
    assert not one(pay(310.00, "transfer", partner=None), BOOK).proposals
    match = one(pay(99.99, "INV/2024/02222", partner=None), BOOK)
    assert match.best.item_ids == ("d",)
    assert match.auto_accept


def test_payment_without_partner_never_mixes_partners():
    match = one(pay(219.99, "INV/2024/00012 INV/2024/02222", partner=None), BOOK)
    for proposal in match.proposals:
        partners = {next(i.partner_id for i in BOOK if i.id == x) for x in proposal.item_ids}
        assert len(partners) == 1


def test_generated_batch_never_crosses_scope():
    items = remittances.generate_open_items(3_000, 300, seed=11)
    cases = remittances.generate_remittances(items, 400, seed=12)
    by_id = {i.id: i for i in items}
    for case, match in zip(cases, Matcher(items).match(c.payment for c in cases)):
        payment = case.payment
        for proposal in match.proposals:
            chosen = [by_id[i] for i in proposal.item_ids]
            assert {i.company_id for i in chosen} == {payment.company_id}
            assert {i.currency for i in chosen} == {payment.currency}
            partners = {i.partner_id for i in chosen}
            assert len(partners) == 1
            if payment.partner_id is not None:
                assert partners == {payment.partner_id}
            else:
                assert proposal.rule in (MatchRule.REFERENCE, MatchRule.REFERENCE_FUZZY)


def test_precision_and_recall_on_generated_remittances():
    items = remittances.generate_open_items(5_000, 1_000, seed=21)
    cases = remittances.generate_remittances(items, 500, seed=22)
    matches = Matcher(items).match([case.payment for case in cases])
    figures = remittances.score(cases, matches)
    assert figures["precision"] >= 0.99, figures
    assert figures["recall"] >= 0.95, figures


@pytest.mark.parametrize(
    ("payment", "field", "code"),
    [
        (pay(-10.0), "payments[0].amount", "not_positive"),
        (pay(0.0), "payments[0].amount", "not_positive"),
        (pay(math.nan), "payments[0].amount", "not_finite"),
        (pay(math.inf), "payments[0].amount", "not_finite"),
        (pay(10.0, currency="euro"), "payments[0].currency", "invalid_currency"),
    ],
)
def test_bad_payment_is_rejected(payment, field, code):
    with pytest.raises(InvalidInputError) as caught:
        match_payments([payment], BOOK)
    assert (caught.value.field, caught.value.code) == (field, code)


@pytest.mark.parametrize(
    ("bad_item", "code"),
    [
        (item("n", math.nan), "not_finite"),
        (item("z", 0.0), "zero_amount"),
        (item("c", 10.0), "duplicate_id"),
        (item("u", 10.0, currency="usd"), "invalid_currency"),
        (item("p", 10.0, partner=None), "missing_partner"),
    ],
)
def test_bad_open_item_is_rejected(bad_item, code):
    with pytest.raises(InvalidInputError) as caught:
        Matcher([*BOOK, bad_item])
    assert caught.value.code == code
    assert caught.value.field.startswith("open_items[4]")


def test_currency_outside_the_configured_set_is_rejected():
    config = MatchingConfig(known_currencies=frozenset({"EUR"}))
    with pytest.raises(InvalidInputError) as caught:
        match_payments([pay(10.0, currency="USD")], BOOK, config)
    assert caught.value.code == "unknown_currency"


@pytest.mark.parametrize(
    "settings",
    [
        {"write_off_tolerance_abs": -1.0},
        {"write_off_tolerance_rel": math.nan},
        {"max_combination_size": 0},
        {"auto_accept_threshold": 1.5},
        {"max_reference_typos": 3},
        {"currency_decimals": {"EUR": -1}},
        {"max_combination_size": 2.5},
    ],
)
def test_bad_config_is_rejected(settings):
    with pytest.raises(InvalidInputError):
        MatchingConfig(**settings)


def test_currency_decimals_are_honoured():
    config = MatchingConfig(
        currency_decimals={"JPY": 0}, write_off_tolerance_abs=0.0, write_off_tolerance_rel=0.0
    )
    items = [item("y", 1500, "INV/2024/07777", currency="JPY")]
    match = one(pay(1500.4, "INV/2024/07777", currency="JPY"), items, config)
    assert match.best.write_off == 0 and match.best.unapplied == 0
