"""The main flows in a real browser (Odoo tours, Chromium): a salesperson's blocked order sent
for approval, a credit manager approving it from their activities, a collector logging a
promise from the worklist, a customer confirming their balance on the portal. Each test
creates the records its tour needs; the tours are in static/tests/tours/."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from .credit_block_common import CreditBlockCommon
from .test_balance_confirmation import ConfirmationCommon

QUOTATIONS = "/odoo/action-sale.action_quotations_with_onboarding"


@tagged("post_install", "-at_install")
class TestCreditFlowTours(CreditBlockCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.create_customer("Approval Customer")
        cls.set_limit(cls.customer, 100)
        cls.order = cls.create_order(cls.customer, 900, user=cls.salesperson)
        # Odoo's order form reads sales-only fields (its product documents): the credit
        # manager who approves from it also reads every sales order.
        cls.approver = new_test_user(
            cls.env,
            login="credit_approver",
            password="credit_approver",
            name="Credit Approver",
            groups="base.group_user,ar_credit_control.group_credit_control_manager,"
            "sales_team.group_sale_salesman_all_leads",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def test_salesperson_requests_approval(self):
        self.start_tour(
            f"{QUOTATIONS}/{self.order.id}",
            "ar_credit_control_request_approval_tour",
            login="salesperson",
        )
        self.assertTrue(self.order.credit_hold)
        self.assertEqual(self.order.credit_approval_state, "requested")
        self.assertEqual(self.order.state, "draft")
        self.assertIn(self.credit_manager, self.approval_activities(self.order).user_id)

    def test_credit_manager_approves_from_activity_and_confirms(self):
        self.order.with_user(self.salesperson).action_request_credit_approval()
        # Due today, so that the activity menu lists it under today's.
        self.approval_activities(self.order).date_deadline = fields.Date.context_today(self.order)
        self.start_tour(
            "/odoo", "ar_credit_control_approve_from_activity_tour", login="credit_approver"
        )
        self.assertEqual(self.order.state, "sale")
        self.assertEqual(self.order.credit_approval_state, "approved")
        self.assertEqual(self.order.credit_approved_by_id, self.approver)
        self.assertEqual(self.order.credit_approval_reason, "Bank guarantee received")
        self.assertFalse(self.approval_activities(self.order))


@tagged("post_install", "-at_install")
class TestWorklistTour(CreditBlockCommon, HttpCase):
    def test_collector_logs_a_promise_from_the_worklist(self):
        customer = self.create_customer("Worklist Customer")
        today = fields.Date.context_today(self.env["ar.collection.log"])
        invoice = self.create_invoice(customer, 800.0, today - timedelta(days=40), self.immediate)
        self.profile(customer, dunning_level=1, collector_id=self.collector.id)
        self.start_tour(
            "/odoo/action-ar_credit_control.action_ar_collection_worklist",
            "ar_credit_control_worklist_promise_tour",
            login="collector",
        )
        promise = self.env["ar.payment.promise"].search([("partner_id", "=", customer.id)])
        self.assertEqual(promise.amount, 500.0)
        self.assertEqual(promise.promised_date, fields.Date.to_date("2030-12-31"))
        self.assertEqual(promise.state, "open")
        self.assertIn(invoice, promise.move_ids)
        log = self.env["ar.collection.log"].search([("partner_id", "=", customer.id)])
        self.assertEqual((log.result, log.user_id), ("promised", self.collector))


@tagged("post_install", "-at_install")
class TestPortalConfirmationTour(ConfirmationCommon, HttpCase):
    def test_customer_confirms_balance_on_portal(self):
        confirmation = self.sent_confirmation()
        self.start_tour(
            f"/statement/confirm/{confirmation.id}?access_token={confirmation.access_token}",
            "ar_credit_control_portal_confirmation_tour",
        )
        self.assertEqual(confirmation.state, "confirmed")
        self.assertEqual(confirmation.replied_by, "Jane from accounts payable")
