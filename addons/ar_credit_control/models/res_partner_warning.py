"""The customer's active early warnings in the current company, as a count and a badge."""

from odoo import api, fields, models
from odoo.exceptions import UserError


class ResPartner(models.Model):
    _inherit = "res.partner"

    credit_warning_count = fields.Integer(
        string="Credit warnings",
        compute="_compute_credit_warning_count",
        search="_search_credit_warning_count",
        groups="ar_credit_control.group_credit_control_user,sales_team.group_sale_salesman",
    )

    @api.depends_context("company")
    def _compute_credit_warning_count(self):
        counts = dict(
            self.env["ar.credit.warning"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "active"),
                ],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.credit_warning_count = counts.get(partner.commercial_partner_id, 0)

    def _search_credit_warning_count(self, operator, value):
        warnings = (
            self.env["ar.credit.warning"]
            .sudo()
            ._search([("state", "=", "active"), ("company_id", "=", self.env.company.id)])
        )
        with_warnings = warnings.subselect("partner_id")
        if (operator, value) in ((">", 0), ("!=", 0), (">=", 1)):
            return [("commercial_partner_id", "in", with_warnings)]
        if (operator, value) in (("=", 0), ("<", 1)):
            return [("commercial_partner_id", "not in", with_warnings)]
        raise UserError(self.env._("Search customers with or without credit warnings only."))

    def action_open_credit_warnings(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Credit warnings"),
            "res_model": "ar.credit.warning",
            "view_mode": "list,form",
            "domain": [
                ("partner_id", "=", self.commercial_partner_id.id),
                ("company_id", "=", self.env.company.id),
            ],
            "context": {"search_default_active": 1},
        }
