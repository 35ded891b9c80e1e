"""Payment matching end to end in Odoo: every rule proposes, accepting reconciles through the
ORM, and bad input is refused without changing anything."""

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .matching_common import MatchingCommon


@tagged("post_install", "-at_install")
class TestPaymentMatching(MatchingCommon):
    def test_reference_with_prefix_and_spacing_reconciles(self):
        self.create_invoice(self.customer_a, 250, "2019-01-10")
        invoice = self.create_invoice(self.customer_a, 250, "2019-01-12")
        year, number = invoice.name.split("/")[1:]
        payment = self.create_payment(
            self.customer_a, 250, memo=f"Remittance ref: inv {year} {number.lstrip('0')}"
        )
        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, payment)
        self.assertEqual(proposal.rule, "reference")
        self.assertEqual(proposal.allocation_ids.move_line_id, self.receivable(invoice))
        self.assertTrue(proposal.selected, "a confident reference match is auto-selected")
        wizard.action_accept()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertTrue(self.payment_line(payment).reconciled)

    def test_reference_with_typo(self):
        invoice = self.create_invoice(self.customer_a, 410, "2019-01-10")
        self.create_invoice(self.customer_a, 410, "2019-01-11")
        prefix, year, number = invoice.name.split("/")
        typo_year = year[:2] + year[3] + year[2]  # two digits swapped
        payment = self.create_payment(self.customer_a, 410, memo=f"{prefix}{typo_year}-{number}")
        proposal = self.proposal_for(self.propose(self.customer_a), payment)
        self.assertEqual(proposal.rule, "reference_fuzzy")
        self.assertEqual(proposal.allocation_ids.move_line_id, self.receivable(invoice))

    def test_exact_amount(self):
        self.create_invoice(self.customer_a, 100, "2019-01-10")
        invoice = self.create_invoice(self.customer_a, 333.33, "2019-01-11")
        payment = self.create_payment(self.customer_a, 333.33, memo="thanks")
        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, payment)
        self.assertEqual(proposal.rule, "exact_amount")
        proposal.selected = True
        wizard.action_accept()
        self.assertEqual(invoice.payment_state, "paid")

    def test_combination(self):
        first = self.create_invoice(self.customer_a, 120, "2019-01-10")
        second = self.create_invoice(self.customer_a, 80, "2019-01-11")
        other = self.create_invoice(self.customer_a, 55, "2019-01-12")
        payment = self.create_payment(self.customer_a, 200)
        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, payment)
        self.assertEqual(proposal.rule, "combination")
        proposal.selected = True
        wizard.action_accept()
        self.assertEqual((first | second).mapped("payment_state"), ["paid", "paid"])
        self.assertEqual(other.payment_state, "not_paid")

    def test_partial_payment_settles_oldest_first(self):
        older = self.create_invoice(self.customer_a, 100, "2019-01-05")
        newer = self.create_invoice(self.customer_a, 200, "2019-02-05")
        payment = self.create_payment(self.customer_a, 150)
        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, payment)
        self.assertEqual(proposal.rule, "partial_oldest")
        self.assertFalse(proposal.selected, "a partial payment waits for a person")
        proposal.selected = True
        wizard.action_accept()
        self.assertEqual(older.payment_state, "paid")
        self.assertEqual(newer.payment_state, "partial")
        self.assertAlmostEqual(newer.amount_residual, 150.0)

    def test_bank_fee_within_tolerance_is_written_off(self):
        invoice = self.create_invoice(self.customer_a, 1000, "2019-01-10")
        payment = self.create_payment(self.customer_a, 996, memo=invoice.name)
        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, payment)
        self.assertAlmostEqual(proposal.write_off_amount, 4.0)
        proposal.selected = True
        wizard.action_accept()
        self.assertEqual(invoice.payment_state, "paid")
        fee_lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", self.write_off_account.id),
                ("partner_id", "=", self.customer_a.id),
            ]
        )
        self.assertAlmostEqual(sum(fee_lines.mapped("balance")), 4.0)

    def test_statement_line_replaces_suspense_line(self):
        invoice = self.create_invoice(self.customer_a, 250, "2019-01-10")
        st_line = self.create_statement_line(250, f"Payment {invoice.name}", self.customer_a)
        suspense = self.bank_journal.suspense_account_id
        self.assertIn(suspense, st_line.move_id.line_ids.account_id)
        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, st_line)
        self.assertEqual(proposal.source, "statement_line")
        proposal.selected = True
        wizard.action_accept()
        self.assertTrue(st_line.is_reconciled)
        self.assertNotIn(suspense, st_line.move_id.line_ids.account_id)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(sum(st_line.move_id.line_ids.mapped("balance")), 0.0)

    def test_statement_line_without_partner_matches_by_reference(self):
        invoice = self.create_invoice(self.customer_b, 640, "2019-01-10")
        st_line = self.create_statement_line(638, f"TRF {invoice.name} Beta")
        wizard = self.propose(self.customer_b, include_payments=False)
        wizard.partner_ids = False
        wizard.action_propose()
        proposal = self.proposal_for(wizard, st_line)
        self.assertEqual(proposal.partner_id, self.customer_b)
        proposal.selected = True
        wizard.action_accept()
        self.assertTrue(st_line.is_reconciled)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(st_line.partner_id, self.customer_b)

    def test_foreign_currency_invoice_and_payment(self):
        eur = self.setup_other_currency("EUR")
        invoice = self.create_invoice(self.customer_a, 300, "2019-01-10", currency=eur)
        payment = self.create_payment(self.customer_a, 300, memo=invoice.name, currency=eur)
        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, payment)
        self.assertEqual(proposal.currency_id, eur)
        proposal.selected = True
        wizard.action_accept()
        self.assertEqual(invoice.payment_state, "paid")

    def test_never_across_customers_or_companies(self):
        invoice_b = self.create_invoice(self.customer_b, 500, "2019-01-10")
        company_2 = self.setup_other_company(name="Matching Second Co")["company"]
        self.create_invoice(self.customer_a, 500, "2019-01-10", company=company_2)
        payment = self.create_payment(self.customer_a, 500, memo=invoice_b.name)
        wizard = self.propose(self.customer_a | self.customer_b)
        self.assertFalse(self.proposal_for(wizard, payment), "B's invoice, other company's item")
        # A hand-edited proposal across customers is refused and nothing is reconciled.
        own = self.create_invoice(self.customer_a, 500, "2019-01-11")
        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, payment)
        self.assertEqual(proposal.allocation_ids.move_line_id, self.receivable(own))
        proposal.allocation_ids.move_line_id = self.receivable(invoice_b)
        proposal.selected = True
        with self.assertRaisesRegex(UserError, "one customer"):
            wizard.action_accept()
        self.assertFalse(self.payment_line(payment).reconciled)
        self.assertEqual(invoice_b.payment_state, "not_paid")

    def test_collector_proposes_but_cannot_accept(self):
        invoice = self.create_invoice(self.customer_a, 250, "2019-01-10")
        self.create_payment(self.customer_a, 250, memo=invoice.name)
        wizard = self.propose(self.customer_a, user=self.collector)
        self.assertTrue(wizard.proposal_ids)
        with self.assertRaises(AccessError):
            wizard.action_accept()
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_locked_period_changes_nothing(self):
        invoice = self.create_invoice(self.customer_a, 250, "2019-01-10")
        payment = self.create_payment(self.customer_a, 250, memo=invoice.name)
        wizard = self.propose(self.customer_a)
        self.company.fiscalyear_lock_date = fields.Date.to_date("2019-06-30")
        with self.assertRaisesRegex(UserError, "locked period"):
            wizard.action_accept()
        self.assertFalse(self.payment_line(payment).reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_already_reconciled_or_negative_changes_nothing(self):
        invoice = self.create_invoice(self.customer_a, 250, "2019-01-10")
        other = self.create_invoice(self.customer_a, 90, "2019-01-11")
        payment = self.create_payment(self.customer_a, 250, memo=invoice.name)
        other_payment = self.create_payment(self.customer_a, 90, memo=other.name)
        wizard = self.propose(self.customer_a)
        self.assertEqual(len(wizard.proposal_ids.filtered("selected")), 2)
        # Someone reconciles the first payment by hand meanwhile.
        (self.payment_line(payment) | self.receivable(invoice)).reconcile()
        with self.assertRaisesRegex(UserError, "reconciled"):
            wizard.action_accept()
        self.assertFalse(self.payment_line(other_payment).reconciled, "all or nothing")
        self.assertEqual(other.payment_state, "not_paid")

        wizard = self.propose(self.customer_a)
        proposal = self.proposal_for(wizard, other_payment)
        proposal.allocation_ids.amount = -90
        with self.assertRaisesRegex(UserError, "positive"):
            wizard.action_accept()
        self.assertEqual(other.payment_state, "not_paid")

    def test_one_invoice_claimed_by_two_payments(self):
        invoice = self.create_invoice(self.customer_a, 180, "2019-01-10")
        first = self.create_payment(self.customer_a, 180, memo=invoice.name)
        second = self.create_payment(self.customer_a, 180, memo=invoice.name, date="2019-03-02")
        wizard = self.propose(self.customer_a)
        self.assertEqual(len(wizard.proposal_ids), 2)
        self.assertEqual(len(wizard.proposal_ids.filtered("selected")), 1, "selected once")
        wizard.proposal_ids.selected = True
        with self.assertRaisesRegex(UserError, "Several selected proposals"):
            wizard.action_accept()
        self.assertFalse(
            (self.payment_line(first) | self.payment_line(second)).filtered("reconciled")
        )
        self.assertEqual(invoice.payment_state, "not_paid")
