"""The collector's worklist: customers in dunning to contact today, most urgent first.

An SQL view, one row per (customer, company): open overdue amount (items under an open
dispute or promise left out), oldest days overdue, and the priority: the sum of each overdue
amount times its days overdue. A customer drops off the list for the day once a contact is
logged, and until the next action date of the last log. Days count in the company's time zone.
"""

from odoo import fields, models, tools
from odoo.tools import SQL

from .ar_receivable import awaiting_bank, open_line


class ArCollectionWorklist(models.Model):
    _name = "ar.collection.worklist"
    _description = "Collector worklist"
    _auto = False
    _order = "priority desc, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    dunning_level = fields.Integer(readonly=True)
    amount_overdue = fields.Monetary(readonly=True)
    max_days_overdue = fields.Integer(string="Days overdue", readonly=True)
    priority = fields.Float(
        readonly=True, help="Sum of each overdue amount times its days overdue."
    )
    last_contact_date = fields.Date(readonly=True)
    next_action_date = fields.Date(readonly=True)
    phone = fields.Char(related="partner_id.phone")
    email = fields.Char(related="partner_id.email")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    WITH today AS (
                        SELECT company.id AS company_id,
                               (now() AT TIME ZONE COALESCE(cp.tz, 'UTC'))::date AS day
                          FROM res_company company
                          JOIN res_partner cp ON cp.id = company.partner_id
                    )
                    SELECT profile.id, profile.partner_id, profile.company_id,
                           profile.collector_id AS user_id, profile.dunning_level,
                           agg.amount_overdue, agg.max_days_overdue, agg.priority,
                           last_log.date AS last_contact_date, last_log.next_action_date
                      FROM ar_credit_profile profile
                      JOIN today ON today.company_id = profile.company_id
                      CROSS JOIN LATERAL (
                          SELECT SUM(aml.amount_residual) AS amount_overdue,
                                 MAX(today.day - aml.date_maturity) AS max_days_overdue,
                                 SUM(aml.amount_residual * (today.day - aml.date_maturity))
                                     AS priority
                            FROM res_partner member
                            JOIN account_move_line aml ON aml.partner_id = member.id
                            JOIN account_account account ON account.id = aml.account_id
                            JOIN account_move move ON move.id = aml.move_id
                           WHERE member.commercial_partner_id = profile.partner_id
                             AND aml.company_id = profile.company_id
                             AND %(open_line)s
                             -- ar.receivable's accounts, in SQL: a view takes no parameter, and
                             -- the line's company is filtered already
                             AND account.account_type = 'asset_receivable'
                             AND NOT (%(awaiting_bank)s)
                             AND aml.amount_residual > 0
                             AND aml.date_maturity < today.day
                             AND NOT EXISTS (
                                 SELECT 1 FROM ar_dispute_account_move_rel rel
                                   JOIN ar_dispute dispute ON dispute.id = rel.dispute_id
                                  WHERE rel.move_id = aml.move_id AND dispute.state = 'open')
                             AND NOT EXISTS (
                                 SELECT 1 FROM ar_payment_promise_account_move_rel rel
                                   JOIN ar_payment_promise promise ON promise.id = rel.promise_id
                                  WHERE rel.move_id = aml.move_id AND promise.state = 'open')
                      ) AS agg
                      LEFT JOIN LATERAL (
                          SELECT log.date, log.next_action_date
                            FROM ar_collection_log log
                           WHERE log.partner_id = profile.partner_id
                             AND log.company_id = profile.company_id
                           ORDER BY log.date DESC, log.id DESC
                           LIMIT 1
                      ) AS last_log ON true
                     WHERE profile.dunning_level > 0
                       AND agg.amount_overdue > 0
                       AND (last_log.date IS NULL OR last_log.date < today.day)
                       AND (last_log.next_action_date IS NULL
                            OR last_log.next_action_date <= today.day)
                )
                """,
                table=SQL.identifier(self._table),
                open_line=open_line("aml"),
                awaiting_bank=awaiting_bank("move"),
            )
        )

    def _log(self, result, **values):
        logs = self.env["ar.collection.log"].create(
            [
                {
                    "partner_id": row.partner_id.id,
                    "company_id": row.company_id.id,
                    "channel": "call",
                    "result": result,
                    **values,
                }
                for row in self
            ]
        )
        return logs

    def action_log_reached(self):
        self._log("reached")
        return True

    def action_log_no_answer(self):
        self._log("no_answer", next_action_date=fields.Date.add(fields.Date.today(), days=1))
        return True

    def action_log_wrong_contact(self):
        self._log("wrong_contact")
        return True

    def action_log_refused(self):
        self._log("refused")
        return True

    def action_open_log_form(self):
        """Log a result that needs details (promise, dispute, note) in a form."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "ar.collection.log",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
                "default_channel": "call",
                "default_result": self.env.context.get("log_result", "reached"),
            },
        }
