"""End to end over HTTP: a salesperson and a credit manager each through JSON-RPC, and the
customer's portal page of an order held for review."""

import json

from odoo.tests import HttpCase, tagged

from .common import JsonRpcMixin
from .credit_block_common import CreditBlockCommon

GIF_1PX = "R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="


@tagged("post_install", "-at_install")
class TestCreditBlockHttp(JsonRpcMixin, CreditBlockCommon, HttpCase):
    def test_blocked_requested_approved_confirmed_over_jsonrpc(self):
        self.set_limit(self.customer, 1000)
        order = self.create_order(self.customer, 1500, user=self.salesperson)
        seller, manager = self.salesperson, self.credit_manager

        reply = self.jsonrpc(
            seller, "sale.order", "action_confirm", [order.id], context={"skip_credit_check": 1}
        )
        self.assertIn("Credit limit exceeded", reply["error"]["data"]["message"])
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.UserError")

        reply = self.jsonrpc(
            seller, "sale.order", "write", [order.id], {"credit_approval_state": "approved"}
        )
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")

        reply = self.jsonrpc(seller, "sale.order", "action_request_credit_approval", [order.id])
        self.assertTrue(reply["result"], reply)
        reply = self.jsonrpc(
            seller, "sale.order", "read", [order.id], ["credit_hold", "credit_approval_state"]
        )
        self.assertEqual(reply["result"][0]["credit_approval_state"], "requested")

        # The salesperson cannot open the manager's decision wizard.
        reply = self.jsonrpc(
            seller,
            "ar.credit.approval.wizard",
            "create",
            {"order_ids": [[6, 0, [order.id]]], "decision": "approve", "reason": "me"},
        )
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")

        reply = self.jsonrpc(
            manager,
            "ar.credit.approval.wizard",
            "create",
            {"order_ids": [[6, 0, [order.id]]], "decision": "approve", "reason": "Guarantee"},
        )
        wizard_id = reply["result"]
        reply = self.jsonrpc(manager, "ar.credit.approval.wizard", "action_apply", [wizard_id])
        self.assertNotIn("error", reply, reply)

        reply = self.jsonrpc(seller, "sale.order", "action_confirm", [order.id])
        self.assertNotIn("error", reply, reply)
        reply = self.jsonrpc(
            seller, "sale.order", "read", [order.id], ["state", "credit_approved_by_id"]
        )
        self.assertEqual(reply["result"][0]["state"], "sale")
        self.assertEqual(reply["result"][0]["credit_approved_by_id"][0], manager.id)

    def test_portal_page_shows_pending_review(self):
        self.profile(self.customer, credit_hold=True)
        order = self.create_order(self.customer, 200)
        order.action_quotation_sent()
        order.sudo()._validate_order()
        self.assertTrue(order.credit_hold)
        response = self.url_open(order.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your order is pending review.", response.text)

    def test_customer_signs_on_portal_order_held_not_raised(self):
        self.profile(self.customer, credit_hold=True)
        order = self.create_order(self.customer, 200)
        order.write({"require_signature": True, "require_payment": False})
        order.action_quotation_sent()
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "access_token": order._portal_ensure_token(),
                "name": "Customer Signer",
                "signature": GIF_1PX,
            },
        }
        response = self.url_open(
            f"/my/orders/{order.id}/accept",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        reply = response.json()
        self.assertNotIn("error", reply, reply)
        self.assertNotIn("error", reply["result"], reply)
        order.invalidate_recordset()
        self.assertEqual(order.signed_by, "Customer Signer")
        self.assertEqual(order.state, "sent")
        self.assertTrue(order.credit_hold)
        self.assertIn(self.credit_manager, self.approval_activities(order).user_id)
