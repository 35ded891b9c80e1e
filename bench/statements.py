"""Benchmark of customer statements on the generated receivables database.

On a fresh copy of the 1,000,000-line template (2,000 customers) with the addon installed:

1. outstanding statements of every customer with receivables: the one SQL query (open items
   with their aging bucket) and the grouping per customer;
2. activity statements of every customer for the last 90 days: the one SQL query;
3. rendering N outstanding statement PDFs, one per customer as a statement run mails them
   (wkhtmltopdf, against a running Odoo server that serves the report's stylesheets).

Checks printed after the table: the statement totals add up to the ledger's receivable balance,
and opening balance + movements = closing balance for every customer.

4. with ``--one-pdf N``: the first N customers in one PDF, as a statement run prints them.

Run: python3 bench/statements.py [--template NAME] [--runs 3] [--pdf 20] [--one-pdf 1000]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from datetime import timedelta

import _harness as harness

DEFAULT_TEMPLATE = "arcc_gen_tpl_1000000l_2000c_s1"
HTTP_PORT = 8234  # wkhtmltopdf loads the report's stylesheets from a running Odoo (--http-port)


def start_http_server(db: str, paths: list[str]) -> subprocess.Popen:
    """An Odoo server on HTTP_PORT serving `db` (main() may change the port first)."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoo",
            "server",
            "--database",
            db,
            "--db-filter",
            f"^{db}$",
            "--addons-path",
            harness.addons_path(paths),
            "--http-port",
            str(HTTP_PORT),
            "--http-interface",
            "127.0.0.1",
            "--max-cron-threads",
            "0",
            "--log-level",
            "warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=1):
                return server
        except OSError:
            time.sleep(1)
    server.terminate()
    raise RuntimeError("the Odoo HTTP server did not start")


def warm_report_assets(db: str, paths: list[str]) -> None:
    """Point wkhtmltopdf at the running server and commit the report's asset bundles: built
    inside the timed (rolled back) transaction, the server could not serve them."""
    with harness.odoo_env(db, extra_paths=paths, commit=True) as env:
        env["ir.config_parameter"].sudo().set_param("report.url", f"http://127.0.0.1:{HTTP_PORT}")
        partner = env["res.partner"].search([("customer_rank", ">", 0)], limit=1)
        report = env.ref("ar_credit_control.action_report_ar_statement_outstanding")
        try:
            env["ir.actions.report"]._render_qweb_pdf(report.report_name, partner.ids)
        except Exception as error:  # noqa: BLE001 - the bundles exist now; the next render counts
            print(f"warm-up render: {error.__class__.__name__}")


def render_one_pdf(env, report, data, outcome, partner_ids, args) -> None:
    """The first --one-pdf customers in one PDF, as a statement run prints them."""
    import io

    from PyPDF2 import PdfReader

    printed = partner_ids[: args.one_pdf]
    items = sum(len(outcome["outstanding"][pid]["items"]) for pid in printed)

    def render(measurement):
        pdf, _kind = env["ir.actions.report"]._render_qweb_pdf(
            report.report_name, printed, data=data
        )
        measurement.rows = items
        outcome["one_pdf"] = pdf

    label = f"render {len(printed)} customers in one PDF ({items} items)"
    try:
        harness.print_table([harness.repeat(label, render, runs=1, warmup=0, trace_memory=False)])
    except Exception as error:  # noqa: BLE001 - the failure is the finding
        print(f"{label}: FAILED, {error.__class__.__name__}: {str(error)[:300]}")
        return
    pdf = outcome["one_pdf"]
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"one PDF: {len(pdf):,} bytes, {pages} pages for {len(printed)} customers")


def main() -> None:
    global HTTP_PORT  # noqa: PLW0603 - the server and report.url follow --http-port
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pdf", type=int, default=20, help="customers in the rendered PDF")
    parser.add_argument("--activity-days", type=int, default=90)
    parser.add_argument(
        "--one-pdf", type=int, default=0, help="also render this many customers in one PDF"
    )
    parser.add_argument("--db", default="arcc_statements_bench", help="name of the copy")
    parser.add_argument(
        "--http-port", type=int, default=HTTP_PORT, help="port of the server (install: +1)"
    )
    args = parser.parse_args()
    HTTP_PORT = args.http_port

    paths = [harness.PROJECT_ADDONS_PATH]
    db = harness.fresh_copy(args.template, name=args.db)
    server = None
    try:
        harness.install_addons(
            db, ["ar_credit_control"], extra_paths=paths, http_port=args.http_port + 1
        )
        server = start_http_server(db, paths)
        results = []
        with harness.odoo_env(db, extra_paths=paths) as env:
            from odoo import fields

            env["ir.config_parameter"].sudo().set_param(
                "report.url", f"http://127.0.0.1:{HTTP_PORT}"
            )

            company = env.company
            statement = env["ar.statement"]
            today = fields.Date.context_today(env.user)
            date_from = today - timedelta(days=args.activity_days)
            env.cr.execute(
                """
                SELECT DISTINCT partner.commercial_partner_id
                  FROM account_move_line aml
                  JOIN account_account acc ON acc.id = aml.account_id
                  JOIN res_partner partner ON partner.id = aml.partner_id
                 WHERE acc.account_type = 'asset_receivable' AND aml.company_id = %s
                """,
                [company.id],
            )
            customers = env["res.partner"].browse([row[0] for row in env.cr.fetchall()])
            outcome = {}

            def outstanding(measurement):
                data = statement._outstanding_data(customers, company, today)
                measurement.rows = sum(len(d["items"]) for d in data.values())
                outcome["outstanding"] = data

            def activity(measurement):
                data = statement._activity_data(customers, company, date_from, today)
                measurement.rows = sum(len(d["movements"]) for d in data.values())
                outcome["activity"] = data

            results.append(
                harness.repeat(
                    f"outstanding statements, {len(customers)} customers (SQL + grouping)",
                    outstanding,
                    runs=args.runs,
                    warmup=1,
                    trace_memory=False,
                )
            )
            results.append(
                harness.repeat(
                    f"activity statements, {len(customers)} customers, {args.activity_days} days",
                    activity,
                    runs=args.runs,
                    warmup=1,
                    trace_memory=False,
                )
            )
            harness.print_table(results)
            # Typical customers (lowest ids), one PDF each, as a statement run mails them.
            printed = sorted(outcome["outstanding"])[: args.pdf]
            printed_items = sum(len(outcome["outstanding"][pid]["items"]) for pid in printed)
            report = env.ref("ar_credit_control.action_report_ar_statement_outstanding")
            data = {"company_id": company.id, "as_of": fields.Date.to_string(today)}
            failures = []

            def render(measurement):
                total_bytes = 0
                for partner_id in printed:
                    try:
                        pdf, _kind = env["ir.actions.report"]._render_qweb_pdf(
                            report.report_name, [partner_id], data=data
                        )
                        total_bytes += len(pdf)
                    except Exception as error:  # noqa: BLE001 - count and report failures
                        failures.append((partner_id, error.__class__.__name__))
                measurement.rows = printed_items
                outcome["pdf_bytes"] = total_bytes

            label = f"render {len(printed)} PDFs, one per customer ({printed_items} items)"
            harness.print_table(
                [harness.repeat(label, render, runs=1, warmup=0, trace_memory=False)]
            )
            print(f"PDF bytes: {outcome['pdf_bytes']:,}; failed renders: {len(failures)}")
            if failures:
                sizes = [len(outcome["outstanding"][pid]["items"]) for pid, _e in failures]
                print(f"  failed customers' item counts: {sizes}")
            if args.one_pdf:
                render_one_pdf(env, report, data, outcome, sorted(outcome["outstanding"]), args)

            env.cr.execute(
                """
                SELECT COALESCE(SUM(aml.balance), 0) FROM account_move_line aml
                  JOIN account_account acc ON acc.id = aml.account_id
                 WHERE acc.account_type = 'asset_receivable' AND aml.parent_state = 'posted'
                   AND aml.company_id = %s AND aml.date <= %s
                """,
                [company.id, today],
            )
            ledger = round(env.cr.fetchone()[0], 2)
            total = round(sum(d["total"] for d in outcome["outstanding"].values()), 2)
            status = "equal" if total == ledger else "DIFFERENT"
            print(f"statements total {total:,.2f}, ledger {ledger:,.2f}: {status}")
            unbalanced = [
                pid
                for pid, d in outcome["activity"].items()
                if abs(d["opening"] + sum(m["balance"] for m in d["movements"]) - d["closing"])
                > 0.01
            ]
            print(f"activity statements where opening + movements != closing: {len(unbalanced)}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        harness.drop_database(db)


if __name__ == "__main__":
    main()
