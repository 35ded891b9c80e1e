"""Benchmark of the dunning run on the generated receivables database.

On a fresh copy of a generated template with the addon installed (the shared default policy
applies to every customer), one dunning run of the main company, timed in two phases:

1. decide and record: the facts query, ``ar_engine.dunning`` decisions, communications and
   their items written in committed chunks, levels and holds updated (target <= 60 s for
   50,000 overdue customers / 200,000 overdue items);
2. queue: each communication's email rendered from its template and queued in ``mail.mail``
   (no SMTP: the mail transport is not part of the run).

With ``--oca``, OCA ``account_credit_control`` 18.0 is installed on the same copy and its
credit-control run (``credit.control.run.generate_credit_lines``) on the same day is timed
side by side.

``--scale-copies N`` grows the overdue book to the target size on the copy: N clones (in SQL)
of the overdue customers with up to ``--scale-items`` of the template's overdue items each.
The target size: ``--template arcc_gen_tpl_1000000l_20000c_s1 --scale-copies 7
--scale-items 23000`` (55,856 overdue customers, 200,489 overdue items).

Run: python3 bench/dunning_run.py [--template NAME | --lines N --customers N] [--chunk-size N]
     [--db COPY] [--http-port PORT]
     [--queue-limit N] [--scale-copies N --scale-items N] [--oca]
"""

from __future__ import annotations

import argparse

import _harness as harness

DEFAULT_TEMPLATE = "arcc_gen_tpl_1000000l_20000c_s1"


def overdue_counts(env, company_id: int, day) -> tuple[int, int]:
    env.cr.execute(
        """
        SELECT count(DISTINCT COALESCE(p.commercial_partner_id, p.id)), count(*)
          FROM account_move_line aml
          JOIN account_account a ON a.id = aml.account_id
          JOIN res_partner p ON p.id = aml.partner_id
         WHERE aml.company_id = %s AND aml.parent_state = 'posted'
           AND a.account_type = 'asset_receivable' AND NOT aml.reconciled
           AND aml.amount_residual > 0 AND aml.date_maturity < %s
        """,
        [company_id, day],
    )
    return env.cr.fetchone()


def _columns(env, table: str) -> list[str]:
    env.cr.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = %s AND column_name != 'id' AND is_generated = 'NEVER'"
        " ORDER BY ordinal_position",
        [table],
    )
    return [name for (name,) in env.cr.fetchall()]


def _clone(env, table: str, mapping: str, overrides: dict[str, str]) -> None:
    """Copy the rows of `table` listed in temp table `mapping` (old, new ids), replacing the
    columns in `overrides` by SQL expressions over ``src`` (the row) and ``m`` (its mapping)."""
    columns = _columns(env, table)
    select = ", ".join(overrides.get(name, f"src.{name}") for name in columns)
    names = ", ".join(f'"{name}"' for name in columns)
    env.cr.execute(
        f"INSERT INTO {table} (id, {names}) SELECT m.new, {select}"  # noqa: S608 - bench only
        f" FROM {table} src JOIN {mapping} m ON m.old = src.id"
    )


def scale_overdue(env, company_id: int, day, copies: int, items_per_copy: int) -> None:
    """Grow the overdue book: `copies` clones of the overdue customers, each with up to
    `items_per_copy` of the original overdue receivable lines (and their invoices), written in
    SQL. The clones carry only their receivable lines (the run reads nothing else).

    The lines are taken round-robin over the customers (every customer's oldest line first,
    then every customer's second...), so each copy clones every overdue customer as long as
    `items_per_copy` is at least their number: the customers grow with the copies, the items
    with `items_per_copy`."""
    env.cr.execute(
        """
        CREATE TEMP TABLE bench_src AS
        SELECT id, move_id, partner_id
          FROM (
                SELECT aml.id, aml.move_id,
                       COALESCE(p.commercial_partner_id, p.id) AS partner_id,
                       row_number() OVER (PARTITION BY COALESCE(p.commercial_partner_id, p.id)
                                          ORDER BY aml.id) AS rank
                  FROM account_move_line aml
                  JOIN account_account a ON a.id = aml.account_id
                  JOIN res_partner p ON p.id = aml.partner_id
                 WHERE aml.company_id = %s AND aml.parent_state = 'posted'
                   AND a.account_type = 'asset_receivable' AND NOT aml.reconciled
                   AND aml.amount_residual > 0 AND aml.date_maturity < %s
               ) ranked
         ORDER BY rank, id
         LIMIT %s
        """,
        [company_id, day, items_per_copy],
    )
    env.cr.execute("CREATE INDEX ON bench_src (id)")
    for copy in range(1, copies + 1):
        env.cr.execute(
            """
            DROP TABLE IF EXISTS bench_pmap, bench_mmap, bench_lmap;
            CREATE TEMP TABLE bench_pmap AS
                SELECT old, nextval('res_partner_id_seq') AS new
                  FROM (SELECT DISTINCT partner_id AS old FROM bench_src) s;
            CREATE TEMP TABLE bench_mmap AS
                SELECT old, nextval('account_move_id_seq') AS new
                  FROM (SELECT DISTINCT move_id AS old FROM bench_src) s;
            CREATE TEMP TABLE bench_lmap AS
                SELECT id AS old, nextval('account_move_line_id_seq') AS new FROM bench_src;
            CREATE INDEX ON bench_pmap (old);
            CREATE INDEX ON bench_mmap (old);
            """
        )
        _clone(
            env,
            "res_partner",
            "bench_pmap",
            {
                "commercial_partner_id": "m.new",
                "parent_id": "NULL",
                "name": f"src.name || ' #{copy}'",
                "complete_name": f"src.complete_name || ' #{copy}'",
                "email": f"'ar' || m.new || '@bench{copy}.example'",
            },
        )
        partner = "(SELECT new FROM bench_pmap WHERE old = {})"
        _clone(
            env,
            "account_move",
            "bench_mmap",
            {
                "name": f"src.name || '-{copy}'",
                "partner_id": partner.format("src.commercial_partner_id"),
                "commercial_partner_id": partner.format("src.commercial_partner_id"),
                "partner_shipping_id": "NULL",
                "payment_reference": "NULL",
                "sequence_prefix": f"src.sequence_prefix || 'C{copy}'",
                "inalterable_hash": "NULL",
                "secure_sequence_number": "NULL",
            },
        )
        _clone(
            env,
            "account_move_line",
            "bench_lmap",
            {
                "move_id": "(SELECT new FROM bench_mmap WHERE old = src.move_id)",
                "partner_id": "(SELECT new FROM bench_pmap WHERE old ="
                " (SELECT partner_id FROM bench_src WHERE bench_src.id = src.id))",
            },
        )
    env.cr.execute("ANALYZE res_partner; ANALYZE account_move; ANALYZE account_move_line")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="")
    parser.add_argument("--lines", type=int, default=0, help="generate a template of N lines")
    parser.add_argument("--customers", type=int, default=0)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument(
        "--queue-limit", type=int, default=2000, help="communications queued in phase 2"
    )
    parser.add_argument(
        "--scale-copies", type=int, default=0, help="add N clones of the overdue customers"
    )
    parser.add_argument(
        "--scale-items", type=int, default=40_000, help="overdue items cloned per copy"
    )
    parser.add_argument("--oca", action="store_true", help="compare with OCA credit control")
    parser.add_argument("--db", default="arcc_dunning2_bench", help="name of the copy to run on")
    parser.add_argument("--http-port", type=int, default=harness.DEFAULT_HTTP_PORT)
    args = parser.parse_args()

    if args.lines:
        template = harness.ensure_template(lines=args.lines, customers=args.customers or 500)
    else:
        template = args.template or DEFAULT_TEMPLATE
    paths = [harness.PROJECT_ADDONS_PATH]
    modules = ["ar_credit_control"]
    if args.oca:
        paths.append(
            str(
                harness.pip_addons(
                    ["odoo-addon-account_credit_control==18.0.2.0.2"],
                    "/tmp/dunning2/oca",
                )
            )
        )
        modules.append("account_credit_control")
    db = harness.fresh_copy(template, name=args.db)
    results = []
    try:
        harness.install_addons(db, modules, extra_paths=paths, http_port=args.http_port)
        with harness.odoo_env(db, extra_paths=paths, commit=True) as env:
            company = env.ref("base.main_company")
            company.partner_id.tz = company.partner_id.tz or "UTC"
            # Every customer gets an email address, so the run can queue for all.
            env.cr.execute(
                "UPDATE res_partner SET email = 'ar' || id || '@customer.example'"
                " WHERE email IS NULL"
            )
            env.cr.commit()
            run_model = env["ar.dunning.run"]
            day = run_model._company_today(company)
            if args.scale_copies:
                scale_overdue(env, company.id, day, args.scale_copies, args.scale_items)
                env.cr.commit()
            customers, items = overdue_counts(env, company.id, day)
            print(f"template {template}: {customers} overdue customers, {items} overdue items")
            with harness.measure("dunning run: decide + record", trace_memory=False) as m:
                run = run_model._run_company(
                    company, trigger="cron", chunk_size=args.chunk_size, commit=True, send=False
                )
                m.rows = len(run.communication_ids)
            m.extra["items"] = env["ar.dunning.communication.line"].search_count(
                [("communication_id.run_id", "=", run.id)]
            )
            results.append(m)
            print(f"  communications {m.rows}, items listed {m.extra['items']}")
            with harness.measure("dunning run: decide (traced)") as traced:
                policies = env["ar.dunning.policy"]._policies_for(company)
                facts, chosen = run._gather_facts(policies)
                traced.rows = len(run._decide(facts, chosen))
            results.append(traced)
            pending = env["ar.dunning.communication"].search(
                [("run_id", "=", run.id), ("state", "=", "draft")], limit=args.queue_limit
            )
            with harness.measure("queue emails (render + mail.mail)", trace_memory=False) as q:
                pending._send()
                q.rows = len(pending)
            env.cr.commit()
            results.append(q)
            with harness.measure("second run same day (idempotent)", trace_memory=False) as again:
                run_model._run_company(
                    company, trigger="cron", chunk_size=args.chunk_size, commit=True, send=False
                )
                again.rows = len(run.communication_ids) - m.rows
            results.append(again)
            if args.oca:
                results.append(oca_run(env, company, day))
        harness.print_table(results)
    finally:
        harness.drop_database(db)


def oca_run(env, company, day):
    """OCA account_credit_control: one run of the company's default policy (its "3 times"
    policy), which reads the receivable lines of the policy's accounts for every customer.
    The run generates its credit control lines (one per overdue item and level); the
    communications and emails are OCA's separate sending step, not timed."""
    policy = company.credit_policy_id
    policy.account_ids = env["account.account"].search(
        [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.ids)]
    )
    env.cr.commit()
    with harness.measure("OCA credit control run", trace_memory=False) as m:
        run = env["credit.control.run"].create({"date": day, "policy_ids": [(6, 0, policy.ids)]})
        run.generate_credit_lines()
        env.flush_all()
        m.rows = len(run.line_ids)
    m.extra["customers"] = len(run.line_ids.partner_id)
    env.cr.commit()
    return m


if __name__ == "__main__":
    main()
