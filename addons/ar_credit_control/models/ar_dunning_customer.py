"""Where dunning keeps its state: the customer's level, last communication and collector on
the credit profile (one per customer and company), each instalment's level on its receivable
line, and the customer's "no dunning" flag on the partner."""

from odoo import api, fields, models
from odoo.exceptions import AccessError

MANAGER_GROUP = "ar_credit_control.group_credit_control_manager"


class ResPartner(models.Model):
    _inherit = "res.partner"

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


class ArCreditProfile(models.Model):
    _inherit = "ar.credit.profile"

    dunning_level = fields.Integer(
        readonly=True, help="Sequence of the last dunning level reached; 0: not in dunning."
    )
    dunning_last_date = fields.Date(
        string="Last dunning", readonly=True, help="Date of the last dunning communication."
    )
    collector_id = fields.Many2one(
        "res.users", string="Collector", tracking=True, help="Works this customer's collections."
    )


class ArDunningItem(models.Model):
    """The dunning level of one receivable instalment; kept off ``account_move_line``, which
    is wide and busy: the run upserts thousands of these rows at a time."""

    _name = "ar.dunning.item"
    _description = "Dunning level of an instalment"
    _rec_name = "move_line_ref"

    # A plain id, not a foreign key: see ar.dunning.communication.line.
    move_line_ref = fields.Integer(string="Instalment id", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True)
    level = fields.Integer(help="Sequence of the last dunning level sent for this instalment.")
    last_date = fields.Date(string="Last dunning")

    _sql_constraints = [
        ("move_line_unique", "UNIQUE(move_line_ref)", "One dunning state per instalment.")
    ]


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ar_dunning_level = fields.Integer(
        string="Dunning level", compute="_compute_ar_dunning", help="Last dunning level sent."
    )
    ar_dunning_date = fields.Date(string="Last dunning", compute="_compute_ar_dunning")

    def _compute_ar_dunning(self):
        states = {
            state.move_line_ref: state
            for state in self.env["ar.dunning.item"]
            .sudo()
            .search([("move_line_ref", "in", self.ids)])
        }
        for line in self:
            state = states.get(line.id)
            line.ar_dunning_level = state.level if state else 0
            line.ar_dunning_date = state.last_date if state else False
