"""Benchmark of the payment matching wizard inside Odoo on the generated receivables database.

On a fresh copy of the template with the addon installed, as the superuser in the main company:
1. load + propose: ``action_propose`` on every open payment of the company (SQL loads of the
   payments, statement lines and open items, ``ar_engine.matching``, creation of the proposal
   and allocation records);
   its steps (SQL loads, engine) are also timed alone;
2. accept: ``action_accept`` on the ``--accept`` most confident proposals (ORM
   reconciliation, write-off entries), reported per proposal as well.
Everything is rolled back at the end; the copy is dropped.

Run: python3 bench/matching_odoo.py [--template NAME] [--accept 500]
"""

from __future__ import annotations

import argparse

import _harness as harness

from ar_engine.matching import match_payments

DEFAULT_TEMPLATE = "arcc_gen_tpl_1000000l_2000c_s1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--accept", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the copy (for debugging)")
    parser.add_argument("--db", default="arcc_matching_bench", help="name of the copy")
    parser.add_argument("--http-port", type=int, default=8221)
    args = parser.parse_args()
    paths = [harness.PROJECT_ADDONS_PATH]
    db = harness.fresh_copy(args.template, name=args.db)
    try:
        harness.install_addons(db, ["ar_credit_control"], extra_paths=paths, http_port=args.http_port)
        results = []
        with harness.odoo_env(db, extra_paths=paths) as env:
            company = env.company
            company.ar_matching_write_off_account_id = env["account.account"].search(
                [("account_type", "=", "expense"), ("company_ids", "in", company.ids)], limit=1
            )
            wizard = env["ar.payment.matching.wizard"].create({"company_id": company.id})
            # The steps of action_propose, timed one by one, then the whole action.
            with harness.measure("load payments + statement lines (SQL)", trace_memory=False) as m:
                payments = wizard._load_payment_lines() + wizard._load_statement_lines()
                m.rows = len(payments)
            results.append(m)
            with harness.measure("load open items (SQL)", trace_memory=False) as m:
                items = wizard._load_open_items()
                m.rows = len(items)
            results.append(m)
            with harness.measure("ar_engine.matching.match_payments", trace_memory=False) as m:
                match_payments(payments, items, wizard._matching_config())
                m.rows = len(payments)
            results.append(m)
            with harness.measure("load + propose (all open payments)", trace_memory=False) as m:
                wizard.action_propose()
                env.flush_all()
                m.rows = len(wizard.proposal_ids) + wizard.unmatched_count
            selected = wizard.proposal_ids.filtered("selected")
            m.extra = {
                "proposals": len(wizard.proposal_ids),
                "auto-selected": len(selected),
                "without proposal": wizard.unmatched_count,
                "rules": {
                    rule: len(wizard.proposal_ids.filtered(lambda p, r=rule: p.rule == r))
                    for rule in set(wizard.proposal_ids.mapped("rule"))
                },
            }
            results.append(m)
            # Accept the most confident proposals, auto-selected or not, each invoice once.
            to_accept = env["ar.payment.matching.proposal"]
            taken = set()
            for proposal in wizard.proposal_ids.sorted("confidence", reverse=True):
                items = set(proposal.allocation_ids.move_line_id.ids)
                if len(to_accept) < args.accept and not items & taken:
                    to_accept |= proposal
                    taken |= items
            (wizard.proposal_ids - to_accept).selected = False
            to_accept.selected = True
            with harness.measure(f"accept {len(to_accept)} proposals", trace_memory=False) as m:
                wizard.action_accept()
                env.flush_all()
                m.rows = len(to_accept)
            m.extra = {"seconds per proposal": round(m.seconds / max(len(to_accept), 1), 4)}
            results.append(m)
        harness.print_table(results)
        for result in results:
            print(result.label, result.extra)
    finally:
        if not args.keep:
            harness.drop_database(db)


if __name__ == "__main__":
    main()
