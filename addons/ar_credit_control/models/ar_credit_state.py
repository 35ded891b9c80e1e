"""One small row per (commercial partner, company) that every credit check locks and updates.

Odoo runs transactions at REPEATABLE READ: a check that only locked a row would wait for a
concurrent confirmation, then still read its old snapshot and miss the order just confirmed.
Locking *and updating* this row makes the second transaction fail with a serialization error,
which Odoo's retry loop replays on fresh data. The row lives here, not on the busy res_partner.
The credit check's SQL function (``ar_credit_check_figures``) does the locking upsert.
"""

from odoo import fields, models


class ArCreditState(models.Model):
    _name = "ar.credit.state"
    _description = "Credit check state (serialises credit checks per customer)"
    _log_access = False

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    check_count = fields.Integer(default=0, readonly=True)
    last_check = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "partner_company_unique",
            "UNIQUE(partner_id, company_id)",
            "One credit state per customer and company.",
        ),
    ]
