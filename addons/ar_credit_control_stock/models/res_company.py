from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_credit_block_delivery_on_hold = fields.Boolean(
        string="Block deliveries to customers on hold",
        help="Deliveries to customers on credit hold cannot be validated.",
    )
