"""Benchmark of the credit controller's overview: the server time of its one data call.

On a copy of a generated template (default: 1,000,000 lines, 2,000 customers) with the addon
installed, the daily jobs the overview reads from run first, timed: the monthly receivables
KPIs the DSO/CEI trend reads (``ar.receivable.kpi.month._cron_refresh``, what the overview
would cost on every opening without it) and the collection forecast. Then, timed,
``ar.overview.get_overview`` as the admin (a credit manager) for the current company and for
all of its allowed companies, as the web client calls it (target: 1 s or less; timed without
tracemalloc, which slows it).

Run: python3 bench/overview.py [--template NAME] [--db COPY] [--keep] [--reuse]
"""

from __future__ import annotations

import argparse

import _harness as harness

DEFAULT_TEMPLATE = "arcc_gen_tpl_1000000l_2000c_s1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--db", default="arcc_overview_bench", help="name of the copy to run on")
    parser.add_argument("--keep", action="store_true", help="keep the copy for another run")
    parser.add_argument(
        "--reuse", action="store_true", help="run on --db as it is (addon already installed)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--http-port", type=int, default=harness.DEFAULT_HTTP_PORT)
    args = parser.parse_args()
    paths = [harness.PROJECT_ADDONS_PATH]
    db = args.db
    if not args.reuse:
        db = harness.fresh_copy(args.template, name=args.db)
        harness.install_addons(
            db, ["ar_credit_control"], extra_paths=paths, http_port=args.http_port
        )
    try:
        with harness.odoo_env(db, extra_paths=paths, commit=True) as env:
            from odoo.tools import SQL

            admin = env.ref("base.user_admin")
            company = admin.company_id
            # The admin works in every company of the data set (the generator makes two).
            admin.company_ids = env["res.company"].search([])
            lines = env.execute_query(
                SQL(
                    "SELECT count(*) FROM account_move_line WHERE account_id = ANY(%s)",
                    env["ar.receivable"]._account_ids(admin.company_ids),
                )
            )[0][0]
            results = []

            def kpi_months(measurement):
                env["ar.receivable.kpi.month"]._cron_refresh(time_budget=3600.0)
                measurement.rows = env["ar.receivable.kpi.month"].search_count([])

            results.append(
                harness.repeat(
                    "daily job: receivables KPIs of 13 months, all companies",
                    kpi_months,
                    runs=1,
                    warmup=0,
                    trace_memory=False,
                )
            )

            def forecast(measurement):
                measurement.rows = sum(
                    env["ar.collection.forecast"]._refresh(admin.company_ids).values()
                )

            results.append(
                harness.repeat(
                    "daily job: collection forecast", forecast, runs=1, warmup=0, trace_memory=False
                )
            )
            env.cr.commit()
            for label, companies in (
                ("get_overview, current company", company),
                ("get_overview, all allowed companies", admin.company_ids),
            ):
                overview = (
                    env["ar.overview"]
                    .with_user(admin)
                    .with_context(allowed_company_ids=companies.ids)
                    .with_company(company)
                )

                def call(measurement, overview=overview):
                    # A new request each time: nothing cached from the previous call.
                    env.invalidate_all()
                    data = overview.get_overview()
                    measurement.rows = len(data["trend"]) + len(data["forecast"])

                results.append(
                    harness.repeat(label, call, runs=args.runs, warmup=1, trace_memory=False)
                )
            harness.print_table(results)
            data = overview.get_overview()
            print(f"receivable lines: {lines}, companies: {len(admin.company_ids)}")
            print(
                f"receivable {data['receivable']:.2f}, overdue {data['overdue']:.2f} "
                f"({data['overdue_share']:.1f} %), unapplied {data['unapplied_cash']:.2f}, "
                f"DSO {data['dso']}, CEI {data['cei']}, worklist {data['worklist']}"
            )
    finally:
        if not args.keep:
            harness.drop_database(db)


if __name__ == "__main__":
    main()
