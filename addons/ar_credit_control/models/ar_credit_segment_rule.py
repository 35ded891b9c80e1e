"""Rules that assign a customer's segment (VIP / standard / watch) from grade and revenue.

Rules are tried by sequence; the first that matches sets the segment. A profile whose
segment was set by hand and locked is left alone.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .ar_credit_profile import GRADES, SEGMENTS

GRADE_ORDER = ["A", "B", "C", "D", "E"]


class ArCreditSegmentRule(models.Model):
    _name = "ar.credit.segment.rule"
    _inherit = ["ar.company.owned"]
    _description = "Customer segment rule"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    segment = fields.Selection(SEGMENTS, required=True)
    best_grade = fields.Selection(GRADES, default="A", help="Best grade this rule matches.")
    worst_grade = fields.Selection(GRADES, default="E", help="Worst grade this rule matches.")
    include_new = fields.Boolean(string="Matches new customers")
    min_revenue = fields.Monetary(
        string="Minimum revenue (12 months)", help="Invoiced in the last 12 months, at least."
    )
    collector_id = fields.Many2one(
        "res.users",
        string="Collector",
        help="Works the collections of this segment's customers who have no collector of "
        "their own; the first rule of the segment naming a collector counts.",
    )
    active = fields.Boolean(default=True)

    @api.constrains("best_grade", "worst_grade", "min_revenue")
    def _check_range(self):
        for rule in self:
            if rule.min_revenue < 0:
                raise ValidationError(_("The minimum revenue cannot be negative."))
            if "new" in (rule.best_grade, rule.worst_grade):
                raise ValidationError(
                    _("Use 'Matches new customers' for new customers; grades go from A to E.")
                )
            if GRADE_ORDER.index(rule.best_grade) > GRADE_ORDER.index(rule.worst_grade):
                raise ValidationError(_("The best grade must be better than the worst grade."))

    def _matches(self, grade, revenue):
        self.ensure_one()
        if revenue < self.min_revenue:
            return False
        if grade == "new" or not grade:
            return self.include_new
        best, worst = GRADE_ORDER.index(self.best_grade), GRADE_ORDER.index(self.worst_grade)
        return best <= GRADE_ORDER.index(grade) <= worst

    @api.model
    def _assign_segments(self, profiles):
        """Set the segment of each unlocked profile from the first matching rule."""
        for company in profiles.company_id:
            rules = self.sudo().search([("company_id", "=", company.id)])
            if not rules:
                continue
            for profile in profiles.filtered(
                lambda p, c=company: p.company_id == c and not p.segment_locked
            ):
                rule = next(
                    (
                        r
                        for r in rules
                        if r._matches(profile.grade, profile.invoiced_last_12_months)
                    ),
                    None,
                )
                if rule and profile.segment != rule.segment:
                    profile.sudo().segment = rule.segment
