"""The credit block is a company setting, off by default: installing the addon changes nothing
in Odoo's confirmation, invoice posting or credit-limit warning until a company switches it on.
While off, the order still shows our figures and reasons, for information."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from .common import JsonRpcMixin
from .credit_block_common import CreditBlockCommon


class CreditBlockSettingCommon(CreditBlockCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.ar_credit_block_enabled = False
        # CreditControlCommon switches it on in new companies too: back to the field's default.
        cls.env["ir.default"].search(
            [
                ("field_id.model", "=", "res.company"),
                ("field_id.name", "=", "ar_credit_block_enabled"),
            ]
        ).unlink()

    def over_limit_on_hold_order(self, amount=5000, user=None):
        """A quotation failing every rule: far over the limit, overdue, customer on hold."""
        self.set_limit(self.customer, 1000)
        self.create_invoice(
            self.customer, 800, fields.Date.today() - timedelta(days=90), self.immediate
        )
        self.company.write({"ar_credit_block_overdue": True, "ar_credit_overdue_days": 30})
        self.profile(self.customer, credit_hold=True)
        return self.create_order(self.customer, amount, user=user)


@tagged("post_install", "-at_install")
class TestCreditBlockSetting(CreditBlockSettingCommon):
    def test_off_by_default(self):
        self.assertFalse(
            self.env["res.company"].create({"name": "Fresh Co"}).ar_credit_block_enabled
        )
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.ar_credit_block_enabled)
        settings.ar_credit_block_enabled = True
        settings.execute()
        self.assertTrue(self.company.ar_credit_block_enabled)

    def test_off_order_far_over_limit_and_on_hold_confirms_normally(self):
        order = self.over_limit_on_hold_order()
        # Our figures and reasons still show, for information.
        self.assertEqual(order.credit_check_excess, 4800)
        self.assertIn("Credit limit exceeded", order.credit_check_warning)
        self.assertIn("Overdue", order.credit_check_warning)
        self.assertIn("on credit hold", order.credit_check_warning)
        self.assertFalse(order.credit_block_enabled)
        self.assertTrue(order.action_confirm())
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.credit_hold)
        self.assertFalse(order.credit_approval_state)
        self.assertFalse(self.approval_activities(order))

    def test_off_direct_write_create_and_superuser_paths_confirm(self):
        order = self.over_limit_on_hold_order()
        order.write({"state": "sale"})
        self.assertEqual(order.state, "sale")
        # The portal signature and online payment paths (superuser, hold mode): no hold.
        signed = self.create_order(self.customer, 3000)
        signed.action_quotation_sent()
        signed.sudo()._validate_order()
        self.assertEqual(signed.state, "sale")
        self.assertFalse(signed.credit_hold)

    def test_off_no_approval_request(self):
        order = self.over_limit_on_hold_order()
        with self.assertRaises(UserError) as caught:
            order.action_request_credit_approval()
        self.assertIn("credit block is off", str(caught.exception))
        self.assertFalse(order.credit_hold)

    def test_on_the_same_order_is_blocked(self):
        order = self.over_limit_on_hold_order()
        self.company.ar_credit_block_enabled = True
        self.assertTrue(order.credit_block_enabled)
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertIn("Credit limit exceeded", str(caught.exception))
        self.assertEqual(order.state, "draft")
        with self.assertRaises(UserError):
            order.write({"state": "sale"})
        order.sudo()._validate_order()  # the portal signature: held for review
        self.assertEqual(order.state, "draft")
        self.assertTrue(order.credit_hold)

    def test_invoice_posting_block_only_while_on(self):
        self.profile(self.customer, credit_hold=True)
        self.company.ar_credit_block_invoice_on_hold = True
        posted = self.create_invoice(self.customer, 100, fields.Date.today())
        self.assertEqual(posted.state, "posted")
        self.company.ar_credit_block_enabled = True
        draft = self.create_invoice(self.customer, 100, fields.Date.today(), post=False)
        with self.assertRaises(UserError):
            draft.action_post()
        self.assertEqual(draft.state, "draft")

    def test_odoo_banner_is_odoo_text_either_way(self):
        """Odoo's credit-limit warning is Odoo's own, as in its test_credit_limit_multicurrency;
        our figures are in our own banner."""
        self.company.account_use_credit_limit = True
        self.set_limit(self.customer, 1000)
        order = self.create_order(self.customer, 1100)
        expected = (
            "Credit Customer has reached its credit limit of: $\xa01,000.00\n"
            "Total amount due (including this document): $\xa01,100.00"
        )
        for enabled in (False, True):
            self.company.ar_credit_block_enabled = enabled
            order.invalidate_recordset()
            self.assertEqual(order.partner_credit_warning, expected)
            # What Odoo's own compute builds, character for character.
            self.assertEqual(
                order.partner_credit_warning,
                self.env["account.move"]._build_credit_warning_message(
                    order.sudo(), current_amount=order.amount_total / order.currency_rate
                ),
            )
            self.assertIn("$\xa0100.00 over the limit of $\xa01,000.00", order.credit_check_warning)
        self.company.account_use_credit_limit = False
        order.invalidate_recordset()
        self.assertEqual(order.partner_credit_warning, "")
        self.assertIn("Credit limit exceeded", order.credit_check_warning)


@tagged("post_install", "-at_install")
class TestCreditBlockSettingHttp(JsonRpcMixin, CreditBlockSettingCommon, HttpCase):
    def test_salesperson_over_jsonrpc_confirms_while_off_blocked_while_on(self):
        seller = self.salesperson
        off = self.over_limit_on_hold_order(user=seller)
        reply = self.jsonrpc(
            seller, "sale.order", "read", [off.id], ["credit_check_warning", "credit_block_enabled"]
        )
        self.assertIn("Credit limit exceeded", reply["result"][0]["credit_check_warning"])
        self.assertFalse(reply["result"][0]["credit_block_enabled"])
        reply = self.jsonrpc(seller, "sale.order", "action_confirm", [off.id])
        self.assertNotIn("error", reply, reply)
        self.assertEqual(off.state, "sale")

        self.company.ar_credit_block_enabled = True
        on = self.create_order(self.customer, 5000, user=seller)
        reply = self.jsonrpc(seller, "sale.order", "action_confirm", [on.id])
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.UserError")
        self.assertIn("Credit limit exceeded", reply["error"]["data"]["message"])
        self.assertEqual(on.state, "draft")
        # The salesperson cannot switch the block off for the company.
        reply = self.jsonrpc(
            seller, "res.company", "write", [self.company.id], {"ar_credit_block_enabled": False}
        )
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertTrue(self.company.ar_credit_block_enabled)
