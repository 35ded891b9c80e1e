from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_matching_write_off_account_id = fields.Many2one(
        related="company_id.ar_matching_write_off_account_id", readonly=False
    )
    ar_matching_tolerance_amount = fields.Float(
        related="company_id.ar_matching_tolerance_amount", readonly=False
    )
    ar_matching_tolerance_percent = fields.Float(
        related="company_id.ar_matching_tolerance_percent", readonly=False
    )
    ar_matching_auto_accept = fields.Float(
        related="company_id.ar_matching_auto_accept", readonly=False
    )
