from odoo import fields, models


class ArCreditProfile(models.Model):
    _inherit = "ar.credit.profile"

    max_order_amount = fields.Monetary(
        string="Largest order",
        currency_field="currency_id",
        tracking=True,
        help="The largest amount a single order of this customer may reach in this company "
        "without a credit approval (company currency; 0 = no maximum).",
    )
