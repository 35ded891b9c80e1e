# ruff: noqa: F821 - `env` is provided by `odoo shell`
# Runs inside `odoo shell` on the WORKING TREE's code after `-u` (scripts/upgrade_check.py):
# the data seeded on the last release is kept, the features work, the database objects are new.
import json
import os
import sys
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.modules.module import get_manifest

from odoo.addons.ar_credit_control.database_objects import (
    FUNCTIONS,
    NAMES,
    function_signatures,
    marked_objects,
)

facts = json.loads(os.environ["ARCC_UPGRADE_FACTS"])
admin = env.ref("base.user_admin")
env = env(user=admin)
company = env.company
checks = []


def check(condition, what):
    if not condition:
        print(f"UPGRADE-VERIFY FAILED: {what}")
        sys.exit(1)
    checks.append(what)


# Versions: every addon at the working tree's manifest version.
for module in env["ir.module.module"].search([("name", "=like", "ar_credit_control%")]):
    expected = get_manifest(module.name)["version"]
    check(module.state == "installed", f"{module.name} installed")
    check(module.latest_version == expected, f"{module.name} at {expected}")

# Data kept.
for partner_id, (profile_id, grade, hold) in facts["profiles"].items():
    profile = env["ar.credit.profile"].browse(profile_id).exists()
    check(profile and profile.partner_id.id == int(partner_id), f"profile {profile_id} kept")
    check((profile.grade, profile.credit_hold) == (grade, hold), f"profile {profile_id} figures")
    level = facts["dunning_levels"][partner_id]
    check(profile.dunning_level == level, f"dunning level of customer {partner_id} kept")
runs = env["ar.dunning.run"].browse(facts["dunning_runs"]).exists()
check(len(runs) == len(facts["dunning_runs"]), "dunning runs kept")
check(
    env["ar.dunning.communication"].search_count([("state", "=", "sent")])
    == facts["communications"],
    "dunning communications kept",
)
items = sorted([i.move_line_ref, i.level] for i in env["ar.dunning.item"].search([]))
check(items == facts["dunning_items"], "each instalment's dunning level kept")
env.cr.execute(
    "SELECT partner_id, SUM(amount)::float8 FROM ar_open_balance balance"
    " JOIN account_account account ON account.id = balance.account_id"
    " WHERE partner_id = ANY(%s) AND account.account_type = 'asset_receivable'"
    " GROUP BY partner_id",
    [facts["customers"]],
)
check({str(k): v for k, v in env.cr.fetchall()} == facts["open_balances"], "open balances kept")
check(env["ar.open.balance"]._drift() == [], "open balances equal the move lines")

# The credit check: the approval given before the upgrade still lets its order through; a new
# order of the held customer is blocked; the good customer's confirms.
order = env["sale.order"].browse(facts["order"])
check(order.credit_approval_state == "approved", "approval kept")
order.action_confirm()
check(order.state == "sale", "the approved order confirms after the upgrade")
product = env["product.product"].browse(facts["product"])


def new_order(partner_id):
    return env["sale.order"].create(
        {"partner_id": partner_id, "order_line": [Command.create({"product_id": product.id})]}
    )


blocked = new_order(facts["held"])
try:
    blocked.action_confirm()
    check(False, "a new order of the held customer is blocked")
except UserError:
    checks.append("a new order of the held customer is blocked")
passing = new_order(facts["good"])
passing.action_confirm()
check(passing.state == "sale", "a new order of a good customer confirms")

# The aging: every customer's open amount, as the open balances say.
bucket_set = env["ar.aging.bucket.set"].search([("company_id", "=", company.id)], limit=1)
check(bucket_set, "an aging bucket set")
totals = env["ar.aging.report"]._bucket_totals(
    bucket_set, fields.Date.context_today(admin), company.ids, facts["customers"]
)
aged = {}
for (partner_id, _bucket), (amount, _count) in totals.items():
    aged[str(partner_id)] = aged.get(str(partner_id), 0.0) + amount
check(
    {k: round(v, 2) for k, v in aged.items()}
    == {k: round(v, 2) for k, v in facts["open_balances"].items()},
    f"aging equals the open balances: {aged} {facts['open_balances']}",
)

# A dunning run after the upgrade: the same day, it resumes today's run and sends what is new.
late_customer = env["res.partner"].create(
    {"name": "Upgrade customer D", "is_company": True, "email": "ar-D@example.com"}
)
late_invoice = env["account.move"].create(
    {
        "move_type": "out_invoice",
        "partner_id": late_customer.id,
        "invoice_date": fields.Date.context_today(admin) - timedelta(days=20),
        "invoice_line_ids": [Command.create({"name": "Goods", "price_unit": 300.0, "tax_ids": []})],
    }
)
late_invoice.action_post()
env.flush_all()
env.ref("ar_credit_control.ir_cron_dunning_run").sudo().method_direct_trigger()
sent = env["ar.dunning.communication"].search_count([("state", "=", "sent")])
check(sent > facts["communications"], "a dunning run after the upgrade duns a new customer")

# Database objects: all the new ones, each function with one signature.
for name in FUNCTIONS:
    check(len(function_signatures(env.cr, name)) == 1, f"{name}: one signature")
found = {(kind, name.split("(")[0].split(" ON ")[0]) for kind, name in marked_objects(env.cr)}
listed = {(kind, name) for kind, names in NAMES.items() for name in names}
check(found == listed, f"every database object made by this version: {listed - found}")

env.cr.commit()
print(f"UPGRADE-VERIFY {len(checks)} checks passed")
