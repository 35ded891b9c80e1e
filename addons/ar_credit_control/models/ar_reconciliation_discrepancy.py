"""A difference between our receivable and the customer's books, line by line.

Each line is resolved by one action: a credit note (Odoo's reversal wizard, prefilled), a
payment (Odoo's payment register), a correction or an explanation (both with a note). Lines
resolved through a wizard are marked when the wizard creates its entry. When every line is
resolved the discrepancy closes; a line added later reopens it.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

LINE_TYPES = [
    ("missing_invoice", "Invoice missing on the customer's side"),
    ("payment_not_recorded", "Payment not recorded on our side"),
    ("amount_difference", "Amount difference"),
    ("other", "Other"),
]
RESOLUTIONS = [
    ("credit_note", "Credit note"),
    ("payment", "Payment registered"),
    ("correction", "Correction"),
    ("explanation", "Explanation"),
]


class ArReconciliationDiscrepancy(models.Model):
    _name = "ar.reconciliation.discrepancy"
    _description = "Reconciliation discrepancy"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        domain="[('is_company', '=', True)]",
    )
    confirmation_id = fields.Many2one(
        "ar.balance.confirmation", index=True, readonly=True, check_company=True
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True
    )
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed")],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    note = fields.Text(string="Customer's comment")
    line_ids = fields.One2many("ar.reconciliation.discrepancy.line", "discrepancy_id")
    amount_total = fields.Monetary(compute="_compute_amounts", store=True)
    open_line_count = fields.Integer(compute="_compute_amounts", store=True)
    date_closed = fields.Date(readonly=True, copy=False)

    @api.depends("line_ids.amount", "line_ids.state")
    def _compute_amounts(self):
        for discrepancy in self:
            discrepancy.amount_total = sum(discrepancy.line_ids.mapped("amount"))
            discrepancy.open_line_count = len(
                discrepancy.line_ids.filtered(lambda line: line.state == "open")
            )

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"].sudo()
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = sequence.next_by_code("ar.reconciliation.discrepancy") or "/"
        return super().create(vals_list)

    def _form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _update_state(self):
        """Close when every line is resolved, reopen when one is open again."""
        for discrepancy in self:
            lines = discrepancy.line_ids
            all_resolved = bool(lines) and all(line.state == "resolved" for line in lines)
            if all_resolved and discrepancy.state == "open":
                discrepancy.write(
                    {"state": "closed", "date_closed": fields.Date.context_today(self)}
                )
                discrepancy.message_post(body=self.env._("Every line is resolved: closed."))
            elif not all_resolved and discrepancy.state == "closed":
                discrepancy.write({"state": "open", "date_closed": False})

    def action_close(self):
        for discrepancy in self:
            if not discrepancy.line_ids or discrepancy.open_line_count:
                raise UserError(
                    self.env._("A discrepancy closes when every one of its lines is resolved.")
                )
        self._update_state()
        return True


class ArReconciliationDiscrepancyLine(models.Model):
    _name = "ar.reconciliation.discrepancy.line"
    _description = "Reconciliation discrepancy line"
    _order = "discrepancy_id, id"
    _check_company_auto = True

    discrepancy_id = fields.Many2one(
        "ar.reconciliation.discrepancy", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="discrepancy_id.company_id", store=True)
    currency_id = fields.Many2one(related="discrepancy_id.currency_id")
    partner_id = fields.Many2one(related="discrepancy_id.partner_id")
    type = fields.Selection(LINE_TYPES, required=True, default="other")
    amount = fields.Monetary(help="The difference, in company currency.")
    note = fields.Char(string="Description")
    move_id = fields.Many2one(
        "account.move",
        string="Document",
        check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), ('state', '=', 'posted'),"
        " ('move_type', 'in', ('out_invoice', 'out_refund'))]",
        help="The invoice the line is about: what a credit note reverses or a payment pays.",
    )
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved")], default="open", required=True
    )
    resolution = fields.Selection(RESOLUTIONS, readonly=True)
    resolution_note = fields.Text()
    resolution_move_id = fields.Many2one("account.move", string="Entry", readonly=True)
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    resolved_date = fields.Date(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.discrepancy_id._update_state()
        return lines

    def _check_open(self):
        for line in self:
            if line.state != "open":
                raise UserError(self.env._("This line is already resolved."))

    def _resolve(self, resolution, move=None):
        self._check_open()
        self.write(
            {
                "state": "resolved",
                "resolution": resolution,
                "resolution_move_id": move.id if move else False,
                "resolved_by_id": self.env.user.id,
                "resolved_date": fields.Date.context_today(self),
            }
        )
        labels = dict(self._fields["resolution"]._description_selection(self.env))
        types = dict(self._fields["type"]._description_selection(self.env))
        entry = f" {move.display_name}" if move else ""
        for line in self:
            line.discrepancy_id.message_post(
                body=self.env._(
                    "Line “%(line)s” (%(type)s, %(amount)s) resolved: %(resolution)s%(entry)s.",
                    line=line.note or "",
                    type=types[line.type],
                    amount=line.currency_id.format(line.amount),
                    resolution=labels[resolution],
                    entry=entry,
                )
            )
        self.discrepancy_id._update_state()

    def action_credit_note(self):
        """Odoo's credit-note wizard for the line's invoice; the line is resolved when the
        credit note is created."""
        self.ensure_one()
        self._check_open()
        if not self.move_id or self.move_id.move_type != "out_invoice":
            raise UserError(self.env._("Choose the invoice the credit note is for."))
        action = self.move_id.action_reverse()
        action["context"] = {
            "active_model": "account.move",
            "active_ids": self.move_id.ids,
            "default_reason": self.note or self.discrepancy_id.name,
            "ar_discrepancy_line_id": self.id,
        }
        return action

    def action_register_payment(self):
        """Odoo's payment register for the line's invoice, for the line's amount; the line is
        resolved when the payment is created."""
        self.ensure_one()
        self._check_open()
        if not self.move_id:
            raise UserError(self.env._("Choose the invoice the payment is for."))
        action = self.move_id.action_register_payment()
        action["context"] = dict(
            action.get("context") or {},
            ar_discrepancy_line_id=self.id,
            **({"default_amount": abs(self.amount)} if self.amount else {}),
        )
        return action

    def _resolve_with_note(self, resolution):
        for line in self:
            if not (line.resolution_note or "").strip():
                raise UserError(self.env._("Write what was corrected or explained first."))
        self._resolve(resolution)
        return True

    def action_resolve_correction(self):
        return self._resolve_with_note("correction")

    def action_resolve_explanation(self):
        return self._resolve_with_note("explanation")
