# ruff: noqa: F821 - `env` is provided by `odoo shell`
# Runs inside `odoo shell` on the LAST RELEASE's code (scripts/upgrade_check.py): the data an
# upgrade must keep. Written against the API of releases.txt's last line; uses entry points
# (crons, buttons, the approval wizard) so that it keeps working for later releases.
import json
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError

admin = env.ref("base.user_admin")
env = env(user=admin)
company = env.company
if "ar_credit_block_enabled" in company._fields:  # a setting from 18.0.1.1.0 on
    company.sudo().ar_credit_block_enabled = True
today = fields.Date.context_today(admin)
product = env["product.product"].create(
    {"name": "Upgrade goods", "list_price": 1000.0, "invoice_policy": "order", "type": "consu"}
)


def invoice(partner, amount, days_ago):
    move = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": today - timedelta(days=days_ago),
            "invoice_line_ids": [
                Command.create({"name": "Goods", "price_unit": amount, "tax_ids": []})
            ],
        }
    )
    move.action_post()
    return move


customers = env["res.partner"].create(
    [
        {"name": f"Upgrade customer {name}", "is_company": True, "email": f"ar-{name}@example.com"}
        for name in ("A", "B", "C")
    ]
)
held, late, good = customers
for customer in customers:
    invoice(customer, 1200.0, 90)  # overdue: dunned
    invoice(customer, 800.0, 5)
partly_paid = invoice(good, 500.0, 40)
env["account.payment.register"].with_context(
    active_model="account.move", active_ids=partly_paid.ids
).create({"amount": 200.0, "payment_date": today})._create_payments()

# Credit profiles from the evaluation cron; the held customer put on hold by a manager.
# (A cron starts in a transaction of its own: what was done before it is in the database.)
env.flush_all()
env.ref("ar_credit_control.ir_cron_credit_evaluation").sudo().method_direct_trigger()
profiles = env["ar.credit.profile"].search([("partner_id", "in", customers.ids)])
profiles.filtered(lambda p: p.partner_id == held).write({"credit_hold": True})

# A blocked quotation, approved by a credit manager (not yet confirmed).
order = env["sale.order"].create(
    {"partner_id": held.id, "order_line": [Command.create({"product_id": product.id})]}
)
try:
    order.action_confirm()
    raise SystemExit("the held customer's order was not blocked")
except UserError:
    pass
env["ar.credit.approval.wizard"].create(
    {"order_ids": [Command.set(order.ids)], "decision": "approve", "reason": "Upgrade test"}
).action_apply()

# Today's dunning run.
env.flush_all()
env.ref("ar_credit_control.ir_cron_dunning_run").sudo().method_direct_trigger()
run = env["ar.dunning.run"].search([("company_id", "=", company.id)])

# Other signatures of the SQL functions, as an older release could have left them.
for name in ("ar_credit_exposure", "ar_credit_check_figures"):
    env.cr.execute(
        f"CREATE FUNCTION {name}(stale_argument text) RETURNS integer LANGUAGE sql AS 'SELECT 1'"
    )
env.cr.execute(
    "SELECT partner_id, SUM(amount)::float8 FROM ar_open_balance balance"
    " JOIN account_account account ON account.id = balance.account_id"
    " WHERE partner_id = ANY(%s) AND account.account_type = 'asset_receivable'"
    " GROUP BY partner_id",
    [customers.ids],
)
open_balances = dict(env.cr.fetchall())
env.invalidate_all()  # the dunning run writes the profiles in SQL
facts = {
    "customers": customers.ids,
    "held": held.id,
    "good": good.id,
    "product": product.id,
    "order": order.id,
    "approval_state": order.credit_approval_state,
    "profiles": {str(p.partner_id.id): [p.id, p.grade, p.credit_hold] for p in profiles},
    "dunning_runs": run.ids,
    "dunning_levels": {str(p.partner_id.id): p.dunning_level for p in profiles},
    "communications": env["ar.dunning.communication"].search_count([("state", "=", "sent")]),
    "dunning_items": sorted(
        [item.move_line_ref, item.level] for item in env["ar.dunning.item"].search([])
    ),
    "open_balances": {str(k): v for k, v in open_balances.items()},
}
assert run and facts["communications"], "the dunning run sent nothing"
assert order.credit_approval_state == "approved", order.credit_approval_state
env.cr.commit()
print("UPGRADE-SEED " + json.dumps(facts, sort_keys=True))
