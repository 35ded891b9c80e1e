from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_scoring_window_months = fields.Integer(
        related="company_id.ar_scoring_window_months", readonly=False
    )
    ar_exposure_include_draft_invoices = fields.Boolean(
        related="company_id.ar_exposure_include_draft_invoices", readonly=False
    )
    ar_net_unapplied_cash = fields.Boolean(
        related="company_id.ar_net_unapplied_cash", readonly=False
    )
    ar_min_paid_instalments = fields.Integer(
        related="company_id.ar_min_paid_instalments", readonly=False
    )
    ar_grade_cutoff_a = fields.Integer(related="company_id.ar_grade_cutoff_a", readonly=False)
    ar_grade_cutoff_b = fields.Integer(related="company_id.ar_grade_cutoff_b", readonly=False)
    ar_grade_cutoff_c = fields.Integer(related="company_id.ar_grade_cutoff_c", readonly=False)
    ar_grade_cutoff_d = fields.Integer(related="company_id.ar_grade_cutoff_d", readonly=False)
    ar_weight_lateness = fields.Float(related="company_id.ar_weight_lateness", readonly=False)
    ar_weight_overdue = fields.Float(related="company_id.ar_weight_overdue", readonly=False)
    ar_weight_utilisation = fields.Float(related="company_id.ar_weight_utilisation", readonly=False)
    ar_weight_disputes = fields.Float(related="company_id.ar_weight_disputes", readonly=False)
    ar_credit_block_enabled = fields.Boolean(
        related="company_id.ar_credit_block_enabled", readonly=False
    )
    ar_credit_block_overdue = fields.Boolean(
        related="company_id.ar_credit_block_overdue", readonly=False
    )
    ar_credit_overdue_days = fields.Integer(
        related="company_id.ar_credit_overdue_days", readonly=False
    )
    ar_credit_overdue_amount = fields.Monetary(
        related="company_id.ar_credit_overdue_amount", readonly=False
    )
    ar_credit_approval_validity_days = fields.Integer(
        related="company_id.ar_credit_approval_validity_days", readonly=False
    )
    ar_credit_allow_self_approval = fields.Boolean(
        related="company_id.ar_credit_allow_self_approval", readonly=False
    )
    ar_credit_block_invoice_on_hold = fields.Boolean(
        related="company_id.ar_credit_block_invoice_on_hold", readonly=False
    )
