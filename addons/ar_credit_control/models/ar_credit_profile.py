"""The credit profile of a customer in one company: grade, score and reasons, analyst inputs,
segment, settlement cycle, hold, and snapshot figures refreshed in batch for list views.

One profile per (commercial partner, company): company A's users never see a grade built on
company B's history (record rule). The credit limit itself stays Odoo's company-dependent
``res.partner.credit_limit``; the profile shows it, it does not duplicate it.
"""

import json

import psycopg2.errors
from psycopg2 import errorcodes

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import split_every

GRADES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("E", "E"), ("new", "New")]
SEGMENTS = [("vip", "VIP"), ("standard", "Standard"), ("watch", "Watch")]
SETTLEMENT_CYCLES = [
    ("per_order", "Per order"),
    ("monthly", "Monthly"),
    ("quarterly", "Quarterly"),
    ("yearly", "Yearly"),
]
EXTERNAL_RATINGS = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("E", "E")]
FINANCIAL_ASSESSMENTS = [("strong", "Strong"), ("adequate", "Adequate"), ("weak", "Weak")]
INDUSTRY_RISKS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
CREATE_BATCH_SIZE = 1000  # profiles per ORM create (one savepoint each)
# Fields only a credit manager may change (the evaluation itself writes them as superuser).
MANAGER_FIELDS = {
    "grade",
    "credit_hold",
    "segment",
    "segment_locked",
    "settlement_cycle",
    "prepayment_percent",
    "external_rating",
    "financial_assessment",
    "industry_risk",
}


class ProfileCreatedConcurrently(psycopg2.errors.SerializationFailure):
    """A profile this transaction creates was committed meanwhile by another one: a
    serialization failure, which Odoo's retry loops replay on a fresh snapshot."""

    pgcode = errorcodes.SERIALIZATION_FAILURE


class ArCreditProfile(models.Model):
    _name = "ar.credit.profile"
    _description = "Customer credit profile"
    _inherit = ["mail.thread", "mail.activity.mixin", "ar.company.owned"]
    _order = "utilisation desc, amount_overdue desc, id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        domain="[('is_company', '=', True)]",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        related="partner_id.user_id", string="Salesperson", store=True, precompute=True
    )
    industry_id = fields.Many2one(related="partner_id.industry_id", store=True, precompute=True)
    country_id = fields.Many2one(related="partner_id.country_id", store=True, precompute=True)

    grade = fields.Selection(GRADES, tracking=True, index=True)
    score = fields.Integer(help="0 (worst) to 100 (best).")
    reasons_json = fields.Text(
        string="Reasons (data)", help="The factors behind the score, as the engine gave them."
    )
    reasons_text = fields.Text(string="Reasons", compute="_compute_reasons_text")
    last_evaluation_date = fields.Datetime(readonly=True)
    review_ids = fields.One2many("ar.credit.review", "profile_id", string="Reviews")

    # Analyst inputs that adjust the score.
    external_rating = fields.Selection(
        EXTERNAL_RATINGS, tracking=True, help="Credit bureau rating, A best."
    )
    financial_assessment = fields.Selection(FINANCIAL_ASSESSMENTS, tracking=True)
    industry_risk = fields.Selection(INDUSTRY_RISKS, tracking=True)

    # Policy and classification.
    credit_hold = fields.Boolean(
        tracking=True, help="No new sale order is confirmed for this customer without approval."
    )
    prepayment_percent = fields.Float(
        string="Prepayment (%)",
        tracking=True,
        help="Share of an order that must be paid before it is confirmed.",
    )
    segment = fields.Selection(SEGMENTS, tracking=True, index=True, default="standard")
    segment_locked = fields.Boolean(
        help="Keep the segment set by hand: segment rules do not change it."
    )
    settlement_cycle = fields.Selection(SETTLEMENT_CYCLES, default="per_order", tracking=True)

    # Snapshot figures, refreshed in batch so lists filter, sort and group by them. The live,
    # exact figures are on the partner form.
    credit_limit = fields.Monetary(readonly=True)
    exposure = fields.Monetary(readonly=True)
    available_credit = fields.Monetary(readonly=True)
    utilisation = fields.Float(string="Utilisation (%)", readonly=True, aggregator="avg")
    amount_overdue = fields.Monetary(readonly=True)
    oldest_overdue_days = fields.Integer(readonly=True, aggregator="max")
    invoiced_last_12_months = fields.Monetary(readonly=True)
    snapshot_date = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "partner_company_unique",
            "UNIQUE(partner_id, company_id)",
            "A customer has one credit profile per company.",
        ),
        (
            "prepayment_percent_range",
            "CHECK(prepayment_percent >= 0 AND prepayment_percent <= 100)",
            "The prepayment must be between 0% and 100%.",
        ),
    ]

    @api.depends("partner_id", "company_id")
    def _compute_display_name(self):
        for profile in self:
            profile.display_name = f"{profile.partner_id.name} ({profile.company_id.name})"

    @api.depends_context("lang")
    @api.depends("reasons_json")
    def _compute_reasons_text(self):
        render = self.env["ar.credit.evaluation"]._render_reasons
        for profile in self:
            reasons = json.loads(profile.reasons_json) if profile.reasons_json else []
            lines = render(reasons, profile.currency_id)
            if not lines and profile.grade:
                lines = [_("nothing lowers the score: paid on time, nothing overdue")]
            profile.reasons_text = "\n".join(lines)

    @api.model_create_multi
    def create(self, vals_list):
        self._check_manager_rights(set().union(*vals_list) & MANAGER_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        self._check_manager_rights(set(vals) & MANAGER_FIELDS)
        return super().write(vals)

    def _check_manager_rights(self, fields_changed):
        if (
            fields_changed
            and not self.env.su
            and not self.env.user.has_group("ar_credit_control.group_credit_control_manager")
            and not self.env.user.has_group("account.group_account_manager")
        ):
            raise AccessError(
                _(
                    "Only credit managers can change a customer's grade, hold, segment or "
                    "credit inputs (%(fields)s).",
                    fields=", ".join(sorted(fields_changed)),
                )
            )

    @api.model
    def _get_or_create(self, commercial_partners, company):
        """The profiles of `commercial_partners` in `company`, creating the missing ones.

        The one place profiles are created for the system (evaluation, dunning, orders): through
        the ORM, in batches, so the fields' defaults and related values and the mail thread's
        create logic apply. Without the "created" note and without making the current user a
        follower, as Odoo does for records it creates for itself: a new profile has no history.

        Two transactions may create the same profile: the second one's insert waits for the
        first and then breaks the unique key on a row its REPEATABLE READ snapshot cannot see
        (searching again would not find it). It raises a serialization failure instead, which
        Odoo's request and cron retry loops replay on fresh data, where the profile exists; the
        same outcome as PostgreSQL's own ``ON CONFLICT`` under REPEATABLE READ.
        """
        domain = [("partner_id", "in", commercial_partners.ids), ("company_id", "=", company.id)]
        profiles = self.sudo()
        if commercial_partners:
            existing = {
                profile.partner_id.id for profile in profiles.search_fetch(domain, ["partner_id"])
            }
            missing = [pid for pid in dict.fromkeys(commercial_partners.ids) if pid not in existing]
            creator = profiles.with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
            for batch in split_every(CREATE_BATCH_SIZE, missing):
                try:
                    with self.env.cr.savepoint():
                        creator.create(
                            [{"partner_id": pid, "company_id": company.id} for pid in batch]
                        )
                except psycopg2.errors.UniqueViolation as error:
                    if error.diag.constraint_name != "ar_credit_profile_partner_company_unique":
                        raise
                    raise ProfileCreatedConcurrently(
                        "A credit profile was created by a concurrent transaction"
                    ) from error
        return profiles.search(domain).with_env(self.env)

    def action_evaluate(self):
        """Re-evaluate these profiles now (credit managers)."""
        self._check_manager_rights({"grade"})
        by_company = {}
        for profile in self:
            by_company.setdefault(profile.company_id, self.browse())
            by_company[profile.company_id] |= profile
        for company, profiles in by_company.items():
            self.env["ar.credit.evaluation"].sudo()._evaluate_partners(
                profiles.partner_id, company, trigger="manual"
            )
        return True

    def action_apply_policy(self):
        """Apply the grade's policy: credit limit, payment term, prepayment and hold."""
        self._check_manager_rights({"credit_hold"})
        self.env["ar.credit.policy"]._apply_to_profiles(self)
        return True

    def action_open_reviews(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Credit reviews of %s", self.partner_id.name),
            "res_model": "ar.credit.review",
            "view_mode": "list,form",
            "domain": [("profile_id", "=", self.id)],
        }
