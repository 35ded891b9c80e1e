"""Credit profile benchmark: grade every customer of a generated database, and compute the
live exposure of one customer with 10,000 open invoices.

    python3 bench/credit_grading.py                      # 1,000,000 lines, 20,000 customers
    python3 bench/credit_grading.py --lines 20000 --customers 500   # a quick run

Figures: rows (customers graded / exposure calls), wall seconds (median and p95 for repeated
runs), SQL queries, Python peak memory (tracemalloc) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as harness  # noqa: E402

OPEN_INVOICES = 10_000


def grade_everyone(db: str) -> harness.Measurement:
    with harness.odoo_env(db, commit=True, extra_paths=[harness.PROJECT_ADDONS_PATH]) as env:
        evaluation = env["ar.credit.evaluation"]
        with harness.measure("grade all customers (cron)") as result:
            evaluation._cron_evaluate_credit(time_budget=3600)
        result.rows = env["ar.credit.review"].search_count([])
        grades = env["ar.credit.profile"].read_group([], ["grade"], ["grade"])
        result.extra["grades"] = {g["grade"]: g["grade_count"] for g in grades}
    return result


def concentrate_open_invoices(env, count: int) -> tuple[int, object]:
    """Give one customer `count` open invoices (moves re-pointed, balances untouched)."""
    cr = env.cr
    company = env.company
    cr.execute(
        """
        SELECT move.id FROM account_move move
         WHERE move.move_type = 'out_invoice' AND move.state = 'posted'
           AND move.company_id = %s AND move.amount_residual > 0
         ORDER BY move.id LIMIT %s
        """,
        (company.id, count),
    )
    move_ids = [row[0] for row in cr.fetchall()]
    partner = env["res.partner"].create({"name": "Ten Thousand Invoices Ltd", "is_company": True})
    cr.execute(
        "UPDATE account_move SET partner_id = %s, commercial_partner_id = %s WHERE id = ANY(%s)",
        (partner.id, partner.id, move_ids),
    )
    cr.execute(
        "UPDATE account_move_line SET partner_id = %s WHERE move_id = ANY(%s)",
        (partner.id, move_ids),
    )
    env.invalidate_all()
    return len(move_ids), partner


def exposure_of_big_customer(db: str, runs: int) -> list[harness.Summary]:
    with harness.odoo_env(db, extra_paths=[harness.PROJECT_ADDONS_PATH]) as env:
        moved, partner = concentrate_open_invoices(env, OPEN_INVOICES)
        exposure = env["ar.credit.exposure"]
        company = env.company

        def sql_only(measurement):
            exposure._compute_exposures([partner.id], company)

        def partner_form(measurement):
            partner.invalidate_recordset()
            partner.read(["credit_exposure", "credit_available", "amount_overdue"])

        results = [
            harness.repeat(
                f"exposure, {moved} open invoices (SQL)",
                sql_only,
                runs=runs,
                rows=1,
                trace_memory=False,
            ),
            harness.repeat(
                f"exposure, {moved} open invoices (form)",
                partner_form,
                runs=runs,
                rows=1,
                trace_memory=False,
            ),
        ]
        figures = exposure._compute_exposures([partner.id], company)[partner.id]
        print(
            f"exposure of the big customer: {figures.total:,.2f} "
            f"(open {figures.open_receivable:,.2f}, overdue {figures.amount_overdue:,.2f})"
        )
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    template = harness.ensure_template(args.lines, args.customers, args.seed)
    db = harness.fresh_copy(template)
    try:
        harness.install_addons(db, ["ar_credit_control"], extra_paths=[harness.PROJECT_ADDONS_PATH])
        # As autovacuum would have done on a live database: statistics and visibility map (the
        # latter lets exposure read open lines from its covering index alone).
        subprocess.run(["psql", "-q", "-d", db, "-c", "VACUUM ANALYZE"], check=True)
        graded = grade_everyone(db)
        exposures = exposure_of_big_customer(db, args.runs)
        harness.print_table([graded, *exposures])
        print(f"grades: {graded.extra['grades']}")
    finally:
        if not args.keep:
            harness.drop_database(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
