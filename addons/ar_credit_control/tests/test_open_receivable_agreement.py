"""One definition of "open receivable": every feature agrees on every customer's open amount.

One tricky data set, then, for each company, the open amount of each
customer (commercial partner) as exposure, aging, dunning facts, warnings, payment-matching
candidates, the collector worklist, the collection forecast and statements see it. Exposure
(``ar.credit.exposure``) is the reference; each feature is compared on the figure it can be
compared on (the figures below), one subTest per (company, feature) so that one run shows
every disagreement. The per-customer figures of every feature are logged ("agreement ...").

Companies: A (the test company), B a branch of A (``parent_id`` = A: it posts on A's receivable
account, which is not shared with B in ``company_ids``), C independent with its own chart. Each
feature computes "for company X" (lines with ``company_id`` = X): A and B are compared
separately; in B only P1's branch invoice is open.

Before ``ar.receivable`` was the one definition, the branch had no aging, statement or
matching candidates (their accounts were found with ``company_ids in [company]``, without the
parent companies), and the worklist, the matching candidates and the dunning run's overdue and
level-reset checks counted invoices in payment as due.

What "open" means here (Odoo 18, checked in its source):

- an open receivable line is a posted line of one of the company's receivable accounts (those of
  the company or of its parent companies: a branch posts on its parent's accounts) with
  ``company_id`` = that company and a residual; a contact's lines count for its commercial
  partner;
- "in payment": an invoice paid by a payment that has no journal entry yet (a payment method
  without outstanding account) keeps its receivable open while ``payment_state`` says "in
  payment" ("paid" in Community). Exposure leaves such invoices out ("the money is on its way");
  aging and statements show them in their "In payment" column, dunning flags them. An invoice
  paid by a payment *with* a journal entry is reconciled with the payment's receivable line
  at once: nothing of it stays open, in any feature, whatever its ``payment_state``.

The figures compared (company currency, rounded to the cent):

- ``open``: the net open receivable (debits less open credit notes and unreconciled payments),
  in-payment invoices left out = exposure's ``open_receivable``;
- ``due``: the open debits, in-payment invoices left out = exposure's ``amount_overdue`` (every
  open debit of the data set is overdue: the features that count only overdue or only debit
  items are compared on it);
- ``unapplied``: the unapplied cash (open credits: payments and credit notes not matched yet,
  in-payment documents left out) = ``ar.receivable._unapplied_cash``, the one definition, which
  exposure, aging and statements ("Unapplied" column), dunning (its facts' credits) and the
  credit check read.
"""

import json
import logging
from collections import defaultdict
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged

from .common import CreditControlCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestOpenReceivableAgreement(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        # Due on the invoice date: every open debit of the data set is overdue.
        cls.immediate = cls.env["account.payment.term"].create(
            {
                "name": "Immediate (agreement)",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 0})
                ],
            }
        )
        cls.eur = cls.setup_other_currency(
            "EUR",
            rates=[
                (cls.days_ago(400), 2.0),
                (cls.days_ago(35), 2.5),
                (cls.days_ago(15), 1.6),
            ],
        )

        # ---- companies: A (the test company), its branch B, an independent company C
        cls.company_a = cls.company
        cls.branch_b = cls.env["res.company"].create(
            {"name": "Agreement Branch B", "parent_id": cls.company_a.id}
        )
        cls.env.user.company_ids = [Command.link(cls.branch_b.id)]
        cls.env.cr.precommit.run()  # a branch gets its parent's chart when the data commits
        cls.company_c = cls.setup_other_company(name="Agreement Company C")["company"]
        cls.companies = cls.company_a | cls.branch_b | cls.company_c
        for company in cls.companies:
            company.partner_id.tz = "UTC"

        # ---- customers
        cls.p1 = cls.create_customer("Agreement P1")
        cls.p1_buyer = cls.env["res.partner"].create(
            {"name": "P1 Buyer", "parent_id": cls.p1.id, "type": "invoice"}
        )
        cls.p2 = cls.create_customer("Agreement P2 (shared with C)")
        cls.p3 = cls.create_customer("Agreement P3 (credits)")
        cls.p4 = cls.create_customer("Agreement P4 (in payment only)")
        cls.customers = cls.p1 | cls.p2 | cls.p3 | cls.p4

        # P1: in A, in its branch B, through its contact, an invoice in payment (no journal
        # entry: its receivable stays open) and one paid by a payment with a journal entry
        # (closed).
        cls.invoice(cls.p1, 1000.0, 60)
        cls.invoice(cls.p1, 700.0, 50, company=cls.branch_b)
        cls.invoice(cls.p1_buyer, 300.0, 40)
        cls.paid_with_entry = cls.invoice(cls.p1, 400.0, 45)
        cls.in_payment = cls.invoice(cls.p1, 250.0, 35)

        # P2: in A and in C; in A also a euro invoice paid twice in part at other rates, a
        # credit note not applied and a payment on account.
        cls.invoice(cls.p2, 600.0, 55)
        cls.invoice(cls.p2, 900.0, 50, company=cls.company_c)
        cls.eur_invoice = cls.invoice(cls.p2, 1000.0, 60, currency=cls.eur)  # 500.00 at 2.0
        cls.pay_invoice(cls.eur_invoice, amount=300.0, payment_date=cls.days_ago(30))
        cls.pay_invoice(cls.eur_invoice, amount=200.0, payment_date=cls.days_ago(10))
        cls.invoice(cls.p2, 150.0, 20, move_type="out_refund")
        cls.payment_on_account(cls.p2, 200.0, cls.days_ago(12))

        # P3: a credit note larger than the invoice it was applied to (150.00 of it left
        # open), another invoice, a payment on account.
        small = cls.invoice(cls.p3, 100.0, 40)
        refund = cls.invoice(cls.p3, 250.0, 30, move_type="out_refund")
        (small + refund).line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).reconcile()
        cls.invoice(cls.p3, 400.0, 25)
        cls.payment_on_account(cls.p3, 80.0, cls.days_ago(5))

        # P4: nothing open but an overdue invoice in payment.
        cls.p4_in_payment = cls.invoice(cls.p4, 120.0, 20)

        # Last: a payment without journal entry clears the outstanding account of the bank
        # journal's method (common.pay_invoice), and every later payment would have none.
        move_class = type(cls.env["account.move"])
        with patch.object(move_class, "_get_invoice_in_payment_state", lambda self: "in_payment"):
            cls.pay_invoice(cls.paid_with_entry, payment_date=cls.days_ago(3))
            cls.pay_invoice(cls.in_payment, payment_date=cls.days_ago(2), with_journal_entry=False)
            cls.pay_invoice(
                cls.p4_in_payment, payment_date=cls.days_ago(1), with_journal_entry=False
            )

        # ---- what the features need to see a customer at all
        for company in cls.companies:
            # dunning: a policy of the company (any segment and grade)
            cls.env["ar.dunning.policy"].create(
                {
                    "name": f"Agreement ladder {company.name}",
                    "company_id": company.id,
                    "sequence": 0,
                    "level_ids": [
                        Command.create(
                            {"sequence": 1, "name": "Notice", "days": 1, "channel_email": True}
                        )
                    ],
                }
            )
            # worklist: customers in dunning
            cls.env["ar.credit.profile"].sudo()._get_or_create(cls.customers, company).write(
                {"dunning_level": 1}
            )
        cls.env.flush_all()

    # ------------------------------------------------------------------ data set helpers

    @classmethod
    def days_ago(cls, days):
        return cls.today - timedelta(days=days)

    @classmethod
    def invoice(cls, partner, amount, days, **values):
        return cls.create_invoice(
            partner, amount, cls.days_ago(days), payment_term=cls.immediate, **values
        )

    # ------------------------------------------------------------------ the figures

    def rounded(self, company, amounts):
        """{customer id: amount} for every customer of the data set, rounded to the cent."""
        currency = company.currency_id
        return {
            partner.id: currency.round(amounts.get(partner.id, 0.0)) + 0.0
            for partner in self.customers
        }

    def exposure_figures(self, company):
        exposures = (
            self.env["ar.credit.exposure"]
            .sudo()
            ._compute_exposures(self.customers.ids, company, today=self.today)
        )
        return (
            {pid: exposure.open_receivable for pid, exposure in exposures.items()},
            {pid: exposure.amount_overdue for pid, exposure in exposures.items()},
        )

    def ledger_figures(self, company):
        """The reference's own check, from the ORM: the company's open receivable lines
        (on its or its parents' receivable accounts), invoices in payment left out."""
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("account_id", "in", self.receivable_accounts(company)),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                    ("partner_id.commercial_partner_id", "in", self.customers.ids),
                ]
            )
        )
        open_amounts, due, in_payment = defaultdict(float), defaultdict(float), defaultdict(float)
        for line in lines:
            partner_id = line.partner_id.commercial_partner_id.id
            if line.move_id.payment_state in ("in_payment", "paid"):
                in_payment[partner_id] += line.amount_residual
                continue
            open_amounts[partner_id] += line.amount_residual
            if line.amount_residual > 0:
                due[partner_id] += line.amount_residual
        return open_amounts, due, in_payment

    def ledger_unapplied(self, company):
        """The test's own unapplied cash, from the ORM: open credits, in payment left out."""
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("account_id", "in", self.receivable_accounts(company)),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                    ("amount_residual", "<", 0),
                    ("move_id.payment_state", "not in", ("in_payment", "paid")),
                    ("partner_id.commercial_partner_id", "in", self.customers.ids),
                ]
            )
        )
        amounts = defaultdict(float)
        for line in lines:
            amounts[line.partner_id.commercial_partner_id.id] -= line.amount_residual
        return amounts

    def unapplied_figures(self, company):
        """Unapplied cash as every feature sees it: {feature: {customer: amount}}."""
        bucket_set = self.env["ar.aging.bucket.set"].sudo()._get_default(company)
        unapplied_bucket = bucket_set._line_of_kind("unapplied")
        totals = (
            self.env["ar.aging.report"]
            .sudo()
            .with_company(company)
            ._bucket_totals(bucket_set, self.today, [company.id], self.customers.ids)
        )
        aging = defaultdict(float)
        for (partner_id, bucket_id), (amount, _count) in totals.items():
            if bucket_id == unapplied_bucket.id:
                aging[partner_id] -= amount
        statements = {
            partner_id: -{column.id: amount for column, amount in data["buckets"]}.get(
                unapplied_bucket.id, 0.0
            )
            for partner_id, data in self.env["ar.statement"]
            ._outstanding_data(self.customers, company, self.today)
            .items()
        }
        exposures = (
            self.env["ar.credit.exposure"]
            .sudo()
            ._compute_exposures(self.customers.ids, company, today=self.today)
        )
        run = (
            self.env["ar.dunning.run"]
            .sudo()
            .with_company(company)
            .new({"company_id": company.id, "date": self.today, "trigger": "manual"})
        )
        facts, _chosen = run._gather_facts(
            self.env["ar.dunning.policy"].sudo()._policies_for(company)
        )
        dunning = defaultdict(float)
        for partner_id, customer in facts.items():
            for item in customer.items:
                if item.amount_residual < 0 and not item.in_payment:
                    dunning[partner_id] -= item.amount_residual
        return {
            "ledger (ORM, the test's own)": self.ledger_unapplied(company),
            "exposure (credit check)": {
                pid: exposure.unapplied_cash for pid, exposure in exposures.items()
            },
            "aging (Unapplied column)": aging,
            "outstanding statement (Unapplied column)": statements,
            "dunning facts (credits)": dunning,
        }

    def receivable_accounts(self, company):
        return (
            self.env["account.account"]
            .sudo()
            .search(
                [
                    ("account_type", "=", "asset_receivable"),
                    ("company_ids", "in", company.parent_ids.ids),
                ]
            )
            .ids
        )

    def aging_figures(self, company):
        """Aging (the partner form, PDF and XLSX summaries): every bucket but "In payment"."""
        bucket_set = self.env["ar.aging.bucket.set"].sudo()._get_default(company)
        in_payment_bucket = bucket_set.line_ids.filtered(lambda line: line.kind == "in_payment")
        totals = (
            self.env["ar.aging.report"]
            .sudo()
            .with_company(company)
            ._bucket_totals(bucket_set, self.today, [company.id], self.customers.ids)
        )
        amounts = defaultdict(float)
        for (partner_id, bucket_id), (amount, _count) in totals.items():
            if bucket_id != in_payment_bucket.id:
                amounts[partner_id] += amount
        return amounts

    def dunning_figures(self, company):
        """What the dunning run reads (its facts: open debits due by the reminder horizon and
        every open credit, the in-payment items flagged), the in-payment items left out."""
        run = (
            self.env["ar.dunning.run"]
            .sudo()
            .with_company(company)
            .create({"company_id": company.id, "date": self.today, "trigger": "manual"})
        )
        policies = self.env["ar.dunning.policy"].sudo()._policies_for(company)
        facts, _chosen = run._gather_facts(policies)
        amounts, overdue = defaultdict(float), defaultdict(float)
        for partner_id, customer in facts.items():
            for item in customer.items:
                if not item.in_payment:
                    amounts[partner_id] += item.amount_residual
                # what the run counts as overdue when it resets levels (ar.dunning.run._execute)
                if run._is_overdue(item):
                    overdue[partner_id] += item.amount_residual
        return amounts, overdue

    def dunning_reset_figures(self, company):
        """Who stays in dunning when the run resets the levels of customers without overdue
        items (``_reset_levels``, its own SQL): {customer: 1.0 kept, 0.0 reset}, compared with
        whether exposure finds something overdue. Every profile starts at level 1."""
        run = (
            self.env["ar.dunning.run"]
            .sudo()
            .search([("company_id", "=", company.id), ("date", "=", self.today)])
        )
        run._reset_levels([])
        profiles = (
            self.env["ar.credit.profile"]
            .sudo()
            .search([("company_id", "=", company.id), ("partner_id", "in", self.customers.ids)])
        )
        return {profile.partner_id.id: float(profile.dunning_level > 0) for profile in profiles}

    def warning_figures(self, company):
        """The "overdue invoice" warning rule, due after 0 days with a look-back long enough
        to raise every overdue invoice: the sum of the amounts its warnings show. It counts
        overdue debits only: compared with the open debits."""
        rule = (
            self.env["ar.warning.rule"]
            .sudo()
            .create(
                {
                    "name": f"Agreement overdue {company.name}",
                    "company_id": company.id,
                    "rule_type": "overdue",
                    "days": 0,
                    "lookback_days": 3650,
                }
            )
        )
        rule._evaluate(self.today)
        amounts = defaultdict(float)
        for warning in rule.warning_ids.filtered(lambda warning: warning.state == "active"):
            amounts[warning.partner_id.id] += json.loads(warning.figures_json)["amount"]
        return amounts

    def matching_figures(self, company):
        """The payment-matching wizard's candidates: the open debit items it offers to the
        payments (in their currency to the engine; here their company-currency residual). It
        offers debits only (payments are the credits): compared with the open debits. An
        invoice in payment is already paid: it is no candidate for a customer's payment (a
        bank statement line paying it is matched through its payment), so it is expected out
        of the candidates, or at least flagged; credit notes are no payments either."""
        wizard = self.env["ar.payment.matching.wizard"].sudo().with_company(company).create({})
        self.assertEqual(wizard.company_id, company)
        self.env.flush_all()
        items = wizard._load_open_items()
        amounts = defaultdict(float)
        lines = self.env["account.move.line"].sudo().browse([item.id for item in items])
        for item, line in zip(items, lines, strict=True):
            amounts[item.partner_id] += line.amount_residual
        payments = wizard._load_payment_lines()
        paid = defaultdict(float)
        for payment in payments:
            _kind, line_id = payment.id
            line = self.env["account.move.line"].sudo().browse(line_id)
            paid[payment.partner_id] -= line.amount_residual
        _logger.info(
            "agreement %s: matching payments (open credits it offers; credit notes are no "
            "payments) %s",
            company.name,
            {
                self.env["res.partner"].browse(pid).name: x
                for pid, x in self.rounded(company, paid).items()
            },
        )
        return amounts

    def worklist_figures(self, company):
        """The collector worklist (customers in dunning): its overdue amount, compared with
        the open debits (every one overdue here)."""
        rows = self.env["ar.collection.worklist"].sudo().search([("company_id", "=", company.id)])
        amounts = defaultdict(float)
        for row in rows:
            amounts[row.partner_id.id] += row.amount_overdue
        return amounts

    def forecast_figures(self, company):
        """The collection forecast: one line per open debit instalment (no dispute in the data
        set), compared with the open debits."""
        forecast = self.env["ar.collection.forecast"].sudo()
        forecast._refresh(company, today=self.today)
        amounts = defaultdict(float)
        for line in forecast.search([("company_id", "=", company.id)]):
            amounts[line.partner_id.id] += line.amount
        return amounts

    def statement_figures(self, company):
        """The outstanding statement: its total less its in-payment items."""
        data = self.env["ar.statement"]._outstanding_data(self.customers, company, self.today)
        amounts = defaultdict(float)
        for partner_id, statement in data.items():
            amounts[partner_id] = statement["total"] - sum(
                item["amount"] for item in statement["items"] if item["in_payment"]
            )
        return amounts

    def activity_figures(self, company, in_payment):
        """The activity statement's closing balance (the ledger's balance: in-payment invoices
        included), less the open amount of the invoices in payment."""
        data = self.env["ar.statement"]._activity_data(
            self.customers, company, self.days_ago(365), self.today
        )
        return {
            partner_id: statement["closing"] - in_payment.get(partner_id, 0.0)
            for partner_id, statement in data.items()
        }

    # ------------------------------------------------------------------ the test

    def test_every_feature_agrees_on_every_customer(self):
        # The data set is what it says (so that an agreement on it means something).
        # "paid" in Community once recomputed: every feature reads both states alike.
        self.assertIn(self.in_payment.payment_state, ("in_payment", "paid"))
        self.assertEqual(self.in_payment.amount_residual, 250.0, "still open in the books")
        self.assertFalse(self.paid_with_entry.amount_residual, "reconciled with its payment")
        self.assertEqual(self.eur_invoice.payment_state, "partial")
        self.assertEqual(self.eur_invoice.amount_residual, 500.0, "euros left")
        self.assertEqual(self.eur_invoice.amount_residual_signed, 250.0, "at the invoice's rate")
        branch_lines = self.env["account.move.line"].search(
            [("company_id", "=", self.branch_b.id), ("partner_id", "=", self.p1.id)]
        )
        branch_receivable = branch_lines.account_id.filtered(
            lambda account: account.account_type == "asset_receivable"
        )
        self.assertEqual(len(branch_receivable), 1)
        self.assertNotIn(
            self.branch_b, branch_receivable.company_ids, "the branch posts on its parent's account"
        )

        names = {partner.id: partner.name for partner in self.customers}
        for company in self.companies:
            open_ref, due_ref = self.exposure_figures(company)
            open_ref, due_ref = self.rounded(company, open_ref), self.rounded(company, due_ref)
            ledger_open, ledger_due, in_payment = self.ledger_figures(company)
            dunning_open, dunning_overdue = self.dunning_figures(company)
            features = [
                # (feature, figure compared, its figures, the reference)
                ("ledger (ORM, the test's own)", "open", ledger_open, open_ref),
                ("ledger (ORM, the test's own)", "due", ledger_due, due_ref),
                ("aging", "open", self.aging_figures(company), open_ref),
                ("dunning facts", "open", dunning_open, open_ref),
                ("dunning overdue (level reset in _execute)", "due", dunning_overdue, due_ref),
                ("warnings (overdue rule)", "due", self.warning_figures(company), due_ref),
                ("matching candidates", "due", self.matching_figures(company), due_ref),
                ("worklist", "due", self.worklist_figures(company), due_ref),
                ("forecast", "due", self.forecast_figures(company), due_ref),
                ("outstanding statement", "open", self.statement_figures(company), open_ref),
                (
                    "activity statement",
                    "open",
                    self.activity_figures(company, in_payment),
                    open_ref,
                ),
                # last: it resets the levels the worklist reads
                (
                    "dunning level kept (_reset_levels SQL)",
                    "in dunning",
                    self.dunning_reset_figures(company),
                    {pid: float(amount > 0) for pid, amount in due_ref.items()},
                ),
            ]
            _logger.info(
                "agreement %s: exposure open %s, due %s; in payment %s",
                company.name,
                {names[pid]: amount for pid, amount in open_ref.items()},
                {names[pid]: amount for pid, amount in due_ref.items()},
                {names[pid]: amount for pid, amount in self.rounded(company, in_payment).items()},
            )
            unapplied_ref = self.rounded(
                company,
                self.env["ar.receivable"]._unapplied_cash(company, self.customers.ids),
            )
            features += [
                (feature, "unapplied", amounts, unapplied_ref)
                for feature, amounts in self.unapplied_figures(company).items()
            ]
            for feature, figure, amounts, reference in features:
                amounts = self.rounded(company, amounts)
                _logger.info(
                    "agreement %s: %s (%s) %s%s",
                    company.name,
                    feature,
                    figure,
                    {names[pid]: amount for pid, amount in amounts.items()},
                    "" if amounts == reference else f" DISAGREES with exposure {reference}",
                )
                with self.subTest(company=company.name, feature=feature, figure=figure):
                    self.assertEqual(
                        amounts,
                        reference,
                        f"{feature} in {company.name} disagrees with exposure on the {figure} "
                        "amount per customer",
                    )
