"""Accepting many proposals at once: payments, partial payments, differences written off and
bank statement lines are booked together, with one reconciliation plan for all of them, and
each invoice ends as if its proposal had been accepted alone."""

from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.account.models.account_move_line import AccountMoveLine

from .matching_common import MatchingCommon


@tagged("post_install", "-at_install")
class TestPaymentMatchingBatch(MatchingCommon):
    def test_many_proposals_one_reconciliation_plan(self):
        exact = self.create_invoice(self.customer_a, 300, "2019-02-20")
        older = self.create_invoice(self.customer_a, 100, "2019-01-05")
        newer = self.create_invoice(self.customer_a, 200, "2019-02-05")
        fee_invoice = self.create_invoice(self.customer_b, 1000, "2019-01-10")
        fee_invoice_2 = self.create_invoice(self.customer_b, 800, "2019-01-11")
        bank_invoice = self.create_invoice(self.customer_b, 250, "2019-01-12")
        exact_payment = self.create_payment(self.customer_a, 300, memo=exact.name)
        partial_payment = self.create_payment(self.customer_a, 150, date="2019-03-02")
        fee_payment = self.create_payment(self.customer_b, 996, memo=fee_invoice.name)
        fee_payment_2 = self.create_payment(self.customer_b, 797, memo=fee_invoice_2.name)
        st_line = self.create_statement_line(250, f"Payment {bank_invoice.name}", self.customer_b)
        wizard = self.propose(self.customer_a | self.customer_b)
        proposals = (
            self.proposal_for(wizard, exact_payment)
            | self.proposal_for(wizard, partial_payment)
            | self.proposal_for(wizard, fee_payment)
            | self.proposal_for(wizard, fee_payment_2)
            | self.proposal_for(wizard, st_line)
        )
        self.assertEqual(len(proposals), 5)
        self.assertEqual(self.proposal_for(wizard, partial_payment).rule, "partial_oldest")
        wizard.proposal_ids.selected = False
        proposals.selected = True

        calls = []
        original = AccountMoveLine._reconcile_plan

        def counting_reconcile_plan(records, plan):
            calls.append(len(plan))
            return original(records, plan)

        with patch.object(AccountMoveLine, "_reconcile_plan", counting_reconcile_plan):
            wizard.action_accept()

        # (Posting the difference entries reconciles nothing: empty plans.)
        self.assertEqual(
            [size for size in calls if size], [5], "one reconciliation plan, one entry per proposal"
        )
        self.assertEqual(set(proposals.mapped("state")), {"accepted"})
        self.assertEqual(
            (exact | older | fee_invoice | fee_invoice_2 | bank_invoice).mapped("payment_state"),
            ["paid"] * 5,
        )
        self.assertEqual(newer.payment_state, "partial", "the oldest invoice is paid first")
        self.assertAlmostEqual(newer.amount_residual, 150.0)
        for payment in (exact_payment, partial_payment, fee_payment, fee_payment_2):
            self.assertTrue(self.payment_line(payment).reconciled)
        self.assertTrue(st_line.is_reconciled)
        fee_lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", self.write_off_account.id),
                ("partner_id", "=", self.customer_b.id),
            ]
        )
        self.assertEqual(len(fee_lines), 2, "one difference line per payment")
        self.assertEqual(len(fee_lines.move_id), 1, "the differences of one day: one entry")
        self.assertEqual(set(fee_lines.move_id.mapped("state")), {"posted"})
        self.assertAlmostEqual(sum(fee_lines.mapped("balance")), 7.0)
