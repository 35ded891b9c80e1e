from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_credit_block_delivery_on_hold = fields.Boolean(
        related="company_id.ar_credit_block_delivery_on_hold", readonly=False
    )
