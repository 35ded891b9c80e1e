"""The credit block on sale-order confirmation.

The block is a company setting (``res.company.ar_credit_block_enabled``, off by default): while it
is off nothing below blocks or holds an order and Odoo's own flow and credit-limit warning
(``partner_credit_warning``) are untouched; the order still shows our figures and reasons, for
information. While it is on, every way of confirming an order runs the credit check
(``ar.credit.check``): the Confirm button and ``action_confirm`` over RPC (several orders at once:
all or nothing), a direct write or create of ``state = 'sale'``, and the portal signature and
online payment paths. In the back office a blocked confirmation raises; on the portal and payment
paths (which run as superuser and must never raise at the customer or lose a payment) the order
is put on credit hold for review.

Only a credit manager's recorded approval lets a blocked order through: it covers the order's
amount for its customer (commercial partner), its invoice address's commercial partner, its
company and its currency. Changing any of them, or raising the amount, voids it with a chatter
line saying why (on write; the confirmation re-checks it, so no other path slips through); it
also lapses after the company's validity period. It is never copied, its fields can only be
written by the approval methods below, and a credit manager does not approve their own orders
unless the company allows it. Nothing is read from the context: no context key, RPC call, copy
or superuser path skips the check.

Who reads what: see ``res_partner`` (``CREDIT_READERS``, ``SALES_READERS``).
"""

from contextlib import contextmanager
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import formatLang

from .ar_credit_profile import GRADES
from .res_partner_credit import CREDIT_READERS, SALES_READERS, check_exported_fields

MANAGER_GROUP = "ar_credit_control.group_credit_control_manager"
APPROVAL_ACTIVITY = "ar_credit_control.mail_activity_credit_approval"
# Only the methods of this module write these fields (checked in create/write).
CREDIT_FIELDS = {
    "credit_hold",
    "credit_hold_reason",
    "credit_approval_state",
    "credit_approved_amount",
    "credit_approved_currency_id",
    "credit_approved_by_id",
    "credit_approved_date",
    "credit_approval_reason",
    "credit_approved_partner_id",
    "credit_approved_invoice_partner_id",
    "credit_approved_company_id",
}
# Writing these may change what an approval was given for.
APPROVAL_BINDING_TRIGGERS = {
    "user_id",
    "partner_id",
    "partner_invoice_id",
    "company_id",
    "currency_id",
    "pricelist_id",
    "order_line",
}
# Flags kept on the cursor, out of reach of any context or RPC argument.
CHECKED_KEY = "ar_credit_checked_order_ids"
INTERNAL_KEY = "ar_credit_internal_write"
HOLD_MODE_KEY = "ar_credit_hold_instead_of_raise"


@contextmanager
def _cursor_flag(cr, key, value=True):
    previous = cr.cache.get(key)
    cr.cache[key] = value
    try:
        yield
    finally:
        if previous is None:
            cr.cache.pop(key, None)
        else:
            cr.cache[key] = previous


class SaleOrder(models.Model):
    _inherit = "sale.order"

    credit_hold = fields.Boolean(
        copy=False,
        readonly=True,
        tracking=True,
        help="The order failed the credit check and waits for a credit manager's decision.",
        groups=SALES_READERS,
    )
    credit_hold_reason = fields.Text(copy=False, readonly=True, groups=SALES_READERS)
    credit_approval_state = fields.Selection(
        [
            ("requested", "Approval requested"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
        ],
        string="Credit approval",
        copy=False,
        readonly=True,
        tracking=True,
        groups=SALES_READERS,
    )
    # What the approval was given for: amount, currency, customer, invoiced company, company.
    credit_approved_amount = fields.Monetary(
        currency_field="credit_approved_currency_id",
        copy=False,
        readonly=True,
        groups=SALES_READERS,
    )
    credit_approved_currency_id = fields.Many2one(
        "res.currency", copy=False, readonly=True, groups=SALES_READERS
    )
    credit_approved_partner_id = fields.Many2one(
        "res.partner", string="Credit approved for", copy=False, readonly=True, groups=SALES_READERS
    )
    credit_approved_invoice_partner_id = fields.Many2one(
        "res.partner",
        string="Credit approved for invoicing",
        copy=False,
        readonly=True,
        groups=SALES_READERS,
    )
    credit_approved_company_id = fields.Many2one(
        "res.company", copy=False, readonly=True, groups=SALES_READERS
    )
    credit_approved_by_id = fields.Many2one(
        "res.users", string="Credit approved by", copy=False, readonly=True, groups=SALES_READERS
    )
    credit_approved_date = fields.Datetime(copy=False, readonly=True, groups=SALES_READERS)
    credit_approval_reason = fields.Text(copy=False, readonly=True, groups=CREDIT_READERS)
    credit_approval_valid = fields.Boolean(compute="_compute_credit_check", groups=SALES_READERS)

    # Live figures shown before confirming (company currency).
    credit_check_currency_id = fields.Many2one("res.currency", compute="_compute_credit_check")
    credit_check_grade = fields.Selection(
        GRADES, string="Credit grade", compute="_compute_credit_check", groups=SALES_READERS
    )
    credit_check_limit = fields.Monetary(
        string="Credit limit",
        compute="_compute_credit_check",
        currency_field="credit_check_currency_id",
        groups=CREDIT_READERS,
    )
    credit_check_available = fields.Monetary(
        string="Available credit",
        compute="_compute_credit_check",
        currency_field="credit_check_currency_id",
        groups=SALES_READERS,
    )
    credit_check_overdue = fields.Monetary(
        string="Overdue",
        compute="_compute_credit_check",
        currency_field="credit_check_currency_id",
        help="Overdue beyond the company's tolerance when the overdue rule is on, else all.",
        groups=CREDIT_READERS,
    )
    credit_check_excess = fields.Monetary(
        string="Over the limit by",
        compute="_compute_credit_check",
        currency_field="credit_check_currency_id",
        groups=CREDIT_READERS,
    )
    # Our banner: the failed rules with their figures (Odoo's partner_credit_warning is left as
    # Odoo computes it).
    credit_check_warning = fields.Text(compute="_compute_credit_check", groups=SALES_READERS)
    credit_block_enabled = fields.Boolean(related="company_id.ar_credit_block_enabled")

    # ------------------------------------------------------------------ display

    def _credit_partner(self):
        self.ensure_one()
        return (self.partner_invoice_id or self.partner_id).commercial_partner_id

    @api.depends_context("lang", "uid")
    @api.depends(
        "partner_id",
        "partner_invoice_id",
        "amount_total",
        "currency_id",
        "company_id",
        "date_order",
        "state",
        "credit_approval_state",
        "credit_approved_amount",
    )
    def _compute_credit_check(self):
        pending = self.filtered(
            lambda o: o.state in ("draft", "sent") and o.partner_id and o.company_id
        )
        results = self.env["ar.credit.check"]._evaluate(pending) if pending else {}
        for order in self:
            credit = results.get(order)
            order.credit_approval_valid = order._credit_approval_valid()
            order.credit_check_currency_id = order.company_id.currency_id
            order.credit_check_grade = credit.grade if credit else False
            order.credit_check_limit = credit.credit_limit if credit else 0.0
            order.credit_check_available = credit.available if credit else 0.0
            order.credit_check_overdue = credit.amount_overdue if credit else 0.0
            order.credit_check_excess = credit.excess if credit else 0.0
            order.credit_check_warning = "\n".join(credit.failures) if credit else False

    def _credit_approval_valid(self):
        """Whether a credit manager's approval covers this order as it stands now."""
        self.ensure_one()
        order = self.sudo()  # decided by the system, whoever reads the order
        if order.credit_approval_state != "approved" or not order.credit_approved_by_id:
            return False
        return not order._credit_approval_changes() and not order._credit_approval_expired()

    def _credit_approval_changes(self):
        """What changed since the approval was given, as phrases (none: it still binds)."""
        self.ensure_one()
        order = self.sudo()
        _ = self.env._
        changes = []
        if order.credit_approved_partner_id != order.partner_id.commercial_partner_id:
            changes.append(_("the customer"))
        if order.credit_approved_invoice_partner_id != order._credit_partner():
            changes.append(_("the invoice address's company"))
        if order.credit_approved_company_id != order.company_id:
            changes.append(_("the company"))
        if (
            order.user_id
            and order.user_id == order.credit_approved_by_id
            and not order.company_id.ar_credit_allow_self_approval
        ):
            changes.append(_("the salesperson (now the approver)"))
        if order.credit_approved_currency_id != order.currency_id:
            changes.append(_("the currency"))
        elif (
            order.currency_id.compare_amounts(order.amount_total, order.credit_approved_amount) > 0
        ):
            changes.append(
                _(
                    "the amount (above the approved %s)",
                    formatLang(
                        self.env, order.credit_approved_amount, currency_obj=order.currency_id
                    ),
                )
            )
        return changes

    def _credit_approval_expired(self):
        order = self.sudo()
        days = order.company_id.ar_credit_approval_validity_days
        return bool(
            days
            and order.credit_approved_date
            and fields.Datetime.now() > order.credit_approved_date + timedelta(days=days)
        )

    def _credit_approval_lapse_note(self):
        """Why this order's approval no longer lets it through ("" when it has none)."""
        self.ensure_one()
        order = self.sudo()
        if order.credit_approval_state != "approved":
            return ""
        changes = order._credit_approval_changes()
        if changes:
            return self.env._(
                "The credit approval no longer applies: %(changes)s changed since it was given. "
                "Request a new credit approval.",
                changes=", ".join(changes),
            )
        if order._credit_approval_expired():
            return self.env._("The credit approval expired. Request a new credit approval.")
        return ""

    def _credit_void_changed_approvals(self):
        """Void the approvals that no longer bind to what they were given for, saying why."""
        for order in self.sudo().filtered(
            lambda o: o.credit_approval_state == "approved" and o.state in ("draft", "sent")
        ):
            changes = order._credit_approval_changes()
            if not changes:
                continue
            body = self.env._(
                "The credit approval by %(user)s no longer applies: %(changes)s changed since "
                "it was given. Request a new credit approval.",
                user=order.credit_approved_by_id.name,
                changes=", ".join(changes),
            )
            order._credit_write(
                {
                    "credit_approval_state": False,
                    "credit_approved_amount": 0.0,
                    "credit_approved_currency_id": False,
                    "credit_approved_partner_id": False,
                    "credit_approved_invoice_partner_id": False,
                    "credit_approved_company_id": False,
                    "credit_approved_by_id": False,
                    "credit_approved_date": False,
                    "credit_approval_reason": False,
                }
            )
            order.message_post(body=body, subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------ the check

    def _credit_block_applies(self):
        """These orders whose company blocks on the credit check. The flag is read from the
        order's company, which the confirmation loads anyway: off, the check costs nothing."""
        return self.filtered(lambda o: o.company_id.ar_credit_block_enabled)

    def _credit_check(self, hold_instead_of_raise=False):
        """Check these quotations (locking their customers' credit state); return those that
        pass. Blocked ones raise one error naming all of them, or are put on hold."""
        results = self.env["ar.credit.check"]._evaluate(self, lock=True)
        blocked = self.browse([order.id for order, credit in results.items() if credit.failures])
        if blocked and not hold_instead_of_raise:
            raise UserError(self._credit_block_message(results, blocked))
        if blocked:
            blocked._credit_put_on_hold(results)
        return self - blocked

    def _credit_block_message(self, results, blocked):
        _ = self.env._
        parts = [
            _("The credit check blocks the confirmation of %(count)s order(s):", count=len(blocked))
        ]
        for order in blocked:
            parts.append(f"\n{order.name} ({order._credit_partner().display_name}):")
            parts.extend(f"- {failure}" for failure in results[order].failures)
        parts.append(
            "\n"
            + _(
                "Nothing was confirmed. Use 'Request credit approval' on each blocked order: a "
                "credit manager will review it."
            )
        )
        return "\n".join(parts)

    def action_confirm(self):
        quotations = self.filtered(lambda o: o.state in ("draft", "sent"))._credit_block_applies()
        if quotations:
            hold = self.env.su or bool(self.env.cr.cache.get(HOLD_MODE_KEY))
            passing = quotations._credit_check(hold_instead_of_raise=hold)
            to_confirm = self - (quotations - passing)
            if not to_confirm:
                return True
        else:
            to_confirm = self
        checked = self.env.cr.cache.get(CHECKED_KEY, frozenset()) | set(to_confirm.ids)
        with _cursor_flag(self.env.cr, CHECKED_KEY, checked):
            result = super(SaleOrder, to_confirm).action_confirm()
        # A held order that now passes without approval (paid, reduced, limit raised) leaves
        # the hold; approved orders left it when approved.
        released = to_confirm.sudo().filtered(lambda o: o.credit_hold and o.state == "sale")
        if released:
            released._credit_write({"credit_hold": False, "credit_approval_state": False})
            released._credit_close_activities(self.env._("Confirmed: the credit check passed."))
        return result

    # ------------------------------------------------------------------ guards

    def _check_credit_fields_write(self, vals):
        if CREDIT_FIELDS & set(vals) and not self.env.cr.cache.get(INTERNAL_KEY):
            raise AccessError(
                self.env._(
                    "Credit holds and approvals are set by the credit check and by credit "
                    "managers through 'Approve credit' or 'Reject credit' only."
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_credit_fields_write(vals)
        orders = super().create(vals_list)
        confirmed = orders.filtered(lambda o: o.state == "sale")._credit_block_applies()
        if confirmed:
            # Created directly as confirmed (RPC): check as if confirmed now.
            results = self.env["ar.credit.check"]._evaluate(confirmed, lock=True)
            blocked = confirmed.filtered(lambda o: results[o].failures)
            if blocked:
                raise UserError(self._credit_block_message(results, blocked))
        return orders

    def write(self, vals):
        self._check_credit_fields_write(vals)
        if vals.get("state") == "sale":
            checked = self.env.cr.cache.get(CHECKED_KEY, frozenset())
            unchecked = self.filtered(
                lambda o: o.state != "sale" and o.id not in checked
            )._credit_block_applies()
            if unchecked:
                unchecked._credit_check()
        result = super().write(vals)
        if APPROVAL_BINDING_TRIGGERS & set(vals):
            self._credit_void_changed_approvals()
        return result

    # Exports and onchanges compute fields without Odoo's field-groups check.
    def _export_rows(self, fields, *, _is_toplevel_call=True):
        check_exported_fields(self, fields)
        return super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)

    def onchange(self, values, field_names, fields_spec):
        check_exported_fields(self, [[name] for name in fields_spec])
        return super().onchange(values, field_names, fields_spec)

    def _credit_write(self, vals):
        with _cursor_flag(self.env.cr, INTERNAL_KEY):
            self.sudo().write(vals)

    # ------------------------------------------------------------------ hold and approval

    def _credit_managers(self):
        self.ensure_one()
        group = self.env.ref(MANAGER_GROUP)
        return group.sudo().users.filtered(
            lambda u: self.company_id in u.company_ids and not u.share and u.active
        )

    def _credit_put_on_hold(self, results):
        for order in self:
            reason = "\n".join(results[order].failures)
            order._credit_write(
                {
                    "credit_hold": True,
                    "credit_hold_reason": reason,
                    "credit_approval_state": "requested",
                }
            )
            order.sudo().message_post(
                body=self.env._("On credit hold, waiting for a credit manager:\n%s", reason),
                subtype_xmlid="mail.mt_note",
            )
            existing = order.sudo().activity_ids.filtered(
                lambda a: a.activity_type_id == self.env.ref(APPROVAL_ACTIVITY)
            )
            for manager in order._credit_managers() - existing.user_id:
                order.sudo().activity_schedule(
                    APPROVAL_ACTIVITY,
                    user_id=manager.id,
                    note=reason,
                    summary=self.env._("Credit approval for %s", order.name),
                )

    def action_request_credit_approval(self):
        """Salesperson: put the blocked quotations on credit hold and ask the managers."""
        self.check_access("write")
        if any(order.state not in ("draft", "sent") for order in self):
            raise UserError(self.env._("Only quotations can be submitted for credit approval."))
        unblocked = self - self._credit_block_applies()
        if unblocked:
            raise UserError(
                self.env._(
                    "The credit block is off in %(companies)s: confirm these orders, no credit "
                    "approval is needed.",
                    companies=", ".join(unblocked.company_id.mapped("name")),
                )
            )
        results = self.env["ar.credit.check"]._evaluate(self)
        passing = self.filtered(lambda o: not results[o].failures)
        if passing:
            raise UserError(
                self.env._(
                    "%(orders)s pass(es) the credit check: confirm without approval.",
                    orders=", ".join(passing.mapped("name")),
                )
            )
        self._credit_put_on_hold(results)
        return True

    def _check_credit_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only credit managers can approve or reject credit."))

    def action_open_credit_decision(self):
        self._check_credit_manager()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Credit decision"),
            "res_model": "ar.credit.approval.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_order_ids": self.ids,
                "default_decision": self.env.context.get("credit_decision", "approve"),
            },
        }

    def _credit_close_activities(self, feedback):
        activity_type = self.env.ref(APPROVAL_ACTIVITY)
        activities = self.sudo().activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type
        )
        activities.action_feedback(feedback=feedback)

    def _credit_approve(self, reason):
        self._check_credit_manager()
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason for the credit approval."))
        if any(order.state not in ("draft", "sent") for order in self):
            raise UserError(self.env._("Only quotations can be approved."))
        for order in self.sudo():
            if (
                order.user_id == self.env.user
                and not order.company_id.ar_credit_allow_self_approval
            ):
                raise UserError(
                    self.env._(
                        "%(order)s is your own order: another credit manager must approve its "
                        "credit (%(company)s does not allow credit managers to approve their own "
                        "orders).",
                        order=order.name,
                        company=order.company_id.name,
                    )
                )
        now = fields.Datetime.now()
        for order in self:
            order._credit_write(
                {
                    "credit_hold": False,
                    "credit_approval_state": "approved",
                    "credit_approved_amount": order.amount_total,
                    "credit_approved_currency_id": order.currency_id.id,
                    "credit_approved_partner_id": order.partner_id.commercial_partner_id.id,
                    "credit_approved_invoice_partner_id": order._credit_partner().id,
                    "credit_approved_company_id": order.company_id.id,
                    "credit_approved_by_id": self.env.user.id,
                    "credit_approved_date": now,
                    "credit_approval_reason": reason,
                }
            )
            body = self.env._(
                "Credit approved by %(user)s for %(order)s, up to %(amount)s: %(reason)s",
                user=self.env.user.name,
                order=order.name,
                amount=formatLang(self.env, order.amount_total, currency_obj=order.currency_id),
                reason=reason,
            )
            # Credit managers may hold no sales rights: post as themselves, with sudo.
            order.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")
            # The customer's credit history: on the credit profile, which only credit and
            # accounting users read (the customer's own chatter is open to every employee).
            self.env["ar.credit.profile"].sudo()._get_or_create(
                order._credit_partner(), order.company_id
            ).message_post(body=body, subtype_xmlid="mail.mt_note")
        self._credit_close_activities(self.env._("Approved: %s", reason))
        return True

    def _credit_reject(self, reason):
        self._check_credit_manager()
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason for the credit rejection."))
        for order in self:
            order._credit_write(
                {
                    "credit_hold": True,
                    "credit_approval_state": "rejected",
                    "credit_approved_amount": 0.0,
                    "credit_approved_by_id": self.env.user.id,
                    "credit_approved_date": fields.Datetime.now(),
                    "credit_approval_reason": reason,
                }
            )
            order.sudo().message_post(
                body=self.env._(
                    "Credit rejected by %(user)s: %(reason)s",
                    user=self.env.user.name,
                    reason=reason,
                ),
                subtype_xmlid="mail.mt_note",
            )
        self._credit_close_activities(self.env._("Rejected: %s", reason))
        return True

    # ------------------------------------------------------------------ portal

    def _validate_order(self):
        # Portal signature: never raise at the customer, hold the order for review instead.
        with _cursor_flag(self.env.cr, HOLD_MODE_KEY):
            return super()._validate_order()
