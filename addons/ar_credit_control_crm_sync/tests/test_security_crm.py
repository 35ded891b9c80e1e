"""Attacks on the CRM sync through its real entry points: the scheduled action fed by a CRM
record an attacker controls, and JSON-RPC calls of a credit manager on the backend.

- A CRM record carrying the Odoo id of a partner the backend does not own (the admin's, a
  portal user's, another company's, one outside the customer filter) is never written to: it
  goes to the dead letters with the reason.
- The scheduled sync writes as the addon's integration user, never as superuser, and pushes
  only its company's customers and figures.
- Only system administrators change the server URL; a change forgets the credentials; only
  https (or loopback) is accepted.
"""

import json
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessDenied
from odoo.tests import new_test_user, tagged

from odoo.addons.ar_credit_control.tests.security_common import SecurityCommon

from .common import CLIENT_SECRET, REFRESH_TOKEN, backend_values, start_emulator

INTEGRATION_USER = "ar_credit_control_crm_sync.user_crm_integration"
CRON = "ar_credit_control_crm_sync.ir_cron_ar_crm_sync"


class CrmSecurityCommon(SecurityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.crm_admin = new_test_user(
            cls.env,
            login="sec_crm_admin",
            password="sec_crm_admin",
            name="CRM Administrator",
            groups="base.group_user,base.group_system,"
            "ar_credit_control.group_credit_control_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set((cls.company_a | cls.company_b).ids)],
        )
        # A customer both companies share, inside the backends' filter (ref CRMT…).
        cls.owned = cls.create_customer("CRMT Owned", ref="CRMT-O", email="owned@customer.example")
        cls.today = fields.Date.context_today(cls.env.user)

    def setUp(self):
        super().setUp()
        self.crm = start_emulator(self)
        self.backend = self.make_backend(self.crm, self.company_a)

    def make_backend(self, crm, company, **values):
        return (
            self.env["ar.crm.backend"]
            .with_user(self.crm_admin)
            .with_company(company)
            .create(backend_values(crm, company, **values))
        )

    def run_cron(self):
        self.env.ref(CRON).sudo().method_direct_trigger()

    def accounts(self, crm):
        return {r.get("Odoo_Partner_ID"): r for r in crm.records("Accounts")}

    def dead_letters(self, backend):
        return self.env["ar.crm.dead.letter"].sudo().search([("backend_id", "=", backend.id)])


@tagged("post_install", "-at_install")
class TestCrmAttacksFromTheCrm(CrmSecurityCommon):
    """The attacker edits records in the CRM; the scheduled action applies them."""

    def test_crm_record_cannot_take_over_a_partner_it_does_not_own(self):
        admin_partner = self.env.ref("base.user_admin").partner_id
        # Inside the filter and the company, but the partner of a portal login (its customer
        # account) or of an archived internal user: never written by the CRM.
        portal_company = self.create_customer("CRMT Portal Co", ref="CRMT-P")
        new_test_user(
            self.env, login="sec_crm_portal", groups="base.group_portal",
            partner_id=portal_company.id, company_id=self.company_a.id,
        )  # fmt: skip
        former_partner = self.create_customer("CRMT Former Staff", ref="CRMT-F")
        new_test_user(
            self.env, login="sec_crm_former", groups="base.group_user",
            partner_id=former_partner.id, company_id=self.company_a.id,
        ).active = False  # fmt: skip
        company_b_partner = self.create_customer(
            "CRMT Company B", ref="CRMT-B", company_id=self.company_b.id
        )
        outside_filter = self.customer  # is a company, but not one of the backend's CRMT… ones
        # The company's own partner (its name, VAT and address), inside the filter.
        own_company = self.company_a.partner_id
        own_company.write({"ref": "CRMT-C", "is_company": True})
        targets = {
            "the company itself": own_company,
            "admin": admin_partner,
            "portal user's contact": self.roles["portal"].partner_id,
            "portal user's company": portal_company,
            "archived user": former_partner,
            "company B": company_b_partner,
            "outside the filter": outside_filter,
        }
        before = {label: (p.name, p.email) for label, p in targets.items()}
        crm_ids = {
            label: self.crm.add_record(
                "Accounts",
                {
                    "Account_Name": f"Takeover {label}",
                    "Email": "attacker@evil.example",
                    "Odoo_Partner_ID": str(partner.id),
                },
            )
            for label, partner in targets.items()
        }
        self.run_cron()

        for label, partner in targets.items():
            self.assertEqual((partner.name, partner.email), before[label], label)
        self.assertFalse(
            self.env["res.partner"]
            .with_context(active_test=False)
            .search([("name", "=like", "Takeover %")]),
            "a refused record never becomes a new partner either",
        )
        letters = {letter.record_key: letter for letter in self.dead_letters(self.backend)}
        for label, partner in targets.items():
            letter = letters.get(crm_ids[label])
            self.assertTrue(letter, f"{label}: no dead letter")
            self.assertEqual((letter.stream, letter.code), ("crm.customers", "erp_id_refused"))
            self.assertIn(f"Odoo partner {partner.id}", letter.error)
        self.assertIn("user", letters[crm_ids["admin"]].error)
        self.assertIn("user", letters[crm_ids["archived user"]].error)
        self.assertIn("customer filter", letters[crm_ids["outside the filter"]].error)
        self.assertEqual(self.backend.sudo().last_run_id.state, "partial")
        # Manual runs apply the same rule.
        self.backend.with_user(self.crm_admin).action_replay_dead_letters()
        self.assertEqual(admin_partner.email, before["admin"][1])
        self.assertEqual(len(self.dead_letters(self.backend)), len(targets))

    def test_mapped_partner_that_gains_a_user_is_no_longer_written(self):
        """A customer pushed to the CRM, then given a portal login: CRM edits stop there."""
        self.run_cron()
        account = self.accounts(self.crm)[str(self.owned.id)]
        new_test_user(
            self.env, login="sec_crm_owned_portal", groups="base.group_portal",
            partner_id=self.owned.id, company_id=self.company_a.id,
            email="owned@customer.example",
        )  # fmt: skip
        self.crm.update_record("Accounts", account["id"], {"Email": "attacker@evil.example"})
        self.run_cron()
        self.assertEqual(self.owned.email, "owned@customer.example")
        letter = self.dead_letters(self.backend).filtered(lambda d: d.record_key == account["id"])
        self.assertEqual(letter.code, "erp_id_refused")
        # A CRM deletion does not archive it either.
        self.crm.delete_record("Accounts", account["id"])
        self.run_cron()
        self.assertTrue(self.owned.active)
        self.assertEqual(self.backend.sudo().last_run_id.counters.get("archive_refused"), 1)

    def test_cron_writes_as_the_integration_user(self):
        integration = self.env.ref(INTEGRATION_USER)
        odoobot = self.env.ref("base.user_root")
        account_id = self.crm.add_record(
            "Accounts",
            {
                "Account_Name": "CRMT Owned",
                "Phone": "+32 2 555 01 01",
                "Odoo_Partner_ID": str(self.owned.id),
            },
        )
        self.crm.add_record(
            "Payments",
            {
                "Name": "Paid at the fair",
                "Account": {"id": account_id},
                "Amount": 75.0,
                "Payment_Date": str(self.today - timedelta(days=1)),
            },
        )
        self.run_cron()
        run = self.backend.sudo().last_run_id
        self.assertEqual((run.trigger, run.state), ("cron", "done"), run.error_summary)
        self.assertEqual(run.user_id, integration)
        self.assertEqual(self.owned.phone, "+32 2 555 01 01")
        self.assertEqual(self.owned.write_uid, integration)
        self.assertNotEqual(self.owned.write_uid, odoobot)
        payment = self.env["account.payment"].search([("partner_id", "=", self.owned.id)])
        self.assertEqual((payment.state, payment.create_uid), ("draft", integration))
        self.assertEqual(payment.company_id, self.company_a)


@tagged("post_install", "-at_install")
class TestCrmPushPerCompany(CrmSecurityCommon):
    """Each company's backend pushes its own customers and its own books only."""

    def test_push_reads_only_the_backend_company(self):
        shared = self.create_customer("CRMT Shared", ref="CRMT-S")
        only_b = self.create_customer("CRMT Only B", ref="CRMT-OB", company_id=self.company_b.id)
        self.create_invoice(shared, 300.0, self.today)
        invoice_b = self.create_invoice(shared, 700.0, self.today, company=self.company_b)
        self.env["account.payment.register"].with_company(self.company_b).with_context(
            active_model="account.move", active_ids=invoice_b.ids
        ).create({"payment_date": self.today, "amount": 100.0})._create_payments()
        only_a = self.create_customer("CRMT Only A", ref="CRMT-OA", company_id=self.company_a.id)
        crm_b = start_emulator(self)
        backend_b = self.make_backend(crm_b, self.company_b, name="Zoho B")
        # Company B's CRM names company A's customer: refused there too.
        intruder = crm_b.add_record(
            "Accounts", {"Account_Name": "Mine now", "Odoo_Partner_ID": str(only_a.id)}
        )

        self.run_cron()
        self.assertEqual(self.backend.sudo().last_run_id.state, "done")
        self.assertEqual(only_a.name, "CRMT Only A")
        letter = self.dead_letters(backend_b)
        self.assertEqual((letter.record_key, letter.code), (intruder, "erp_id_refused"))

        in_a, in_b = self.accounts(self.crm), self.accounts(crm_b)
        self.assertNotIn(str(only_b.id), in_a, "company B's customer reached company A's CRM")
        self.assertIn(str(only_b.id), in_b)
        self.assertIn(str(only_a.id), in_a)
        self.assertEqual(in_b[str(only_a.id)]["Account_Name"], "Mine now", "not pushed by B")
        self.assertEqual(in_a[str(shared.id)]["Open_Invoice_Count"], 1)
        self.assertEqual(in_a[str(shared.id)]["Open_Invoice_Amount"], 300.0)
        self.assertEqual(in_a[str(shared.id)]["Credit_Exposure"], 300.0)
        self.assertEqual(in_a[str(shared.id)]["Paid_Last_365_Days"], 0.0)
        self.assertEqual(in_b[str(shared.id)]["Open_Invoice_Count"], 1)
        self.assertEqual(in_b[str(shared.id)]["Open_Invoice_Amount"], 600.0)
        self.assertEqual(in_b[str(shared.id)]["Credit_Exposure"], 600.0)
        self.assertEqual(in_b[str(shared.id)]["Paid_Last_365_Days"], 100.0)


@tagged("post_install", "-at_install")
class TestCrmAttacksAsCreditManager(CrmSecurityCommon):
    """A credit manager (who may run and configure the sync) tries to send the credentials
    to a server of their choice."""

    def setUp(self):
        super().setUp()
        self.manager = self.roles["manager"]
        self.evil = start_emulator(self)  # the attacker's server (loopback, so accepted)

    def test_credit_manager_cannot_change_the_server_url(self):
        evil_url = self.evil.accounts_url("eu")
        self.assertRefused(
            self.call_kw(
                self.manager, "ar.crm.backend", "write",
                [[self.backend.id], {"api_base_url": evil_url}],
            )
        )  # fmt: skip
        self.assertRefused(
            self.call_kw(
                self.manager, "ar.crm.backend", "create",
                [{"name": "Mine", "client_id": "1000.X", "api_base_url": evil_url}],
            )
        )  # fmt: skip
        self.assertNotEqual(self.backend.api_base_url, evil_url)
        # Test connection still talks to the configured server only.
        result = self.assertAllowed(
            self.call_kw(self.manager, "ar.crm.backend", "action_test_connection",
                         [[self.backend.id]])
        )  # fmt: skip
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertEqual(self.evil.token_requests, 0)
        self.assertFalse(self.evil.calls)
        self.assertEqual(self.crm.token_requests, 1)

    def test_credit_manager_still_edits_the_other_fields(self):
        self.assertAllowed(
            self.call_kw(
                self.manager, "ar.crm.backend", "write",
                [[self.backend.id], {"name": "Zoho EU", "timeout_seconds": 20}],
            )
        )  # fmt: skip
        self.assertEqual(self.backend.name, "Zoho EU")
        views = self.assertAllowed(
            self.call_kw(self.manager, "ar.crm.backend", "get_views",
                         [[[False, "form"]]], {"options": {}})
        )  # fmt: skip
        self.assertIn("api_base_url", views["views"]["form"]["arch"])
        form = self.assertAllowed(
            self.call_kw(
                self.manager, "ar.crm.backend", "web_read", [[self.backend.id]],
                {"specification": {"name": {}, "api_base_url": {}, "has_credentials": {}}},
            )
        )  # fmt: skip
        self.assertEqual(form[0]["api_base_url"], self.crm.accounts_url("eu"))
        self.assertNotIn(CLIENT_SECRET, str(form))


@tagged("post_install", "-at_install")
class TestCrmServerUrlAsAdministrator(CrmSecurityCommon):
    def test_changing_the_url_forgets_the_credentials(self):
        self.backend.with_user(self.crm_admin).action_test_connection()
        tokens = (
            self.env["ar.crm.sync.state"]
            .sudo()
            .search([("backend_id", "=", self.backend.id), ("key", "=like", "token:%")])
        )
        self.assertTrue(tokens, "the access token is cached")
        other = start_emulator(self)
        self.assertAllowed(
            self.call_kw(
                self.crm_admin, "ar.crm.backend", "write",
                [[self.backend.id], {"api_base_url": other.accounts_url("eu")}],
            )
        )  # fmt: skip
        backend = self.backend.sudo()
        self.assertEqual(backend.api_base_url, other.accounts_url("eu"))
        self.assertFalse(backend.client_secret)
        self.assertFalse(backend.refresh_token)
        self.assertFalse(tokens.exists(), "the cached access token is gone")
        result = self.assertAllowed(
            self.call_kw(self.crm_admin, "ar.crm.backend", "action_test_connection",
                         [[self.backend.id]])
        )  # fmt: skip
        self.assertEqual(result["params"]["type"], "danger")
        self.assertEqual(other.token_requests, 0, "nothing was posted to the new server")
        # New credentials given with the new URL are kept.
        self.backend.with_user(self.crm_admin).write(
            {
                "api_base_url": self.crm.accounts_url("eu"),
                "client_secret": CLIENT_SECRET,
                "refresh_token": REFRESH_TOKEN,
            }
        )
        self.assertEqual(backend.client_secret, CLIENT_SECRET)

    def test_only_https_or_loopback(self):
        for url in (
            "http://accounts.example.com",
            "http://127.0.0.1.evil.example/accounts",
            "ftp://accounts.zoho.eu",
            "accounts.zoho.eu",
        ):
            reply = self.call_kw(
                self.crm_admin,
                "ar.crm.backend",
                "write",
                [[self.backend.id], {"api_base_url": url}],
            )
            self.assertIn("error", reply, url)
            self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.ValidationError")
            self.assertIn("https://", reply["error"]["data"]["message"])
        self.assertTrue(self.backend.sudo().client_secret, "a refused change forgets nothing")
        for url in (
            "https://accounts.example.com",
            "http://localhost:8069/accounts",
            "http://127.0.0.2:9000",
            "http://[::1]:9000",
        ):
            self.backend.with_user(self.crm_admin).api_base_url = url
        # The message is in the user's language.
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["ar_credit_control_crm_sync"], ["zh_CN"])
        self.crm_admin.lang = "zh_CN"
        reply = self.call_kw(
            self.crm_admin, "ar.crm.backend", "write",
            [[self.backend.id], {"api_base_url": "http://accounts.example.com"}],
        )  # fmt: skip
        self.assertIn("服务器", reply["error"]["data"]["message"])


@tagged("post_install", "-at_install")
class TestCrmIntegrationUser(CrmSecurityCommon):
    def test_integration_user_cannot_log_in_and_is_no_administrator(self):
        integration = self.env.ref(INTEGRATION_USER)
        self.assertFalse(integration.share, "an internal user, not a portal one")
        for group in (
            "base.group_system",
            "base.group_erp_manager",
            "account.group_account_manager",
            "ar_credit_control.group_credit_control_manager",
        ):
            self.assertFalse(integration.has_group(group), group)
        for password in ("", integration.login, "admin", "__crm_sync__"):
            with self.assertRaises(AccessDenied):
                self.registry["res.users"].authenticate(
                    self.env.cr.dbname,
                    {"type": "password", "login": integration.login, "password": password},
                    {"interactive": False},
                )
            reply = self.url_open(
                "/web/session/authenticate",
                data=json.dumps(
                    {"jsonrpc": "2.0", "method": "call", "id": 1,
                     "params": {"db": self.env.cr.dbname, "login": integration.login,
                                "password": password}}
                ),
                headers={"Content-Type": "application/json"},
            ).json()  # fmt: skip
            self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessDenied")
