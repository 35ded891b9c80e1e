"""Each receivable instalment's dunning level and date, read from ``ar.dunning.item``."""

from odoo import fields, models


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
