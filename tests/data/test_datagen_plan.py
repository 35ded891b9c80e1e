import random
from datetime import date, timedelta

import pytest

from ar_engine.sample.plan import (
    COMPANIES,
    UNMATCHED_PAYMENT_DAYS,
    ProductLine,
    convert,
    currency_rate,
    plan_invoice,
)
from ar_engine.sample.profiles import PROFILES, PROFILES_BY_NAME

TODAY = date(2026, 6, 15)
PRICES = [4500, 9000, 12000, 25000, 48000, 99000]
WEIGHTS = [5.0, 2.0, 1.0, 1.0, 1.5, 1.0, 0.5]


def plans(count=400, seed=11, profile=None):
    rng = random.Random(seed)
    result = []
    for index in range(count):
        chosen = profile or PROFILES[index % len(PROFILES)]
        result.append(
            plan_invoice(
                rng,
                company=index % 2,
                customer=index,
                profile=chosen,
                invoice_date=TODAY - timedelta(days=rng.randint(0, 730)),
                today=TODAY,
                product_prices=PRICES,
                term_weights=WEIGHTS,
            )
        )
    return result


def test_tax_is_rounded_per_line_half_up():
    assert ProductLine(0, 1, 5555).tax_cents == 833  # 8.3325 -> 8.33
    assert ProductLine(0, 1, 10).tax_cents == 2  # 1.5 cents -> 2


def test_convert_rounds_half_away_from_zero():
    assert convert(100, 0.5) == 200
    assert convert(1, 2.0) == 1  # 0.5 -> 1
    assert convert(-1, 2.0) == -1


def test_currency_rate_is_monthly_and_identity_for_company_currency():
    assert currency_rate("USD", "USD", TODAY) == 1.0
    assert currency_rate("USD", "EUR", date(2025, 3, 1)) == currency_rate(
        "USD", "EUR", date(2025, 3, 28)
    )
    rates = {currency_rate("USD", "EUR", date(2025, month, 1)) for month in range(1, 13)}
    assert len(rates) > 6
    assert all(0.8 < rate < 1.05 for rate in rates)


def test_instalments_sum_to_invoice_total_in_both_currencies():
    for plan in plans():
        total = plan.untaxed_cents + plan.tax_cents
        assert sum(line.amount_cents for line in plan.instalments) == total
        expected_balance = sum(convert(line.subtotal_cents, plan.rate) for line in plan.lines)
        expected_balance += convert(plan.tax_cents, plan.rate)
        assert sum(line.balance_cents for line in plan.instalments) == expected_balance


def test_settlements_never_overpay_and_residuals_add_up():
    for plan in plans():
        applied = {index: [0, 0] for index in range(len(plan.instalments))}
        for settlement in plan.settlements:
            assert settlement.day <= TODAY
            assert settlement.day >= plan.invoice_date
            for piece in settlement.pieces:
                assert piece.amount_cents > 0 and piece.balance_cents >= 0
                applied[piece.instalment][0] += piece.amount_cents
                applied[piece.instalment][1] += piece.balance_cents
        for index, line in enumerate(plan.instalments):
            assert line.residual_cents == line.amount_cents - applied[index][0]
            assert line.residual_balance_cents == line.balance_cents - applied[index][1]
            assert line.residual_cents >= 0
            # Settled in one currency means settled in the other (no exchange difference).
            assert (line.residual_cents == 0) == (line.residual_balance_cents == 0)


def test_refunds_only_on_company_currency_invoices_and_clear_consistently():
    seen_refund = False
    for plan in plans(600, profile=PROFILES_BY_NAME["disputing"]):
        for settlement in plan.settlements:
            if settlement.kind != "refund":
                continue
            seen_refund = True
            assert plan.currency == COMPANIES[plan.company].currency
            receivable = settlement.receivable
            applied = sum(piece.amount_cents for piece in settlement.pieces)
            assert receivable.residual_cents == receivable.amount_cents + applied
            assert receivable.residual_cents <= 0
    assert seen_refund


def test_recent_payments_are_not_matched_with_the_bank():
    for plan in plans():
        for settlement in plan.settlements:
            if settlement.kind == "payment":
                recent = (TODAY - settlement.day).days <= UNMATCHED_PAYMENT_DAYS
                assert settlement.matched_with_bank is not recent


@pytest.mark.parametrize("name", ["prompt", "defaulting"])
def test_profiles_shape_the_open_balance(name):
    old = [
        plan
        for plan in plans(800, seed=5, profile=PROFILES_BY_NAME[name])
        if (TODAY - plan.invoice_date).days > 500
    ]
    open_share = sum(1 for plan in old if any(line.residual_cents for line in plan.instalments))
    open_share /= len(old)
    if name == "prompt":
        assert open_share < 0.05
    else:
        assert open_share > 0.3


def test_data_set_holds_every_kind_of_document():
    every = plans(1500)
    assert any(len(plan.instalments) > 1 for plan in every)
    assert any(plan.currency != COMPANIES[plan.company].currency for plan in every)
    assert any(sum(1 for s in plan.settlements if s.kind == "payment") > 1 for plan in every)
    assert any(s.kind == "refund" and not s.pieces for plan in every for s in plan.settlements)
    assert any(
        s.kind == "payment" and len(s.pieces) > 1 for plan in every for s in plan.settlements
    )


def test_same_seed_same_plans_other_seed_other_plans():
    def digest(items):
        return [
            (
                p.invoice_date,
                p.currency,
                [(line.amount_cents, line.residual_cents) for line in p.instalments],
            )
            for p in items
        ]

    assert digest(plans(200, seed=42)) == digest(plans(200, seed=42))
    assert digest(plans(200, seed=42)) != digest(plans(200, seed=43))


def test_checks_file_parses_into_named_violation_counts():
    from arcc_datagen.checks import load_checks

    checks = load_checks()
    names = [name for name, _sql in checks]
    assert len(names) == len(set(names)) >= 15
    for name, sql in checks:
        statement = "\n".join(
            line for line in sql.splitlines() if not line.lstrip().startswith("--")
        )
        assert statement.lstrip().upper().startswith(("SELECT", "WITH")), name
        assert statement.rstrip().endswith(";"), name
        assert "-- name:" not in sql, name
