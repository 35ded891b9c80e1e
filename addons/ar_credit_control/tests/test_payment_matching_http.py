"""Payment matching over HTTP, as the real users: a collector proposes, may not reconcile;
a credit manager proposes and reconciles."""

from odoo.tests import HttpCase, tagged

from .common import JsonRpcMixin
from .matching_common import MatchingCommon


@tagged("post_install", "-at_install")
class TestPaymentMatchingHttp(JsonRpcMixin, MatchingCommon, HttpCase):
    def run_wizard(self, user, partner):
        reply = self.jsonrpc(
            user,
            "ar.payment.matching.wizard",
            "create",
            {"partner_ids": [[6, 0, partner.ids]]},
        )
        wizard_id = reply["result"]
        reply = self.jsonrpc(user, "ar.payment.matching.wizard", "action_propose", [wizard_id])
        self.assertNotIn("error", reply, reply)
        reply = self.jsonrpc(
            user,
            "ar.payment.matching.proposal",
            "search_read",
            [("wizard_id", "=", wizard_id)],
            fields=["rule", "confidence", "selected", "amount", "move_line_id"],
        )
        return wizard_id, reply["result"]

    def test_collector_proposes_manager_reconciles(self):
        invoice = self.create_invoice(self.customer_a, 720, "2019-01-10")
        self.create_invoice(self.customer_a, 720, "2019-01-20")
        payment = self.create_payment(self.customer_a, 720, memo=f"paid {invoice.name.lower()}")

        wizard_id, proposals = self.run_wizard(self.collector, self.customer_a)
        self.assertEqual(len(proposals), 1)
        self.assertEqual(proposals[0]["rule"], "reference")
        self.assertTrue(proposals[0]["selected"])
        self.assertEqual(proposals[0]["move_line_id"][0], self.payment_line(payment).id)
        reply = self.jsonrpc(
            self.collector, "ar.payment.matching.wizard", "action_accept", [wizard_id]
        )
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertEqual(invoice.payment_state, "not_paid")

        wizard_id, proposals = self.run_wizard(self.credit_manager, self.customer_a)
        reply = self.jsonrpc(
            self.credit_manager, "ar.payment.matching.wizard", "action_accept", [wizard_id]
        )
        self.assertNotIn("error", reply, reply)
        invoice.invalidate_recordset()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertTrue(self.payment_line(payment).reconciled)
