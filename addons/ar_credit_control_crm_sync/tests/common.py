"""A Zoho CRM emulator per test (a real loopback HTTP server) and a backend pointing at it,
configured by a system administrator."""

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.ar_credit_control.tests.common import CreditControlCommon

from crm_sync.testing import ZohoEmulator

# Values that must never show up in a log line, a message or the chatter.
CLIENT_SECRET = "zoho-client-secret-4f9c2e71"
REFRESH_TOKEN = "1000.refresh-token-b83d5a0c"


def start_emulator(testcase):
    crm = ZohoEmulator(
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
        data_centre="eu",
        refresh_limit=1000,
    ).start()
    testcase.addCleanup(crm.stop)
    return crm


def backend_values(crm, company, **values):
    return {
        "name": "Zoho (emulator)",
        "company_id": company.id,
        "zoho_data_centre": "eu",
        "api_base_url": crm.accounts_url("eu"),
        "client_id": crm.client_id,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        # Only this suite's customers: a test database holds other companies' partners.
        "customer_domain": "[('is_company', '=', True), ('ref', '=like', 'CRMT%')]",
        "retry_attempts": 1,
        "retry_base_delay": 0.0,
        **values,
    }


class CrmSyncCommon(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.crm_admin = new_test_user(
            cls.env,
            login="crm_admin",
            password="crm_admin",
            name="CRM Admin",
            groups="base.group_user,base.group_system,"
            "ar_credit_control.group_credit_control_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def setUp(self):
        super().setUp()
        # A fresh CRM per test: the emulator lives outside the rolled-back transaction.
        self.crm = start_emulator(self)
        self.backend = (
            self.env["ar.crm.backend"]
            .with_user(self.crm_admin)
            .create(backend_values(self.crm, self.company))
        )

    def crm_accounts(self):
        return {r.get("Odoo_Partner_ID"): r for r in self.crm.records("Accounts")}

    def sync_as(self, user):
        return self.backend.with_user(user).with_company(self.company).action_sync_now()

    def last_run(self):
        return self.backend.sudo().last_run_id
