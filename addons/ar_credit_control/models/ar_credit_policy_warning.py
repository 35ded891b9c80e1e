"""Grade policies say whether their customers get a reminder before an invoice falls due."""

from odoo import fields, models


class ArCreditPolicy(models.Model):
    _inherit = "ar.credit.policy"

    pre_due_reminder = fields.Boolean(
        help="Customers of this grade get a pre-due warning (rule 'Invoice due soon') before "
        "their invoices fall due."
    )
