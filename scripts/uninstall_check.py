# ruff: noqa: F821 - `env` is provided by `odoo shell`
# Runs inside `odoo shell` (env is given): uninstall our addons, then prove that Odoo's
# standard sell-and-invoice flow still works on the same database.
from odoo.addons.ar_credit_control.database_objects import NAMES

modules = env["ir.module.module"].search(
    [("name", "=like", "ar_credit_control%"), ("state", "=", "installed")]
)
assert modules, "ar_credit_control is not installed: nothing to uninstall"
modules.button_immediate_uninstall()
env.cr.commit()
env.invalidate_all()

remaining = env["ir.module.module"].search_count(
    [("name", "like", "ar_credit_control"), ("state", "!=", "uninstalled")]
)
assert remaining == 0, "addon still installed after uninstall"
env.cr.execute("SELECT count(*) FROM ir_model WHERE model LIKE 'ar.%%'")
leftover = env.cr.fetchone()[0]
assert leftover == 0, f"{leftover} ar.* models left behind"
env.cr.execute(
    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'account_move_line'::regclass"
    " AND tgname LIKE 'ar\\_%%'"
)
triggers = [name for (name,) in env.cr.fetchall()]
assert not triggers, f"triggers left on account_move_line: {triggers}"
env.cr.execute("SELECT proname FROM pg_proc WHERE proname LIKE 'ar\\_%%'")
functions = [name for (name,) in env.cr.fetchall()]
assert not functions, f"functions left behind: {functions}"
for name in (*NAMES["table"], *NAMES["index"]):
    env.cr.execute("SELECT to_regclass(%s)", [name])
    assert env.cr.fetchone()[0] is None, f"{name} left behind"
env.cr.execute("SELECT count(*) FROM pg_description WHERE description LIKE 'ar_credit_control %%'")
assert env.cr.fetchone()[0] == 0, "objects carrying the addon's version mark left behind"

customer = env["res.partner"].create({"name": "Uninstall check customer"})
product = env["product.product"].create(
    {"name": "Uninstall check product", "list_price": 100.0, "invoice_policy": "order"}
)
order = env["sale.order"].create(
    {"partner_id": customer.id, "order_line": [(0, 0, {"product_id": product.id})]}
)
order.action_confirm()
assert order.state == "sale", order.state
invoice = order._create_invoices()
invoice.action_post()
assert invoice.state == "posted" and invoice.amount_total > 0
env.cr.rollback()
print("UNINSTALL-CHECK: OK")
