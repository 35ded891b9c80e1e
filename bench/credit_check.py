"""Time the credit check added to a sale-order confirmation, on the 1M-line template.

A copy of the generated template gets the addon; the customer with the most open receivables
is given at least 10,000 open invoices (invoices of other customers are moved to it with SQL),
a credit limit it stays under, the overdue rule on with a tolerance it passes, and a quotation.
Then, as a credit manager (not superuser):

- the check alone (``sale.order._credit_check``: lock and bump the credit-state row, exposure,
  prepaid amounts, profile, policy, limit), ORM cache cleared before each run;
- a whole confirmation (``action_confirm``, check included), rolled back after each run;
- the same confirmation with the company's credit block switched off (the check is skipped).

    python bench/credit_check.py                      # 1,000,000 lines, 2,000 customers
    python bench/credit_check.py --lines 20000 --customers 500 --runs 30
    python bench/credit_check.py --db arcc_mine_bench --http-port 8293   # beside other runs

Targets: the check adds at most 10 ms (median) and 25 ms (p95) to a confirmation.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess

import _harness as harness

OPEN_INVOICES = 10_000


class _Rollback(Exception):
    pass


OCA_PACKAGES = (
    "odoo-addon-account_financial_risk>=18.0,<18.1",
    "odoo-addon-sale_financial_risk>=18.0,<18.1",
)


def prepare(env, invoices_wanted: int) -> tuple[int, int]:
    """Give the busiest customer `invoices_wanted` open invoices; return (partner, order)."""
    cr = env.cr
    receivable = """
        SELECT aml.move_id, aml.partner_id
          FROM account_move_line aml
          JOIN account_account acc ON acc.id = aml.account_id
          JOIN account_move move ON move.id = aml.move_id
         WHERE acc.account_type = 'asset_receivable'
           AND aml.parent_state = 'posted'
           AND aml.reconciled IS NOT TRUE
           AND move.move_type = 'out_invoice'
           AND move.payment_state NOT IN ('paid', 'in_payment')
    """
    cr.execute(
        f"SELECT partner_id, COUNT(DISTINCT move_id) FROM ({receivable}) open_items"
        " GROUP BY partner_id ORDER BY 2 DESC LIMIT 1"
    )
    partner_id, open_invoices = cr.fetchone()
    missing = invoices_wanted - open_invoices
    if missing > 0:
        cr.execute(
            f"""
            CREATE TEMP TABLE moved AS
            SELECT DISTINCT move_id FROM ({receivable}) open_items
             WHERE partner_id <> %s LIMIT %s
            """,
            [partner_id, missing],
        )
        cr.execute(
            "UPDATE account_move SET partner_id = %s, commercial_partner_id = %s"
            " WHERE id IN (SELECT move_id FROM moved)",
            [partner_id, partner_id],
        )
        cr.execute(
            "UPDATE account_move_line SET partner_id = %s"
            " WHERE move_id IN (SELECT move_id FROM moved)",
            [partner_id],
        )
    env.invalidate_all()
    cr.execute(
        f"SELECT COUNT(DISTINCT move_id) FROM ({receivable}) open_items WHERE partner_id = %s",
        [partner_id],
    )
    (open_invoices,) = cr.fetchone()
    partner = env["res.partner"].browse(partner_id)
    company = env.company
    exposure = env["ar.credit.exposure"]._compute_exposures([partner_id], company)[partner_id]
    partner.with_company(company).credit_limit = round(exposure.total * 2 + 1_000_000, -3)
    company.write(
        {
            "ar_credit_block_enabled": True,
            "ar_credit_block_overdue": True,
            "ar_credit_overdue_days": 30,
            "ar_credit_overdue_amount": exposure.total + 1_000_000,
        }
    )
    product = env["product.product"].create(
        {"name": "Bench service", "type": "service", "list_price": 500.0}
    )
    order = env["sale.order"].create(
        {
            "partner_id": partner_id,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 3})],
        }
    )
    print(
        f"# customer {partner.display_name} (id {partner_id}): {open_invoices} open invoices, "
        f"exposure {exposure.total:,.2f}, limit {partner.with_company(company).credit_limit:,.2f}"
    )
    return partner_id, order.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invoices", type=int, default=OPEN_INVOICES)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the database copy")
    parser.add_argument("--db", help="name of the copy (default: arcc_credit_block_bench_<lines>)")
    parser.add_argument(
        "--http-port", type=int, default=harness.DEFAULT_HTTP_PORT, help="for the install"
    )
    parser.add_argument(
        "--oca",
        metavar="DIR",
        help="also install OCA sale_financial_risk 18.0 (pip --target DIR) on the same copy "
        "and time its check on the same order",
    )
    args = parser.parse_args()

    template = harness.ensure_template(
        lines=args.lines, customers=args.customers, seed=args.seed, http_port=args.http_port
    )
    db = harness.fresh_copy(template, name=args.db or f"arcc_credit_block_bench_{args.lines}")
    print(f"# template {template}, copy {db}")
    try:
        paths = [harness.PROJECT_ADDONS_PATH]
        modules = ["ar_credit_control"]
        if args.oca:
            paths.append(str(harness.pip_addons(OCA_PACKAGES, args.oca)))
            modules.append("sale_financial_risk")
        harness.install_addons(db, modules, extra_paths=paths, http_port=args.http_port)
        with harness.odoo_env(db, extra_paths=paths, commit=True) as env:
            _partner_id, order_id = prepare(env, args.invoices)
        # What autovacuum does after the bulk move: keeps the index-only scans index-only.
        subprocess.run(
            [
                "psql",
                "-q",
                "-d",
                db,
                "-c",
                "VACUUM ANALYZE account_move_line, account_move, ar_open_balance",
            ],
            check=True,
        )
        admin = 2  # base.user_admin: a credit manager, not superuser
        with harness.odoo_env(db, extra_paths=paths, uid=admin) as env:
            # The context the web client sends with every call (language, time zone, company).
            user = env.user
            env = env(
                context=dict(
                    env.context,
                    lang=user.lang,
                    tz=user.tz or "UTC",
                    allowed_company_ids=[user.company_id.id],
                )
            )
            order = env["sale.order"].browse(order_id)

            def check(measurement):
                env.invalidate_all()
                passing = order._credit_check()
                assert passing == order, "the order should pass the check"
                measurement.rows = 1

            # With OCA installed, its own check would run inside every confirmation, with and
            # without ours: its context key keeps it out of the timed confirmations (ours
            # ignores context keys).
            confirming = order.with_context(bypass_risk=True) if args.oca else order

            def confirm(measurement):
                env.invalidate_all()
                with contextlib.suppress(_Rollback), env.cr.savepoint():
                    confirming.action_confirm()
                    assert confirming.state == "sale"
                    raise _Rollback
                measurement.rows = 1

            def check_warm(measurement):
                # Inside a confirmation the order, customer and company are already in the
                # ORM cache: only the check's own queries run.
                passing = order._credit_check()
                assert passing == order
                measurement.rows = 1

            model_class = type(env["sale.order"])

            def confirm_without_check(measurement):
                original = model_class._credit_check
                model_class._credit_check = lambda self, hold_instead_of_raise=False: self
                try:
                    confirm(measurement)
                finally:
                    model_class._credit_check = original

            def exposure(measurement):
                env.invalidate_all()
                env["ar.credit.exposure"]._compute_exposures([order.partner_id.id], env.company)
                measurement.rows = 1

            def oca_check(measurement):
                env.invalidate_all()
                partner = order.partner_invoice_id.commercial_partner_id
                order.evaluate_risk_message(partner)
                measurement.rows = 1

            if args.oca:
                # OCA counts a risk term only when the partner includes it: include them all,
                # as our exposure does.
                order.partner_invoice_id.commercial_partner_id.write(
                    {
                        "risk_invoice_draft_include": True,
                        "risk_invoice_open_include": True,
                        "risk_invoice_unpaid_include": True,
                        "risk_account_amount_include": True,
                        "risk_account_amount_unpaid_include": True,
                        "risk_sale_order_include": True,
                    }
                )

            confirm_runs = max(10, args.runs // 3)
            results = [
                harness.repeat(
                    "credit check, cold ORM cache",
                    check,
                    runs=args.runs,
                    warmup=3,
                    trace_memory=False,
                ),
                harness.repeat(
                    "credit check, warm ORM cache",
                    check_warm,
                    runs=args.runs,
                    warmup=3,
                    trace_memory=False,
                ),
                harness.repeat(
                    "exposure query alone", exposure, runs=args.runs, warmup=3, trace_memory=False
                ),
                harness.repeat(
                    "action_confirm incl. check",
                    confirm,
                    runs=confirm_runs,
                    warmup=1,
                    trace_memory=False,
                ),
                harness.repeat(
                    "action_confirm without check",
                    confirm_without_check,
                    runs=confirm_runs,
                    warmup=1,
                    trace_memory=False,
                ),
            ]
            # The added time, pair by pair: a confirmation with the check next to one
            # without, in alternating order, so that drift of the machine cancels out.
            added_per_pair = []
            for pair in range(args.runs):
                timed = {}
                for with_the_check in (True, False) if pair % 2 else (False, True):
                    step = confirm if with_the_check else confirm_without_check
                    with harness.measure("pair", trace_memory=False) as measurement:
                        step(measurement)
                    timed[with_the_check] = measurement.seconds
                added_per_pair.append(timed[True] - timed[False])
            # The credit block switched off: the check is skipped, the flag read from the
            # order's company, which the confirmation loads anyway.
            order.company_id.ar_credit_block_enabled = False
            env.flush_all()
            block_off = harness.repeat(
                "action_confirm, credit block off",
                confirm,
                runs=confirm_runs,
                warmup=1,
                trace_memory=False,
            )
            order.company_id.ar_credit_block_enabled = True
            env.flush_all()
            if args.oca:
                results.append(
                    harness.repeat(
                        "OCA sale_financial_risk check, cold",
                        oca_check,
                        runs=args.runs,
                        warmup=3,
                        trace_memory=False,
                    )
                )
        harness.print_table([*results, block_off])
        cold, warm, _exposure, with_check, without_check = results[:5]
        if args.oca:
            oca = results[5]
            print(
                f"# OCA check cold: median {oca.median_seconds * 1000:.1f} ms, "
                f"{oca.median_queries:.0f} queries; ours cold / OCA = "
                f"{cold.median_seconds / oca.median_seconds:.2f}"
            )
        added = with_check.median_seconds - without_check.median_seconds
        added_median = harness.percentile(added_per_pair, 0.5)
        added_p95 = harness.percentile(added_per_pair, 0.95)
        print(
            f"# check, warm cache: median {warm.median_seconds * 1000:.1f} ms, "
            f"p95 {warm.p95_seconds * 1000:.1f} ms, {warm.median_queries:.0f} queries; "
            f"cold cache: median {cold.median_seconds * 1000:.1f} ms, "
            f"p95 {cold.p95_seconds * 1000:.1f} ms, {cold.median_queries:.0f} queries"
        )
        print(
            f"# added to action_confirm, {len(added_per_pair)} alternating pairs: median "
            f"{added_median * 1000:.1f} ms, p95 {added_p95 * 1000:.1f} ms "
            f"(difference of the medians above: {added * 1000:.1f} ms), "
            f"{with_check.median_queries - without_check.median_queries:.0f} queries "
            "(targets: 10 ms median, 25 ms p95)"
        )
        print(
            f"# credit block off: action_confirm median {block_off.median_seconds * 1000:.1f} ms, "
            f"{block_off.median_queries:.0f} queries (without the check: "
            f"{without_check.median_seconds * 1000:.1f} ms, "
            f"{without_check.median_queries:.0f} queries)"
        )
    finally:
        if not args.keep:
            harness.drop_database(db)


if __name__ == "__main__":
    main()
