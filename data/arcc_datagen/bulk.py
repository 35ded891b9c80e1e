"""Bulk writing with PostgreSQL: COPY streams, secondary indexes rebuilt once, sequences reset.

Only needs psycopg2. Foreign-key triggers are skipped during the load
(``session_replication_role = replica``); ``checks.sql`` proves referential integrity after.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from .rows import ID_TABLES, TABLE_COLUMNS

BIG_TABLES = ("account_move", "account_move_line", "account_partial_reconcile", "account_payment")


def next_ids(cr) -> dict[str, int]:
    result = {}
    for table in ID_TABLES:
        cr.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        result[table] = cr.fetchone()[0]
    return result


def drop_secondary_indexes(cr, tables: Iterable[str] = BIG_TABLES) -> list[str]:
    """Drop non-unique, non-constraint indexes; return their definitions to rebuild later."""
    cr.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
          JOIN pg_class t ON t.oid = i.indrelid
         WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [list(tables)],
    )
    definitions = []
    for name, definition in cr.fetchall():
        cr.execute(f"DROP INDEX {name}")
        definitions.append(definition)
    return definitions


def rebuild_indexes(cr, definitions: list[str]) -> None:
    cr.execute("SET maintenance_work_mem = '512MB'")
    for definition in definitions:
        cr.execute(definition)


def copy_rows(cr, table: str, rows: list[str]) -> None:
    if not rows:
        return
    buffer = io.StringIO("\n".join(rows) + "\n")
    columns = ", ".join(TABLE_COLUMNS[table])
    cr.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def flush(cr, buffers: dict[str, list[str]]) -> None:
    # Referenced tables first; FK triggers are off, but keep a natural order anyway.
    order = [*ID_TABLES, *[table for table in TABLE_COLUMNS if table not in ID_TABLES]]
    for table in order:
        copy_rows(cr, table, buffers.get(table, []))


def reset_sequences(cr) -> None:
    for table in ID_TABLES:
        cr.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" GREATEST((SELECT MAX(id) FROM {table}), 1))"
        )


def set_sale_order_sequence(cr, last_number: int) -> None:
    """Continue the S00001 numbering of sale.order after the generated orders."""
    if last_number < 1:
        return
    cr.execute("SELECT id, implementation FROM ir_sequence WHERE code = 'sale.order'")
    for sequence_id, implementation in cr.fetchall():
        if implementation == "standard":
            # is_called = true: the next nextval() returns last_number + 1.
            cr.execute(f"SELECT setval('ir_sequence_{sequence_id:03d}', %s)", [last_number])
        else:
            cr.execute(
                "UPDATE ir_sequence SET number_next = %s WHERE id = %s",
                [last_number + 1, sequence_id],
            )


def analyze(cr) -> None:
    for table in TABLE_COLUMNS:
        cr.execute(f"ANALYZE {table}")
