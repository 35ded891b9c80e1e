import gc
import math
from dataclasses import replace

import pytest

from ar_engine.errors import InvalidInputError
from ar_engine.scoring import (
    DEFAULT_GRADE_POLICIES,
    DEFAULT_POLICY_TABLE,
    DEFAULT_SCORING_CONFIG,
    REASON_TEMPLATES,
    CreditFacts,
    GradePolicy,
    PolicyTable,
    ScoringConfig,
    score_partner,
    score_partners,
)

BASE = DEFAULT_SCORING_CONFIG.base_score  # 85


def clean(**overrides) -> CreditFacts:
    """A customer with a spotless 12-month record: every factor at zero impact."""
    facts = CreditFacts(
        partner_id=7,
        company_id=1,
        window_months=12,
        paid_instalment_count=12,
        avg_days_late=0.0,
        share_paid_on_time=1.0,
        max_days_late=0.0,
        invoiced_amount=120_000.0,
        customer_age_days=400,
    )
    return replace(facts, **overrides)


def reason_points(result, code):
    matching = [reason.points for reason in result.reasons if reason.code == code]
    return matching[0] if matching else 0.0


def test_clean_customer_gets_base_score_and_no_reasons():
    result = score_partner(clean())
    assert (result.partner_id, result.company_id) == (7, 1)
    assert result.grade == "A"
    assert result.score == 85
    assert result.reasons == ()


def test_late_payments_reason_and_sentence():
    # 38% late (over 0.25 -> 12 points) and 21 days on average (over 15 -> 8 points)
    result = score_partner(clean(share_paid_on_time=0.62, avg_days_late=21.0))
    assert reason_points(result, "late_payments") == -20.0
    assert result.score == 65  # 85 - 20, exactly at the B cut-off
    assert result.grade == "B"
    (reason,) = result.reasons
    assert reason.params == {"late_share_pct": 38, "avg_days_late": 21, "window_months": 12}
    assert reason.render() == (
        "paid 38% of the amount due late in the last 12 months, average 21 days"
    )


@pytest.mark.parametrize(
    ("share_on_time", "points"),
    [(1.0, 0), (0.90, 0), (0.89, 5), (0.75, 5), (0.74, 12), (0.50, 12), (0.49, 20), (0.0, 20)],
)
def test_late_share_band_edges(share_on_time, points):
    # late share = 1 - on time; thresholds 0.10 / 0.25 / 0.50 must be strictly exceeded
    result = score_partner(clean(share_paid_on_time=share_on_time))
    assert reason_points(result, "late_payments") == -points


@pytest.mark.parametrize(
    ("days", "points"),
    [(5, 0), (6, 4), (15, 4), (16, 8), (30, 8), (31, 15), (60, 15), (61, 22), (400, 22)],
)
def test_average_days_late_band_edges(days, points):
    result = score_partner(clean(avg_days_late=float(days)))
    assert reason_points(result, "late_payments") == -points


@pytest.mark.parametrize(
    ("days", "points"), [(60, 0), (61, 4), (90, 4), (91, 8), (180, 8), (181, 12)]
)
def test_worst_days_late_band_edges(days, points):
    result = score_partner(clean(max_days_late=float(days)))
    assert reason_points(result, "max_days_late") == -points
    if points:
        reason = next(r for r in result.reasons if r.code == "max_days_late")
        assert reason.render() == f"worst payment was {days} days late in the last 12 months"


@pytest.mark.parametrize(
    ("oldest_days", "points"),
    [(0, 0), (1, 3), (30, 3), (31, 8), (60, 8), (61, 15), (90, 15), (91, 25)],
)
def test_overdue_band_edges(oldest_days, points):
    result = score_partner(clean(amount_overdue=1234.5, oldest_overdue_days=oldest_days))
    assert reason_points(result, "overdue") == -points


def test_overdue_sentence_and_tolerance():
    result = score_partner(clean(amount_overdue=1234.5, oldest_overdue_days=45))
    assert result.reasons[0].render() == "1234.50 currently overdue, oldest 45 days"
    # no amount overdue: the age of nothing does not count
    assert score_partner(clean(amount_overdue=0.0, oldest_overdue_days=120)).reasons == ()
    tolerant = ScoringConfig(overdue_tolerance_amount=50.0)
    at_tolerance = clean(amount_overdue=50.0, oldest_overdue_days=120)
    assert score_partner(at_tolerance, tolerant).reasons == ()
    over = score_partner(replace(at_tolerance, amount_overdue=50.01), tolerant)
    assert reason_points(over, "overdue") == -25


@pytest.mark.parametrize(
    ("exposure", "points"),
    [(8000, 0), (8001, 3), (10000, 3), (10001, 10), (12000, 10), (12001, 18)],
)
def test_utilisation_band_edges(exposure, points):
    result = score_partner(clean(open_exposure=float(exposure), credit_limit=10000.0))
    assert reason_points(result, "credit_limit_utilisation") == -points


@pytest.mark.parametrize("no_limit", [0.0, None])
def test_no_credit_limit_means_utilisation_not_applicable(no_limit):
    result = score_partner(clean(open_exposure=1e9, credit_limit=no_limit))
    assert result.reasons == ()


def test_utilisation_sentence():
    result = score_partner(clean(open_exposure=11200.0, credit_limit=10000.0))
    assert result.reasons[0].render() == (
        "open exposure is 112% of the credit limit (11200.00 of 10000.00)"
    )


@pytest.mark.parametrize(("disputed_amount", "points"), [(500, 3), (501, 8), (1500, 8), (1501, 15)])
def test_dispute_share_band_edges(disputed_amount, points):
    # share of 10,000 invoiced: 5% and 15% thresholds; any dispute is over 0
    result = score_partner(
        clean(invoiced_amount=10000.0, disputed_count=1, disputed_amount=float(disputed_amount))
    )
    assert reason_points(result, "disputes") == -points


def test_disputes_without_invoicing_count_as_full_share():
    result = score_partner(clean(invoiced_amount=0.0, disputed_count=2, disputed_amount=300.0))
    assert reason_points(result, "disputes") == -15
    assert result.reasons[0].render() == (
        "2 disputed invoices totalling 300.00 (100% of the amount invoiced in the last 12 months)"
    )


@pytest.mark.parametrize(
    ("age", "code", "points"),
    [
        (0, "young_customer", -5),
        (179, "young_customer", -5),
        (180, None, 0),
        (1094, None, 0),
        (1095, "long_relationship", 3),
        (None, None, 0),
    ],
)
def test_customer_age_edges(age, code, points):
    result = score_partner(clean(customer_age_days=age))
    assert result.score == BASE + points
    assert [reason.code for reason in result.reasons] == ([code] if code else [])


def test_long_relationship_sentence():
    result = score_partner(clean(customer_age_days=3 * 365 + 1))
    assert result.reasons[0].render() == "customer for 3 years"


@pytest.mark.parametrize(
    ("rating", "code", "points", "sentence"),
    [
        ("A", "external_rating", 8, "external credit rating A"),
        (" b ", "external_rating", 3, "external credit rating B"),
        ("C", None, 0, None),
        ("E", "external_rating", -20, "external credit rating E"),
        (80, "external_score", 8, "external credit score 80 (rated A)"),
        (79.5, "external_score", 3, "external credit score 79.5 (rated B)"),
        (34, "external_score", -20, "external credit score 34 (rated E)"),
    ],
)
def test_external_rating(rating, code, points, sentence):
    result = score_partner(clean(external_rating=rating))
    assert result.score == BASE + points
    if code is None:
        assert result.reasons == ()
    else:
        (reason,) = result.reasons
        assert (reason.code, reason.points, reason.render()) == (code, points, sentence)


def test_financial_assessment_and_industry_risk():
    result = score_partner(clean(financial_assessment="weak", industry_risk="high"))
    assert result.score == 85 - 10 - 6
    assert [r.render() for r in result.reasons] == [
        "financial statements assessed as weak",
        "high industry risk",
    ]
    good = score_partner(clean(financial_assessment="strong", industry_risk="low"))
    assert good.score == 85 + 5 + 2
    neutral = score_partner(clean(financial_assessment="adequate", industry_risk="medium"))
    assert neutral.reasons == ()


def test_new_customer_without_payment_history():
    facts = CreditFacts(partner_id=9, company_id=2, amount_overdue=100.0, oldest_overdue_days=10)
    result = score_partner(facts)
    assert result.grade == "new"
    assert result.score == 85 - 3  # still pays for what is overdue today
    codes = [reason.code for reason in result.reasons]
    assert codes == ["overdue", "no_payment_history"]
    assert result.reasons[1].render() == (
        "no payment history yet (0 paid instalments, 1 needed for a grade)"
    )


def test_minimum_history_is_configurable():
    config = ScoringConfig(min_paid_instalments=3)
    assert score_partner(clean(paid_instalment_count=2), config).grade == "new"
    assert score_partner(clean(paid_instalment_count=3), config).grade == "A"


def test_missing_optional_inputs_are_neutral():
    facts = CreditFacts(
        partner_id=1,
        company_id=1,
        paid_instalment_count=0,
        avg_days_late=None,
        share_paid_on_time=None,
        max_days_late=None,
        credit_limit=None,
        customer_age_days=None,
        external_rating=None,
        financial_assessment=None,
        industry_risk=None,
    )
    result = score_partner(facts)
    assert result.grade == "new"
    assert result.score == 85
    assert [reason.code for reason in result.reasons] == ["no_payment_history"]


def test_score_is_clamped_to_0_and_100():
    worst = clean(
        share_paid_on_time=0.0,
        avg_days_late=200.0,
        max_days_late=300.0,
        amount_overdue=5000.0,
        oldest_overdue_days=200,
        open_exposure=50000.0,
        credit_limit=10000.0,
        disputed_count=3,
        disputed_amount=100000.0,
        customer_age_days=10,
        external_rating="E",
        financial_assessment="weak",
        industry_risk="high",
    )
    result = score_partner(worst)
    assert result.score == 0
    assert result.grade == "E"
    # most damaging first, deterministic across runs
    points = [reason.points for reason in result.reasons]
    assert points == sorted(points)
    assert score_partner(worst) == result
    best = ScoringConfig(base_score=100.0)
    assert score_partner(clean(external_rating="A", customer_age_days=4000), best).score == 100


def test_equal_points_keep_a_fixed_order():
    # late_payments (-8 from 16 days) and max_days_late (-8 from 91 days) tie
    result = score_partner(clean(avg_days_late=16.0, max_days_late=91.0))
    assert [reason.code for reason in result.reasons] == ["late_payments", "max_days_late"]


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100, "A"),
        (80, "A"),
        (79, "B"),
        (65, "B"),
        (64, "C"),
        (50, "C"),
        (49, "D"),
        (35, "D"),
        (34, "E"),
        (0, "E"),
    ],
)
def test_grade_cutoff_edges(score, grade):
    assert DEFAULT_SCORING_CONFIG.grade_for_score(score) == grade
    # and through scoring, moving the base score
    assert score_partner(clean(), ScoringConfig(base_score=score)).grade == grade


def test_batch_keeps_input_order_and_matches_single_scoring():
    facts = [clean(partner_id=i, avg_days_late=float(i * 7)) for i in range(10)]
    results = score_partners(iter(facts))
    assert [r.partner_id for r in results] == list(range(10))
    assert results == [score_partner(item) for item in facts]
    assert results[0].score > results[-1].score


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"amount_overdue": -1.0}, "facts[1].amount_overdue", "negative"),
        ({"open_exposure": math.nan}, "facts[1].open_exposure", "not_finite"),
        ({"invoiced_amount": math.inf}, "facts[1].invoiced_amount", "not_finite"),
        ({"credit_limit": -5.0}, "facts[1].credit_limit", "negative"),
        ({"disputed_amount": "12"}, "facts[1].disputed_amount", "not_a_number"),
        ({"share_paid_on_time": 1.2}, "facts[1].share_paid_on_time", "out_of_range"),
        ({"share_paid_on_time": math.nan}, "facts[1].share_paid_on_time", "not_finite"),
        ({"avg_days_late": -3.0}, "facts[1].avg_days_late", "negative"),
        ({"avg_days_late": None}, "facts[1].avg_days_late", "required"),
        ({"window_months": 0}, "facts[1].window_months", "not_positive"),
        ({"customer_age_days": -1}, "facts[1].customer_age_days", "negative"),
        ({"external_rating": "Z"}, "facts[1].external_rating", "invalid_choice"),
        ({"external_rating": 120}, "facts[1].external_rating", "out_of_range"),
        ({"external_rating": math.nan}, "facts[1].external_rating", "not_finite"),
        ({"financial_assessment": "excellent"}, "facts[1].financial_assessment", "invalid_choice"),
        ({"industry_risk": "HIGH"}, "facts[1].industry_risk", "invalid_choice"),
    ],
)
def test_bad_facts_raise_with_field_and_code(overrides, field, code):
    with pytest.raises(InvalidInputError) as error:
        score_partners([clean(), clean(**overrides)])
    assert isinstance(error.value, ValueError)
    assert (error.value.field, error.value.code) == (field, code)


def test_single_scoring_error_names_the_bare_field():
    with pytest.raises(InvalidInputError) as error:
        score_partner(clean(amount_overdue=-1.0))
    assert error.value.field == "amount_overdue"


def test_every_reason_code_has_a_template():
    worst = clean(
        share_paid_on_time=0.5,
        avg_days_late=40.0,
        max_days_late=100.0,
        amount_overdue=10.0,
        oldest_overdue_days=5,
        open_exposure=9000.0,
        credit_limit=10000.0,
        disputed_count=1,
        disputed_amount=1.0,
        customer_age_days=20,
        external_rating="D",
        financial_assessment="weak",
        industry_risk="high",
    )
    for reason in score_partner(worst).reasons + score_partner(CreditFacts(1, 1)).reasons:
        assert reason.code in REASON_TEMPLATES
        assert "%(" not in reason.render()  # every placeholder filled


# ----------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"late_share_bands": ((0.1, -5.0),)}, "late_share_bands[0].points", "negative_weight"),
        (
            {"avg_days_late_bands": ((15, 4.0), (5, 8.0))},
            "avg_days_late_bands",
            "thresholds_not_ascending",
        ),
        (
            {"max_days_late_bands": ((60, 4.0), (60, 8.0))},
            "max_days_late_bands",
            "thresholds_not_ascending",
        ),
        (
            {"utilisation_bands": ((0.8, 10.0), (1.0, 3.0))},
            "utilisation_bands[1].points",
            "points_not_ascending",
        ),
        ({"oldest_overdue_bands": ((-1, 3.0),)}, "oldest_overdue_bands[0].threshold", "negative"),
        ({"grade_cutoffs": (80.0, 80.0, 50.0, 35.0)}, "grade_cutoffs", "cutoffs_not_descending"),
        ({"grade_cutoffs": (35.0, 50.0, 65.0, 80.0)}, "grade_cutoffs", "cutoffs_not_descending"),
        ({"grade_cutoffs": (120.0, 65.0, 50.0, 35.0)}, "grade_cutoffs[0]", "out_of_range"),
        ({"grade_cutoffs": (80.0, 65.0, 50.0)}, "grade_cutoffs", "wrong_length"),
        (
            {"external_score_cutoffs": (10.0, 20.0, 30.0, 40.0)},
            "external_score_cutoffs",
            "cutoffs_not_descending",
        ),
        ({"base_score": math.nan}, "base_score", "not_finite"),
        ({"base_score": 101.0}, "base_score", "out_of_range"),
        ({"young_customer_points": -1.0}, "young_customer_points", "negative_weight"),
        ({"young_customer_days": 2000}, "young_customer_days", "thresholds_not_ascending"),
        ({"min_paid_instalments": -1}, "min_paid_instalments", "negative_weight"),
        ({"overdue_tolerance_amount": -1.0}, "overdue_tolerance_amount", "negative"),
        (
            {"external_rating_points": {"A": 0, "B": 5, "C": 0, "D": -1, "E": -2}},
            "external_rating_points",
            "not_monotonic",
        ),
        ({"industry_risk_points": {"low": 0, "high": -1}}, "industry_risk_points", "wrong_keys"),
    ],
)
def test_invalid_config(kwargs, field, code):
    with pytest.raises(InvalidInputError) as error:
        ScoringConfig(**kwargs)
    assert (error.value.field, error.value.code) == (field, code)


def test_custom_bands_change_the_score():
    config = ScoringConfig(oldest_overdue_bands=((10, 40.0),))
    facts = clean(amount_overdue=10.0, oldest_overdue_days=11)
    assert score_partner(facts, config).score == 45
    assert score_partner(replace(facts, oldest_overdue_days=10), config).score == 85


# ----------------------------------------------------------------------------- policy


def test_policy_suggestion_rounds_limit_from_monthly_invoicing():
    # 120,000 over 12 months = 10,000 a month; A = 3 months -> 30,000
    facts = clean()
    assert facts.average_monthly_invoiced == 10_000.0
    suggestion = DEFAULT_POLICY_TABLE.suggest("A", facts.average_monthly_invoiced)
    assert suggestion.credit_limit == 30_000.0
    assert (suggestion.payment_term_code, suggestion.prepayment_percent) == ("net_45", 0.0)
    assert suggestion.credit_hold is False
    # C = 1 month of 2,500 -> 2,500 rounds half up to 3,000; 2,499 rounds down to 2,000
    assert DEFAULT_POLICY_TABLE.suggest("C", 2_500.0).credit_limit == 3_000.0
    assert DEFAULT_POLICY_TABLE.suggest("C", 2_499.0).credit_limit == 2_000.0


def test_policy_limit_is_never_zero():
    for grade in ("A", "B", "C", "D", "new"):
        suggestion = DEFAULT_POLICY_TABLE.suggest(grade, 0.0)
        assert suggestion.credit_limit == DEFAULT_POLICY_TABLE.minimum_credit_limit > 0


def test_worst_grade_uses_hold_and_prepayment_not_a_zero_limit():
    suggestion = DEFAULT_POLICY_TABLE.suggest("E", 50_000.0)
    assert suggestion.credit_limit is None
    assert suggestion.credit_hold is True
    assert suggestion.prepayment_percent == 100.0
    d_grade = DEFAULT_POLICY_TABLE.suggest("D", 10_000.0)
    assert (d_grade.credit_limit, d_grade.prepayment_percent) == (5_000.0, 50.0)


def test_average_monthly_invoiced_uses_customer_life_when_shorter():
    # 61 days is 2.004 months: 12,000 / (61 / 30.4375)
    young = clean(invoiced_amount=12_000.0, customer_age_days=61)
    assert young.average_monthly_invoiced == pytest.approx(12_000.0 / (61 / 30.4375))
    # under one month counts as one month
    assert clean(invoiced_amount=12_000.0, customer_age_days=3).average_monthly_invoiced == 12_000
    assert clean(invoiced_amount=12_000.0, customer_age_days=None).average_monthly_invoiced == (
        1_000.0
    )


def _policies_with(grade, **changes):
    return tuple(
        replace(policy, **changes) if policy.grade == grade else policy
        for policy in DEFAULT_GRADE_POLICIES
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"policies": DEFAULT_GRADE_POLICIES[:-1]}, "policies", "wrong_keys"),
        (
            {"policies": _policies_with("B", limit_months=0.0)},
            "policies[B].limit_months",
            "not_positive",
        ),
        (
            {"policies": _policies_with("E", credit_hold=False, prepayment_percent=0.0)},
            "policies[E].limit_months",
            "no_limit_without_hold",
        ),
        (
            {"policies": _policies_with("D", prepayment_percent=120.0)},
            "policies[D].prepayment_percent",
            "out_of_range",
        ),
        (
            {"policies": _policies_with("A", payment_term_code="")},
            "policies[A].payment_term_code",
            "required",
        ),
        ({"limit_rounding": 0.0}, "limit_rounding", "not_positive"),
        ({"minimum_credit_limit": 0.0}, "minimum_credit_limit", "not_positive"),
    ],
)
def test_invalid_policy_table(kwargs, field, code):
    with pytest.raises(InvalidInputError) as error:
        PolicyTable(**kwargs)
    assert (error.value.field, error.value.code) == (field, code)


def test_policy_for_unknown_grade_and_negative_average():
    with pytest.raises(InvalidInputError) as error:
        DEFAULT_POLICY_TABLE.suggest("F", 100.0)
    assert error.value.code == "invalid_choice"
    with pytest.raises(InvalidInputError) as error:
        DEFAULT_POLICY_TABLE.suggest("A", -1.0)
    assert error.value.code == "negative"


def test_custom_policy_table_rounding():
    table = PolicyTable(
        policies=_policies_with("B", limit_months=1.5),
        limit_rounding=500.0,
        minimum_credit_limit=250.0,
    )
    # 1.5 x 1,170 = 1,755 -> nearest 500 is 2,000
    assert table.suggest("B", 1_170.0).credit_limit == 2_000.0
    assert table.suggest("B", 10.0).credit_limit == 250.0
    assert table.policy_for("B") == GradePolicy("B", 1.5, "net_30")


def test_batch_restores_the_garbage_collector_state():
    assert gc.isenabled()
    score_partners([clean()])
    assert gc.isenabled()
    with pytest.raises(InvalidInputError):
        score_partners([clean(amount_overdue=-1.0)])
    assert gc.isenabled()
    gc.disable()
    try:
        score_partners([clean()])
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()
