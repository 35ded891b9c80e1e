"""Dunning policies: the ladder of levels a customer climbs while invoices stay unpaid.

A policy applies to the customers of one segment or grade (VIP gentler, watch stricter), or to
everyone as the default. Policies without a company are shared by all companies; a company's
own policy wins over a shared one. Each level says when it is reached (days relative to the due
date, negative = reminder before it), through which channels the customer hears of it, the
minimum amount worth a communication and whether reaching it puts the customer on credit hold.
The decision itself is ``ar_engine.dunning``: :meth:`ArDunningPolicy._to_engine` hands it the
levels as plain data.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ar_engine.dunning import DunningLevel, DunningPolicy, LateFeeRule
from ar_engine.errors import InvalidInputError

from .ar_credit_profile import GRADES, SEGMENTS

# Level field -> engine channel name.
CHANNEL_FIELDS = {
    "channel_email": "email",
    "channel_sms": "sms",
    "channel_phone": "phone",
    "channel_letter": "letter",
    "channel_lawyer_letter": "lawyer_letter",
    "channel_legal": "legal",
}


class ArDunningPolicy(models.Model):
    _name = "ar.dunning.policy"
    _description = "Dunning policy"
    _inherit = ["mail.thread", "ar.company.owned"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(
        default=10, help="Policies are tried in this order; the first that matches applies."
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Empty: shared by every company without its own policy."
    )
    segment = fields.Selection(SEGMENTS, tracking=True, help="Empty: any segment.")
    grade = fields.Selection(GRADES, tracking=True, help="Empty: any grade.")
    level_ids = fields.One2many("ar.dunning.level", "policy_id", string="Levels", copy=True)
    collector_id = fields.Many2one(
        "res.users",
        string="Default collector",
        help="Gets the phone-call tasks of customers without a collector of their own.",
    )
    late_fee_method = fields.Selection(
        [("none", "No late fee"), ("percent_per_annum", "Interest (% p.a.)"), ("fixed", "Fixed")],
        default="none",
        required=True,
        tracking=True,
    )
    late_fee_rate = fields.Float(string="Interest rate (% p.a.)", tracking=True)
    late_fee_fixed_amount = fields.Float(string="Fixed fee per item", tracking=True)
    late_fee_grace_days = fields.Integer(string="Grace days", default=0)
    late_fee_day_count = fields.Selection(
        [("365", "365 days"), ("360", "360 days")], default="365", required=True
    )

    @api.constrains("level_ids", "late_fee_method", "late_fee_rate", "late_fee_fixed_amount")
    def _check_engine_rules(self):
        for policy in self:
            if policy.level_ids:  # a policy without levels is simply never chosen
                policy._to_engine()
            policy._late_fee_rule()

    def _to_engine(self):
        """The levels as ``ar_engine.dunning.DunningPolicy``; a clear error if invalid."""
        self.ensure_one()
        levels = self.level_ids.sorted(lambda lv: (lv.sequence, lv.id))
        try:
            return DunningPolicy(levels=tuple(level._to_engine() for level in levels))
        except InvalidInputError as error:
            raise ValidationError(
                self.env._(
                    "The levels of dunning policy %(policy)s are not valid (%(field)s): %(error)s",
                    policy=self.name,
                    field=error.field,
                    error=error,
                )
            ) from error

    def _late_fee_rule(self):
        """``ar_engine.dunning.LateFeeRule`` or None when the policy charges no fee."""
        self.ensure_one()
        if self.late_fee_method == "none":
            return None
        try:
            return LateFeeRule(
                method=self.late_fee_method,
                annual_rate_percent=self.late_fee_rate,
                fixed_amount=self.late_fee_fixed_amount,
                day_count=int(self.late_fee_day_count),
                grace_days=max(self.late_fee_grace_days, 0),
                decimals=self.env.company.currency_id.decimal_places,
            )
        except InvalidInputError as error:
            raise ValidationError(
                self.env._(
                    "The late fee of dunning policy %(policy)s is not valid: %(error)s",
                    policy=self.name,
                    error=error,
                )
            ) from error

    @api.model
    def _policies_for(self, company):
        """The active policies that may apply in `company`, most specific first."""
        policies = self.sudo().search(
            [("company_id", "in", [company.id, False]), ("level_ids", "!=", False)]
        )
        # A company's own policies before shared ones, then by sequence.
        return policies.sorted(lambda p: (not p.company_id, p.sequence, p.id))

    def _matches(self, segment, grade):
        self.ensure_one()
        return (not self.segment or self.segment == segment) and (
            not self.grade or self.grade == grade
        )

    @api.model
    def _select(self, policies, segment, grade):
        """The first policy of `policies` matching the customer's segment and grade."""
        return next((p for p in policies if p._matches(segment, grade)), self.browse())


class ArDunningLevel(models.Model):
    _name = "ar.dunning.level"
    _description = "Dunning level"
    _order = "policy_id, sequence, id"

    policy_id = fields.Many2one("ar.dunning.policy", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="policy_id.company_id", store=True)
    sequence = fields.Integer(
        required=True, default=1, help="Position in the ladder; customers store it as their level."
    )
    name = fields.Char(required=True, translate=True)
    days = fields.Integer(
        required=True,
        help="Days after the due date when the level is reached; 0 or negative: a reminder "
        "sent that many days before the due date.",
    )
    channel_email = fields.Boolean(string="Email", default=True)
    channel_sms = fields.Boolean(
        string="SMS", help="Sent only when Odoo's SMS module is installed."
    )
    channel_phone = fields.Boolean(
        string="Phone call", help="A phone-call task for the customer's collector."
    )
    channel_letter = fields.Boolean(string="Formal letter", help="Formal letter PDF.")
    channel_lawyer_letter = fields.Boolean(string="Lawyer letter", help="Lawyer's letter PDF.")
    channel_legal = fields.Boolean(
        string="Legal escalation", help="Opens a legal case for the customer."
    )
    min_amount = fields.Float(
        string="Minimum amount", help="No communication below this overdue amount."
    )
    sets_credit_hold = fields.Boolean(
        string="Credit hold", help="Reaching this level puts the customer on credit hold."
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email template",
        domain="[('model', '=', 'ar.dunning.communication')]",
        help="Empty: the standard dunning email.",
    )

    def write(self, vals):
        result = super().write(vals)
        if "policy_id" in vals:
            self.check_access("write")  # still in a policy its editor may change
        return result

    @api.constrains("mail_template_id")
    def _check_mail_template(self):
        for level in self:
            if level.mail_template_id and not level._mail_template_fits(level.mail_template_id):
                raise ValidationError(
                    self.env._(
                        "The email template of dunning level %(level)s must be a template of "
                        "dunning communications, not of %(model)s.",
                        level=level.name,
                        model=level.mail_template_id.sudo().model_id.name,
                    )
                )

    @api.model
    def _mail_template_fits(self, template):
        """Whether `template` renders dunning communications: one of another model would mail
        the unrelated records that happen to have the communications' ids."""
        return template.sudo().model == "ar.dunning.communication"

    @api.constrains("sequence", "days", "min_amount", "sets_credit_hold", *CHANNEL_FIELDS)
    def _check_policy_ladder(self):
        for policy in self.policy_id:
            policy._to_engine()

    def _channels(self):
        self.ensure_one()
        return tuple(channel for field, channel in CHANNEL_FIELDS.items() if self[field])

    def _to_engine(self):
        self.ensure_one()
        return DunningLevel(
            sequence=self.sequence,
            name=self.name,
            days=self.days,
            channels=self._channels(),
            min_amount=self.min_amount,
            sets_credit_hold=self.sets_credit_hold,
        )
