"""Where dunning keeps a customer's state: the level, last communication and collector on the
credit profile (one per customer and company).

Who works a customer's collections, in one place (``collector_sql``, ``_collector``): the
collector of their profile, else the collector of their segment (the first segment rule of
the company for that segment naming one). The worklist view, the dunning run and the dunning
communications all ask here.
"""

from odoo import fields, models
from odoo.tools import SQL


def segment_collector_sql(profile):
    """SQL: the collector of the segment of the profile rows named `profile`, or NULL."""
    return SQL(
        """(SELECT rule.collector_id FROM ar_credit_segment_rule rule
             WHERE rule.company_id = %(profile)s.company_id
               AND rule.segment = %(profile)s.segment
               AND rule.active AND rule.collector_id IS NOT NULL
             ORDER BY rule.sequence, rule.id LIMIT 1)""",
        profile=SQL.identifier(profile),
    )


def collector_sql(profile):
    """SQL: the collector of the customer of the profile rows named `profile`, or NULL."""
    return SQL(
        "COALESCE(%s.collector_id, %s)", SQL.identifier(profile), segment_collector_sql(profile)
    )


class ArCreditProfile(models.Model):
    _inherit = "ar.credit.profile"

    dunning_level = fields.Integer(
        readonly=True, help="Sequence of the last dunning level reached; 0: not in dunning."
    )
    dunning_last_date = fields.Date(
        string="Last dunning", readonly=True, help="Date of the last dunning communication."
    )
    collector_id = fields.Many2one(
        "res.users",
        string="Collector",
        tracking=True,
        help="Works this customer's collections. Empty: the collector of the customer's "
        "segment (Configuration > Segment rules).",
    )

    def _collector(self):
        """The customer's collector (see the module doc); an empty recordset when none."""
        self.ensure_one()
        self.flush_recordset(["collector_id", "segment", "company_id"])
        self.env["ar.credit.segment.rule"].flush_model()
        [(user_id,)] = self.env.execute_query(
            SQL(
                "SELECT %s FROM ar_credit_profile profile WHERE profile.id = %s",
                collector_sql("profile"),
                self.id,
            )
        )
        return self.env["res.users"].browse(user_id)
