"""Broken promises: an open promise whose date has passed (company's local date) while its
invoices are still unpaid becomes broken. Its invoices are then dunned again, and the customer
climbs from the level they had reached (``ar_engine.dunning`` keeps the items' levels)."""

from odoo import api, models
from odoo.tools import SQL


class ArPaymentPromise(models.Model):
    _inherit = "ar.payment.promise"

    @api.model
    def _cron_detect_broken_promises(self):
        run = self.env["ar.dunning.run"]
        broken = self.browse()
        for company in self.env["res.company"].search([]):
            today = run._company_today(company)
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """
                    SELECT promise.id
                      FROM ar_payment_promise promise
                     WHERE promise.company_id = %(company)s
                       AND promise.state = 'open'
                       AND promise.promised_date < %(today)s
                       AND EXISTS (
                           SELECT 1
                             FROM ar_payment_promise_account_move_rel rel
                             JOIN account_move move ON move.id = rel.move_id
                            WHERE rel.promise_id = promise.id
                              AND move.state = 'posted'
                              AND move.amount_residual > 0
                              AND move.payment_state NOT IN ('in_payment', 'paid')
                       )
                    """,
                    company=company.id,
                    today=today,
                )
            )
            broken |= self.browse([row[0] for row in self.env.cr.fetchall()])
        for promise in broken:
            promise.with_context(tracking_disable=False, mail_notrack=False).state = "broken"
            promise.message_post(
                body=self.env._(
                    "Promise broken: the invoices were not paid by %(date)s. Dunning resumes "
                    "and escalates at the next run.",
                    date=promise.promised_date,
                )
            )
        return broken
