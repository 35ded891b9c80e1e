"""The rule this addon adds blocks like the standard ones: at confirmation, in the banner, until
a credit manager approves; the standard rules still apply beside it."""

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from odoo.addons.ar_credit_control.tests.credit_block_common import CreditBlockCommon

SENTENCE = "Largest order exceeded"
STANDARD_RULES = ["rejected", "limit", "overdue", "hold", "prepayment"]


@tagged("post_install", "-at_install")
class TestMaxOrderRule(CreditBlockCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.profile(cls.customer, max_order_amount=500)

    def test_rule_comes_after_the_standard_ones(self):
        self.assertEqual(
            self.env["ar.credit.check"]._credit_rules(), [*STANDARD_RULES, "max_order"]
        )

    def test_credit_manager_sets_the_maximum_on_the_profile(self):
        other = self.create_customer("Other Customer")
        with Form(self.profile(other).with_user(self.credit_manager)) as form:
            form.max_order_amount = 1000
        self.assertFalse(self.create_order(other, 1000).credit_check_warning)
        self.assertIn(SENTENCE, self.create_order(other, 1200).credit_check_warning)

    def test_order_over_the_maximum_is_blocked_at_confirmation(self):
        order = self.create_order(self.customer, 600, user=self.salesperson)
        with self.assertRaises(UserError) as caught:
            order.with_user(self.salesperson).action_confirm()
        message = str(caught.exception)
        self.assertIn(order.name, message)
        self.assertIn(f"{SENTENCE}: this order $\xa0600.00 is over the $\xa0500.00", message)
        self.assertNotIn("Credit limit exceeded", message)
        self.assertEqual(order.state, "draft")
        # At the maximum: passes.
        at_most = self.create_order(self.customer, 500, user=self.salesperson)
        at_most.with_user(self.salesperson).action_confirm()
        self.assertEqual(at_most.state, "sale")

    def test_banner_shows_the_rule_before_saving(self):
        form = Form(self.env["sale.order"].with_user(self.salesperson))
        form.partner_id = self.customer
        with form.order_line.new() as line:
            line.product_id = self.service
            line.price_unit = 700
        self.assertIn(SENTENCE, form.credit_check_warning)
        order = form.save()
        self.assertIn(SENTENCE, order.with_user(self.salesperson).credit_check_warning)
        line = order.order_line.with_user(self.salesperson)
        line.price_unit = 400
        self.assertFalse(order.with_user(self.salesperson).credit_check_warning)

    def test_credit_approval_lets_the_order_through(self):
        order = self.create_order(self.customer, 600, user=self.salesperson)
        order.with_user(self.salesperson).action_request_credit_approval()
        self.assertTrue(order.credit_hold)
        self.assertIn(SENTENCE, order.credit_hold_reason)
        self.decide(order, "approve", "Framework contract signed")
        self.assertFalse(order.credit_check_warning)
        order.with_user(self.salesperson).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_standard_rules_still_apply(self):
        self.set_limit(self.customer, 1000)
        self.create_invoice(self.customer, 800, fields.Date.today())
        under_maximum = self.create_order(self.customer, 300)
        with self.assertRaises(UserError) as caught:
            under_maximum.action_confirm()
        self.assertIn("Credit limit exceeded", str(caught.exception))
        self.assertNotIn(SENTENCE, str(caught.exception))
        # Both rules fail: the failures follow the order of the rules.
        both = self.create_order(self.customer, 600)
        failures = both.credit_check_warning.split("\n")
        self.assertEqual(len(failures), 2)
        self.assertTrue(failures[0].startswith("Credit limit exceeded"))
        self.assertTrue(failures[1].startswith(SENTENCE))
        # On hold, under both the limit and the maximum.
        self.set_limit(self.customer, 0)
        self.profile(self.customer, credit_hold=True)
        small = self.create_order(self.customer, 100)
        with self.assertRaises(UserError) as caught:
            small.action_confirm()
        self.assertIn("on credit hold", str(caught.exception))
        self.assertNotIn(SENTENCE, str(caught.exception))

    def test_figures_of_a_batch_in_one_query(self):
        other = self.create_customer("Other Customer")
        self.profile(other, max_order_amount=2000)
        unlimited = self.create_customer("Customer Without Maximum")
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": other.id})
        orders = (
            self.create_order(self.customer, 600)
            | self.create_order(contact, 600)
            | self.create_order(unlimited, 600)
        )
        orders.mapped("partner_invoice_id")
        check = self.env["ar.credit.check"]
        with self.assertQueryCount(1):
            figures = check._extra_figures(orders, self.company, fields.Date.today())
        self.assertEqual(
            [figures[order]["max_order_amount"] for order in orders], [500.0, 2000.0, 0.0]
        )
        # The whole batch is checked at once: only the order over its maximum is named.
        with self.assertRaises(UserError) as caught:
            orders.action_confirm()
        self.assertIn(orders[0].name, str(caught.exception))
        self.assertNotIn(orders[1].name, str(caught.exception))
        self.assertEqual(set(orders.mapped("state")), {"draft"})
