from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_scoring_window_months = fields.Integer(
        related="company_id.ar_scoring_window_months", readonly=False
    )
    ar_exposure_include_draft_invoices = fields.Boolean(
        related="company_id.ar_exposure_include_draft_invoices", readonly=False
    )
