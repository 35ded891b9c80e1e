"""Every credit evaluation is kept: when, why (trigger), previous and new grade, score, reasons."""

import json

from odoo import api, fields, models

from .ar_credit_profile import GRADES

TRIGGERS = [
    ("cron", "Scheduled re-evaluation"),
    ("manual", "On demand"),
    ("policy", "Policy application"),
]


class ArCreditReview(models.Model):
    _name = "ar.credit.review"
    _description = "Credit review"
    _order = "review_date desc, id desc"
    _check_company_auto = True

    profile_id = fields.Many2one("ar.credit.profile", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="profile_id.partner_id", store=True, index=True)
    company_id = fields.Many2one(related="profile_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    review_date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    trigger = fields.Selection(TRIGGERS, required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", string="By", default=lambda self: self.env.user, readonly=True
    )
    previous_grade = fields.Selection(GRADES, readonly=True)
    grade = fields.Selection(GRADES, string="New grade", readonly=True)
    grade_changed = fields.Boolean(compute="_compute_grade_changed", store=True)
    score = fields.Integer(readonly=True)
    reasons_json = fields.Text(readonly=True)
    reasons_text = fields.Text(string="Reasons", compute="_compute_reasons_text")

    @api.depends("previous_grade", "grade")
    def _compute_grade_changed(self):
        for review in self:
            review.grade_changed = review.previous_grade != review.grade

    @api.depends_context("lang")
    @api.depends("reasons_json")
    def _compute_reasons_text(self):
        render = self.env["ar.credit.evaluation"]._render_reasons
        for review in self:
            reasons = json.loads(review.reasons_json) if review.reasons_json else []
            review.reasons_text = "\n".join(render(reasons, review.currency_id))
