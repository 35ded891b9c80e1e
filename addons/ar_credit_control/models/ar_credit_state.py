"""One small row per (commercial partner, company) that every credit check locks and updates.

Odoo runs transactions at REPEATABLE READ: a check that only locked a row would wait for a
concurrent confirmation, then still read its old snapshot and miss the order just confirmed.
Locking *and updating* this row makes the second transaction fail with a serialization error,
which Odoo's retry loop replays on fresh data. The row lives here, not on the busy res_partner.
"""

from odoo import api, fields, models
from odoo.tools import SQL


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

    @api.model
    def _lock_for_check(self, commercial_partner_ids, company_id):
        """Lock and bump the rows of these customers in this company, creating missing ones.

        Rows are locked in partner order so two batches never deadlock each other.
        """
        partner_ids = sorted(set(commercial_partner_ids))
        if not partner_ids:
            return
        # One statement inserts missing rows and locks and bumps existing ones. At REPEATABLE
        # READ, an upsert that meets a row changed by a transaction committed after our
        # snapshot fails with a serialization error (Odoo retries the request): the check can
        # never read exposure older than the last confirmation of this customer.
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO ar_credit_state AS state (partner_id, company_id, check_count,
                                                      last_check)
                SELECT p, %(company)s, 1, NOW() AT TIME ZONE 'UTC'
                  FROM unnest(%(partners)s::int[]) AS p
                 ORDER BY p
                    ON CONFLICT (partner_id, company_id) DO UPDATE
                   SET check_count = state.check_count + 1,
                       last_check = EXCLUDED.last_check
                """,
                partners=partner_ids,
                company=company_id,
            )
        )
