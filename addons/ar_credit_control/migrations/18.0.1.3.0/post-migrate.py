"""18.0.1.3.0: unapplied cash shown as such and set against the overdue amount.

Payments and credit notes not matched with an invoice yet lowered no overdue figure: a
customer who had paid was still dunned and blocked. Setting them against the overdue amount
(``ar_net_unapplied_cash``) corrects that figure: it is on for every existing company, as for
new ones. Every aging set gets its "Unapplied" column, where those payments and credit notes
now show instead of in "Not due".
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.company"].with_context(active_test=False).search([]).write(
        {"ar_net_unapplied_cash": True}
    )
    env["ar.aging.bucket.set"].with_context(active_test=False).search([])._ensure_special_lines()
