from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_matching_write_off_account_id = fields.Many2one(
        "account.account",
        string="Payment difference account",
        check_company=True,
        help="Small differences accepted when matching payments (bank fees, exchange "
        "differences) are written off to this account.",
    )
    ar_matching_tolerance_amount = fields.Float(
        string="Payment difference tolerance",
        default=5.0,
        help="A difference up to this amount (in the payment's currency) is written off.",
    )
    ar_matching_tolerance_percent = fields.Float(
        string="Payment difference tolerance (%)",
        default=0.5,
        help="A difference up to this share of the payment is written off (exchange differences).",
    )
    ar_matching_auto_accept = fields.Float(
        string="Auto-select confidence",
        default=0.9,
        help="Proposals at or above this confidence (0 to 1) are selected for acceptance.",
    )
