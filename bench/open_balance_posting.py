"""Benchmark of what the open-balance triggers cost Odoo's own postings.

The three statement triggers on ``account_move_line`` (``ar_open_balance_*``, see
``addons/ar_credit_control/models/ar_open_balance.py``) run on every write of the move lines.
On a fresh copy of a generated template with the addon installed, timed, alternately with the
triggers enabled and disabled (``ALTER TABLE ... DISABLE TRIGGER``), each round a transaction
rolled back:

    create 200 customer invoices (one line each, 200 customers), post them, and register a
    payment for each (``account.payment.register``, one payment per invoice).

Target: the triggers add at most 5 % to that work. The other side of the trade, the credit
check reading a customer's open balance from the table instead of summing its lines, is
``bench/credit_check.py``.

Run: python3 bench/open_balance_posting.py [--template NAME] [--rounds 5] [--invoices 200]
"""

from __future__ import annotations

import argparse
import statistics
from time import perf_counter

import _harness as harness

DEFAULT_TEMPLATE = "arcc_gen_tpl_20000l_500c_s1"
TRIGGERS = ("ar_open_balance_on_insert", "ar_open_balance_on_update", "ar_open_balance_on_delete")


def post_and_pay(env, customers, product, count):
    from odoo import Command, fields

    today = fields.Date.context_today(env.user)
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": customers[i % len(customers)].id,
                "invoice_date": today,
                "invoice_line_ids": [
                    Command.create({"product_id": product.id, "price_unit": 100.0 + i})
                ],
            }
            for i in range(count)
        ]
    )
    moves.action_post()
    env.flush_all()
    posted = perf_counter()
    env["account.payment.register"].with_context(
        active_model="account.move", active_ids=moves.ids
    ).create({"group_payment": False})._create_payments()
    env.flush_all()
    return posted


def switch_triggers(env, enabled):
    from odoo.tools import SQL

    for name in TRIGGERS:
        env.cr.execute(
            SQL(
                "ALTER TABLE account_move_line %s TRIGGER %s",
                SQL("ENABLE" if enabled else "DISABLE"),
                SQL.identifier(name),
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--http-port", type=int, default=harness.DEFAULT_HTTP_PORT)
    args = parser.parse_args()
    paths = [harness.PROJECT_ADDONS_PATH]
    db = harness.fresh_copy(args.template, name="arcc_posting_bench")
    try:
        harness.install_addons(
            db, ["ar_credit_control"], extra_paths=paths, http_port=args.http_port
        )
        times = {True: [], False: []}
        # A warm-up round each way, then ABBA order so that drift hits both sides alike. Each
        # round is a transaction of its own, rolled back (the trigger switch with it): rounds
        # in one transaction would each scan the dead rows of the previous ones.
        for round_number in range(args.rounds + 1):
            order = (True, False) if round_number % 2 == 0 else (False, True)
            for enabled in order:
                with harness.odoo_env(db, extra_paths=paths) as env:
                    customers = env["res.partner"].search(
                        [("customer_rank", ">", 0), ("is_company", "=", True)],
                        limit=args.invoices,
                    )
                    product = env["product.product"].search([("sale_ok", "=", True)], limit=1)
                    switch_triggers(env, enabled)
                    started = perf_counter()
                    posted = post_and_pay(env, customers, product, args.invoices)
                    elapsed = perf_counter() - started
                if round_number:
                    times[enabled].append(elapsed)
                state = "with" if enabled else "without"
                print(
                    f"round {round_number} {state} triggers: {elapsed:.2f} s "
                    f"(invoices created and posted {posted - started:.2f} s)",
                    flush=True,
                )
        with_triggers = statistics.median(times[True])
        without = statistics.median(times[False])
        print(
            f"\n{args.invoices} invoices posted and paid, median of {args.rounds}: "
            f"{with_triggers:.2f} s with the triggers, {without:.2f} s without: "
            f"{100 * (with_triggers - without) / without:+.1f} % (target <= +5 %)"
        )
    finally:
        harness.drop_database(db)


if __name__ == "__main__":
    main()
