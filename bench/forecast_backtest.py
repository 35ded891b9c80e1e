"""Benchmark of the collection forecast (ar_engine.forecast): accuracy and speed.

1. Backtest on the IBM sample (/work/shared/data/ibm-accounts-receivable.csv, read in place):
   train on invoices issued and settled before 2013-07-01, predict every invoice settled on or
   after it, and compare with the naive "paid on the due date" forecast: MAE of the payment
   date (days) and MAE of the amount collected per ISO week.
   The settings are chosen without looking at the test period: a small grid is scored on an
   inner backtest (cut-off 2013-01-01) that sees only what was known on 2013-07-01, and the
   winner is then run once on the real test. The library defaults are reported too.
2. Speed: fit on a synthetic history, then predict and bucket 1,000,000 open lines of 50,000
   customers by ISO week for 13 weeks, grouped by company and salesperson.

Run: python bench/forecast_backtest.py [--ibm PATH] [--lines 1000000] [--customers 50000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from datetime import date, timedelta
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "sdk"))

from ar_engine._ibm_dataset import load_ibm_invoices  # noqa: E402
from ar_engine.forecast import (  # noqa: E402
    ForecastConfig,
    HistoricalInvoice,
    OpenInvoice,
    SettledInvoice,
    backtest,
    fit_payment_behaviour,
    forecast_collections,
)

DEFAULT_IBM = Path("/work/shared/data/ibm-accounts-receivable.csv")
CUTOFF = date(2013, 7, 1)
INNER_CUTOFF = date(2013, 1, 1)


def ibm_history(path: Path, segment_of) -> list[HistoricalInvoice]:
    return [
        HistoricalInvoice(
            id=row.invoice_number,
            customer_id=row.customer_id,
            invoice_date=row.invoice_date,
            due_date=row.due_date,
            amount=row.amount,
            settled_date=row.settled_date,
            segment=segment_of(row),
        )
        for row in load_ibm_invoices(path)
    ]


def known_at(history: list[HistoricalInvoice], cutoff: date) -> list[HistoricalInvoice]:
    """The history as it looked at the cut-off: later invoices unknown, later payments unpaid."""
    return [
        HistoricalInvoice(
            past.id,
            past.customer_id,
            past.invoice_date,
            past.due_date,
            past.amount,
            past.settled_date if past.settled_date and past.settled_date < cutoff else None,
            past.segment,
        )
        for past in history
        if past.invoice_date < cutoff
    ]


def show(label: str, result) -> None:
    print(
        f"  {label:<44} train {result.train_invoices:>5} test {result.test_invoices:>4}  "
        f"date MAE {result.model_mae_days:6.2f} d (naive {result.naive_mae_days:6.2f})  "
        f"weekly MAE {result.model_weekly_mae:8.1f} (naive {result.naive_weekly_mae:8.1f}) "
        f"over {result.weeks} weeks"
    )


def ibm_backtest(path: Path) -> bool:
    if not path.exists():
        print(f"IBM sample not found at {path}: backtest skipped")
        return True
    segmentations = {
        "no segment": lambda row: None,
        "segment=country": lambda row: row.country_code,
        "segment=paperless": lambda row: row.paperless,
    }
    grid = list(product(segmentations, (1.0, 3.0, 10.0), (90.0, 365.0), (False, True)))
    print(f"IBM backtest, cut-off {CUTOFF}; choosing settings on the inner cut-off {INNER_CUTOFF}")
    scored = []
    for segmentation, prior_weight, half_life, amount_weighted in grid:
        history = known_at(ibm_history(path, segmentations[segmentation]), CUTOFF)
        config = ForecastConfig(
            prior_weight=prior_weight,
            recency_half_life_days=half_life,
            amount_weighted=amount_weighted,
        )
        inner = backtest(history, INNER_CUTOFF, config)
        # Rank on both targets at once: each metric relative to its naive baseline.
        score = (
            inner.model_mae_days / inner.naive_mae_days
            + inner.model_weekly_mae / inner.naive_weekly_mae
        )
        scored.append((score, segmentation, config, inner))
    scored.sort(key=lambda entry: entry[0])
    _, segmentation, config, inner = scored[0]
    chosen = (
        f"{segmentation}, k={config.prior_weight:g}, half-life {config.recency_half_life_days:g}"
        f"{', amount-weighted' if config.amount_weighted else ''}"
    )
    show(f"inner validation, chosen: {chosen}", inner)
    outcome = backtest(ibm_history(path, segmentations[segmentation]), CUTOFF, config)
    show("test, chosen settings", outcome)
    default = backtest(ibm_history(path, segmentations["no segment"]), CUTOFF, ForecastConfig())
    show("test, library defaults", default)
    beats = all(
        result.model_mae_days < result.naive_mae_days
        and result.model_weekly_mae < result.naive_weekly_mae
        for result in (outcome, default)
    )
    print("  model beats naive on both metrics" if beats else "  model does NOT beat naive")
    return beats


def synthetic_scale(n_lines: int, n_customers: int, seed: int) -> None:
    rng = random.Random(seed)
    as_of = date(2025, 6, 2)
    habits = [rng.gauss(5, 12) for _ in range(n_customers)]
    history = []
    for customer in range(n_customers):
        for _ in range(rng.randint(0, 30)):
            due = as_of - timedelta(days=rng.randint(30, 700))
            delay = round(habits[customer] + rng.gauss(0, 6))
            history.append(
                SettledInvoice(customer, due, due + timedelta(days=delay), 100.0, customer % 7)
            )
    history = [paid for paid in history if paid.settled_date <= as_of]
    open_lines = [
        OpenInvoice(
            id=line,
            customer_id=(customer := rng.randrange(n_customers + n_customers // 10)),
            due_date=as_of + timedelta(days=rng.randint(-90, 90)),
            amount=round(rng.uniform(10, 5000), 2),
            promised_date=as_of + timedelta(days=7) if line % 50 == 0 else None,
            disputed=line % 97 == 0,
            segment=customer % 7,
            dimensions={"company": customer % 3, "salesperson": customer % 40},
        )
        for line in range(n_lines)
    ]
    print(
        f"scale: {len(open_lines)} open lines, {n_customers} customers "
        f"(+10% without history), {len(history)} settled invoices of history"
    )
    start = time.perf_counter()
    model = fit_payment_behaviour(history, as_of)
    fitted = time.perf_counter()
    predictions = model.predict(open_lines, as_of)
    predicted = time.perf_counter()
    forecast = forecast_collections(open_lines, predictions, as_of, ("company", "salesperson"))
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  fit {fitted - start:.2f} s, predict {predicted - fitted:.2f} s, "
        f"weekly buckets {done - predicted:.2f} s, total {done - start:.2f} s; "
        f"{len(forecast.rows)} (group, week) rows; peak memory {peak:.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ibm", type=Path, default=DEFAULT_IBM)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ok = ibm_backtest(args.ibm)
    synthetic_scale(args.lines, args.customers, args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
