"""The company's dunning settings: the daily cap on dunning emails.

Mail servers cap what one sender may send a day (Odoo Online: 200 emails a day). A dunning run
larger than the cap sends the most urgent emails first and holds the others back for the next
runs, in the same order: none is lost and none goes twice (``ar_dunning_run.py``).
"""

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_dunning_daily_email_cap = fields.Integer(
        string="Dunning emails per day",
        default=0,
        help="At most this many dunning emails a day (0: no cap). The most urgent go first; "
        "the others wait for the next days' runs. Set it below your mail server's daily limit "
        "(Odoo Online: 200 a day, every email counted).",
    )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_dunning_daily_email_cap = fields.Integer(
        related="company_id.ar_dunning_daily_email_cap", readonly=False
    )
