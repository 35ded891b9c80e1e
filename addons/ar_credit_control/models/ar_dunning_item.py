"""Where dunning keeps each instalment's level."""

from odoo import fields, models


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
