"""The PostgreSQL objects the addon makes itself, beside the tables of its models.

Where speed needs what the ORM cannot declare (SQL functions, statement triggers on
``account_move_line``, covering or partial indexes on Odoo's tables, two tables of derived
figures), the models' ``init()`` make them through ``ensure_function``, ``ensure_trigger``,
``ensure_index`` and ``ensure_table``. Each object carries a version mark in its COMMENT:
``ar_credit_control <fingerprint of the statement that made it>``. Install and every upgrade
compare marks: an object whose statement changed is dropped and made again, whatever its old
signature, columns or definition (``CREATE OR REPLACE`` cannot change a function's return type,
and a new parameter list would make a second function of the same name); an unchanged one is
left alone, so an upgrade rebuilds no index it does not have to.

``drop_all`` (uninstall) drops every object carrying the mark, and every object of the names in
``NAMES`` with all its signatures, also those of releases made before the marks existed.
"""

import hashlib

from odoo.tools import SQL

MARK = "ar_credit_control"

# Every name the addon has given its own objects, in any release: uninstall drops them even
# when a database kept an unmarked or stale copy. Add a name here when an object is added.
FUNCTIONS = (
    "ar_credit_exposure",
    "ar_credit_check_figures",
    "ar_open_balance_track",
    "ar_unapplied_cash",
)
TRIGGERS = (  # all on account_move_line
    "ar_open_balance_on_insert",
    "ar_open_balance_on_update",
    "ar_open_balance_on_delete",
)
TABLES = ("ar_open_balance", "ar_collection_forecast_data")
INDEXES = (
    "ar_credit_open_line_idx",
    "ar_credit_paid_open_move_idx",
    "ar_credit_draft_invoice_idx",
    "ar_credit_customer_invoice_idx",
    "ar_credit_control_partial_max_date_idx",
    "ar_aging_open_line_idx",
    "ar_warning_settled_line_idx",
)
NAMES = {"function": FUNCTIONS, "trigger": TRIGGERS, "table": TABLES, "index": INDEXES}


def _mark(cr, statement):
    """The COMMENT that says which statement made an object."""
    text = cr.mogrify(statement) if isinstance(statement, SQL) else cr.mogrify(statement, None)
    return f"{MARK} {hashlib.sha256(text).hexdigest()[:16]}"


def _check_known(kind, name):
    # An object not listed in NAMES would survive an uninstall that runs before its mark is set.
    if name not in NAMES[kind]:
        raise ValueError(f"{kind} {name} is not listed in database_objects.NAMES")


def function_signatures(cr, name):
    """[(signature, comment)] of every function called `name` in the current schema."""
    cr.execute(
        """
        SELECT oid::regprocedure::text, obj_description(oid, 'pg_proc')
          FROM pg_proc
         WHERE proname = %s AND pronamespace = current_schema()::regnamespace
         ORDER BY oid
        """,
        [name],
    )
    return cr.fetchall()


def _drop_functions(cr, name):
    # CASCADE: a trigger function takes its triggers along; ensure_trigger makes them again.
    for signature, _comment in function_signatures(cr, name):
        cr.execute(SQL("DROP FUNCTION IF EXISTS %s CASCADE", SQL(signature)))


def ensure_function(cr, name, statement):
    """Make function `name` with `statement` (a CREATE FUNCTION) unless it is there, alone,
    made by the same statement. Returns whether it was made."""
    _check_known("function", name)
    mark = _mark(cr, statement)
    if [comment for _signature, comment in function_signatures(cr, name)] == [mark]:
        return False
    _drop_functions(cr, name)
    cr.execute(statement)
    [(signature, _comment)] = function_signatures(cr, name)
    cr.execute(SQL("COMMENT ON FUNCTION %s IS %s", SQL(signature), mark))
    return True


def ensure_trigger(cr, name, table, statement):
    """Make trigger `name` on `table` with `statement` unless it is there, made by it."""
    _check_known("trigger", name)
    mark = _mark(cr, statement)
    cr.execute(
        "SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger "
        "WHERE tgname = %s AND tgrelid = %s::regclass",
        [name, table],
    )
    if cr.fetchall() == [(mark,)]:
        return False
    cr.execute(SQL("DROP TRIGGER IF EXISTS %s ON %s", SQL.identifier(name), SQL.identifier(table)))
    cr.execute(statement)
    cr.execute(
        SQL("COMMENT ON TRIGGER %s ON %s IS %s", SQL.identifier(name), SQL.identifier(table), mark)
    )
    return True


def _relation_mark(cr, name):
    """(exists, comment) of table or index `name`."""
    cr.execute("SELECT obj_description(to_regclass(%s), 'pg_class'), to_regclass(%s)", [name] * 2)
    comment, oid = cr.fetchone()
    return oid is not None, comment


def ensure_index(cr, name, statement):
    """Make index `name` with `statement` (a CREATE INDEX) unless it is there, made by it."""
    _check_known("index", name)
    mark = _mark(cr, statement)
    if _relation_mark(cr, name) == (True, mark):
        return False
    cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
    cr.execute(statement)
    cr.execute(SQL("COMMENT ON INDEX %s IS %s", SQL.identifier(name), mark))
    return True


def ensure_table(cr, name, statement):
    """Make table `name` with `statement` (its CREATE TABLE and CREATE INDEX statements) unless
    it is there, made by it. A table of another shape is dropped with what depends on it (a view
    on it): only tables of figures derived from other tables are made here, and the caller fills
    a table made again. Returns whether it was made."""
    _check_known("table", name)
    mark = _mark(cr, statement)
    if _relation_mark(cr, name) == (True, mark):
        return False
    cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", SQL.identifier(name)))
    cr.execute(statement)
    cr.execute(SQL("COMMENT ON TABLE %s IS %s", SQL.identifier(name), mark))
    return True


def marked_objects(cr):
    """[(kind, name)] of every object carrying the mark; a trigger's name is 'name ON table'."""
    cr.execute(
        """
        SELECT CASE WHEN d.classoid = 'pg_proc'::regclass THEN 'function'
                    WHEN d.classoid = 'pg_trigger'::regclass THEN 'trigger'
                    WHEN c.relkind = 'i' THEN 'index'
                    ELSE 'table' END,
               COALESCE(p.oid::regprocedure::text,
                        quote_ident(t.tgname) || ' ON ' || t.tgrelid::regclass::text,
                        c.oid::regclass::text)
          FROM pg_description d
          LEFT JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
          LEFT JOIN pg_trigger t ON d.classoid = 'pg_trigger'::regclass AND t.oid = d.objoid
          LEFT JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
         WHERE d.objsubid = 0 AND d.description LIKE %s
           AND COALESCE(p.oid, t.oid, c.oid) IS NOT NULL
         ORDER BY 1, 2
        """,
        [f"{MARK} %"],
    )
    return cr.fetchall()


def drop_all(cr):
    """Uninstall: every object of the addon, marked or listed, with all its signatures."""
    for name in TRIGGERS:
        cr.execute(SQL("DROP TRIGGER IF EXISTS %s ON account_move_line", SQL.identifier(name)))
    for name in FUNCTIONS:
        _drop_functions(cr, name)
    for name in INDEXES:
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
    for name in TABLES:
        cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", SQL.identifier(name)))
    # Names come from the catalogs, already quoted.
    statements = {
        "trigger": "DROP TRIGGER IF EXISTS %s",
        "function": "DROP FUNCTION IF EXISTS %s CASCADE",
        "index": "DROP INDEX IF EXISTS %s",
        "table": "DROP TABLE IF EXISTS %s CASCADE",
    }
    for kind in ("trigger", "function", "index", "table"):
        for object_kind, name in marked_objects(cr):
            if object_kind == kind:
                cr.execute(SQL(statements[kind], SQL(name)))
