from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from .common import CLIENT_SECRET, backend_values, start_emulator


@tagged("post_install", "-at_install")
class TestCrmSyncHttp(HttpCase):
    """A credit manager presses "Sync now" over JSON-RPC on a backend an administrator set up."""

    def setUp(self):
        super().setUp()
        self.crm = start_emulator(self)
        admin = self.env.ref("base.user_admin")
        company = self.env.company
        self.backend = (
            self.env["ar.crm.backend"]
            .with_user(admin)
            .create(backend_values(self.crm, company, sync_payments=False))
        )
        self.manager = new_test_user(
            self.env,
            login="crm_manager_http",
            password="crm_manager_http",
            groups="base.group_user,ar_credit_control.group_credit_control_manager",
            company_id=company.id,
        )
        self.customer = self.env["res.partner"].create(
            {"name": "CRMT Http Co", "ref": "CRMT-H", "is_company": True, "email": "h@example.com"}
        )
        self.crm.add_record("Accounts", {"Account_Name": "CRMT Lead turned customer"})

    def call_button(self, method):
        return self.make_jsonrpc_request(
            "/web/dataset/call_button",
            {
                "model": "ar.crm.backend",
                "method": method,
                "args": [[self.backend.id]],
                "kwargs": {},
            },
        )

    def test_credit_manager_syncs_over_json_rpc(self):
        self.authenticate("crm_manager_http", "crm_manager_http")
        check = self.call_button("action_test_connection")
        self.assertEqual(check["params"]["type"], "success")
        result = self.call_button("action_sync_now")
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        pushed = {r.get("Odoo_Partner_ID"): r for r in self.crm.records("Accounts")}
        self.assertEqual(pushed[str(self.customer.id)]["Account_Name"], "CRMT Http Co")
        self.assertIn("Credit_Exposure", pushed[str(self.customer.id)])
        self.assertTrue(
            self.env["res.partner"].search_count([("name", "=", "CRMT Lead turned customer")])
        )
        run = self.backend.sudo().last_run_id
        self.assertEqual((run.trigger, run.state, run.user_id), ("manual", "done", self.manager))
        # The manager sees the run log but not the credentials.
        runs = self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "ar.crm.sync.run",
                "method": "search_read",
                "args": [[("backend_id", "=", self.backend.id)], ["state", "crm_created"]],
                "kwargs": {},
            },
        )
        self.assertIn({"id": run.id, "state": "done", "crm_created": 1}, runs)
        with self.assertRaises(JsonRpcException), self.assertLogs("odoo.http", "WARNING"):
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "ar.crm.backend",
                    "method": "read",
                    "args": [[self.backend.id], ["client_secret"]],
                    "kwargs": {},
                },
            )
        form = self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "ar.crm.backend",
                "method": "web_read",
                "args": [[self.backend.id]],
                "kwargs": {"specification": {"name": {}, "has_credentials": {}}},
            },
        )
        self.assertTrue(form[0]["has_credentials"])
        self.assertNotIn(CLIENT_SECRET, str(form))
