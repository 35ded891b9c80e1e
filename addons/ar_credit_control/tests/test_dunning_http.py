"""End to end over HTTP JSON-RPC: the credit manager starts the run, the collector works the
worklist and logs a promise to pay with one call each."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import JsonRpcMixin
from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningHttp(JsonRpcMixin, DunningCommon, HttpCase):
    def test_collector_works_the_worklist_over_jsonrpc(self):
        today = fields.Date.today()
        customer = self.dunned_customer("Rpc Debtor Co")
        invoice = self.invoice_due(customer, 1200.0, today - timedelta(days=15))
        collector, manager = self.collector, self.credit_manager

        reply = self.jsonrpc(collector, "ar.dunning.run", "action_run_now")
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")
        reply = self.jsonrpc(manager, "ar.dunning.run", "action_run_now")
        self.assertNotIn("error", reply, reply)
        run_id = reply["result"]["res_id"]
        reply = self.jsonrpc(
            manager, "ar.dunning.run", "read", [run_id], ["state", "sent_count", "error_count"]
        )
        self.assertEqual(reply["result"][0]["state"], "done")
        self.assertGreaterEqual(reply["result"][0]["sent_count"], 1)

        domain = [("user_id", "=", collector.id), ("partner_id", "=", customer.id)]
        reply = self.jsonrpc(
            collector,
            "ar.collection.worklist",
            "search_read",
            domain,
            fields=["partner_id", "amount_overdue", "max_days_overdue", "priority"],
        )
        rows = reply["result"]
        self.assertEqual(len(rows), 1, reply)
        self.assertEqual(rows[0]["amount_overdue"], 1200.0)
        self.assertEqual(rows[0]["max_days_overdue"], 15)
        self.assertEqual(rows[0]["priority"], 1200.0 * 15)

        reply = self.jsonrpc(
            collector, "ar.collection.worklist", "action_log_promise", [rows[0]["id"]]
        )
        defaults = reply["result"]["context"]
        self.assertEqual(defaults["default_partner_id"], customer.id)
        reply = self.jsonrpc(
            collector,
            "ar.collection.log",
            "create",
            {
                "partner_id": customer.id,
                "channel": "call",
                "result": "promised",
                "promise_amount": 1200.0,
                "promise_date": (today + timedelta(days=7)).isoformat(),
                "note": "Pays next week",
            },
        )
        self.assertNotIn("error", reply, reply)
        reply = self.jsonrpc(
            collector, "ar.collection.log", "read", [reply["result"]], ["promise_id"]
        )
        promise_id = reply["result"][0]["promise_id"][0]
        reply = self.jsonrpc(
            collector, "ar.payment.promise", "read", [promise_id], ["state", "move_ids", "amount"]
        )
        self.assertEqual(reply["result"][0]["state"], "open")
        self.assertEqual(reply["result"][0]["move_ids"], invoice.ids)
        # Logged today: off today's list.
        reply = self.jsonrpc(collector, "ar.collection.worklist", "search_count", domain)
        self.assertEqual(reply["result"], 0)
        # The collector cannot change a policy.
        reply = self.jsonrpc(
            collector, "ar.dunning.policy", "write", [self.policy.id], {"name": "x"}
        )
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")
