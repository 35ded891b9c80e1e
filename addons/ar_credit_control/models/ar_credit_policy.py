"""Grade-to-policy table, per company: what each grade means for limit, terms, prepayment, hold.

Odoo reads a credit limit of 0 as "no limit": the worst grades therefore use a hold or a
prepayment, never a limit of 0 (a constraint enforces it).
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ar_engine.scoring import GradePolicy, PolicyTable

from .ar_credit_profile import GRADES

# The engine's default table, as the starting point of every company's policies.
DEFAULTS = {
    "A": {"limit_months": 3.0, "payment_days": 45, "prepayment_percent": 0, "credit_hold": False},
    "B": {"limit_months": 2.0, "payment_days": 30, "prepayment_percent": 0, "credit_hold": False},
    "C": {"limit_months": 1.0, "payment_days": 30, "prepayment_percent": 0, "credit_hold": False},
    "D": {"limit_months": 0.5, "payment_days": 15, "prepayment_percent": 50, "credit_hold": False},
    "E": {"limit_months": 0.0, "payment_days": 0, "prepayment_percent": 100, "credit_hold": True},
    "new": {"limit_months": 1.0, "payment_days": 15, "prepayment_percent": 0, "credit_hold": False},
}


class ArCreditPolicy(models.Model):
    _name = "ar.credit.policy"
    _inherit = ["ar.company.owned"]
    _description = "Credit policy of a grade"
    _order = "company_id, grade"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    grade = fields.Selection(GRADES, required=True)
    limit_months = fields.Float(
        string="Limit (months of sales)",
        help="Suggested credit limit as a multiple of the customer's average monthly invoiced "
        "amount. 0: leave the limit alone, the hold or prepayment governs.",
    )
    limit_rounding = fields.Monetary(default=1000.0)
    minimum_credit_limit = fields.Monetary(default=1000.0)
    payment_term_id = fields.Many2one(
        "account.payment.term",
        check_company=True,
        help="Payment term set on the customer when the policy is applied.",
    )
    prepayment_percent = fields.Float(string="Prepayment (%)")
    credit_hold = fields.Boolean()
    auto_apply = fields.Boolean(
        help="Apply this policy automatically when an evaluation gives the grade. Otherwise a "
        "credit manager applies it."
    )

    _sql_constraints = [
        ("grade_company_unique", "UNIQUE(grade, company_id)", "One policy per grade."),
        ("limit_months_positive", "CHECK(limit_months >= 0)", "Limits cannot be negative."),
        (
            "prepayment_range",
            "CHECK(prepayment_percent >= 0 AND prepayment_percent <= 100)",
            "The prepayment must be between 0% and 100%.",
        ),
    ]

    @api.constrains("limit_months", "credit_hold", "prepayment_percent", "minimum_credit_limit")
    def _check_worst_grades_not_unlimited(self):
        for policy in self:
            if not policy.limit_months and not policy.credit_hold and not policy.prepayment_percent:
                raise ValidationError(
                    _(
                        "Grade %(grade)s: without a suggested limit, the policy must put the "
                        "customer on hold or ask for a prepayment (a limit of 0 means 'no "
                        "limit' in Odoo).",
                        grade=policy.grade,
                    )
                )
            if policy.minimum_credit_limit <= 0:
                raise ValidationError(_("The minimum credit limit must be positive."))

    @api.model
    def _ensure_defaults(self, companies=None):
        """Create the default policy table for companies that have none."""
        companies = companies or self.env["res.company"].sudo().search([])
        existing = set(
            self.sudo()
            .search([("company_id", "in", companies.ids)])
            .mapped(lambda p: (p.company_id.id, p.grade))
        )
        vals = []
        for company in companies:
            for grade, defaults in DEFAULTS.items():
                if (company.id, grade) in existing:
                    continue
                vals.append(
                    {
                        "company_id": company.id,
                        "grade": grade,
                        "limit_months": defaults["limit_months"],
                        "prepayment_percent": defaults["prepayment_percent"],
                        "credit_hold": defaults["credit_hold"],
                        "payment_term_id": self._payment_term_for_days(
                            company, defaults["payment_days"]
                        ).id,
                    }
                )
        return self.sudo().create(vals)

    @api.model
    def _payment_term_for_days(self, company, days):
        """Odoo's standard payment term of that many days, when the database has one."""
        xmlid = {
            0: "account.account_payment_term_immediate",
            15: "account.account_payment_term_15days",
            30: "account.account_payment_term_30days",
            45: "account.account_payment_term_45days",
        }.get(days)
        term = self.env.ref(xmlid, raise_if_not_found=False) if xmlid else None
        if term and term.company_id and term.company_id != company:
            return self.env["account.payment.term"]
        return term or self.env["account.payment.term"]

    def _policy_table(self):
        """This company's policies as the engine's PolicyTable."""
        company_policies = {p.grade: p for p in self}
        first = self[:1]
        return PolicyTable(
            policies=tuple(
                GradePolicy(
                    grade=grade,
                    limit_months=company_policies[grade].limit_months or None,
                    payment_term_code=str(company_policies[grade].payment_term_id.id or ""),
                    prepayment_percent=company_policies[grade].prepayment_percent,
                    credit_hold=company_policies[grade].credit_hold,
                )
                for grade in DEFAULTS
                if grade in company_policies
            ),
            limit_rounding=first.limit_rounding or 1000.0,
            minimum_credit_limit=first.minimum_credit_limit or 1000.0,
        )

    @api.model
    def _apply_to_profiles(self, profiles, only_auto=False):
        """Apply each profile's grade policy: limit, payment term, prepayment and hold.

        The credit limit is Odoo's own company-dependent field, written in the profile's
        company, so the change is tracked on the customer.
        """
        for company in profiles.company_id:
            company_profiles = profiles.filtered(lambda p, c=company: p.company_id == c)
            policies = self.sudo().search([("company_id", "=", company.id)])
            if not policies:
                policies = self._ensure_defaults(company)
            by_grade = {p.grade: p for p in policies}
            table = policies._policy_table()
            for profile in company_profiles.filtered("grade"):
                policy = by_grade.get(profile.grade)
                if not policy or (only_auto and not policy.auto_apply):
                    continue
                suggestion = table.suggest(profile.grade, profile.invoiced_last_12_months / 12.0)
                partner = profile.partner_id.with_company(company).sudo()
                partner_vals = {}
                if suggestion.credit_limit is not None:
                    partner_vals["credit_limit"] = suggestion.credit_limit
                    partner_vals["use_partner_credit_limit"] = True
                if policy.payment_term_id:
                    partner_vals["property_payment_term_id"] = policy.payment_term_id.id
                if partner_vals:
                    partner.write(partner_vals)
                profile.sudo().write(
                    {
                        "prepayment_percent": suggestion.prepayment_percent,
                        "credit_hold": suggestion.credit_hold,
                    }
                )
                profile.message_post(
                    body=_(
                        "Policy of grade %(grade)s applied: credit limit %(limit)s, "
                        "prepayment %(prepayment)s%%, hold %(hold)s.",
                        grade=profile.grade,
                        limit=suggestion.credit_limit
                        if suggestion.credit_limit is not None
                        else _("unchanged"),
                        prepayment=suggestion.prepayment_percent,
                        hold=_("yes") if suggestion.credit_hold else _("no"),
                    ),
                )
