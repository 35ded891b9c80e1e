"""18.0.1.1.0: the credit block became a company setting (off for new installs), and a credit
approval binds to the customer, the invoice address's company and the company as well.

A database upgraded from 18.0.1.0.0 was blocking in every company: it keeps blocking. Its credit
managers could approve their own orders: they still can (``ar_credit_allow_self_approval``, to
switch off in the settings), so an approval given before is not voided by the upgrade. Approvals
given before were bound to amount and currency only: they are bound to the order as it stands
now, so an upgrade voids none of them.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.company"].with_context(active_test=False).search([]).write(
        {"ar_credit_block_enabled": True, "ar_credit_allow_self_approval": True}
    )
    approved = env["sale.order"].search(
        [
            ("credit_approval_state", "=", "approved"),
            ("state", "in", ("draft", "sent")),
            ("credit_approved_partner_id", "=", False),
        ]
    )
    for order in approved:
        order._credit_write(
            {
                "credit_approved_partner_id": order.partner_id.commercial_partner_id.id,
                "credit_approved_invoice_partner_id": order._credit_partner().id,
                "credit_approved_company_id": order.company_id.id,
            }
        )
