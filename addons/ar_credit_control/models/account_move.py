"""Optional: no customer invoice is posted for a customer on credit hold (company setting, which
applies only while the company's credit block is on).

Superuser paths (the automatic invoice after an online payment) are left alone: the customer
has paid, and raising there would lose the payment's post-processing.
"""

from odoo import models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        if not self.env.su:
            self._check_credit_hold_before_posting()
        return super()._post(soft=soft)

    def _check_credit_hold_before_posting(self):
        invoices = self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.company_id.ar_credit_block_enabled
                and m.company_id.ar_credit_block_invoice_on_hold
            )
        )
        if not invoices:
            return
        profiles = (
            self.env["ar.credit.profile"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", invoices.commercial_partner_id.ids),
                    ("company_id", "in", invoices.company_id.ids),
                    ("credit_hold", "=", True),
                ]
            )
        )
        on_hold = {(p.partner_id.id, p.company_id.id) for p in profiles}
        blocked = invoices.filtered(
            lambda m: (m.commercial_partner_id.id, m.company_id.id) in on_hold
        )
        if blocked:
            raise UserError(
                self.env._(
                    "These customers are on credit hold: their invoices are not posted "
                    "(%(customers)s). A credit manager can lift the hold on the customer's "
                    "credit profile.",
                    customers=", ".join(blocked.commercial_partner_id.mapped("display_name")),
                )
            )
