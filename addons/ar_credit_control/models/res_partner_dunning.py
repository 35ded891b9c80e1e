"""The customer's dunning on the partner: the "no dunning" flag (credit managers only), the
level and date of the last communication, read from the credit profile of the current
company (``ar_credit_profile_dunning.py``), and the "Dunning Address" contact type: the
contact that receives reminders instead of the invoice address."""

from odoo import api, fields, models
from odoo.exceptions import AccessError

MANAGER_GROUP = "ar_credit_control.group_credit_control_manager"


class ResPartner(models.Model):
    _inherit = "res.partner"
    # A nameless dunning contact reads "Customer, Dunning Address", like an invoice address.
    _complete_name_displayed_types = ("invoice", "delivery", "other", "dunning")

    # Uninstalling turns dunning contacts into invoice contacts: they keep receiving the mail.
    type = fields.Selection(
        selection_add=[("dunning", "Dunning Address")], ondelete={"dunning": "set invoice"}
    )
    ar_no_dunning = fields.Boolean(
        string="No dunning",
        tracking=True,
        help="Never send this customer dunning communications (all companies).",
    )
    ar_dunning_level = fields.Integer(
        string="Dunning level", compute="_compute_ar_dunning", compute_sudo=True
    )
    ar_dunning_last_date = fields.Date(
        string="Last dunning", compute="_compute_ar_dunning", compute_sudo=True
    )

    @api.depends_context("company")
    def _compute_ar_dunning(self):
        profiles = self._credit_profiles()
        for partner in self:
            profile = profiles.get(partner.commercial_partner_id.id)
            partner.ar_dunning_level = profile.dunning_level if profile else 0
            partner.ar_dunning_last_date = profile.dunning_last_date if profile else False

    # Field groups cannot restrict writing only: whoever may edit a customer may not exempt it.
    def _check_no_dunning_rights(self, changed):
        if changed and not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only credit managers can exempt a customer from dunning or end it.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_no_dunning_rights(any(vals.get("ar_no_dunning") for vals in vals_list))
        return super().create(vals_list)

    def write(self, vals):
        if "ar_no_dunning" in vals:
            new = bool(vals["ar_no_dunning"])
            self._check_no_dunning_rights(any(p.ar_no_dunning != new for p in self))
        return super().write(vals)
