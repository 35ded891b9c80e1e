"""The customer's credit, as seen in the current company.

Grade, hold and segment come from the customer's credit profile in ``env.company``; exposure,
available credit and overdue are computed live by one SQL query (``ar.credit.exposure``).
The credit limit is Odoo's own company-dependent ``credit_limit``: we track its changes and
let only credit managers and accounting administrators change it.

Credit figures are read like Odoo's own ``credit``/``credit_limit``: by credit control and
accounting users only (``CREDIT_READERS``); salespeople also see what the order form shows them
(grade, hold, available credit: ``SALES_READERS``); internal users without these rights and
portal customers see none, exports and onchanges included.
"""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from .ar_credit_profile import GRADES, SEGMENTS

LIMIT_FIELDS = {"credit_limit", "use_partner_credit_limit"}
CREDIT_READERS = (
    "ar_credit_control.group_credit_control_user,"
    "account.group_account_invoice,account.group_account_readonly"
)
SALES_READERS = CREDIT_READERS + ",sales_team.group_sale_salesman"


def check_exported_fields(records, paths):
    """Exports and onchanges read computed fields without Odoo's field-groups check: refuse the
    fields the user may not read, as ``read`` does."""
    fnames = {path[0] for path in paths if path and path[0] in records._fields}
    records.check_field_access_rights("read", sorted(fnames))


class ResPartner(models.Model):
    _inherit = "res.partner"

    credit_limit = fields.Float(tracking=True)
    credit_profile_id = fields.Many2one(
        "ar.credit.profile",
        string="Credit profile",
        compute="_compute_credit_profile",
        groups=CREDIT_READERS,
    )
    credit_grade = fields.Selection(
        GRADES,
        compute="_compute_credit_profile",
        search="_search_credit_grade",
        groups=SALES_READERS,
    )
    credit_score = fields.Integer(compute="_compute_credit_profile", groups=CREDIT_READERS)
    credit_reasons = fields.Text(compute="_compute_credit_profile", groups=CREDIT_READERS)
    credit_hold = fields.Boolean(
        compute="_compute_credit_profile", search="_search_credit_hold", groups=SALES_READERS
    )
    credit_segment = fields.Selection(
        SEGMENTS,
        compute="_compute_credit_profile",
        search="_search_credit_segment",
        groups=CREDIT_READERS,
    )
    credit_last_evaluation = fields.Datetime(
        compute="_compute_credit_profile", groups=CREDIT_READERS
    )

    credit_currency_id = fields.Many2one(
        "res.currency", compute="_compute_credit_exposure", string="Credit currency"
    )
    credit_open_receivable = fields.Monetary(
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READERS,
    )
    credit_draft_invoiced = fields.Monetary(
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READERS,
    )
    credit_uninvoiced_orders = fields.Monetary(
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READERS,
    )
    credit_exposure = fields.Monetary(
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READERS,
    )
    credit_available = fields.Monetary(
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        help="Credit limit minus exposure; empty without a limit.",
        groups=SALES_READERS,
    )
    credit_utilisation = fields.Float(
        string="Credit used (%)", compute="_compute_credit_exposure", groups=CREDIT_READERS
    )
    credit_unapplied_cash = fields.Monetary(
        string="Unapplied",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        help="Payments and credit notes of the customer not matched with an invoice yet.",
        groups=CREDIT_READERS,
    )
    amount_overdue = fields.Monetary(
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        help="Overdue invoices, less the unapplied payments and credit notes when the company "
        "sets them against the overdue amount (as dunning and the credit check do).",
        groups=CREDIT_READERS,
    )
    oldest_overdue_days = fields.Integer(compute="_compute_credit_exposure", groups=CREDIT_READERS)

    def _credit_profiles(self):
        """{commercial partner id: profile in env.company}."""
        commercial = self.commercial_partner_id
        profiles = (
            self.env["ar.credit.profile"]
            .sudo()
            .search(
                [("partner_id", "in", commercial.ids), ("company_id", "=", self.env.company.id)]
            )
        )
        return {p.partner_id.id: p for p in profiles}

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_credit_profile(self):
        profiles = self._credit_profiles()
        for partner in self:
            profile = profiles.get(partner.commercial_partner_id.id)
            partner.credit_profile_id = profile.id if profile else False
            partner.credit_grade = profile.grade if profile else False
            partner.credit_score = profile.score if profile else 0
            partner.credit_reasons = profile.reasons_text if profile else False
            partner.credit_hold = profile.credit_hold if profile else False
            partner.credit_segment = profile.segment if profile else False
            partner.credit_last_evaluation = profile.last_evaluation_date if profile else False

    @api.depends_context("company")
    def _compute_credit_exposure(self):
        company = self.env.company
        today = fields.Date.context_today(self)
        exposures = self.env["ar.credit.exposure"]._compute_exposures(
            self.commercial_partner_id.ids, company, today=today
        )
        for partner in self:
            exposure = exposures[partner.commercial_partner_id.id]
            limit = partner.commercial_partner_id.with_company(company).sudo().credit_limit
            partner.credit_currency_id = company.currency_id
            partner.credit_open_receivable = exposure.open_receivable
            partner.credit_draft_invoiced = exposure.draft_invoiced
            partner.credit_uninvoiced_orders = exposure.uninvoiced_orders
            partner.credit_exposure = exposure.total
            partner.credit_available = (limit - exposure.total) if limit else 0.0
            partner.credit_utilisation = 100.0 * exposure.total / limit if limit else 0.0
            partner.credit_unapplied_cash = exposure.unapplied_cash
            partner.amount_overdue = exposure.overdue(company.ar_net_unapplied_cash)
            partner.oldest_overdue_days = exposure.oldest_overdue_days(
                today, company.ar_net_unapplied_cash
            )

    def _search_profile(self, fname, field, operator, value):
        # Odoo checks the groups of stored fields only in a search domain: no oracle here.
        self.check_field_access_rights("read", [fname])
        profiles = (
            self.env["ar.credit.profile"]
            .sudo()
            ._search([(field, operator, value), ("company_id", "=", self.env.company.id)])
        )
        return [("commercial_partner_id", "in", profiles.subselect("partner_id"))]

    def _search_credit_grade(self, operator, value):
        return self._search_profile("credit_grade", "grade", operator, value)

    def _search_credit_hold(self, operator, value):
        return self._search_profile("credit_hold", "credit_hold", operator, value)

    def _search_credit_segment(self, operator, value):
        return self._search_profile("credit_segment", "segment", operator, value)

    # ------------------------------------------------------------------ field rights

    def _export_rows(self, fields, *, _is_toplevel_call=True):
        check_exported_fields(self, fields)
        return super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)

    def onchange(self, values, field_names, fields_spec):
        check_exported_fields(self, [[name] for name in fields_spec])
        return super().onchange(values, field_names, fields_spec)

    # ------------------------------------------------------------------ limit rights

    def _check_credit_limit_rights(self, vals):
        if not LIMIT_FIELDS & set(vals) or self.env.su:
            return
        user = self.env.user
        if user.has_group("ar_credit_control.group_credit_control_manager") or user.has_group(
            "account.group_account_manager"
        ):
            return
        raise AccessError(
            _(
                "Only credit managers and accounting administrators can change credit limits. "
                "Ask a credit manager to review the limit of this customer."
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_credit_limit_rights({k: v for k, v in vals.items() if v})
        return super().create(vals_list)

    def write(self, vals):
        self._check_credit_limit_rights(vals)
        return super().write(vals)

    # ------------------------------------------------------------------ actions

    def action_open_credit_profile(self):
        self.ensure_one()
        # The profile is created by SQL when missing: only for those who may read profiles.
        self.env["ar.credit.profile"].check_access("read")
        commercial = self.commercial_partner_id
        profile = self.env["ar.credit.profile"]._get_or_create(commercial, self.env.company)
        return {
            "type": "ir.actions.act_window",
            "res_model": "ar.credit.profile",
            "res_id": profile.id,
            "view_mode": "form",
        }

    def action_evaluate_credit(self):
        """Evaluate this customer's credit now in the current company (credit managers)."""
        if not self.env.user.has_group("ar_credit_control.group_credit_control_manager"):
            raise AccessError(_("Only credit managers can evaluate a customer's credit."))
        self.env["ar.credit.evaluation"].sudo()._evaluate_partners(
            self.commercial_partner_id, self.env.company, trigger="manual"
        )
        return True
