"""Write-off of an uncollectible invoice against the bad-debt allowance.

A collector requests it with a reason; only a credit manager approves it. Approval books
Dr allowance / Cr receivable for the invoice's open amount (optionally reversing the output tax
of that share as a credit note for it would: base and tax lines built by Odoo's tax engine from
the taxes' refund repartition lines, with their tax grids, so the tax report shows the relief),
reconciles the
new receivable line with the invoice so it shows paid, and notes it in the invoice's and the
customer's chatter.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from .sale_order import _cursor_flag

MANAGER_GROUP = "ar_credit_control.group_credit_control_manager"
# Set on the cursor by the decision buttons only: no context key or RPC argument reaches it.
DECISION_KEY = "ar_write_off_decision"


class ArWriteOff(models.Model):
    _name = "ar.write.off"
    _description = "Bad-debt write-off"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "id desc"

    invoice_id = fields.Many2one(
        "account.move",
        required=True,
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('payment_state', 'in', ('not_paid', 'partial'))]",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        related="invoice_id.commercial_partner_id", store=True, string="Customer"
    )
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    amount = fields.Monetary(
        related="invoice_id.amount_residual", string="Open amount", currency_field="currency_id"
    )
    reason = fields.Text(required=True, tracking=True)
    tax_treatment = fields.Selection(
        [
            ("none", "No tax adjustment"),
            ("adjust", "Reverse the output tax share"),
        ],
        required=True,
        default="none",
        tracking=True,
        help="Reverse the output tax share: the tax part of the open amount is debited to the "
        "invoice's tax accounts instead of the allowance (where the law gives VAT relief on "
        "bad debts).",
    )
    allowance_account_id = fields.Many2one(
        "account.account",
        required=True,
        check_company=True,
        default=lambda self: self._default_matrix().allowance_account_id,
        tracking=True,
    )
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        check_company=True,
        domain="[('type', '=', 'general')]",
        default=lambda self: self._default_matrix().journal_id,
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    state = fields.Selection(
        [("requested", "Requested"), ("done", "Written off"), ("rejected", "Rejected")],
        default="requested",
        readonly=True,
        tracking=True,
    )
    requested_by_id = fields.Many2one(
        "res.users", readonly=True, default=lambda self: self.env.user
    )
    approved_by_id = fields.Many2one("res.users", readonly=True, tracking=True)
    move_id = fields.Many2one("account.move", string="Journal entry", readonly=True)

    _PROTECTED = ("state", "approved_by_id", "move_id", "requested_by_id")

    @api.model
    def _default_matrix(self):
        return self.env["ar.provision.matrix"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )

    @api.model_create_multi
    def create(self, vals_list):
        # A request starts as a request, whoever writes the values.
        for vals in vals_list:
            for name in self._PROTECTED:
                vals.pop(name, None)
        records = super().create(vals_list)
        for record in records:
            # The requester may only read invoices; the note is the addon's, not theirs.
            record.invoice_id.sudo().message_post(
                body=self.env._(
                    "Write-off requested by %(user)s: %(reason)s",
                    user=self.env.user.name,
                    reason=record.reason,
                )
            )
        return records

    def write(self, vals):
        if set(vals) & set(self._PROTECTED) and not self.env.cr.cache.get(DECISION_KEY):
            raise AccessError(self.env._("A write-off is approved or rejected with its buttons."))
        return super().write(vals)

    def _check_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a credit manager can approve or reject write-offs."))

    def action_reject(self):
        self._check_manager()
        with _cursor_flag(self.env.cr, DECISION_KEY):
            self.filtered(lambda w: w.state == "requested").write(
                {"state": "rejected", "approved_by_id": self.env.uid}
            )
        return True

    def action_approve(self):
        self._check_manager()
        for write_off in self:
            write_off._check_can_post()
        for write_off in self:
            move = write_off._create_move()
            with _cursor_flag(self.env.cr, DECISION_KEY):
                write_off.write(
                    {"state": "done", "approved_by_id": self.env.uid, "move_id": move.id}
                )
            write_off._notify_done()
        return True

    def _check_can_post(self):
        _ = self.env._
        invoice = self.invoice_id
        if self.state != "requested":
            raise UserError(_("Write-off %(name)s is not waiting for approval.", name=invoice.name))
        if not (self.reason or "").strip():
            raise UserError(_("Give the reason for the write-off."))
        if invoice.state != "posted" or invoice.move_type != "out_invoice":
            raise UserError(_("Only posted customer invoices can be written off."))
        if invoice.currency_id.is_zero(invoice.amount_residual) or invoice.amount_residual < 0:
            raise UserError(_("Invoice %(name)s has nothing left to write off.", name=invoice.name))
        lock_date = self.company_id._get_user_fiscal_lock_date(self.journal_id)
        if self.date <= lock_date:
            raise UserError(
                _(
                    "The write-off date %(date)s is in a locked period (locked up to %(lock)s).",
                    date=self.date,
                    lock=lock_date,
                )
            )

    def _open_receivable_lines(self):
        return self.invoice_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )

    def _tax_adjustment_lines(self, open_share):
        """Journal item values reversing the output tax of `open_share` (a fraction) of the
        invoice, as a credit note for that share would: one base line per taxed invoice line
        (on the allowance account, with its taxes and the refund base tags) and the tax lines
        of the taxes' refund repartition lines (their accounts and tax grids), computed by
        Odoo's tax engine so the tax report sees the adjustment."""
        invoice = self.invoice_id
        company = self.company_id
        account_tax = self.env["account.tax"]
        partner = invoice.commercial_partner_id
        base_lines = [
            account_tax._prepare_base_line_for_taxes_computation(
                line,
                quantity=line.quantity * open_share,
                rate=invoice.invoice_currency_rate,
                currency_id=invoice.currency_id,
                partner_id=partner,
                account_id=self.allowance_account_id,
                # A refund of the share: debit amounts, refund repartition lines and tags.
                is_refund=True,
                sign=1,
                tax_tag_invert=False,
            )
            for line in invoice.invoice_line_ids
            if line.display_type == "product" and line.tax_ids
        ]
        if not base_lines:
            return []
        account_tax._add_tax_details_in_base_lines(base_lines, company)
        account_tax._round_base_lines_tax_details(base_lines, company)
        account_tax._add_accounting_data_in_base_lines_tax_details(base_lines, company)
        tax_results = account_tax._prepare_tax_lines(base_lines, company)
        label = self.env._("Output tax on written-off %(invoice)s", invoice=invoice.name)
        values = []
        for base_line, amounts in tax_results["base_lines_to_update"]:
            values.append(
                {
                    "name": label,
                    "account_id": self.allowance_account_id.id,
                    "partner_id": partner.id,
                    "currency_id": invoice.currency_id.id,
                    "tax_ids": [Command.set(base_line["tax_ids"].ids)],
                    "analytic_distribution": base_line["analytic_distribution"],
                    **amounts,
                }
            )
        for tax_line in tax_results["tax_lines_to_add"]:
            values.append({**tax_line, "name": label, "display_type": "tax"})
        return values

    def _create_move(self):
        invoice = self.invoice_id
        company_currency = self.company_id.currency_id
        receivable_lines = self._open_receivable_lines()
        total_currency = sum(receivable_lines.mapped("amount_residual_currency"))
        label = self.env._(
            "Write-off %(invoice)s: %(reason)s", invoice=invoice.name, reason=self.reason
        )
        line_values = [
            {
                "name": label,
                "account_id": line.account_id.id,
                "partner_id": invoice.commercial_partner_id.id,
                "currency_id": line.currency_id.id,
                "amount_currency": -line.amount_residual_currency,
                "balance": -line.amount_residual,
            }
            for line in receivable_lines
        ]
        if self.tax_treatment == "adjust" and invoice.amount_total:
            line_values += self._tax_adjustment_lines(total_currency / invoice.amount_total)
        # The allowance takes what the lines above leave, in company currency (all of it
        # without tax adjustment; untaxed invoice lines and rounding otherwise).
        rest = company_currency.round(-sum(vals["balance"] for vals in line_values))
        if not company_currency.is_zero(rest):
            line_values.append(
                {
                    "name": label,
                    "account_id": self.allowance_account_id.id,
                    "partner_id": invoice.commercial_partner_id.id,
                    "balance": rest,
                }
            )
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.journal_id.id,
                "company_id": self.company_id.id,
                "date": self.date,
                "ref": label,
                "line_ids": [Command.create(vals) for vals in line_values],
            }
        )
        move.action_post()
        new_receivables = move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        for invoice_line, write_off_line in zip(receivable_lines, new_receivables.sorted("id")):
            (invoice_line | write_off_line).reconcile()
        return move

    def _notify_done(self):
        body = self.env._(
            "Invoice %(invoice)s written off (%(amount)s %(currency)s) by %(user)s. Reason: "
            "%(reason)s",
            invoice=self.invoice_id.name,
            amount=self.move_id.amount_total,
            currency=self.company_id.currency_id.name,
            user=self.env.user.name,
            reason=self.reason,
        )
        self.invoice_id.message_post(body=body)
        # The customer's credit history is on its credit profile (credit and accounting users),
        # not on the customer's chatter that every employee reads.
        self.env["ar.credit.profile"].sudo()._get_or_create(
            self.partner_id.commercial_partner_id, self.company_id
        ).message_post(body=body)
        self.message_post(body=body)
