#!/usr/bin/env python3
"""Time the receivables data generator, the invariant checks and a template copy.

    python3 bench/generate_data.py --lines 20000 --customers 500 --runs 1

Each run generates into a scratch database copied from the base template, then drops it.
"""

from __future__ import annotations

import argparse

import _harness as harness
import psycopg2
from arcc_datagen.checks import run_checks
from arcc_datagen.generator import GenerationParams, generate, prepare_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--keep", metavar="TEMPLATE", help="keep the last result as this template database"
    )
    args = parser.parse_args()
    params = GenerationParams(lines=args.lines, customers=args.customers, seed=args.seed)
    generation, checking, copying = [], [], []
    failures = 0
    for run in range(args.runs):
        db = f"arcc_gen_bench_{run}"
        prepare_database(
            db, base_template="arcc_gen_base", http_port=harness.DEFAULT_HTTP_PORT, replace=True
        )
        # No tracemalloc here: it would slow the row building down and distort the wall time.
        with harness.measure("generate (ORM set-up + COPY)", trace_memory=False) as timing:
            counts = generate(db, params)
            timing.rows = int(counts["receivable_lines"])
        generation.append(timing)
        connection = psycopg2.connect(dbname=db)
        try:
            with harness.measure("invariant checks", timing.rows, trace_memory=False) as timing:
                with connection.cursor() as cr:
                    failures += sum(1 for value in run_checks(cr).values() if value)
            checking.append(timing)
        finally:
            connection.close()
        with harness.measure(
            "template copy (createdb -T)", timing.rows, trace_memory=False
        ) as timing:
            copy = harness.fresh_copy(db)
        copying.append(timing)
        harness.drop_database(copy)
        if args.keep and run == args.runs - 1:
            if harness.dbtools.exists(args.keep):
                harness.drop_database(args.keep)
            harness.dbtools.copy(db, args.keep)
            harness.dbtools.set_comment(args.keep, params.key())
        harness.drop_database(db)
    harness.print_table(
        [
            harness.summarize("generate (ORM set-up + COPY)", generation),
            harness.summarize("invariant checks", checking),
            harness.summarize("template copy (createdb -T)", copying),
        ]
    )
    print(f"check violations: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
