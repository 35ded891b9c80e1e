"""Run ``data/checks.sql`` (invariants) and summary statistics against a database."""

from __future__ import annotations

import re
from pathlib import Path

CHECKS_FILE = Path(__file__).resolve().parent.parent / "checks.sql"

STATISTICS = {
    "receivable lines": """
        SELECT COUNT(*) FROM account_move_line l JOIN account_account a ON a.id = l.account_id
         WHERE a.account_type = 'asset_receivable'""",
    "moves by type/payment_state": """
        SELECT move_type || '/' || payment_state, COUNT(*) FROM account_move
         GROUP BY 1 ORDER BY 1""",
    "payments by state/matched": """
        SELECT state || CASE WHEN is_matched THEN '/matched' ELSE '/unmatched' END
               || CASE WHEN is_reconciled THEN '/reconciled' ELSE '/open' END, COUNT(*)
          FROM account_payment GROUP BY 1 ORDER BY 1""",
    "open receivable lines by age bucket": """
        SELECT CASE WHEN l.date_maturity >= CURRENT_DATE THEN '0 current'
                    WHEN l.date_maturity >= CURRENT_DATE - 30 THEN '1 1-30'
                    WHEN l.date_maturity >= CURRENT_DATE - 60 THEN '2 31-60'
                    WHEN l.date_maturity >= CURRENT_DATE - 90 THEN '3 61-90'
                    WHEN l.date_maturity >= CURRENT_DATE - 120 THEN '4 91-120'
                    ELSE '5 >120' END, COUNT(*)
          FROM account_move_line l JOIN account_account a ON a.id = l.account_id
         WHERE a.account_type = 'asset_receivable' AND NOT l.reconciled
         GROUP BY 1 ORDER BY 1""",
    "invoices by currency": """
        SELECT c.name || ' in company ' || m.company_id, COUNT(*) FROM account_move m
          JOIN res_currency c ON c.id = m.currency_id
         WHERE m.move_type = 'out_invoice' GROUP BY 1 ORDER BY 1""",
    "invoices with several instalments": """
        SELECT COUNT(*) FROM (SELECT move_id FROM account_move_line
                               WHERE display_type = 'payment_term'
                               GROUP BY move_id HAVING COUNT(*) > 1) m""",
    "sale orders by invoice_status (partly invoiced)": """
        SELECT s.invoice_status || CASE WHEN EXISTS (
                   SELECT 1 FROM sale_order_line l WHERE l.order_id = s.id AND l.qty_invoiced > 0)
               THEN ' (partly invoiced)' ELSE '' END, COUNT(*)
          FROM sale_order s WHERE s.state = 'sale' GROUP BY 1 ORDER BY 1""",
}


def load_checks(path: Path = CHECKS_FILE) -> list[tuple[str, str]]:
    """(name, sql) pairs from the ``-- name:`` markers of the checks file."""
    checks = []
    for block in re.split(r"^-- name: ", path.read_text(), flags=re.MULTILINE)[1:]:
        name, _newline, sql = block.partition("\n")
        checks.append((name.strip(), sql.strip()))
    if not checks:
        raise ValueError(f"no check found in {path}")
    return checks


def run_checks(cr, in_payment_state: str = "in_payment") -> dict[str, int]:
    results = {}
    for name, sql in load_checks():
        if "%(in_payment_state)s" in sql:
            cr.execute(sql, {"in_payment_state": in_payment_state})
        else:
            cr.execute(sql)
        results[name] = int(cr.fetchone()[0])
    return results


def statistics(cr) -> dict[str, list[tuple]]:
    result = {}
    for title, sql in STATISTICS.items():
        cr.execute(sql)
        result[title] = cr.fetchall()
    return result


def print_report(results: dict[str, int], stats: dict[str, list[tuple]]) -> bool:
    width = max(len(name) for name in results)
    print("invariant checks (violations, 0 expected):")
    for name, violations in results.items():
        status = "ok" if violations == 0 else "FAIL"
        print(f"  {name:<{width}}  {violations:>8}  {status}")
    for title, rows in stats.items():
        print(f"{title}:")
        for row in rows:
            print("  " + "  ".join(str(value) for value in row))
    return all(violations == 0 for violations in results.values())
