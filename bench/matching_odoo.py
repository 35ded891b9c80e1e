"""Benchmark of the payment matching wizard inside Odoo on the generated receivables database.

On a fresh copy of the template with the addon installed, as the superuser in the main company:
1. load + propose: ``action_propose`` on every open payment of the company (SQL loads of the
   payments, statement lines and open items, ``ar_engine.matching``, creation of the proposal
   and allocation records);
   its steps (SQL loads, engine) are also timed alone;
2. accept: ``action_accept`` on the ``--accept`` most confident proposals (ORM
   reconciliation, write-off entries), reported per proposal as well.
Everything is rolled back at the end; the copy is dropped.

With ``--payments N`` the company's untouched payment entries are first copied in SQL (on the
copy) until it has N of them, to run at the size of a large cash application.

Run: python3 bench/matching_odoo.py [--template NAME] [--accept 500] [--payments 10000]
"""

from __future__ import annotations

import argparse

import _harness as harness

from ar_engine.matching import match_payments

DEFAULT_TEMPLATE = "arcc_gen_tpl_1000000l_2000c_s1"


def add_open_payments(env, company, wanted: int) -> None:
    """Copy the company's untouched payment entries (journal entry and its lines, new names,
    no payment record) until it has `wanted` open ones; committed on the copy only."""
    cr = env.cr
    receivable = SQL_OPEN_PAYMENT_LINES
    cr.execute(f"SELECT count(*) FROM ({receivable}) open_lines", {"company": company.id})
    existing = cr.fetchone()[0]
    missing = wanted - existing
    if missing <= 0 or not existing:
        return

    def columns(table: str) -> list[str]:
        cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position",
            [table],
        )
        return [row[0] for row in cr.fetchall()]

    move_columns = columns("account_move")
    line_columns = columns("account_move_line")
    overrides = {"name": "move.name || '-B' || copy_map.copy", "origin_payment_id": "NULL"}
    move_select = ", ".join(overrides.get(name, f"move.{name}") for name in move_columns)
    line_select = ", ".join(
        "copy_map.new_id" if name == "move_id" else f"line.{name}" for name in line_columns
    )
    cr.execute(
        f"""
        CREATE TEMP TABLE copy_map ON COMMIT DROP AS
        SELECT src.move_id AS old_id, nextval('account_move_id_seq') AS new_id, src.copy
          FROM (SELECT open_lines.move_id, series.copy
                  FROM ({receivable}) open_lines
                 CROSS JOIN generate_series(1, %(copies)s) AS series(copy)
                 ORDER BY series.copy, open_lines.move_id
                 LIMIT %(missing)s) src;
        INSERT INTO account_move (id, {", ".join(move_columns)})
        SELECT copy_map.new_id, {move_select}
          FROM copy_map JOIN account_move move ON move.id = copy_map.old_id;
        INSERT INTO account_move_line ({", ".join(line_columns)})
        SELECT {line_select}
          FROM copy_map JOIN account_move_line line ON line.move_id = copy_map.old_id;
        """,
        {"company": company.id, "copies": missing // existing + 1, "missing": missing},
    )
    cr.commit()
    env.invalidate_all()


# Open receivable credit lines of payment entries with nothing reconciled yet.
SQL_OPEN_PAYMENT_LINES = """
    SELECT aml.move_id
      FROM account_move_line aml
      JOIN account_move move ON move.id = aml.move_id
      JOIN account_account account ON account.id = aml.account_id
     WHERE aml.company_id = %(company)s
       AND account.account_type = 'asset_receivable'
       AND aml.parent_state = 'posted'
       AND move.move_type = 'entry' AND move.statement_line_id IS NULL
       AND aml.balance < 0 AND aml.amount_residual = aml.balance
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--accept", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the copy (for debugging)")
    parser.add_argument("--db", default="arcc_matching_bench", help="name of the copy")
    parser.add_argument("--http-port", type=int, default=8221)
    parser.add_argument(
        "--payments",
        type=int,
        default=0,
        help="copy open payment entries in SQL (on the copy) until the company has this many",
    )
    args = parser.parse_args()
    paths = [harness.PROJECT_ADDONS_PATH]
    db = harness.fresh_copy(args.template, name=args.db)
    try:
        harness.install_addons(
            db, ["ar_credit_control"], extra_paths=paths, http_port=args.http_port
        )
        results = []
        with harness.odoo_env(db, extra_paths=paths) as env:
            company = env.company
            if args.payments:
                add_open_payments(env, company, args.payments)
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
