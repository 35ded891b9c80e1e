from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

SCORING_FIELDS = (
    "ar_scoring_window_months",
    "ar_min_paid_instalments",
    "ar_grade_cutoff_a",
    "ar_grade_cutoff_b",
    "ar_grade_cutoff_c",
    "ar_grade_cutoff_d",
    "ar_weight_lateness",
    "ar_weight_overdue",
    "ar_weight_utilisation",
    "ar_weight_disputes",
)


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
    # A correction of the overdue figure, not a change of Odoo's flow: on for every company
    # (an upgrade switches it on for existing ones too).
    ar_net_unapplied_cash = fields.Boolean(
        string="Set unapplied cash against overdue",
        default=True,
        help="A customer's payments and credit notes not matched with an invoice yet lower "
        "the overdue amount that dunning and the credit check see: a customer who paid is "
        "neither reminded nor blocked while the payment waits to be matched. Off: the "
        "overdue invoices count in full, whatever the customer has paid on account.",
    )
    ar_min_paid_instalments = fields.Integer(
        string="Paid instalments needed for a grade",
        default=1,
        help="Customers with fewer paid instalments in the window are graded 'new'.",
    )
    ar_grade_cutoff_a = fields.Integer(string="Minimum score for A", default=80)
    ar_grade_cutoff_b = fields.Integer(string="Minimum score for B", default=65)
    ar_grade_cutoff_c = fields.Integer(string="Minimum score for C", default=50)
    ar_grade_cutoff_d = fields.Integer(string="Minimum score for D", default=35)
    ar_weight_lateness = fields.Float(
        string="Weight of late payments",
        default=1.0,
        help="Multiplies the points late payments take off the score (0 ignores them).",
    )
    ar_weight_overdue = fields.Float(string="Weight of overdue items", default=1.0)
    ar_weight_utilisation = fields.Float(string="Weight of limit utilisation", default=1.0)
    ar_weight_disputes = fields.Float(string="Weight of disputes", default=1.0)

    # Credit block on sale-order confirmation. Off by default: installing the addon leaves Odoo's
    # confirmation, posting and its credit-limit warning as they were until a company opts in.
    ar_credit_block_enabled = fields.Boolean(
        string="Block orders that fail the credit check",
        help="Sale orders that fail the credit check (limit, overdue, credit hold, prepayment) "
        "cannot be confirmed without a credit manager's approval; orders signed or paid online "
        "are put on credit hold instead. The invoice and delivery blocks below apply only "
        "while this is on. When off, the credit figures and reasons are still shown on the "
        "order, for information.",
    )
    ar_credit_block_overdue = fields.Boolean(
        string="Block orders of customers with overdue invoices",
        help="Block the confirmation of orders of customers with more than the minimum amount "
        "overdue by more than the tolerance in days.",
    )
    ar_credit_overdue_days = fields.Integer(string="Overdue tolerance (days)", default=30)
    ar_credit_overdue_amount = fields.Monetary(
        string="Overdue tolerance (amount)",
        currency_field="currency_id",
        help="Overdue amounts up to this are tolerated.",
    )
    ar_credit_approval_validity_days = fields.Integer(
        string="Credit approval validity (days)",
        default=7,
        help="A credit manager's approval of an order lapses after this many days (0: never).",
    )
    ar_credit_allow_self_approval = fields.Boolean(
        string="Credit managers may approve their own orders",
        help="Off: a credit manager who is also an order's salesperson cannot approve its "
        "credit; another credit manager must.",
    )
    ar_credit_block_invoice_on_hold = fields.Boolean(
        string="Block invoices of customers on hold",
        help="Customer invoices of customers on credit hold cannot be posted.",
    )

    @api.constrains(*SCORING_FIELDS)
    def _check_ar_scoring_settings(self):
        for company in self:
            if not 1 <= company.ar_scoring_window_months <= 120:
                raise ValidationError(
                    _(
                        "The payment history window must be between 1 and 120 months "
                        "(company %(company)s has %(months)s).",
                        company=company.name,
                        months=company.ar_scoring_window_months,
                    )
                )
            if company.ar_min_paid_instalments < 0:
                raise ValidationError(_("The paid instalments needed cannot be negative."))
            weights = (
                company.ar_weight_lateness,
                company.ar_weight_overdue,
                company.ar_weight_utilisation,
                company.ar_weight_disputes,
            )
            if any(w < 0 or w > 5 for w in weights):
                raise ValidationError(_("Scoring weights must be between 0 and 5."))
            cutoffs = (
                company.ar_grade_cutoff_a,
                company.ar_grade_cutoff_b,
                company.ar_grade_cutoff_c,
                company.ar_grade_cutoff_d,
            )
            if not all(100 >= a > b >= 0 for a, b in zip(cutoffs, cutoffs[1:])):
                raise ValidationError(
                    _(
                        "Grade cut-offs must go down from A to D, between 0 and 100 "
                        "(for example 80, 65, 50, 35)."
                    )
                )
            # The engine validates the whole configuration the same way it will use it.
            self.env["ar.credit.evaluation"]._scoring_config(company)

    @api.constrains(
        "ar_credit_overdue_days", "ar_credit_overdue_amount", "ar_credit_approval_validity_days"
    )
    def _check_ar_credit_block_settings(self):
        for company in self:
            if (
                company.ar_credit_overdue_days < 0
                or company.ar_credit_overdue_amount < 0
                or company.ar_credit_approval_validity_days < 0
            ):
                raise ValidationError(
                    _("Overdue tolerances and the approval validity cannot be negative.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        self.env["ar.credit.policy"]._ensure_defaults(companies)
        return companies
