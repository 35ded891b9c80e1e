from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_scoring_window_months = fields.Integer(
        string="Payment history window (months)",
        default=12,
        help="How far back payment behaviour counts when grading a customer.",
    )
    ar_exposure_include_draft_invoices = fields.Boolean(
        string="Count draft invoices in exposure",
        default=True,
        help="Draft customer invoices are promises of receivables: count them in a "
        "customer's exposure so a credit check sees them before they are posted.",
    )

    @api.constrains("ar_scoring_window_months")
    def _check_ar_scoring_window_months(self):
        for company in self:
            if not 1 <= company.ar_scoring_window_months <= 120:
                raise ValidationError(
                    self.env._(
                        "The payment history window must be between 1 and 120 months "
                        "(company %(company)s has %(months)s).",
                        company=company.name,
                        months=company.ar_scoring_window_months,
                    )
                )
