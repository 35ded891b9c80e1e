"""Benchmark of the early warnings and the collection forecast on the generated database.

On a fresh copy of a generated template (default: 1,000,000 lines, 20,000 customers) with the
addon installed, every customer gets a credit profile whose snapshot (limit, utilisation,
grade, segment) is set in bulk as the daily evaluation would leave it, and every kind of
warning rule is switched on. Then, timed:

1. the warning cron's work, first run (raises warnings and creates their activities);
2. the same a second time (nothing new: the figure a normal day looks like);
3. the collection forecast refresh (history, prediction, bulk INSERT of every open line);
4. the forecast pivot: expected amounts by ISO week x segment for the next 13 weeks.

Run: python3 bench/warnings_forecast.py [--template NAME] [--db COPY] [--http-port PORT]

The target size (50,000 customers, 1,000,000 lines; target: 60 s or less) is the template
``arcc_gen_tpl_1000000l_50000c_s1``, built once (about 25 minutes on 2 cores) with
``python3 data/generate_receivables.py --db arcc_gen_50k --lines 1000000 --customers 50000
--seed 1 --replace --prove --save-template arcc_gen_tpl_1000000l_50000c_s1``.
"""

from __future__ import annotations

import argparse
from time import perf_counter

import _harness as harness

DEFAULT_TEMPLATE = "arcc_gen_tpl_1000000l_20000c_s1"


def prepare(env, company):
    """Profiles for every customer with receivables, snapshot figures as an evaluation
    leaves them, every rule kind active, pre-due reminders for grade B."""
    from odoo.tools import SQL

    partners = env["res.partner"].browse(
        row[0]
        for row in env.execute_query(
            SQL(
                "SELECT DISTINCT rp.commercial_partner_id FROM account_move_line aml "
                "JOIN res_partner rp ON rp.id = aml.partner_id "
                "WHERE aml.company_id = %s AND aml.account_id = ANY(%s)",
                company.id,
                env["ar.receivable"]._account_ids(company),
            )
        )
    )
    env["ar.credit.profile"]._get_or_create(partners, company)
    env.cr.execute(
        SQL(
            """
            UPDATE ar_credit_profile
               SET grade = (ARRAY['A', 'B', 'C', 'D', 'E'])[1 + mod(partner_id, 5)],
                   segment = CASE WHEN mod(partner_id, 10) = 0 THEN 'watch' ELSE 'standard' END,
                   credit_limit = 10000,
                   utilisation = mod(partner_id * 37, 120)
             WHERE company_id = %s
            """,
            company.id,
        )
    )
    env["ar.credit.policy"]._ensure_defaults(company)
    env["ar.credit.policy"].search([("company_id", "=", company.id), ("grade", "=", "B")]).write(
        {"pre_due_reminder": True}
    )
    rules = env["ar.warning.rule"].with_context(active_test=False)
    rules.search([]).write({"active": False})
    rules._ensure_default_rules(company)
    rules = rules.search([("company_id", "=", company.id)])
    rules.write({"active": True, "responsible_user_id": env.user.id})
    env.flush_all()
    return len(partners), rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--db", default="arcc_warnings_bench", help="name of the copy to run on")
    parser.add_argument("--http-port", type=int, default=harness.DEFAULT_HTTP_PORT)
    args = parser.parse_args()
    paths = [harness.PROJECT_ADDONS_PATH]
    db = harness.fresh_copy(args.template, name=args.db)
    try:
        harness.install_addons(
            db, ["ar_credit_control"], extra_paths=paths, http_port=args.http_port
        )
        with harness.odoo_env(db, extra_paths=paths) as env:
            from odoo.tools import SQL

            company = env.company
            started = perf_counter()
            customers, rules = prepare(env, company)
            print(f"set-up: {customers} customers with profiles, {perf_counter() - started:.1f} s")
            lines = env.execute_query(
                SQL(
                    "SELECT count(*) FROM account_move_line WHERE account_id = ANY(%s)",
                    env["ar.receivable"]._account_ids(company),
                )
            )[0][0]
            results = []
            total = 0.0
            warning_model = env["ar.credit.warning"]

            def warnings_run(measurement):
                raised = rules._evaluate()
                warning_model._send_digest()
                measurement.rows = len(raised)

            for label in ("warnings, first run (raise + activities + digest)", "warnings, again"):
                summary = harness.repeat(label, warnings_run, runs=1, warmup=0, trace_memory=False)
                results.append(summary)
                total += summary.median_seconds
            counts = env.execute_query(
                SQL(
                    "SELECT rule_type, count(*) FROM ar_credit_warning "
                    "GROUP BY rule_type ORDER BY 1"
                )
            )
            activities = env.execute_query(
                SQL("SELECT count(*) FROM mail_activity WHERE res_model = 'ar.credit.warning'")
            )[0][0]

            def forecast_run(measurement):
                measurement.rows = sum(env["ar.collection.forecast"]._refresh(company).values())

            summary = harness.repeat(
                "forecast refresh (all open lines)",
                forecast_run,
                runs=1,
                warmup=0,
                trace_memory=False,
            )
            results.append(summary)
            total += summary.median_seconds

            def pivot_run(measurement):
                groups = env["ar.collection.forecast"]._read_group(
                    [("in_horizon", "=", True)], ["week", "segment"], ["amount:sum"]
                )
                measurement.rows = len(groups)

            results.append(harness.repeat("forecast pivot week x segment", pivot_run, runs=3))
            harness.print_table(results)
            print(f"receivable lines: {lines}, customers: {customers}")
            print("warnings by rule:", ", ".join(f"{kind} {count}" for kind, count in counts))
            print(f"activities: {activities}")
            print(f"warnings (first run) + forecast refresh: {total:.1f} s (target <= 60 s)")
    finally:
        harness.drop_database(db)


if __name__ == "__main__":
    main()
