"""Time credit scoring of many partners with ar_engine.scoring.

Generates seeded random facts (no database), scores them in one batch and prints rows, wall
seconds and peak memory. The timed pass runs without tracemalloc (which slows allocation);
a second, traced pass measures the peak memory of scoring alone.

    python bench/engine_scoring.py                   # 20,000 partners, realistic mix
    python bench/engine_scoring.py --rows 100000 --mix adverse

``--mix realistic``: mostly punctual customers, some late, few bad and new ones.
``--mix adverse``: every factor random, so most partners collect several reasons (worst case).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

try:
    from ar_engine.scoring import CreditFacts, score_partners
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
    from ar_engine.scoring import CreditFacts, score_partners


def realistic_facts(rng: random.Random, partner_id: int) -> CreditFacts:
    profile = rng.random()
    invoiced = round(rng.lognormvariate(10, 1.2), 2)
    limit = rng.choice([0.0, 0.0, round(invoiced / 4, -3) or 1000.0])
    if profile < 0.02:  # new customer, no payment yet
        return CreditFacts(
            partner_id=partner_id,
            company_id=1,
            amount_overdue=0.0,
            open_exposure=invoiced / 12,
            credit_limit=limit,
            customer_age_days=rng.randint(0, 60),
            invoiced_amount=invoiced / 12,
        )
    if profile < 0.72:  # punctual
        on_time, avg_late, worst = rng.uniform(0.92, 1.0), rng.uniform(0, 3), rng.randint(0, 20)
        overdue_days = 0
    elif profile < 0.92:  # sometimes late
        on_time, avg_late, worst = rng.uniform(0.6, 0.92), rng.uniform(3, 25), rng.randint(10, 75)
        overdue_days = rng.choice([0, 0, rng.randint(1, 45)])
    else:  # bad payer
        on_time, avg_late, worst = rng.uniform(0, 0.6), rng.uniform(20, 90), rng.randint(45, 200)
        overdue_days = rng.randint(1, 150)
    overdue = round(invoiced * rng.uniform(0.01, 0.3), 2) if overdue_days else 0.0
    disputed = rng.random() < 0.05
    return CreditFacts(
        partner_id=partner_id,
        company_id=1,
        window_months=12,
        paid_instalment_count=rng.randint(1, 60),
        avg_days_late=avg_late,
        share_paid_on_time=on_time,
        max_days_late=float(worst),
        amount_overdue=overdue,
        oldest_overdue_days=overdue_days,
        open_exposure=round(invoiced / 12 * rng.uniform(0.5, 2.0), 2),
        credit_limit=limit,
        disputed_count=1 if disputed else 0,
        disputed_amount=round(invoiced * rng.uniform(0.001, 0.2), 2) if disputed else 0.0,
        customer_age_days=rng.randint(30, 5000),
        invoiced_amount=invoiced,
        external_rating=rng.choice([None] * 8 + ["A", "B", "C", "D", 72.0]),
        financial_assessment=rng.choice([None] * 8 + ["strong", "adequate", "weak"]),
        industry_risk=rng.choice([None] * 6 + ["low", "medium", "high"]),
    )


def adverse_facts(rng: random.Random, partner_id: int) -> CreditFacts:
    return CreditFacts(
        partner_id=partner_id,
        company_id=1,
        paid_instalment_count=rng.randint(0, 40),
        avg_days_late=rng.random() * 40,
        share_paid_on_time=rng.random(),
        max_days_late=rng.random() * 120,
        amount_overdue=rng.random() * 1e4,
        oldest_overdue_days=rng.randint(0, 120),
        open_exposure=rng.random() * 2e4,
        credit_limit=rng.choice([0.0, None, 1e4]),
        disputed_count=rng.randint(0, 2),
        disputed_amount=rng.random() * 100,
        customer_age_days=rng.randint(0, 3000),
        invoiced_amount=rng.random() * 1e5,
        external_rating=rng.choice([None, "A", "C", 55.0]),
        financial_assessment=rng.choice([None, "weak"]),
        industry_risk=rng.choice([None, "high", "low"]),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20240630)
    parser.add_argument("--mix", choices=("realistic", "adverse"), default="realistic")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; best is reported")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    make = realistic_facts if args.mix == "realistic" else adverse_facts
    facts = [make(rng, partner_id) for partner_id in range(1, args.rows + 1)]

    timings = []
    results = []
    for _ in range(args.repeat):
        results = []
        gc.collect()
        started = time.perf_counter()
        results = score_partners(facts)
        timings.append(time.perf_counter() - started)

    del results
    gc.collect()
    tracemalloc.start()
    traced = score_partners(facts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    grades = Counter(result.grade for result in traced)
    reasons = sum(len(result.reasons) for result in traced)
    max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"mix                 {args.mix} (seed {args.seed})")
    print(f"rows                {len(traced)}")
    print(
        f"wall seconds        {min(timings):.3f} best of {args.repeat} "
        f"({', '.join(f'{t:.3f}' for t in timings)})"
    )
    print(f"per partner         {min(timings) / len(traced) * 1e6:.1f} us")
    print(f"reasons per partner {reasons / len(traced):.2f}")
    print(
        f"peak memory         {peak / 2**20:.1f} MiB traced during scoring; "
        f"process max RSS {max_rss_mib:.0f} MiB"
    )
    print(
        "grades              "
        + ", ".join(f"{g}={grades[g]}" for g in "ABCDE")
        + f", new={grades['new']}"
    )


if __name__ == "__main__":
    main()
