import logging
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.sql_db import db_connect
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from ..services.state_store import LOCK_CLASS, OdooStateStore
from .common import CLIENT_SECRET, REFRESH_TOKEN, CrmSyncCommon


@tagged("post_install", "-at_install")
class TestCrmBackend(CrmSyncCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.net_30 = cls.env["account.payment.term"].create(
            {
                "name": "Net 30",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})
                ],
            }
        )

    def make_customer_with_credit(self):
        """A customer with a limit, an overdue invoice and a partial payment 10 days ago."""
        customer = self.create_customer(
            "CRMT Alpha", ref="CRMT-A", email="alpha@example.com", vat="BE0477472701"
        )
        customer.with_company(self.company).credit_limit = 5000.0
        invoice = self.create_invoice(
            customer, 1200.0, self.today - timedelta(days=60), payment_term=self.net_30
        )
        self.pay_invoice(invoice, amount=200.0, payment_date=self.today - timedelta(days=10))
        return customer

    # ------------------------------------------------------------------ connection

    def test_test_connection_against_the_emulator(self):
        action = self.backend.with_user(self.credit_manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.crm.token_requests, 1, "one token refresh proves the credentials")
        run = self.last_run()
        self.assertEqual((run.trigger, run.state), ("check", "done"))

    def test_test_connection_with_a_revoked_token_fails_without_secret(self):
        self.backend.with_user(self.crm_admin).refresh_token = "1000.revoked-token-0000"
        action = self.backend.with_user(self.credit_manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        message = action["params"]["message"]
        self.assertIn("invalid_code", message)
        self.assertNotIn("revoked-token", message)
        run = self.last_run()
        self.assertEqual(run.state, "failed")
        self.assertNotIn("revoked-token", run.error_summary)
        self.assertNotIn(CLIENT_SECRET, run.error_summary)

    # ------------------------------------------------------------------ sync

    def test_sync_now_pushes_pulls_and_drafts_payments(self):
        customer = self.make_customer_with_credit()
        zeta_id = self.crm.add_record(
            "Accounts", {"Account_Name": "CRMT Zeta from CRM", "Email": "zeta@example.com"}
        )
        self.crm.add_record(
            "Payments",
            {
                "Name": "CRM payment 1",
                "Account": {"id": zeta_id},
                "Amount": 150.0,
                "Payment_Date": str(self.today - timedelta(days=2)),
                "Reference": "Paid at the trade fair",
            },
        )
        self.sync_as(self.credit_manager)
        run = self.last_run()
        self.assertEqual(run.state, "done", run.error_summary)
        self.assertEqual((run.crm_created, run.odoo_created, run.payments_created), (1, 1, 1))

        # Odoo -> CRM: the customer with its credit figures.
        account = self.crm_accounts()[str(customer.id)]
        self.assertEqual(account["Account_Name"], "CRMT Alpha")
        self.assertEqual(account["Credit_Limit"], 5000.0)
        self.assertEqual(account["Credit_Exposure"], 1000.0)
        self.assertEqual(account["Credit_Available"], 4000.0)
        self.assertEqual(account["Amount_Overdue"], 1000.0)
        self.assertEqual(account["Oldest_Overdue_Days"], 30)
        self.assertIs(account["Credit_Hold"], False)
        self.assertEqual(account["Last_Payment_Date"], str(self.today - timedelta(days=10)))
        self.assertEqual(account["Open_Invoice_Count"], 1)
        self.assertEqual(account["Paid_Last_365_Days"], 200.0)

        # CRM -> Odoo: the account created in the CRM is a company customer in Odoo.
        zeta = self.env["res.partner"].search([("name", "=", "CRMT Zeta from CRM")])
        self.assertEqual(len(zeta), 1)
        self.assertTrue(zeta.is_company)
        self.assertEqual(zeta.email, "zeta@example.com")

        # The CRM payment waits as a draft for accounting, never posted.
        payment = self.env["account.payment"].search([("partner_id", "=", zeta.id)])
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.state, "draft")
        self.assertEqual(payment.amount, 150.0)
        self.assertEqual(payment.payment_type, "inbound")
        self.assertEqual(payment.memo, "Paid at the trade fair")
        self.assertTrue(payment.payment_reference.startswith("zoho:"))
        self.assertFalse(payment.move_id.filtered(lambda move: move.state == "posted"))

        # The state lives in the addon's tables.
        state = self.env["ar.crm.sync.state"].sudo().search([("backend_id", "=", self.backend.id)])
        keys = set(state.mapped("key"))
        self.assertTrue(
            {"cursor:crm.customers", "cursor:erp.customers", "cursor:crm.payments", "last_run"}
            <= keys,
            keys,
        )
        id_map = self.env["ar.crm.id.map"].search([("backend_id", "=", self.backend.id)])
        pairs = {(e.stream, e.local_id, e.remote_id) for e in id_map}
        self.assertIn(("customers", str(customer.id), account["id"]), pairs)
        self.assertIn(("customers", str(zeta.id), zeta_id), pairs)
        self.assertIn(("payments", str(payment.id), payment.payment_reference[5:]), pairs)

        # A second run sends nothing new and creates nothing twice.
        upserts = self.crm.upsert_calls()
        self.sync_as(self.credit_manager)
        second = self.last_run()
        self.assertNotEqual(second, run)
        self.assertEqual(second.state, "done", second.error_summary)
        self.assertEqual(self.crm.upsert_calls(), upserts)
        self.assertEqual((second.crm_created, second.crm_updated), (0, 0))
        self.assertEqual((second.odoo_created, second.payments_created), (0, 0))
        self.assertEqual(
            self.env["account.payment"].search_count([("partner_id", "=", zeta.id)]), 1
        )

    def test_credit_change_reaches_the_crm_on_a_full_scan(self):
        customer = self.make_customer_with_credit()
        self.sync_as(self.credit_manager)
        self.create_invoice(customer, 500.0, self.today)  # exposure changes, partner does not
        self.backend.with_user(self.crm_admin).last_full_scan = fields.Datetime.now() - timedelta(
            days=2
        )
        self.sync_as(self.credit_manager)
        run = self.last_run()
        self.assertTrue(run.full_scan)
        self.assertEqual(run.crm_updated, 1)
        self.assertEqual(self.crm_accounts()[str(customer.id)]["Credit_Exposure"], 1500.0)

    def test_crm_deletion_archives_never_deletes(self):
        customer = self.make_customer_with_credit()
        self.sync_as(self.credit_manager)
        self.crm.delete_record("Accounts", self.crm_accounts()[str(customer.id)]["id"])
        self.sync_as(self.credit_manager)
        self.assertEqual(self.last_run().odoo_archived, 1)
        self.assertTrue(customer.exists())
        self.assertFalse(customer.active)

    def test_rejected_record_goes_to_dead_letters_and_replays(self):
        good = self.make_customer_with_credit()
        bad = self.create_customer("CRMT " + "x" * 300, ref="CRMT-LONG")
        self.sync_as(self.credit_manager)
        run = self.last_run()
        self.assertEqual(run.state, "partial")
        self.assertEqual(run.dead_letters, 1)
        self.assertIn(str(good.id), self.crm_accounts())
        letter = self.env["ar.crm.dead.letter"].with_user(self.credit_manager).search([])
        self.assertEqual(len(letter), 1)
        self.assertEqual((letter.stream, letter.record_key), ("erp.customers", str(bad.id)))
        self.assertEqual(letter.code, "INVALID_DATA")
        self.assertIn("Account_Name", letter.error)
        self.assertEqual(letter.payload["erp_id"], bad.id)
        self.assertIn("x" * 300, letter.payload_text)

        bad.name = "CRMT Shortened"
        action = letter.with_user(self.credit_manager).action_replay()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.last_run().trigger, "replay")
        self.assertFalse(self.env["ar.crm.dead.letter"].search([]))
        self.assertEqual(self.crm_accounts()[str(bad.id)]["Account_Name"], "CRMT Shortened")

    def test_lock_held_by_another_connection_skips_the_run(self):
        self.make_customer_with_credit()
        other = db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(other.close)
        other.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", LOCK_CLASS, self.backend.id))
        self.sync_as(self.credit_manager)
        run = self.last_run()
        self.assertEqual(run.state, "locked")
        self.assertFalse(self.crm.records("Accounts"), "nothing was sent while locked")
        other.rollback()  # the other run ends: its lock goes with its transaction
        self.sync_as(self.credit_manager)
        self.assertEqual(self.last_run().state, "done")
        self.assertEqual(len(self.crm.records("Accounts")), 1)

    def test_state_store_transaction_rolls_back_on_error(self):
        store = OdooStateStore(self.backend.sudo())
        with store.transaction() as txn:
            txn.set_value("cursor:test", "one")
        with self.assertRaises(RuntimeError), store.transaction() as txn:
            txn.set_value("cursor:test", "two")
            txn.add_dead_letter("erp.customers", "7", {"erp_id": 7}, "boom", "X")
            raise RuntimeError("page failed")
        self.assertEqual(store.get_value("cursor:test"), "one")
        self.assertEqual(store.dead_letters(), [])
        self.assertEqual(store.counts(), {"dead_letters": 0})

    # ------------------------------------------------------------------ cron and queue

    def test_cron_runs_every_active_backend(self):
        customer = self.make_customer_with_credit()
        archived = self.env["ar.crm.backend"].create(
            {
                "name": "Archived backend",
                "company_id": self.company.id,
                "client_id": "1000.X",
                "active": False,
            }
        )
        cron = self.env.ref("ar_credit_control_crm_sync.ir_cron_ar_crm_sync")
        self.assertEqual(cron.code.strip(), "model._cron_sync_all()")
        cron.sudo().method_direct_trigger()
        run = self.last_run()
        self.assertEqual((run.trigger, run.state), ("cron", "done"), run.error_summary)
        self.assertIn(str(customer.id), self.crm_accounts())
        self.assertFalse(archived.run_ids)

    def test_cron_refuses_a_mapping_to_a_field_the_crm_lacks(self):
        # The mapping is valid for Odoo (a known key), the CRM has no such field: the run stops
        # before anything is read or written, and says which field and what was meant.
        customer = self.make_customer_with_credit()
        crm_id = self.crm.add_record(
            "Accounts", {"Account_Name": "CRMT Omega from CRM", "Email": "omega@example.com"}
        )
        self.backend.with_user(self.crm_admin).field_mapping = '{"email": "E_mail"}'
        self.env.ref(
            "ar_credit_control_crm_sync.ir_cron_ar_crm_sync"
        ).sudo().method_direct_trigger()
        run = self.last_run()
        self.assertEqual((run.trigger, run.state), ("cron", "failed"))
        self.assertIn('has no field "E_mail"', run.error_summary)
        self.assertIn('(did you mean "Email"?)', run.error_summary)
        self.assertNotIn(str(customer.id), self.crm_accounts(), "nothing pushed")
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "CRMT Omega from CRM")]),
            "nothing pulled",
        )
        self.assertEqual(customer.email, "alpha@example.com")
        [omega] = [r for r in self.crm.records("Accounts") if r.get("id") == crm_id]
        self.assertEqual(omega["Email"], "omega@example.com")

    def test_push_in_chunks_runs_inline_without_queue_job(self):
        if "queue.job" in self.env:
            self.skipTest("queue_job is installed: TestCrmQueueJob covers the jobs")
        customers = self.env["res.partner"].union(
            *(self.create_customer(f"CRMT Chunk {n}", ref=f"CRMT-C{n}") for n in range(5))
        )
        self.backend.with_user(self.crm_admin).write({"use_queue_job": True, "push_chunk_size": 2})
        self.sync_as(self.credit_manager)
        run = self.last_run()
        self.assertEqual(run.state, "done", run.error_summary)
        self.assertEqual(run.counters["push_chunks"], 3)
        self.assertEqual(run.crm_created, 5)
        self.assertTrue({str(c.id) for c in customers} <= set(self.crm_accounts()))
        # Every chunk pushed: the Odoo cursor moved past the customers the plan scanned.
        cursor = (
            self.env["ar.crm.sync.state"]
            .sudo()
            .search([("backend_id", "=", self.backend.id), ("key", "=", "cursor:erp.customers")])
        )
        self.assertEqual(len(cursor), 1)
        self.assertGreaterEqual(int(cursor.value.rpartition("|")[2]), max(customers.ids))

    # ------------------------------------------------------------------ secrets and rights

    def test_secrets_are_readable_only_by_administrators(self):
        as_manager = self.backend.with_user(self.credit_manager)
        for name in ("client_secret", "refresh_token"):
            with self.assertRaises(AccessError):
                as_manager.read([name])
            with self.assertRaises(AccessError):
                as_manager.search_read([("id", "=", self.backend.id)], [name])
        self.assertNotIn("client_secret", as_manager.fields_get())
        self.assertTrue(as_manager.has_credentials)
        self.assertEqual(
            self.backend.with_user(self.crm_admin).read(["client_secret"])[0]["client_secret"],
            CLIENT_SECRET,
        )
        # The sync state holds the cached access token: administrators only.
        with self.assertRaises(AccessError):
            self.env["ar.crm.sync.state"].with_user(self.credit_manager).search([])

    def test_secrets_never_in_chatter_or_logs(self):
        self.make_customer_with_credit()
        self.flush_tracking()  # the backend was created in this transaction
        self.backend.with_user(self.crm_admin).with_context(
            tracking_disable=False, mail_notrack=False
        ).write({"name": "Zoho EU", "client_secret": "rotated-secret-value-9921"})
        self.assertIn("name", self.tracked_fields(self.backend))
        self.assertNotIn("client_secret", self.tracked_fields(self.backend))
        self.backend.with_user(self.crm_admin).client_secret = CLIENT_SECRET
        self.env.flush_all()  # Odoo's own SQL debug log shows the values it writes
        with self.assertLogs(level=logging.DEBUG) as synced:
            self.sync_as(self.credit_manager)
        # Written outside the capture: Odoo's own SQL debug log shows the values it writes.
        self.backend.with_user(self.crm_admin).refresh_token = "1000.bad-token-77aa"
        self.env.flush_all()
        with self.assertLogs(level=logging.DEBUG) as refused:
            action = self.backend.with_user(self.credit_manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        output = "\n".join(synced.output + refused.output)
        self.assertIn("CRM backend", output)
        for secret in (CLIENT_SECRET, REFRESH_TOKEN, "rotated-secret-value-9921", "bad-token-77aa"):
            self.assertNotIn(secret, output)
        self.flush_tracking()
        messages = (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", "ar.crm.backend"), ("res_id", "=", self.backend.id)])
        )
        values = (
            self.env["mail.tracking.value"].sudo().search([("mail_message_id", "in", messages.ids)])
        )
        text = " ".join(
            [str(m.body) for m in messages]
            + [str(v.old_value_char) + str(v.new_value_char) for v in values]
        )
        for secret in (CLIENT_SECRET, REFRESH_TOKEN, "rotated-secret-value-9921"):
            self.assertNotIn(secret, text)
        runs = self.env["ar.crm.sync.run"].sudo().search([("backend_id", "=", self.backend.id)])
        summaries = " ".join(runs.mapped(lambda r: r.error_summary or ""))
        self.assertIn("invalid_code", summaries)
        self.assertNotIn("bad-token-77aa", summaries)

    def test_collector_cannot_sync_or_configure(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.collector).action_sync_now()
        with self.assertRaises(AccessError):
            self.env["ar.crm.backend"].with_user(self.collector).create(
                {"name": "X", "client_id": "1000.X"}
            )

    def test_backends_are_per_company(self):
        other = self.setup_other_company(name="Other CRM Co")["company"]
        outsider = new_test_user(
            self.env,
            login="crm_outsider",
            groups="base.group_user,ar_credit_control.group_credit_control_manager",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.sync_as(self.credit_manager)
        self.assertFalse(self.env["ar.crm.backend"].with_user(outsider).search([]))
        self.assertFalse(self.env["ar.crm.sync.run"].with_user(outsider).search([]))
        self.assertEqual(
            self.env["ar.crm.backend"].with_user(self.credit_manager).search([]), self.backend
        )

    def test_field_mapping_is_validated_and_used(self):
        with self.assertRaises(ValidationError):
            self.backend.with_user(self.crm_admin).field_mapping = '{"no_such_field": "X"}'
        self.backend.with_user(self.crm_admin).field_mapping = '{"credit_grade": "Name"}'
        config = self.backend._sync_config()
        self.assertEqual(config.crm.fields.credit_grade, "Name")
        self.assertEqual(config.sync.deletions_from_crm, "archive")
