"""End to end: the daily cron as Odoo runs it, then a collector over JSON-RPC reading the
warnings and acting on their activity."""

from odoo.tests import HttpCase, tagged

from .common import JsonRpcMixin
from .warning_common import WarningCommon


@tagged("post_install", "-at_install")
class TestCreditWarningsHttp(JsonRpcMixin, WarningCommon, HttpCase):
    def test_cron_raises_once_and_collector_works_it_over_jsonrpc(self):
        rule = self.rule("overdue", days=30, lookback_days=7)
        invoice = self.create_invoice(self.customer, 400.0, self.days_ago(32))
        cron = self.env.ref("ar_credit_control.ir_cron_credit_warnings")
        cron.method_direct_trigger()
        cron.method_direct_trigger()
        self.assertEqual(len(self.warnings(rule)), 1)

        reply = self.jsonrpc(
            self.collector,
            "ar.credit.warning",
            "search_read",
            [("rule_id", "=", rule.id)],
            fields=["id", "partner_id", "state", "figures", "user_id", "activity_ids"],
        )
        self.assertNotIn("error", reply, reply)
        [warning] = reply["result"]
        self.assertEqual(warning["partner_id"][0], self.customer.id)
        self.assertEqual(warning["state"], "active")
        self.assertIn(invoice.name, warning["figures"])
        self.assertEqual(warning["user_id"][0], self.collector.id)
        self.assertEqual(len(warning["activity_ids"]), 1)

        # The collector can neither reconfigure the rule nor close the warning by hand...
        reply = self.jsonrpc(self.collector, "ar.warning.rule", "write", [rule.id], {"days": 5})
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")
        reply = self.jsonrpc(
            self.collector, "ar.credit.warning", "write", [warning["id"]], {"state": "resolved"}
        )
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")
        # ... but marks the to-do done, and the customer shows the flag.
        reply = self.jsonrpc(
            self.collector,
            "mail.activity",
            "action_feedback",
            warning["activity_ids"],
            feedback="Called, payment on its way",
        )
        self.assertNotIn("error", reply, reply)
        reply = self.jsonrpc(
            self.collector, "res.partner", "read", [self.customer.id], ["credit_warning_count"]
        )
        self.assertEqual(reply["result"][0]["credit_warning_count"], 1)
