"""Benchmark of the receivables KPI report and the collector worklist.

1. fill: the nightly refresh of the monthly KPIs (``ar.receivable.kpi.month._cron_refresh``),
   the last 13 months of every company, one committed month at a time;
2. open the KPI report as a credit user: the ``read_group`` calls the pivot makes when it
   opens (all, by company, by month, by company x month; five ratios), then by salesperson,
   segment and customer x month;
3. the worklist as a collector: the first page (80 rows, by priority, with the why-this-rank
   column) and today's count. Every customer with overdue items is put in dunning first.

Run: python3 bench/kpi_worklist.py [--template NAME] [--runs 5] [--keep] [--db NAME [--refresh]]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import _harness as harness

DEFAULT_TEMPLATE = "arcc_gen_tpl_1000000l_2000c_s1"
MEASURES = [
    "dso_countback:avg",
    "best_possible_dso:avg",
    "average_days_delinquent:avg",
    "cei:avg",
    "overdue_share:avg",
    "ending_receivables:sum",
]
PIVOT_OPENING = [[], ["company_id"], ["month:month"], ["company_id", "month:month"]]


def credit_user(env, login, group):
    companies = env["res.company"].search([])
    user = env["res.users"].create(
        {
            "name": login,
            "login": login,
            "company_id": companies[0].id,
            "company_ids": [(6, 0, companies.ids)],
            "groups_id": [(6, 0, [env.ref("base.group_user").id, env.ref(group).id])],
        }
    )
    return user.id


def prepare(db: str) -> None:
    """Users and customers in dunning on a fresh copy."""
    with harness.odoo_env(db, extra_paths=[harness.PROJECT_ADDONS_PATH], commit=True) as env:
        credit_user(env, "kpi_analyst", "ar_credit_control.group_credit_control_user")
        collector = credit_user(env, "kpi_collector", "ar_credit_control.group_credit_control_user")
        # Every customer with overdue items in dunning, one in two worked by the collector.
        env.cr.execute(
            """
            SELECT DISTINCT aml.company_id, partner.commercial_partner_id
              FROM account_move_line aml
              JOIN account_account account ON account.id = aml.account_id
              JOIN res_partner partner ON partner.id = aml.partner_id
             WHERE account.account_type = 'asset_receivable' AND aml.parent_state = 'posted'
               AND aml.amount_residual > 0 AND aml.date_maturity < CURRENT_DATE
            """
        )
        overdue = defaultdict(list)
        for company_id, partner_id in env.cr.fetchall():
            overdue[company_id].append(partner_id)
        profiles = env["ar.credit.profile"]
        for company_id, partner_ids in overdue.items():
            profiles |= profiles._get_or_create(
                env["res.partner"].browse(partner_ids), env["res.company"].browse(company_id)
            )
        profiles.write({"dunning_level": 1})
        profiles[::2].write({"collector_id": collector})


def time_refresh(db: str) -> None:
    """The nightly refresh of every month, from scratch (it commits each month)."""
    with harness.odoo_env(db, extra_paths=[harness.PROJECT_ADDONS_PATH], commit=True) as env:
        env["ar.receivable.kpi.refresh"].search([]).unlink()
        env.cr.commit()
        with harness.measure("KPI refresh, 13 months x companies") as measurement:
            model = env["ar.receivable.kpi.month"]
            model._cron_refresh(time_budget=3600)
            measurement.rows = model.search_count([])
        harness.print_table([measurement])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--db", help="reuse this database prepared by an earlier run with --keep (no refresh)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database for --db")
    parser.add_argument("--refresh", action="store_true", help="with --db: time the refresh again")
    args = parser.parse_args()

    db = args.db
    if not db:
        db = harness.fresh_copy(args.template, name="arcc_kpi_worklist_bench")
        started = time.monotonic()
        harness.install_addons(db, ["ar_credit_control"], extra_paths=[harness.PROJECT_ADDONS_PATH])
        print(f"install: {time.monotonic() - started:.1f} s")
        prepare(db)
    if not args.db or args.refresh:
        time_refresh(db)
    paths = [harness.PROJECT_ADDONS_PATH]
    try:
        with harness.odoo_env(db, extra_paths=paths) as env:
            analyst = env["res.users"].search([("login", "=", "kpi_analyst")]).id
            collector = env["res.users"].search([("login", "=", "kpi_collector")]).id
            rows = env["ar.receivable.kpi.month"].search_count([])
            in_dunning = env["ar.credit.profile"].search_count([("dunning_level", ">", 0)])
            # One registry for every timed run: each run reads as its user, cache emptied.
            report = env["ar.receivable.kpi.month"].with_user(analyst)
            worklist = env["ar.collection.worklist"].with_user(collector)

            def read_groups(groupbys):
                env.invalidate_all()
                return sum(
                    len(report.read_group([], MEASURES, groupby, lazy=False))
                    for groupby in groupbys
                )

            def open_report(measurement):
                measurement.rows = read_groups(PIVOT_OPENING)

            def by_dimension(dimension):
                def run(measurement):
                    measurement.rows = read_groups([[dimension], [dimension, "month:month"]])

                return run

            def worklist_page(measurement):
                env.invalidate_all()
                page = worklist.search_read(
                    [], ["partner_id", "amount_overdue", "priority", "rank_reason"], limit=80
                )
                worklist.count_today(only_mine=True)
                measurement.rows = len(page)

            summaries = [
                harness.repeat(
                    f"open KPI pivot, company x month ({rows} rows)", open_report, runs=args.runs
                ),
                *(
                    harness.repeat(
                        f"KPI pivot by {dimension} (x month)",
                        by_dimension(dimension),
                        runs=args.runs,
                    )
                    for dimension in ("user_id", "segment", "partner_id")
                ),
                harness.repeat(
                    f"worklist page + count ({in_dunning} in dunning)",
                    worklist_page,
                    runs=args.runs,
                ),
            ]
            harness.print_table(summaries)
    finally:
        if not args.keep:
            harness.drop_database(db)


if __name__ == "__main__":
    main()
