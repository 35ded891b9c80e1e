from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.account_payment.tests.common import AccountPaymentCommon

from .credit_block_common import CreditBlockCommon

GIF_1PX = "R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="


@tagged("post_install", "-at_install")
class TestCreditBlockRules(CreditBlockCommon):
    def test_without_limit_or_rules_standard_flow(self):
        order = self.create_order(self.customer, 50_000)
        self.create_invoice(
            self.customer, 90_000, fields.Date.today() - timedelta(days=200), self.immediate
        )
        self.assertTrue(order.action_confirm())
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.credit_hold)
        self.assertFalse(order.credit_approval_state)

    def test_limit_blocks_with_figures_and_passes_under(self):
        self.set_limit(self.customer, 1000)
        self.create_invoice(self.customer, 800, fields.Date.today())
        big = self.create_order(self.customer, 300)
        self.assertEqual(big.credit_check_available, 200)
        self.assertEqual(big.credit_check_excess, 100)
        self.assertIn("Credit limit exceeded", big.credit_check_warning)
        with self.assertRaises(UserError) as caught:
            big.action_confirm()
        message = str(caught.exception)
        self.assertIn(big.name, message)
        self.assertIn("800.00", message)
        self.assertIn("100.00", message)
        self.assertIn("1,000.00", message)
        self.assertIn("Request credit approval", message)
        self.assertEqual(big.state, "draft")
        small = self.create_order(self.customer, 150)
        self.assertFalse(small.credit_check_warning)
        small.action_confirm()
        self.assertEqual(small.state, "sale")
        # The confirmed order now counts in the exposure: 800 + 150 + 60 > 1000.
        with self.assertRaises(UserError):
            self.create_order(self.customer, 60).action_confirm()

    def test_company_default_limit_and_invoice_contact(self):
        """A customer without a limit of its own gets the company's default limit (Odoo's
        setting); an order invoiced to a contact is checked against the company it belongs
        to; a limit of its own, even 0 (no limit), wins over the default."""
        settings = self.env["res.config.settings"].create({})
        settings.account_default_credit_limit = 1000
        settings.execute()
        contact = self.env["res.partner"].create(
            {"name": "Accounts payable", "parent_id": self.customer.id, "type": "invoice"}
        )
        self.create_invoice(self.customer, 800, fields.Date.today())
        order = self.create_order(contact, 300)
        self.assertEqual(order.credit_check_limit, 1000)
        self.assertEqual(order.credit_check_excess, 100)
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertIn(self.customer.name, str(caught.exception))
        self.set_limit(self.customer, 0)
        order.invalidate_recordset()
        self.assertEqual(order.credit_check_limit, 0)
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_several_orders_all_or_nothing_naming_the_blocked(self):
        other = self.create_customer("Unlimited Customer")
        self.set_limit(self.customer, 1000)
        ok = self.create_order(other, 5000)
        first = self.create_order(self.customer, 600)
        second = self.create_order(self.customer, 600)
        orders = ok | first | second
        with self.assertRaises(UserError) as caught:
            orders.action_confirm()
        # Each order alone fits; together the second one goes over the limit.
        self.assertIn(second.name, str(caught.exception))
        self.assertNotIn(ok.name, str(caught.exception))
        self.assertEqual(set(orders.mapped("state")), {"draft"})

    def test_overdue_rule_with_tolerance(self):
        self.company.write(
            {
                "ar_credit_block_overdue": True,
                "ar_credit_overdue_days": 30,
                "ar_credit_overdue_amount": 100,
            }
        )
        self.create_invoice(
            self.customer, 500, fields.Date.today() - timedelta(days=45), self.immediate
        )
        order = self.create_order(self.customer, 10)
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertIn("Overdue: $\xa0500.00 is more than 30 days", str(caught.exception))
        # Within tolerance in amount: passes.
        self.company.ar_credit_overdue_amount = 600
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_overdue_within_days_tolerance_passes(self):
        self.company.write(
            {
                "ar_credit_block_overdue": True,
                "ar_credit_overdue_days": 30,
                "ar_credit_overdue_amount": 100,
            }
        )
        self.create_invoice(
            self.customer, 500, fields.Date.today() - timedelta(days=10), self.immediate
        )
        self.create_invoice(
            self.customer, 50, fields.Date.today() - timedelta(days=40), self.immediate
        )
        order = self.create_order(self.customer, 10)
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_credit_hold_blocks(self):
        self.profile(self.customer, credit_hold=True)
        order = self.create_order(self.customer, 10)
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertIn("on credit hold", str(caught.exception))
        self.profile(self.customer, credit_hold=False)
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_grade_prepayment_blocks_until_prepaid(self):
        self.profile(self.customer, grade="D")  # default policy of D: 50% prepayment
        order = self.create_order(self.customer, 1000)
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertIn("Prepayment required", str(caught.exception))
        self.assertIn("500.00", str(caught.exception))
        provider = self.create_provider()
        self.create_transaction(provider, order, 500, state="done")
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_our_banner_shows_the_excess_from_our_exposure(self):
        """Our figures are in our own banner (Odoo's partner_credit_warning keeps Odoo's text:
        test_credit_block_setting)."""
        self.set_limit(self.customer, 1000)
        self.create_invoice(self.customer, 800, fields.Date.today())
        big = self.create_order(self.customer, 300)
        banner = big.credit_check_warning
        self.assertIn("over the limit of $\xa01,000.00", banner)
        self.assertIn("$\xa0100.00 over", banner)
        self.assertIn("exposure $\xa0800.00", banner)
        self.assertEqual(big.credit_check_available, 200)
        self.assertFalse(self.create_order(self.customer, 150).credit_check_warning)
        other = self.create_customer("No Limit Customer")
        self.assertFalse(self.create_order(other, 10_000).credit_check_warning)

    def test_refusal_in_the_salespersons_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["ar_credit_control"], ["zh_CN"])
        self.salesperson.lang = "zh_CN"
        self.set_limit(self.customer, 1000)
        self.create_invoice(self.customer, 800, fields.Date.today())
        order = self.create_order(self.customer, 300, user=self.salesperson)
        # A request of the salesperson runs with their language in its context.
        as_salesperson = order.with_user(self.salesperson).with_context(lang="zh_CN")
        with self.assertRaises(UserError) as caught:
            as_salesperson.action_confirm()
        message = str(caught.exception)
        self.assertIn("信用检查阻止了 1 个订单的确认", message)
        self.assertIn("超出信用额度", message)
        self.assertIn("100.00", message)
        self.assertNotIn("Credit limit exceeded", message)
        self.assertEqual(order.state, "draft")

    def test_paid_down_payment_counts_as_prepayment(self):
        self.profile(self.customer, grade="D")  # default policy of D: 50% prepayment
        order = self.create_order(self.customer, 1000)
        with self.assertRaises(UserError):
            order.action_confirm()
        # A 50% down-payment invoice on the quotation, posted: not paid yet, still blocked.
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "percentage", "amount": 50})
        )
        wizard.create_invoices()
        down_payment = order.invoice_ids
        self.assertEqual(len(down_payment), 1)
        down_payment.action_post()
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertIn("Prepayment required", str(caught.exception))
        self.pay_invoice(down_payment, 500)
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_invoice_posting_blocked_on_hold_when_enabled(self):
        self.profile(self.customer, credit_hold=True)
        posted = self.create_invoice(self.customer, 100, fields.Date.today())
        self.assertEqual(posted.state, "posted")
        self.company.ar_credit_block_invoice_on_hold = True
        draft = self.create_invoice(self.customer, 100, fields.Date.today(), post=False)
        with self.assertRaises(UserError):
            draft.action_post()
        self.assertEqual(draft.state, "draft")


@tagged("post_install", "-at_install")
class TestCreditApproval(CreditBlockCommon):
    def setUp(self):
        super().setUp()
        self.set_limit(self.customer, 1000)
        self.order = self.create_order(self.customer, 1500, user=self.salesperson)

    def test_request_approve_with_reason_and_confirm(self):
        order = self.order.with_user(self.salesperson)
        order.action_request_credit_approval()
        self.assertTrue(order.credit_hold)
        self.assertEqual(order.credit_approval_state, "requested")
        self.assertIn("Credit limit exceeded", order.credit_hold_reason)
        activities = self.approval_activities(self.order)
        self.assertIn(self.credit_manager, activities.user_id)
        with self.assertRaises(UserError):
            self.decide(self.order, "approve", "   ")
        self.decide(self.order, "approve", "Bank guarantee received")
        self.assertFalse(self.order.credit_hold)
        self.assertEqual(self.order.credit_approval_state, "approved")
        self.assertEqual(self.order.credit_approved_amount, 1500)
        self.assertEqual(self.order.credit_approved_currency_id, self.order.currency_id)
        self.assertEqual(self.order.credit_approved_by_id, self.credit_manager)
        self.assertEqual(self.order.credit_approval_reason, "Bank guarantee received")
        self.assertFalse(self.approval_activities(self.order))
        profile_notes = self.profile(self.customer).message_ids.mapped("body")
        self.assertTrue(any("Bank guarantee received" in body for body in profile_notes))
        # Not on the customer's chatter, which every employee reads.
        partner_notes = self.customer.message_ids.mapped("body")
        self.assertFalse(any("Bank guarantee received" in body for body in partner_notes))
        order.action_confirm()
        self.assertEqual(self.order.state, "sale")

    def test_held_order_released_when_it_passes(self):
        order = self.order.with_user(self.salesperson)
        order.action_request_credit_approval()
        self.assertTrue(self.approval_activities(self.order))
        self.set_limit(self.customer, 5000)  # a credit manager raises the limit
        order.action_confirm()
        self.assertEqual(self.order.state, "sale")
        self.assertFalse(self.order.credit_hold)
        self.assertFalse(self.order.credit_approval_state)
        self.assertFalse(self.approval_activities(self.order))

    def test_wizard_can_confirm_at_once(self):
        self.decide(self.order, "approve", "Paid by wire", confirm=True)
        self.assertEqual(self.order.state, "sale")

    def test_reject_keeps_blocking(self):
        self.order.with_user(self.salesperson).action_request_credit_approval()
        self.decide(self.order, "reject", "Too much risk")
        self.assertTrue(self.order.credit_hold)
        self.assertEqual(self.order.credit_approval_state, "rejected")
        with self.assertRaises(UserError) as caught:
            self.order.with_user(self.salesperson).action_confirm()
        self.assertIn("Too much risk", str(caught.exception))

    def test_approval_lapses_when_amount_grows(self):
        self.decide(self.order, "approve", "One-off")
        self.order.order_line[0].price_unit = 1600
        self.assertFalse(self.order.credit_approval_valid)
        with self.assertRaises(UserError):
            self.order.with_user(self.salesperson).action_confirm()
        # Lowering the amount stays within the approval.
        self.order.order_line[0].price_unit = 1400
        self.order.with_user(self.salesperson).action_confirm()
        self.assertEqual(self.order.state, "sale")

    def test_approval_lapses_after_validity_days(self):
        self.company.ar_credit_approval_validity_days = 5
        self.decide(self.order, "approve", "Short term")
        with freeze_time(fields.Datetime.now() + timedelta(days=6)):
            self.assertFalse(self.order.credit_approval_valid)
            with self.assertRaises(UserError):
                self.order.with_user(self.salesperson).action_confirm()
        self.order.with_user(self.salesperson).action_confirm()
        self.assertEqual(self.order.state, "sale")

    def test_approval_not_copied(self):
        self.decide(self.order, "approve", "Once")
        duplicate = self.order.copy()
        for name in (
            "credit_hold",
            "credit_approval_state",
            "credit_approved_amount",
            "credit_approved_by_id",
            "credit_approval_reason",
        ):
            self.assertFalse(duplicate[name], name)
        with self.assertRaises(UserError):
            duplicate.action_confirm()

    def test_salesperson_cannot_approve(self):
        order = self.order.with_user(self.salesperson)
        order.action_request_credit_approval()
        with self.assertRaises(AccessError):
            order._credit_approve("I say so")
        with self.assertRaises(AccessError):
            order.action_open_credit_decision()
        with self.assertRaises(AccessError):
            self.decide(self.order, "approve", "I say so", user=self.salesperson)
        with self.assertRaises(AccessError):
            order.write({"credit_approval_state": "approved", "credit_approved_amount": 1e9})
        with self.assertRaises(AccessError):
            order.write({"credit_hold": False})
        self.assertEqual(self.order.credit_approval_state, "requested")
        # Not even a manager writes an approval without the reason-taking path.
        with self.assertRaises(AccessError):
            self.order.with_user(self.credit_manager).sudo().write(
                {"credit_approval_state": "approved"}
            )

    def test_no_context_or_write_bypass(self):
        order = self.order.with_user(self.salesperson)
        for context in (
            {"skip_credit_check": True},
            {"ar_credit_checked_order_ids": [order.id]},
            {"ar_credit_internal_write": True, "ar_credit_hold_instead_of_raise": True},
            {"install_mode": True, "import_file": True, "tracking_disable": True},
        ):
            with self.assertRaises(UserError):
                order.with_context(**context).action_confirm()
        with self.assertRaises(UserError):
            order.write({"state": "sale"})
        with self.assertRaises(UserError):
            self.order.sudo().write({"state": "sale"})
        with self.assertRaises(UserError):
            self.env["sale.order"].with_user(self.salesperson).create(
                {
                    "partner_id": self.customer.id,
                    "state": "sale",
                    "order_line": [
                        Command.create(
                            {"product_id": self.service.id, "price_unit": 5000, "tax_id": []}
                        )
                    ],
                }
            )
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.salesperson).create(
                {"partner_id": self.customer.id, "credit_approval_state": "approved"}
            )
        self.assertEqual(self.order.state, "draft")

    def test_superuser_confirmation_holds_instead_of_confirming(self):
        self.order.sudo().action_confirm()
        self.assertEqual(self.order.state, "draft")
        self.assertTrue(self.order.credit_hold)
        self.assertEqual(self.order.credit_approval_state, "requested")
        self.assertIn(self.credit_manager, self.approval_activities(self.order).user_id)


@tagged("post_install", "-at_install")
class TestCreditBlockPortalAndPayment(CreditBlockCommon, AccountPaymentCommon):
    def setUp(self):
        super().setUp()
        self.profile(self.customer, credit_hold=True)
        self.order = self.create_order(self.customer, 400)
        self.order.require_signature = True
        self.order.action_quotation_sent()

    def test_portal_signature_puts_order_on_hold(self):
        order_sudo = self.order.sudo()
        order_sudo.write({"signed_by": "Customer", "signature": GIF_1PX})
        order_sudo._validate_order()  # what the portal's accept route calls
        self.assertEqual(self.order.state, "sent")
        self.assertTrue(self.order.credit_hold)
        self.assertIn(self.credit_manager, self.approval_activities(self.order).user_id)

    def test_online_payment_puts_order_on_hold_and_keeps_the_payment(self):
        self.order.require_payment = True
        tx = self.create_transaction(self.provider, self.order, 400, state="done")
        tx._post_process()
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.payment_id, "the payment is created and kept")
        self.assertEqual(tx.payment_id.amount, 400)
        self.assertEqual(self.order.state, "sent")
        self.assertTrue(self.order.credit_hold)
        self.assertTrue(self.approval_activities(self.order))
        # The manager approves and confirms: the payment is still linked to the order.
        self.decide(self.order, "approve", "Paid in full online", confirm=True)
        self.assertEqual(self.order.state, "sale")
        self.assertIn(tx, self.order.transaction_ids)


@tagged("post_install", "-at_install")
class TestCreditBlockCurrencyCompany(CreditBlockCommon):
    def test_order_in_other_currency_converted_at_order_date(self):
        eur = self.setup_other_currency("EUR")  # 2 EUR per USD today
        pricelist = self.env["product.pricelist"].create(
            {"name": "EUR", "currency_id": eur.id, "company_id": self.company.id}
        )
        self.set_limit(self.customer, 1000)
        fits = self.create_order(self.customer, 1800, pricelist=pricelist)
        self.assertEqual(fits.currency_id, eur)
        self.assertEqual(fits.credit_check_excess, 0)
        over = self.create_order(self.customer, 2400, pricelist=pricelist)
        self.assertEqual(over.credit_check_excess, 200)
        with self.assertRaises(UserError) as caught:
            over.action_confirm()
        self.assertIn("1,200.00", str(caught.exception))
        fits.action_confirm()
        self.assertEqual(fits.state, "sale")

    def test_each_company_has_its_own_rules(self):
        company_2 = self.setup_other_company(name="Credit Company 2")["company"]
        self.env.user.company_ids |= company_2
        self.profile(self.customer, credit_hold=True)
        self.set_limit(self.customer, 100, company=company_2)
        blocked_here = self.create_order(self.customer, 50)
        with self.assertRaises(UserError):
            blocked_here.action_confirm()
        # Company 2: no hold, a limit of 100.
        fits = self.create_order(self.customer, 80, company=company_2)
        fits.with_company(company_2).action_confirm()
        self.assertEqual(fits.state, "sale")
        over = self.create_order(self.customer, 30, company=company_2)
        with self.assertRaises(UserError):
            over.with_company(company_2).action_confirm()
