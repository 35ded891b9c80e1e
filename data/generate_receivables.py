#!/usr/bin/env python3
"""Generate a realistic Odoo 18 receivables database for ar_credit_control.

    python3 data/generate_receivables.py --db arcc_gen_demo --lines 20000 --customers 500 \
        --seed 1 --replace --prove --save-template arcc_gen_tpl_demo

Companies, chart of accounts, journals, rates, payment terms, products and customers are set
up with Odoo's ORM; invoices, credit notes, payments, reconciliations and sale orders are
written with COPY. The invariant checks of ``data/checks.sql`` run at the end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg2  # noqa: E402
from arcc_datagen import dbtools  # noqa: E402
from arcc_datagen.checks import print_report, run_checks, statistics  # noqa: E402
from arcc_datagen.generator import GenerationParams, generate, log, prepare_database  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database to create (arcc_gen_* here)")
    parser.add_argument(
        "--lines", type=int, default=20_000, help="target number of receivable move lines"
    )
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", default="", help="ISO date the data is relative to")
    parser.add_argument(
        "--in-payment-state",
        default="in_payment",
        choices=("in_payment", "paid"),
        help="payment_state of invoices paid by payments not yet matched with "
        "the bank (Odoo Community itself computes 'paid')",
    )
    parser.add_argument(
        "--base-template",
        default="arcc_gen_base",
        help="database with account,sale_management installed, built if missing",
    )
    parser.add_argument("--replace", action="store_true", help="drop --db first if it exists")
    parser.add_argument(
        "--prove",
        action="store_true",
        help="also open invoices with the ORM and register a payment",
    )
    parser.add_argument(
        "--save-template",
        metavar="NAME",
        help="copy the result to template database NAME (with its filestore)",
    )
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="only run the checks (and --prove) on an existing --db",
    )
    parser.add_argument("--http-port", type=int, default=8190)
    args = parser.parse_args(argv)
    if args.lines < 100:
        parser.error("--lines must be at least 100")
    if args.customers < 5:
        parser.error("--customers must be at least 5")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    params = GenerationParams(
        lines=args.lines,
        customers=args.customers,
        seed=args.seed,
        today=args.today,
        in_payment_state=args.in_payment_state,
    )
    if not args.check_only:
        prepare_database(
            args.db,
            base_template=args.base_template,
            http_port=args.http_port,
            replace=args.replace,
        )
        counts = generate(args.db, params)
        log(f"generated: {counts}")
    with psycopg2.connect(dbname=args.db) as connection, connection.cursor() as cr:
        ok = print_report(run_checks(cr, params.in_payment_state), statistics(cr))
        cr.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        log(f"database size: {cr.fetchone()[0]}")
    connection.close()
    if args.prove:
        from arcc_datagen.odoo_proof import prove

        ok = prove(args.db) and ok
    if args.save_template:
        if dbtools.exists(args.save_template):
            dbtools.drop(args.save_template)
        dbtools.copy(args.db, args.save_template)
        dbtools.set_comment(args.save_template, params.key())
        log(f"saved template {args.save_template}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
