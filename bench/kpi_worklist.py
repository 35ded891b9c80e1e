"""Benchmark of the receivables KPI report and the collector worklist.

1. fill: the nightly refresh of the monthly KPIs (``ar.receivable.kpi.month._cron_refresh``),
   the last 13 months of every company, one committed month at a time;
2. open the KPI report as a credit user: the ``read_group`` calls the pivot makes when it
   opens (all, by company, by month, by company x month; five ratios), then by salesperson,
   segment and customer x month;
3. the worklist as a collector: the first page (80 rows, by priority, with the why-this-rank
   column) and today's count. Every customer with overdue items is put in dunning first.

Run: python3 bench/kpi_worklist.py [--template NAME] [--runs 5]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    db = harness.fresh_copy(args.template, name="arcc_kpi_worklist_bench")
    started = time.monotonic()
    harness.install_addons(db, ["ar_credit_control"], extra_paths=[harness.PROJECT_ADDONS_PATH])
    print(f"install: {time.monotonic() - started:.1f} s")
    paths = [harness.PROJECT_ADDONS_PATH]
    try:
        with harness.odoo_env(db, extra_paths=paths, commit=True) as env:
            analyst = credit_user(env, "kpi_analyst", "ar_credit_control.group_credit_control_user")
            collector = credit_user(
                env, "kpi_collector", "ar_credit_control.group_credit_control_user"
            )
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
            in_dunning = len(profiles)

        def fill(measurement):
            with harness.odoo_env(db, extra_paths=paths, commit=True) as env:
                model = env["ar.receivable.kpi.month"]
                env["ar.receivable.kpi.refresh"].search([]).unlink()
                model._cron_refresh(time_budget=3600)
                measurement.rows = model.search_count([])

        fill_summary = harness.repeat("KPI refresh, 13 months x companies", fill, runs=1, warmup=0)

        def open_report(measurement):
            with harness.odoo_env(db, extra_paths=paths, uid=analyst) as env:
                report = env["ar.receivable.kpi.month"]
                cells = 0
                for groupby in PIVOT_OPENING:
                    cells += len(report.read_group([], MEASURES, groupby, lazy=False))
                measurement.rows = cells

        def by_dimensions(measurement):
            with harness.odoo_env(db, extra_paths=paths, uid=analyst) as env:
                report = env["ar.receivable.kpi.month"]
                cells = 0
                for dimension in ("user_id", "segment", "partner_id"):
                    for groupby in ([dimension], [dimension, "month:month"]):
                        cells += len(report.read_group([], MEASURES, groupby, lazy=False))
                measurement.rows = cells

        def worklist(measurement):
            with harness.odoo_env(db, extra_paths=paths, uid=collector) as env:
                model = env["ar.collection.worklist"]
                rows = model.search_read(
                    [], ["partner_id", "amount_overdue", "priority", "rank_reason"], limit=80
                )
                model.count_today(only_mine=True)
                measurement.rows = len(rows)

        summaries = [
            fill_summary,
            harness.repeat("open KPI pivot (company x month)", open_report, runs=args.runs),
            harness.repeat(
                "KPI pivot by salesperson/segment/customer", by_dimensions, runs=args.runs
            ),
            harness.repeat(
                f"worklist page + count ({in_dunning} in dunning)", worklist, runs=args.runs
            ),
        ]
        harness.print_table(summaries)
    finally:
        harness.drop_database(db)


if __name__ == "__main__":
    main()
