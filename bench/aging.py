"""Benchmark of the aging analysis on the generated receivables database.

On a fresh copy of the 1,000,000-line template (2,000 customers) with the addon installed:

1. full aging today: ``read_group`` on ``ar.aging.report`` by customer and bucket, what the
   pivot asks for (target <= 1 s);
2. the same as of a past date, rebuilt from partial reconciliations (target <= 3 s);
3. the per-customer bucket summary behind the PDF and the XLSX export, today.

Peak Python memory comes from one extra traced run of each; wall times from untraced runs.

With ``--oca``, OCA ``account_financial_report`` 18.0 (aged partner balance) is installed on
the same database (``pip install --no-deps --target``, with its OCA dependencies ``date_range``
and ``report_xlsx``) and its report data for all customers is timed side by side.

With ``--unmatch``, every reconciliation of the copy is undone in SQL before timing (partials
deleted, residuals reset to balances, invoices "not paid"): all 1,000,000 receivable lines are
then open, as in books where payments were never matched — the size the aging targets name.

Run: python3 bench/aging.py [--template NAME] [--as-of-days 180] [--runs 5] [--oca] [--unmatch]
"""

from __future__ import annotations

import argparse
import subprocess
from datetime import timedelta

import _harness as harness

DEFAULT_TEMPLATE = "arcc_gen_tpl_1000000l_2000c_s1"


UNMATCH_SQL = """
DELETE FROM account_partial_reconcile;
UPDATE account_move_line aml
   SET amount_residual = aml.balance, amount_residual_currency = aml.amount_currency,
       reconciled = false, full_reconcile_id = NULL
  FROM account_account acc
 WHERE acc.id = aml.account_id AND acc.account_type = 'asset_receivable';
DELETE FROM account_full_reconcile;
UPDATE account_move
   SET payment_state = 'not_paid', amount_residual = amount_total,
       amount_residual_signed = amount_total_signed
 WHERE state = 'posted' AND move_type IN ('out_invoice', 'out_refund');
"""


def unmatch_everything(db: str) -> None:
    """Every receivable line open: reconciliations undone, residual = balance."""
    subprocess.run(["psql", "-q", "-d", db, "-c", UNMATCH_SQL], check=True)
    for table in ("account_move_line", "account_move", "account_partial_reconcile"):
        subprocess.run(["psql", "-q", "-d", db, "-c", f"VACUUM ANALYZE {table}"], check=True)
    count = subprocess.run(
        [
            "psql",
            "-tAq",
            "-d",
            db,
            "-c",
            "SELECT COUNT(*) FROM account_move_line aml JOIN account_account acc"
            " ON acc.id = aml.account_id WHERE acc.account_type = 'asset_receivable'"
            " AND aml.parent_state = 'posted' AND aml.reconciled IS NOT TRUE",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"# every reconciliation undone: {int(count):,} open receivable lines")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--as-of-days", type=int, default=180, help="days before today")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--oca", action="store_true", help="compare with OCA's aged balance")
    parser.add_argument(
        "--unmatch", action="store_true", help="undo every reconciliation: all lines open"
    )
    parser.add_argument(
        "--all-companies",
        action="store_true",
        help="age the books of every company at once (default: the main company's)",
    )
    args = parser.parse_args()

    paths = [harness.PROJECT_ADDONS_PATH]
    modules = ["ar_credit_control"]
    if args.oca:
        oca_packages = [
            "odoo-addon-account_financial_report>=18.0,<18.1",
            "odoo-addon-date_range>=18.0,<18.1",
            "odoo-addon-report_xlsx>=18.0,<18.1",
            "odoo-addon-partner_statement>=18.0,<18.1",
            "odoo-addon-report_xlsx_helper>=18.0,<18.1",
        ]
        paths.append(str(harness.pip_addons(oca_packages, "/tmp/arcc_aging_bench_oca")))
        modules += ["account_financial_report", "partner_statement"]
    db = harness.fresh_copy(args.template, name="arcc_aging_bench")
    try:
        harness.install_addons(db, modules, extra_paths=paths)
        if args.unmatch:
            unmatch_everything(db)
        results = []
        with harness.odoo_env(db, extra_paths=paths) as env:
            from odoo import fields

            company = env.company
            bucket_set = env["ar.aging.bucket.set"]._get_default(company)
            today = fields.Date.context_today(env.user)
            past = today - timedelta(days=args.as_of_days)
            # One company's books, compared with that company's ledger (--all-companies: the
            # books of every company at once, as a user with all of them selected sees them).
            companies = env["res.company"].search([]) if args.all_companies else company
            report = env["ar.aging.report"].with_context(allowed_company_ids=companies.ids)

            def pivot(as_of):
                def run(measurement):
                    groups = report._for_aging(bucket_set, as_of)._read_group(
                        [], ["partner_id", "bucket_id"], ["amount_residual:sum", "__count"]
                    )
                    measurement.rows = sum(count for *_keys, _amount, count in groups)

                return run

            def summary(measurement):
                _columns, rows = report._summary_rows(bucket_set, today, companies.ids)
                measurement.rows = len(rows)

            def gl_check(as_of):
                groups = report._for_aging(bucket_set, as_of)._read_group(
                    [], [], ["amount_residual:sum"]
                )
                env.cr.execute(
                    """
                    SELECT COALESCE(SUM(aml.balance), 0) FROM account_move_line aml
                      JOIN account_account acc ON acc.id = aml.account_id
                     WHERE acc.account_type = 'asset_receivable' AND aml.parent_state = 'posted'
                       AND aml.company_id = ANY(%s) AND aml.date <= %s
                    """,
                    [companies.ids, as_of],
                )
                return round(groups[0][0], 2), round(env.cr.fetchone()[0], 2)

            def oca_aged_balance(as_of):
                receivable = env["account.account"].search(
                    [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.ids)]
                )

                def run(measurement):
                    wizard = env["aged.partner.balance.report.wizard"].create(
                        {
                            "company_id": company.id,
                            "date_at": as_of,
                            "account_ids": [(6, 0, receivable.ids)],
                            "receivable_accounts_only": True,
                        }
                    )
                    # What the wizard sends through the web client: JSON, dates as strings.
                    data = wizard._prepare_report_data()
                    data["date_at"] = fields.Date.to_string(wizard.date_at)
                    values = env[
                        "report.account_financial_report.aged_partner_balance"
                    ]._get_report_values(wizard.ids, data)
                    measurement.rows = sum(
                        len(account.get("partners", []))
                        for account in values["aged_partner_balance"]
                    )

                return run

            def oca_outstanding_statement(measurement):
                # OCA partner_statement: the outstanding statement (with aging buckets) of every
                # customer with open items, the per-customer aging our bucket summary gives.
                env.cr.execute(
                    """
                    SELECT DISTINCT partner.commercial_partner_id
                      FROM account_move_line aml
                      JOIN account_account acc ON acc.id = aml.account_id
                      JOIN res_partner partner ON partner.id = aml.partner_id
                     WHERE acc.account_type = 'asset_receivable' AND aml.reconciled IS NOT TRUE
                       AND aml.parent_state = 'posted' AND aml.company_id = %s
                    """,
                    [company.id],
                )
                partner_ids = [row[0] for row in env.cr.fetchall()]
                wizard = (
                    env["outstanding.statement.wizard"]
                    .with_context(active_ids=partner_ids, active_model="res.partner")
                    .create({"company_id": company.id, "date_end": today})
                )
                data = wizard._prepare_statement()
                values = env["report.partner_statement.outstanding_statement"]._get_report_values(
                    partner_ids, data
                )
                measurement.rows = len(values.get("doc_ids") or partner_ids)

            cases = [
                ("aging today, by customer x bucket (pivot)", pivot(today)),
                (f"aging as of {past}, by customer x bucket", pivot(past)),
                ("bucket summary per customer (PDF/XLSX)", summary),
            ]
            if args.oca:
                cases += [
                    ("OCA aged partner balance today (data)", oca_aged_balance(today)),
                    (f"OCA aged partner balance as of {past}", oca_aged_balance(past)),
                    ("OCA partner_statement outstanding, all customers", oca_outstanding_statement),
                ]
            for label, run in cases:
                results.append(
                    harness.repeat(label, run, runs=args.runs, warmup=1, trace_memory=False)
                )
                results.append(harness.repeat(f"  traced: {label}", run, runs=1, warmup=0))
            harness.print_table(results)
            for as_of in (today, past):
                aging_total, ledger = gl_check(as_of)
                status = "equal" if aging_total == ledger else "DIFFERENT"
                print(f"as of {as_of}: aging {aging_total:,.2f}, ledger {ledger:,.2f}: {status}")
    finally:
        harness.drop_database(db)


if __name__ == "__main__":
    main()
