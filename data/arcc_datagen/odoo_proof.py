"""Prove a generated database through Odoo itself, in-process and without committing.

1. Pick invoices of every kind (each payment state, foreign currency, several instalments),
   credit notes, payments and sale orders; let Odoo recompute their stored computed fields and
   compare with what the generator wrote.
2. Register payments with the ``account.payment.register`` wizard (one partial, one full) and
   check residual and payment_state afterwards.
Everything is rolled back: the database is left as generated.
"""

from __future__ import annotations

from decimal import Decimal

from . import dbtools

MOVE_FIELDS = (
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "amount_residual",
    "amount_untaxed_signed",
    "amount_tax_signed",
    "amount_total_signed",
    "amount_residual_signed",
    "amount_total_in_currency_signed",
    "payment_state",
)
LINE_FIELDS = ("amount_residual", "amount_residual_currency", "reconciled")
PAYMENT_FIELDS = ("is_reconciled", "is_matched", "state")
ORDER_LINE_FIELDS = (
    "qty_invoiced",
    "qty_to_invoice",
    "invoice_status",
    "untaxed_amount_invoiced",
    "untaxed_amount_to_invoice",
)
SAMPLE_PER_KIND = 5


def _sample_ids(cr) -> dict[str, list[int]]:
    queries = {
        "invoice": """
            SELECT id FROM (
                SELECT id, ROW_NUMBER() OVER (PARTITION BY payment_state, currency_id ORDER BY id)
                       AS rank
                  FROM account_move WHERE move_type = 'out_invoice') ranked
             WHERE rank <= %s""",
        "multi_instalment": """
            SELECT move_id FROM account_move_line WHERE display_type = 'payment_term'
             GROUP BY move_id HAVING COUNT(*) > 2 ORDER BY move_id LIMIT %s""",
        "refund": """
            SELECT id FROM (
                SELECT id, ROW_NUMBER() OVER (PARTITION BY payment_state ORDER BY id) AS rank
                  FROM account_move WHERE move_type = 'out_refund') ranked
             WHERE rank <= %s""",
        "payment": """
            SELECT id FROM (
                SELECT id, ROW_NUMBER() OVER (PARTITION BY state, is_matched, is_reconciled
                                              ORDER BY id) AS rank
                  FROM account_payment) ranked
             WHERE rank <= %s""",
        "sale_order": """
            SELECT id FROM sale_order ORDER BY id DESC LIMIT %s""",
        "open_invoice": """
            SELECT m.id FROM account_move m
             WHERE m.move_type = 'out_invoice' AND m.payment_state = 'not_paid'
               AND (SELECT COUNT(*) FROM account_move_line l
                     WHERE l.move_id = m.id AND l.display_type = 'payment_term') > 1
             ORDER BY m.id LIMIT 2""",
    }
    result = {}
    for kind, sql in queries.items():
        cr.execute(sql, [SAMPLE_PER_KIND] if "%s" in sql else None)
        result[kind] = [row[0] for row in cr.fetchall()]
    return result


def _normalise(value):
    if isinstance(value, float | Decimal):
        return round(float(value), 2)
    return value


def _compare(records, fields, recompute, problems: list[str], allowed=None) -> int:
    """Snapshot stored values, recompute with Odoo's own methods, report differences."""
    stored = {rec.id: {name: _normalise(rec[name]) for name in fields} for rec in records}
    records.invalidate_recordset(list(fields))
    recompute(records)
    for rec in records:
        for name in fields:
            new = _normalise(rec[name])
            old = stored[rec.id][name]
            if old != new and not (allowed and allowed(name, old, new)):
                problems.append(f"{rec._name}({rec.id}).{name}: stored {old!r}, Odoo {new!r}")
    return len(records)


def prove(db: str) -> bool:
    import odoo
    from odoo import SUPERUSER_ID, api, fields
    from odoo.modules.registry import Registry

    if "/opt/odoo18/addons" not in str(odoo.tools.config.get("addons_path") or ""):
        odoo.tools.config.parse_config([f"--addons-path={dbtools.ADDONS_PATH}"])
    registry = Registry(db)
    problems: list[str] = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        in_payment_state = env["account.move"]._get_invoice_in_payment_state()
        ids = _sample_ids(cr)
        Move = env["account.move"]
        moves = Move.browse(ids["invoice"] + ids["multi_instalment"] + ids["refund"]).exists()
        moves = moves.with_context(allowed_company_ids=env["res.company"].search([]).ids)

        def allowed(name, old, new):
            # Community computes 'paid' where the accountant app shows 'in_payment'.
            return name == "payment_state" and old == "in_payment" and new == in_payment_state

        def recompute_moves(records):
            records.line_ids._compute_amount_residual()
            records._compute_amount()
            records._compute_payment_state()

        # Lines first: recomputing the moves recomputes their lines too.
        lines = moves.line_ids.filtered(lambda line: line.account_id.reconcile)
        checked = _compare(lines, LINE_FIELDS, lambda r: r._compute_amount_residual(), problems)
        checked += _compare(moves, MOVE_FIELDS, recompute_moves, problems, allowed)
        payments = env["account.payment"].browse(ids["payment"])

        def recompute_payments(records):
            records._compute_reconciliation_status()
            records._compute_state()

        def payment_allowed(name, old, new):
            # In Community a payment becomes 'paid' once its invoices are paid, also when the
            # bank has not matched it yet; the accountant app keeps it 'in process'.
            return (
                name == "state"
                and in_payment_state == "paid"
                and (old, new) == ("in_process", "paid")
            )

        checked += _compare(payments, PAYMENT_FIELDS, recompute_payments, problems, payment_allowed)
        orders = env["sale.order"].browse(ids["sale_order"])

        def recompute_order_lines(records):
            records._compute_qty_invoiced()
            records._compute_qty_to_invoice()
            records._compute_invoice_status()
            records._compute_untaxed_amount_invoiced()
            records._compute_untaxed_amount_to_invoice()

        checked += _compare(orders.order_line, ORDER_LINE_FIELDS, recompute_order_lines, problems)
        # Read what the forms and lists show: every computed field must compute without error.
        for move in moves:
            move.read(
                [
                    "invoice_payments_widget",
                    "invoice_outstanding_credits_debits_widget",
                    "tax_totals",
                    "matched_payment_ids",
                    "needed_terms",
                    "display_name",
                ]
            )
        orders.read(["amount_to_invoice", "amount_invoiced", "invoice_ids", "tax_totals"])
        moves.partner_id.with_company(moves.company_id[:1]).read(
            ["credit", "debit", "credit_to_invoice"]
        )
        print(f"ORM recompute: {checked} records compared, {len(problems)} differences")
        problems += _register_payments(env, Move.browse(ids["open_invoice"]), fields)
        cr.rollback()
    Registry.delete(db)
    for problem in problems[:30]:
        print(f"  PROBLEM {problem}")
    print("Odoo proof:", "ok" if not problems else f"{len(problems)} problem(s)")
    return not problems


def _register_payments(env, invoices, fields) -> list[str]:
    """A partial then a full payment through the wizard, as a user would register them."""
    problems = []
    if len(invoices) < 2:
        return ["fewer than two open multi-instalment invoices to pay"]
    partial_invoice, full_invoice = invoices[0], invoices[1]
    for invoice, full in ((partial_invoice, False), (full_invoice, True)):
        invoice = invoice.with_company(invoice.company_id)
        before = invoice.amount_residual
        amount = before if full else invoice.currency_id.round(before / 3)
        wizard = (
            env["account.payment.register"]
            .with_company(invoice.company_id)
            .with_context(
                active_model="account.move",
                active_ids=invoice.ids,
            )
            .create({"payment_date": fields.Date.context_today(invoice), "amount": amount})
        )
        payments = wizard._create_payments()
        invoice.invalidate_recordset()
        expected_residual = invoice.currency_id.round(before - amount)
        if invoice.currency_id.compare_amounts(invoice.amount_residual, expected_residual):
            problems.append(
                f"{invoice.name}: residual {invoice.amount_residual}, expected {expected_residual}"
            )
        expected_states = ("paid", "in_payment") if full else ("partial",)
        if invoice.payment_state not in expected_states:
            problems.append(
                f"{invoice.name}: payment_state {invoice.payment_state}, "
                f"expected one of {expected_states}"
            )
        print(
            f"wizard payment {payments.name} of {amount} on {invoice.name}: residual "
            f"{before} -> {invoice.amount_residual}, state {invoice.payment_state}"
        )
    return problems
