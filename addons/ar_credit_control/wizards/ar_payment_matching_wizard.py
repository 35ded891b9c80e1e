"""Cash application: propose and reconcile matches between customer payments and open items.

Payments are the open credit receivable lines of posted payments and entries, and the bank
statement lines not reconciled yet; both are read with one SQL query each, handed to
``ar_engine.matching`` with the open receivable items, and the best proposal of each payment
is shown. Accepting reconciles through the ORM: ``account.move.line.reconcile`` for payment
lines; for a statement line its suspense line is replaced by receivable counterparts (the
statement line's own journal entry is rewritten, as Odoo's statement-line model expects) and
each counterpart is reconciled with its invoice.
"""

from collections import defaultdict

from odoo import Command, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_compare, float_is_zero

from ar_engine.errors import InvalidInputError
from ar_engine.matching import MatchingConfig, OpenItem, Payment, match_payments

from ..models.ar_receivable import awaiting_bank

RULES = [
    ("reference", "Reference in memo"),
    ("reference_fuzzy", "Reference in memo (typo)"),
    ("exact_amount", "Exact amount"),
    ("combination", "Combination of items"),
    ("partial_oldest", "Oldest items first"),
]


class ArPaymentMatchingWizard(models.TransientModel):
    _name = "ar.payment.matching.wizard"
    _description = "Payment matching"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, readonly=True
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        help="Only the payments of these customers; all customers when empty.",
    )
    include_payments = fields.Boolean(string="Payments", default=True)
    include_statement_lines = fields.Boolean(string="Bank statement lines", default=True)
    auto_accept_threshold = fields.Float(
        string="Auto-select confidence",
        default=lambda self: self.env.company.ar_matching_auto_accept,
    )
    state = fields.Selection(
        [("draft", "Draft"), ("proposed", "Proposed"), ("done", "Done")],
        default="draft",
        readonly=True,
    )
    proposal_ids = fields.One2many("ar.payment.matching.proposal", "wizard_id")
    unmatched_count = fields.Integer(readonly=True, string="Payments without proposal")

    # ------------------------------------------------------------------ loading

    def _partner_filter(self, column: SQL) -> SQL:
        if not self.partner_ids:
            return SQL("")
        return SQL(
            "AND %s IN (SELECT id FROM res_partner WHERE commercial_partner_id = ANY(%s))",
            column,
            self.partner_ids.commercial_partner_id.ids,
        )

    def _load_payment_lines(self):
        """Open credit receivable lines of posted payments and entries (not invoices)."""
        query = SQL(
            """
            SELECT aml.id, aml.company_id,
                   COALESCE(partner.commercial_partner_id, aml.partner_id),
                   currency.name, -aml.amount_residual_currency, aml.date,
                   CONCAT_WS(' ', payment.memo, payment.payment_reference, move.ref,
                             CASE WHEN payment.id IS NULL THEN aml.name END)
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              JOIN res_currency currency ON currency.id = aml.currency_id
              LEFT JOIN account_payment payment ON payment.id = move.origin_payment_id
              LEFT JOIN res_partner partner ON partner.id = aml.partner_id
             WHERE aml.company_id = %(company)s
               AND aml.account_id = ANY(%(accounts)s)
               AND aml.parent_state = 'posted'
               AND aml.reconciled IS NOT TRUE
               AND aml.amount_residual_currency < 0
               AND move.move_type = 'entry'
               AND move.statement_line_id IS NULL
               %(partner_filter)s
            """,
            company=self.company_id.id,
            accounts=self.env["ar.receivable"]._account_ids(self.company_id),
            partner_filter=self._partner_filter(SQL("aml.partner_id")),
        )
        return [
            Payment(("line", row[0]), row[1], row[3], row[4], row[5], row[6] or "", row[2])
            for row in self.env.execute_query(query)
        ]

    def _load_statement_lines(self):
        """Incoming bank statement lines not reconciled yet, in their transaction currency."""
        partner_filter = self._partner_filter(SQL("st.partner_id"))
        query = SQL(
            """
            SELECT st.id, move.company_id,
                   COALESCE(partner.commercial_partner_id, st.partner_id),
                   currency.name,
                   CASE WHEN st.foreign_currency_id IS NOT NULL THEN st.amount_currency
                        ELSE st.amount END,
                   move.date,
                   CONCAT_WS(' ', st.payment_ref, move.ref)
              FROM account_bank_statement_line st
              JOIN account_move move ON move.id = st.move_id
              JOIN account_journal journal ON journal.id = st.journal_id
              JOIN res_company company ON company.id = move.company_id
              JOIN res_currency currency ON currency.id = COALESCE(
                   st.foreign_currency_id, journal.currency_id, company.currency_id)
              LEFT JOIN res_partner partner ON partner.id = st.partner_id
             WHERE move.company_id = %s
               AND move.state = 'posted'
               AND st.is_reconciled IS NOT TRUE
               AND st.amount > 0
               %s
            """,
            self.company_id.id,
            partner_filter,
        )
        return [
            Payment(("statement", row[0]), row[1], row[3], row[4], row[5], row[6] or "", row[2])
            for row in self.env.execute_query(query)
        ]

    def _load_open_items(self):
        """Open debit receivable items (invoices, debit entries) of the company; an invoice
        paid and waiting for the bank is paid already."""
        query = SQL(
            """
            SELECT aml.id, COALESCE(partner.commercial_partner_id, aml.partner_id),
                   aml.company_id, currency.name, aml.amount_residual_currency,
                   COALESCE(aml.date_maturity, aml.date), move.name, move.payment_reference
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              JOIN res_currency currency ON currency.id = aml.currency_id
              LEFT JOIN res_partner partner ON partner.id = aml.partner_id
             WHERE aml.company_id = %s
               AND aml.account_id = ANY(%s)
               AND aml.parent_state = 'posted'
               AND aml.reconciled IS NOT TRUE
               AND aml.amount_residual_currency > 0
               AND aml.partner_id IS NOT NULL
               AND NOT (%s)
            """,
            self.company_id.id,
            self.env["ar.receivable"]._account_ids(self.company_id),
            awaiting_bank("move"),
        )
        return [
            OpenItem(*row[:6], row[6] or "", row[7] or "") for row in self.env.execute_query(query)
        ]

    def _matching_config(self):
        company = self.company_id
        currencies = self.env["res.currency"].search([])
        try:
            return MatchingConfig(
                write_off_tolerance_abs=company.ar_matching_tolerance_amount,
                write_off_tolerance_rel=company.ar_matching_tolerance_percent / 100.0,
                auto_accept_threshold=self.auto_accept_threshold,
                currency_decimals={
                    currency.name: currency.decimal_places for currency in currencies
                },
            )
        except InvalidInputError as error:
            raise UserError(
                self.env._(
                    "The payment matching settings are not valid (%(field)s): set a tolerance "
                    "between 0 and 50%% and a confidence between 0 and 1.",
                    field=error.field,
                )
            ) from error

    # ------------------------------------------------------------------ actions

    def action_propose(self):
        self.ensure_one()
        self.env.flush_all()
        payments = []
        if self.include_payments:
            payments += self._load_payment_lines()
        if self.include_statement_lines:
            payments += self._load_statement_lines()
        items = self._load_open_items()
        try:
            matches = match_payments(payments, items, self._matching_config())
        except InvalidInputError as error:
            raise UserError(
                self.env._(
                    "The payments could not be matched: %(field)s is not valid.", field=error.field
                )
            ) from error
        currency_ids = dict(self.env.execute_query(SQL("SELECT name, id FROM res_currency")))
        by_id = {payment.id: payment for payment in payments}
        self.proposal_ids.unlink()
        values = []
        allocations = []
        taken = set()  # items of the proposals selected so far: each is selected once
        for match in sorted(
            matches, key=lambda match: -(match.best.confidence if match.best else 0.0)
        ):
            best = match.best
            if best is None:
                continue
            payment = by_id[match.payment_id]
            kind, record_id = match.payment_id
            values.append(
                {
                    "wizard_id": self.id,
                    "source": "payment" if kind == "line" else "statement_line",
                    "move_line_id": record_id if kind == "line" else False,
                    "statement_line_id": record_id if kind == "statement" else False,
                    "partner_id": payment.partner_id
                    or self.env["account.move.line"]
                    .browse(best.allocations[0].item_id)
                    .partner_id.commercial_partner_id.id,
                    "currency_id": currency_ids[payment.currency],
                    "amount": payment.amount,
                    "date": payment.date,
                    "memo": payment.memo,
                    "rule": best.rule.value,
                    "confidence": best.confidence,
                    "auto_accept": match.auto_accept,
                    "selected": match.auto_accept and not taken & set(best.item_ids),
                    "write_off_amount": best.write_off,
                    "unapplied_amount": best.unapplied,
                }
            )
            allocations.append(best.allocations)
            if match.auto_accept:
                taken.update(best.item_ids)
        proposals = self.env["ar.payment.matching.proposal"].create(values)
        proposals._insert_allocations(
            [
                (proposal.id, item.item_id, item.amount)
                for proposal, proposal_allocations in zip(proposals, allocations)
                for item in proposal_allocations
            ]
        )
        self.write({"state": "proposed", "unmatched_count": len(payments) - len(values)})
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_accept(self):
        """Reconcile the selected proposals; nothing is written unless all of them are valid."""
        self.ensure_one()
        if not self.env.user.has_group("ar_credit_control.group_credit_control_manager"):
            raise AccessError(self.env._("Only a credit manager can accept payment matches."))
        proposals = self.proposal_ids.filtered(lambda p: p.selected and p.state == "proposed")
        if not proposals:
            raise UserError(self.env._("Select at least one proposal to accept."))
        proposals._lock_lines()
        plans = [proposal._validated_plan() for proposal in proposals]
        proposals._check_no_item_applied_twice()
        proposals._apply_all(plans)
        proposals.state = "accepted"
        if all(p.state == "accepted" for p in self.proposal_ids):
            self.state = "done"
        return self._reopen()


class ArPaymentMatchingProposal(models.TransientModel):
    _name = "ar.payment.matching.proposal"
    _description = "Payment matching proposal"
    _order = "confidence desc, id"

    wizard_id = fields.Many2one("ar.payment.matching.wizard", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="wizard_id.company_id")
    source = fields.Selection(
        [("payment", "Payment"), ("statement_line", "Bank statement line")], required=True
    )
    move_line_id = fields.Many2one("account.move.line", string="Payment item")
    statement_line_id = fields.Many2one("account.bank.statement.line", string="Statement line")
    partner_id = fields.Many2one("res.partner", string="Customer")
    currency_id = fields.Many2one("res.currency", required=True)
    amount = fields.Monetary(string="Paid", currency_field="currency_id")
    date = fields.Date()
    memo = fields.Char()
    rule = fields.Selection(RULES)
    confidence = fields.Float(digits=(3, 2))
    auto_accept = fields.Boolean(string="Confident")
    selected = fields.Boolean()
    write_off_amount = fields.Monetary(
        string="Difference written off",
        currency_field="currency_id",
        help="Positive: the customer paid less than the items (fees); negative: more.",
    )
    unapplied_amount = fields.Monetary(
        string="Left on account",
        currency_field="currency_id",
    )
    allocation_ids = fields.One2many("ar.payment.matching.allocation", "proposal_id")
    state = fields.Selection(
        [("proposed", "Proposed"), ("accepted", "Accepted")], default="proposed", readonly=True
    )

    def _insert_allocations(self, rows):
        """Insert (proposal id, journal item id, amount) rows in one statement.

        Thousands of allocation rows through the ORM would each load their journal item;
        these rows hold ids the SQL loads just returned, so they are written as they are.
        """
        if not rows:
            return
        proposal_ids, line_ids, amounts = (list(column) for column in zip(*rows))
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO ar_payment_matching_allocation
                       (proposal_id, move_line_id, amount,
                        create_uid, create_date, write_uid, write_date)
                SELECT rows.proposal_id, rows.line_id, rows.amount,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM unnest(%(proposals)s::int[], %(lines)s::int[], %(amounts)s::numeric[])
                       AS rows(proposal_id, line_id, amount)
                """,
                uid=self.env.uid,
                proposals=proposal_ids,
                lines=line_ids,
                amounts=amounts,
            )
        )
        self.invalidate_recordset(["allocation_ids"])

    # ------------------------------------------------------------------ checks

    def _lock_lines(self):
        """Lock the journal items about to be reconciled so a concurrent run waits."""
        line_ids = (self.move_line_id | self.allocation_ids.move_line_id).ids
        line_ids += self.statement_line_id.move_id.line_ids.ids
        if line_ids:
            self.env.cr.execute(
                SQL("SELECT id FROM account_move_line WHERE id = ANY(%s) FOR UPDATE", line_ids)
            )
        self.env.invalidate_all()

    def _check_no_item_applied_twice(self):
        """Proposals are made payment by payment: two of them may claim the same invoice."""
        applied = defaultdict(float)
        for allocation in self.allocation_ids:
            applied[allocation.move_line_id] += allocation.amount
        for item, amount in applied.items():
            if (
                float_compare(
                    amount,
                    item.amount_residual_currency,
                    precision_rounding=item.currency_id.rounding,
                )
                > 0
            ):
                raise UserError(
                    self.env._(
                        "Several selected proposals apply %(amount)s to %(item)s, which is open "
                        "for %(open)s only: unselect one of them.",
                        amount=amount,
                        item=item.move_id.name,
                        open=item.amount_residual_currency,
                    )
                )

    def _difference_tolerated(self, difference):
        company = self.company_id
        tolerance = max(
            company.ar_matching_tolerance_amount,
            self.amount * company.ar_matching_tolerance_percent / 100.0,
        )
        return float_compare(abs(difference), tolerance, precision_digits=6) <= 0

    def _validated_plan(self):
        """Check the proposal against the current state of the books; returns what to book.

        Raises a UserError naming the problem; nothing has been written when it does.
        """
        self.ensure_one()
        _ = self.env._
        currency = self.currency_id
        company = self.company_id
        label = self.memo or self.move_line_id.move_id.name or self.statement_line_id.display_name
        if not self.allocation_ids:
            raise UserError(_("Payment %(payment)s: no invoice to apply it to.", payment=label))
        if any(
            float_compare(amount, 0.0, precision_rounding=currency.rounding) <= 0
            for amount in self.allocation_ids.mapped("amount") + [self.amount]
        ):
            raise UserError(_("Payment %(payment)s: amounts must be positive.", payment=label))
        if self.source == "payment":
            payment_line = self.move_line_id
            if (
                payment_line.reconciled
                or payment_line.parent_state != "posted"
                or float_compare(
                    -payment_line.amount_residual_currency,
                    self.amount,
                    precision_rounding=currency.rounding,
                )
                != 0
            ):
                raise UserError(
                    _(
                        "Payment %(payment)s was reconciled or changed since the proposal.",
                        payment=label,
                    )
                )
            journal, date = payment_line.journal_id, payment_line.date
            partner = payment_line.partner_id.commercial_partner_id
            payment_company = payment_line.company_id
        else:
            st_line = self.statement_line_id
            if st_line.is_reconciled or st_line.move_id.state != "posted":
                raise UserError(
                    _("Bank statement line %(payment)s is already reconciled.", payment=label)
                )
            journal, date = st_line.journal_id, st_line.date
            partner = st_line.partner_id.commercial_partner_id
            payment_company = st_line.company_id
        items = self.allocation_ids.move_line_id
        item_partners = items.partner_id.commercial_partner_id
        if len(item_partners) != 1 or (partner and partner != item_partners):
            raise UserError(
                _(
                    "Payment %(payment)s: a payment is applied to one customer's invoices only.",
                    payment=label,
                )
            )
        if payment_company != company or items.company_id != company:
            raise UserError(
                _(
                    "Payment %(payment)s: payment and invoices must belong to the same company.",
                    payment=label,
                )
            )
        for allocation in self.allocation_ids:
            item = allocation.move_line_id
            if (
                item.reconciled
                or item.parent_state != "posted"
                or item.currency_id != currency
                or float_compare(
                    allocation.amount,
                    item.amount_residual_currency,
                    precision_rounding=currency.rounding,
                )
                > 0
            ):
                raise UserError(
                    _(
                        "Payment %(payment)s: %(item)s is already paid or open for less "
                        "than the amount applied.",
                        payment=label,
                        item=item.move_id.name,
                    )
                )
        lock_date = company._get_user_fiscal_lock_date(journal)
        if date <= lock_date:
            raise UserError(
                _(
                    "Payment %(payment)s is dated %(date)s, in a locked period (locked up to "
                    "%(lock)s).",
                    payment=label,
                    date=date,
                    lock=lock_date,
                )
            )
        difference = sum(self.allocation_ids.mapped("amount")) - self.amount
        write_off = unapplied = 0.0
        if float_compare(difference, 0.0, precision_rounding=currency.rounding) > 0:
            if not self._difference_tolerated(difference):
                raise UserError(
                    _(
                        "Payment %(payment)s: the amounts applied exceed the payment by more "
                        "than the tolerance.",
                        payment=label,
                    )
                )
            write_off = difference
        elif float_compare(difference, 0.0, precision_rounding=currency.rounding) < 0:
            if self.write_off_amount < 0 and self._difference_tolerated(difference):
                write_off = difference
            else:
                unapplied = -difference
        if not float_is_zero(write_off, precision_rounding=currency.rounding) and (
            not company.ar_matching_write_off_account_id
        ):
            raise UserError(
                _(
                    "Set the payment difference account in the Credit Control settings to "
                    "write off differences."
                )
            )
        return {
            "partner": item_partners,
            "date": date,
            "write_off": currency.round(write_off),
            "unapplied": currency.round(unapplied),
        }

    # ------------------------------------------------------------------ booking

    def _apply_all(self, plans):
        """Book the proposals (aligned with their plans) in batches.

        The write-off entries are created and posted in one go, the statement lines' journal
        entries are rewritten one by one (each has its own lines), and then every proposal's
        lines are reconciled in a single reconciliation plan.
        """
        write_off_lines = self._create_write_off_entries(plans)
        reconciliation_plan = []
        for proposal, plan in zip(self, plans):
            if proposal.source == "payment":
                reconciliation_plan.append(
                    proposal._payment_reconciliation(write_off_lines.get(proposal.id))
                )
            else:
                reconciliation_plan.extend(proposal._replace_suspense_line(plan))
        if reconciliation_plan:
            self.env["account.move.line"]._reconcile_plan(reconciliation_plan)

    def _create_write_off_entries(self, plans):
        """The differences of the payment proposals, moved between receivable and the
        write-off account: one miscellaneous entry per company and payment date (two lines per
        proposal), all created and posted together. Each journal entry costs a sequence number
        and a posting, so a thousand differences of one day make one entry, not a thousand.

        Returns {proposal id: its receivable line}.
        """
        to_book = [
            (proposal, plan)
            for proposal, plan in zip(self, plans)
            if proposal.source == "payment" and plan["write_off"]
        ]
        if not to_book:
            return {}
        groups = defaultdict(list)
        for proposal, plan in to_book:
            groups[proposal.company_id, plan["date"]].append((proposal, plan))
        journals = {}
        vals_list = []
        for (company, date), members in groups.items():
            if company not in journals:
                journals[company] = self.env["account.journal"].search(
                    [
                        *self.env["account.journal"]._check_company_domain(company),
                        ("type", "=", "general"),
                    ],
                    limit=1,
                )
            vals_list.append(
                {
                    "move_type": "entry",
                    "journal_id": journals[company].id,
                    "date": date,
                    "company_id": company.id,
                    "ref": (
                        members[0][0]._write_off_label()
                        if len(members) == 1
                        else self.env._("Payment differences")
                    ),
                    "line_ids": [
                        Command.create(values)
                        for proposal, plan in members
                        for values in proposal._write_off_line_values(plan)
                    ],
                }
            )
        moves = self.env["account.move"].create(vals_list)
        moves.action_post()
        result = {}
        for ((_company, _date), members), move in zip(groups.items(), moves):
            # Two lines per proposal, in the order given: the receivable one first.
            lines = move.line_ids.sorted("id")
            for index, (proposal, _plan) in enumerate(members):
                result[proposal.id] = lines[2 * index]
        return result

    def _write_off_label(self):
        return self.env._("Payment difference: %(memo)s", memo=self.memo or "")

    def _write_off_line_values(self, plan):
        """The receivable line (first) and the write-off account line of the difference."""
        company = self.company_id
        currency = self.currency_id
        amount = plan["write_off"]
        balance = currency._convert(amount, company.currency_id, company, plan["date"])
        line_values = {
            "name": self._write_off_label(),
            "partner_id": plan["partner"].id,
            "currency_id": currency.id,
        }
        return [
            {
                **line_values,
                "account_id": self.move_line_id.account_id.id,
                "amount_currency": -amount,
                "balance": -balance,
            },
            {
                **line_values,
                "account_id": company.ar_matching_write_off_account_id.id,
                "amount_currency": amount,
                "balance": balance,
            },
        ]

    def _payment_reconciliation(self, write_off_line):
        """The payment line's part of the reconciliation plan.

        A sub-plan: the payment with each invoice in turn, in the allocations' order, so each
        invoice gets exactly its share (oldest first for partial payments); then Odoo
        reconciles what is still open of all of them together, the write-off line included.
        """
        payment_line = self.move_line_id
        steps = [payment_line | allocation.move_line_id for allocation in self.allocation_ids]
        if write_off_line:
            steps.append(payment_line | self.allocation_ids.move_line_id | write_off_line)
        return steps

    def _replace_suspense_line(self, plan):
        """Replace the statement line's suspense line by one receivable line per invoice (plus
        the difference and any unapplied cash); returns the (new line | invoice line) pairs
        to reconcile."""
        st_line = self.statement_line_id.sudo()
        company = self.company_id
        _liquidity, suspense_lines, _other = st_line._seek_for_lines()
        total_currency = -sum(suspense_lines.mapped("amount_currency"))
        total_balance = -sum(suspense_lines.mapped("balance"))
        line_currency = suspense_lines.currency_id[:1] or self.currency_id
        receivable_account = self.allocation_ids.move_line_id.account_id[:1]
        partner = plan["partner"]
        name = st_line.payment_ref or self.memo or ""
        parts = [
            (allocation.move_line_id, receivable_account, -allocation.amount)
            for allocation in self.allocation_ids
        ]
        if plan["unapplied"]:
            parts.append((None, receivable_account, -plan["unapplied"]))
        if plan["write_off"]:
            parts.append((None, company.ar_matching_write_off_account_id, plan["write_off"]))
        # Company-currency balances in proportion, the rounding rest on the largest part.
        balances = [
            company.currency_id.round(amount * total_balance / total_currency)
            for _item, _account, amount in parts
        ]
        largest = max(range(len(parts)), key=lambda index: abs(parts[index][2]))
        balances[largest] += company.currency_id.round(-total_balance - sum(balances))
        commands = [Command.delete(line.id) for line in suspense_lines]
        for (_item, account, amount), balance in zip(parts, balances):
            commands.append(
                Command.create(
                    {
                        "name": name,
                        "account_id": account.id,
                        "partner_id": partner.id,
                        "currency_id": line_currency.id,
                        "amount_currency": amount,
                        "balance": balance,
                    }
                )
            )
        move = st_line.move_id
        existing = move.line_ids
        move.with_context(
            skip_account_move_synchronization=True,
            skip_readonly_check=True,
            force_delete=True,
            skip_invoice_sync=True,
        ).write({"line_ids": commands})
        new_lines = (move.line_ids - existing).sorted("id")
        if not st_line.partner_id:
            st_line.with_context(skip_account_move_synchronization=True).partner_id = partner
        return [line | item for (item, _account, _amount), line in zip(parts, new_lines) if item]


class ArPaymentMatchingAllocation(models.TransientModel):
    _name = "ar.payment.matching.allocation"
    _description = "Payment matching allocation"

    proposal_id = fields.Many2one("ar.payment.matching.proposal", required=True, ondelete="cascade")
    move_line_id = fields.Many2one("account.move.line", string="Invoice item", required=True)
    move_id = fields.Many2one(related="move_line_id.move_id", string="Invoice")
    date_maturity = fields.Date(related="move_line_id.date_maturity", string="Due date")
    currency_id = fields.Many2one(related="proposal_id.currency_id")
    residual = fields.Monetary(
        related="move_line_id.amount_residual_currency",
        string="Open",
        currency_field="currency_id",
    )
    amount = fields.Monetary(string="Applied", currency_field="currency_id")
