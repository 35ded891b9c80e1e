"""Where dunning keeps a customer's state: the level, last communication and collector on the
credit profile (one per customer and company)."""

from odoo import fields, models


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
