"""A legal case against a customer: lawyer, filing, claim, costs, outcome.

The dunning run opens one at a legal-escalation level; credit managers follow it up.
"""

from odoo import api, fields, models


class ArLegalCase(models.Model):
    _name = "ar.legal.case"
    _description = "Legal case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, filed_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    lawyer_id = fields.Many2one("res.partner", string="Lawyer", tracking=True)
    filed_date = fields.Date(tracking=True)
    claimed_amount = fields.Monetary(tracking=True)
    costs = fields.Monetary(tracking=True, help="Legal costs so far.")
    state = fields.Selection(
        [
            ("draft", "To file"),
            ("filed", "Filed"),
            ("closed", "Closed"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        tracking=True,
        index=True,
    )
    outcome = fields.Selection(
        [
            ("won", "Won"),
            ("settled", "Settled"),
            ("lost", "Lost"),
            ("uncollectible", "Uncollectible"),
        ],
        tracking=True,
    )
    outcome_note = fields.Text()
    move_ids = fields.Many2many(
        "account.move",
        "ar_legal_case_account_move_rel",
        "case_id",
        "move_id",
        string="Invoices",
        check_company=True,
    )
    communication_id = fields.Many2one("ar.dunning.communication", string="Opened by")

    @api.depends("partner_id")
    def _compute_name(self):
        for case in self:
            case.name = self.env._("Legal case: %(customer)s", customer=case.partner_id.name or "")

    def action_file(self):
        self.write({"state": "filed", "filed_date": fields.Date.context_today(self)})

    def action_close(self):
        self.write({"state": "closed"})

    def action_cancel(self):
        self.write({"state": "cancelled"})
