import io
from datetime import timedelta

from freezegun import freeze_time
from PyPDF2 import PdfReader

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..models.ar_dunning_run import LOCK_NAMESPACE
from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningRun(DunningCommon):
    def test_escalates_one_step_per_run(self):
        customer = self.dunned_customer("Ladder Co")
        invoice = self.invoice_due(customer, 1000.0, "2026-03-01")
        # 25 days overdue targets "Hold" (20 days), but the customer climbs one step a run.
        levels = []
        for day in ("2026-03-26", "2026-03-27", "2026-03-28", "2026-03-29"):
            run = self.run_on(day)
            self.assertEqual(run.state, "done")
            levels.append(self.communications(customer)[-1:].level_sequence)
        self.assertEqual(levels, [2, 3, 4, 4])
        self.assertEqual(len(self.communications(customer)), 3, "nothing new on the 4th day")
        line = invoice.line_ids.filtered(
            lambda aml: aml.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(line.ar_dunning_level, 4)
        self.assertEqual(self.profile(customer).dunning_level, 4)

    def test_profile_opened_by_the_run_is_created_by_the_orm(self):
        """A customer dunned before any evaluation gets the profile ``_get_or_create`` makes
        (the ORM's defaults), then the run's level and collector."""
        self.env["ir.default"].set("ar.credit.profile", "settlement_cycle", "monthly")
        customer = self.dunned_customer("Unprofiled Co", user_id=self.salesperson.id)
        self.invoice_due(customer, 500.0, "2026-03-01")
        self.assertFalse(self.profile(customer))
        self.run_on("2026-03-05")
        profile = self.profile(customer)
        self.assertEqual(profile.dunning_level, 2)
        self.assertEqual(profile.dunning_last_date.isoformat(), "2026-03-05")
        self.assertEqual(profile.collector_id, self.collector)
        self.assertEqual(profile.settlement_cycle, "monthly")
        self.assertEqual(profile.segment, "standard")
        self.assertEqual(profile.user_id, self.salesperson)

    def test_reminder_before_the_due_date(self):
        customer = self.dunned_customer("Early Co")
        term = self.env.ref("account.account_payment_term_30days")
        self.create_invoice(customer, 300.0, "2026-03-01", payment_term=term)
        self.run_on("2026-03-27")  # due on 2026-03-31: 4 days early, no reminder yet
        self.assertFalse(self.communications(customer))
        self.run_on("2026-03-28")
        communication = self.communications(customer)
        self.assertEqual(communication.kind, "reminder")
        self.assertEqual(communication.line_ids.days_overdue, -3)
        self.assertEqual(self.profile(customer).dunning_level, 0, "a reminder is not dunning")

    def test_one_communication_lists_every_item_with_its_own_days(self):
        customer = self.dunned_customer("Many Items Co")
        first = self.invoice_due(customer, 100.0, "2026-03-01")
        second = self.invoice_due(customer, 250.0, "2026-03-10")
        self.run_on("2026-03-15")
        communication = self.communications(customer)
        self.assertEqual(len(communication), 1)
        by_move = {line.move_id: line for line in communication.line_ids}
        self.assertEqual(by_move[first].days_overdue, 14)
        self.assertEqual(by_move[second].days_overdue, 5)
        self.assertEqual(communication.amount_due, 350.0)
        self.assertIn(first.name, communication.mail_id.body_html)
        self.assertIn(second.name, communication.mail_id.body_html)

    def test_sent_to_invoicing_contact_in_its_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        template = self.env.ref("ar_credit_control.mail_template_dunning")
        template.with_context(lang="fr_FR").subject = "Factures en retard"
        customer = self.dunned_customer("Lang Co", lang="en_US")
        billing = self.env["res.partner"].create(
            {
                "name": "Billing Desk",
                "parent_id": customer.id,
                "type": "invoice",
                "email": "billing@lang.example",
                "lang": "fr_FR",
            }
        )
        self.invoice_due(customer, 400.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(customer)
        self.assertEqual(communication.contact_id, billing)
        self.assertEqual(communication.state, "sent")
        mail = communication.mail_id
        self.assertEqual(mail.state, "outgoing", "sent means queued in the mail queue")
        self.assertEqual(mail.recipient_ids, billing)
        self.assertEqual(mail.subject, "Factures en retard")

    def test_dunning_contact_receives_it_in_its_language_and_the_letter_shows_both(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        customer = self.dunned_customer("Two Desks Co", lang="en_US")
        billing = self.env["res.partner"].create(
            {
                "name": "Billing Desk",
                "parent_id": customer.id,
                "type": "invoice",
                "email": "billing@desks.example",
                "street": "1 Invoice Road",
                "city": "Billtown",
            }
        )
        collections = self.env["res.partner"].create(
            {
                "name": "Collections Desk",
                "parent_id": customer.id,
                "type": "dunning",
                "email": "collections@desks.example",
                "lang": "zh_CN",
                "street": "9 Dunning Lane",
                "city": "Duntown",
            }
        )
        self.invoice_due(customer, 400.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(customer)
        self.assertEqual(communication.contact_id, collections)
        self.assertEqual(communication.lang, "zh_CN")
        self.assertEqual(communication.mail_id.recipient_ids, collections)
        self.assertEqual(communication._invoice_address(), billing)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("ar_credit_control.report_dunning_letter", communication.ids)[0]
            .decode()
        )
        self.assertIn("9 Dunning Lane", html)  # addressed to the dunning contact
        self.assertIn("1 Invoice Road", html)  # and shows the invoice address
        # Archived, the dunning contact gives way to the invoice address again.
        collections.active = False
        self.invoice_due(customer, 50.0, "2026-03-10")
        self.run_on("2026-03-20")
        self.assertEqual(self.communications(customer)[-1].contact_id, billing)
        # A contact of the dunning type is named like an invoice address when it has no name.
        nameless = self.env["res.partner"].create({"parent_id": customer.id, "type": "dunning"})
        self.assertEqual(nameless.display_name, "Two Desks Co, Dunning Address")

    def test_days_overdue_in_the_company_time_zone(self):
        customer = self.dunned_customer("Zone Co")
        self.invoice_due(customer, 500.0, "2026-03-10")
        # 20:00 UTC on the due date is already the next day in Shanghai.
        self.company.partner_id.tz = "Asia/Shanghai"
        run = self.run_on("2026-03-10", at="20:00:00")
        self.assertEqual(run.date.isoformat(), "2026-03-11")
        communication = self.communications(customer)
        self.assertEqual(communication.kind, "overdue")
        self.assertEqual(communication.line_ids.days_overdue, 1)

    def test_same_moment_in_utc_is_not_yet_overdue(self):
        customer = self.dunned_customer("Utc Co")
        self.invoice_due(customer, 500.0, "2026-03-10")
        self.run_on("2026-03-10", at="20:00:00")
        communication = self.communications(customer)
        self.assertEqual(communication.kind, "reminder")
        self.assertEqual(communication.line_ids.days_overdue, 0)

    def test_open_dispute_pauses_its_invoices(self):
        customer = self.dunned_customer("Disputing Co")
        invoice = self.invoice_due(customer, 700.0, "2026-03-01")
        dispute = self.env["ar.dispute"].create(
            {"partner_id": customer.id, "move_ids": [Command.set(invoice.ids)], "reason": "price"}
        )
        self.run_on("2026-03-10")
        self.assertFalse(self.communications(customer))
        dispute.resolution = "Price confirmed"
        dispute.action_reject()
        self.run_on("2026-03-11")
        self.assertEqual(self.communications(customer).level_sequence, 2)

    def test_promise_pauses_and_a_broken_promise_escalates(self):
        customer = self.dunned_customer("Promise Co")
        invoice = self.invoice_due(customer, 900.0, "2026-03-01")
        self.run_on("2026-03-05")
        self.assertEqual(self.communications(customer).level_sequence, 2)
        promise = self.env["ar.payment.promise"].create(
            {
                "partner_id": customer.id,
                "move_ids": [Command.set(invoice.ids)],
                "amount": 900.0,
                "promised_date": "2026-03-15",
            }
        )
        self.run_on("2026-03-12")
        self.assertEqual(len(self.communications(customer)), 1, "paused by the promise")
        with freeze_time("2026-03-15 12:00:00"):
            self.assertFalse(self.env["ar.payment.promise"]._cron_detect_broken_promises())
        with freeze_time("2026-03-16 12:00:00"):
            broken = self.env["ar.payment.promise"]._cron_detect_broken_promises()
        self.assertEqual(broken, promise)
        self.assertEqual(promise.state, "broken")
        self.assertTrue(any("Promise broken" in str(m.body) for m in promise.message_ids))
        self.run_on("2026-03-16")
        self.assertEqual(self.communications(customer)[-1].level_sequence, 3)

    def test_kept_promise_is_not_broken(self):
        customer = self.dunned_customer("Keeper Co")
        invoice = self.invoice_due(customer, 100.0, "2026-03-01")
        promise = self.env["ar.payment.promise"].create(
            {
                "partner_id": customer.id,
                "move_ids": [Command.set(invoice.ids)],
                "amount": 100.0,
                "promised_date": "2026-03-15",
            }
        )
        self.pay_invoice(invoice, payment_date="2026-03-14")
        with freeze_time("2026-03-20 12:00:00"):
            self.env["ar.payment.promise"]._cron_detect_broken_promises()
        self.assertEqual(promise.state, "open")

    def test_second_run_the_same_day_sends_nothing_new(self):
        customer = self.dunned_customer("Twice Co")
        self.invoice_due(customer, 200.0, "2026-03-01")
        first = self.run_on("2026-03-05")
        second = self.run_on("2026-03-05", at="18:00:00")
        self.assertEqual(first, second, "one run per company and day")
        self.assertEqual(len(self.communications(customer)), 1)
        mails = self.env["mail.mail"].search([("model", "=", "ar.dunning.communication")])
        self.assertEqual(len(mails.filtered(lambda m: m.res_id in first.communication_ids.ids)), 1)

    def test_a_run_under_way_refuses_a_second(self):
        with self.registry.cursor() as other:
            other.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, self.company.id])
            self.assertTrue(other.fetchone()[0])
            try:
                with self.assertRaisesRegex(UserError, "already under way"):
                    self.run_on("2026-03-05")
            finally:
                other.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, self.company.id]
                )
        self.run_on("2026-03-05")  # free again

    def test_credit_hold_at_the_configured_level(self):
        customer = self.dunned_customer("Hold Co")
        self.invoice_due(customer, 5000.0, "2026-03-01")
        self.run_on("2026-03-25")
        self.run_on("2026-03-26")
        self.assertFalse(self.profile(customer).credit_hold)
        self.run_on("2026-03-27")
        profile = self.profile(customer)
        self.assertEqual(profile.dunning_level, 4)
        self.assertTrue(profile.credit_hold)
        self.assertTrue(customer.with_company(self.company).credit_hold)
        # The level also gave the collector a phone call to make.
        activity = self.communications(customer)[-1].activity_ids
        self.assertEqual(activity.user_id, self.collector)

    def test_no_dunning_customers_and_invoices_in_payment_are_skipped(self):
        quiet = self.dunned_customer("Quiet Co", ar_no_dunning=True)
        self.invoice_due(quiet, 300.0, "2026-03-01")
        paying = self.dunned_customer("Paying Co")
        invoice = self.invoice_due(paying, 300.0, "2026-03-01")
        self.pay_invoice(invoice, payment_date="2026-03-04", with_journal_entry=False)
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))
        self.run_on("2026-03-10")
        self.assertFalse(self.communications(quiet))
        self.assertFalse(self.communications(paying))

    def test_missing_email_is_reported_and_others_still_go_out(self):
        silent = self.create_customer("No Mail Co", street="3 Road", city="Nice")
        self.invoice_due(silent, 300.0, "2026-03-01")
        reachable = self.dunned_customer("Reachable Co")
        self.invoice_due(reachable, 300.0, "2026-03-01")
        run = self.run_on("2026-03-05")
        run.invalidate_recordset()
        failed = self.communications(silent)
        self.assertEqual(failed.state, "error")
        self.assertIn("No email address", failed.error_message)
        self.assertFalse(failed.mail_id)
        self.assertEqual(self.communications(reachable).state, "sent")
        self.assertEqual((run.sent_count, run.error_count), (1, 1))
        silent.email = "found@nomail.example"
        failed.action_send_again()
        self.assertEqual(failed.state, "sent")

    def test_broken_template_marks_nothing_sent(self):
        broken = self.env["mail.template"].create(
            {
                "name": "Broken",
                "model_id": self.env.ref("ar_credit_control.model_ar_dunning_communication").id,
                "subject": "{{ object.no_such_field }}",
                "body_html": "<p>x</p>",
            }
        )
        self.policy.level_ids.filtered(lambda lv: lv.sequence == 2).mail_template_id = broken
        customer = self.dunned_customer("Template Co")
        self.invoice_due(customer, 300.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(customer)
        self.assertEqual(communication.state, "error")
        self.assertTrue(communication.error_message)
        self.assertFalse(communication.mail_id)
        self.assertFalse(communication.sent_at)

    def test_mail_failure_shows_on_the_communication(self):
        customer = self.dunned_customer("Bounce Co")
        self.invoice_due(customer, 300.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(customer)
        communication.mail_id.sudo().write(
            {"state": "exception", "failure_reason": "550 mailbox unavailable"}
        )
        self.assertEqual(communication.mail_state, "exception")
        self.assertEqual(communication.mail_failure, "550 mailbox unavailable")

    def test_letters_are_rendered_as_pdf(self):
        customer = self.dunned_customer("Letter Co")
        invoice = self.invoice_due(customer, 4321.0, "2026-03-01")
        self.invoice_due(customer, 100.0, "2026-03-20")
        self.run_on("2026-03-15")
        self.run_on("2026-03-16")  # level 3: formal letter attached to the email
        communication = self.communications(customer)[-1]
        self.assertEqual(communication.level_sequence, 3)
        self.assertTrue(communication.letter_attachment_id)
        self.assertIn(communication.letter_attachment_id, communication.mail_id.attachment_ids)
        for report in ("report_dunning_letter", "report_dunning_lawyer_letter"):
            pdf, kind = (
                self.env["ir.actions.report"]
                .with_context(force_report_rendering=True)
                ._render_qweb_pdf(f"ar_credit_control.{report}", communication.ids)
            )
            self.assertEqual(kind, "pdf")
            self.assertTrue(pdf.startswith(b"%PDF"))
            text = " ".join(
                " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
            )
            self.assertIn(invoice.name, text)
            self.assertIn("15", text)  # its own days overdue
            self.assertIn("4,321.00", text)
            self.assertIn("Your account by age", text)
        self.assertIn("legal action", text)

    def test_legal_level_opens_a_legal_case(self):
        customer = self.dunned_customer("Court Co")
        self.invoice_due(customer, 800.0, "2026-01-01")
        for day in ("2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"):
            self.run_on(day)
        communication = self.communications(customer)[-1]
        self.assertEqual(communication.level_sequence, 5)
        case = communication.legal_case_id
        self.assertEqual(case.partner_id, customer)
        self.assertEqual(case.claimed_amount, 800.0)
        self.assertEqual(case.state, "draft")
        self.run_on("2026-03-05")
        self.assertEqual(
            self.env["ar.legal.case"].search_count([("partner_id", "=", customer.id)]), 1
        )

    def test_late_fee_is_a_draft_proposal(self):
        self.policy.write({"late_fee_method": "fixed", "late_fee_fixed_amount": 15.0})
        customer = self.dunned_customer("Fee Co")
        self.invoice_due(customer, 1000.0, "2026-03-01")
        self.invoice_due(customer, 500.0, "2026-03-02")
        self.run_on("2026-03-05")
        fee = self.communications(customer).late_fee_move_id
        self.assertEqual(fee.state, "draft", "never posted silently")
        self.assertEqual(fee.move_type, "out_invoice")
        self.assertEqual(fee.partner_id, customer)
        self.assertEqual(fee.amount_untaxed, 30.0)

    def test_invalid_ladder_is_refused(self):
        with self.assertRaises(ValidationError):
            self.policy.level_ids.filtered(lambda lv: lv.sequence == 3).days = 0

    def test_segment_picks_the_policy(self):
        vip = self.env.ref("ar_credit_control.dunning_policy_vip")
        watch = self.env.ref("ar_credit_control.dunning_policy_watch")
        default = self.env.ref("ar_credit_control.dunning_policy_default")
        policies = self.env["ar.dunning.policy"]._policies_for(self.company)
        self.assertEqual(policies[0], self.policy, "the company's own policy first")
        shared = policies - self.policy
        self.assertEqual(shared._select(shared, "vip", "A"), vip)
        self.assertEqual(shared._select(shared, "watch", "D"), watch)
        self.assertEqual(shared._select(shared, "standard", "B"), default)


@tagged("post_install", "-at_install")
class TestDunningCollections(DunningCommon):
    def test_multi_company_runs_are_separate(self):
        company_2 = self.setup_other_company(name="Dunning Second Co")["company"]
        company_2.partner_id.tz = "UTC"
        customer = self.dunned_customer("Two Books Dunning")
        self.invoice_due(customer, 100.0, "2026-03-01")
        self.invoice_due(customer, 900.0, "2026-03-01", company=company_2)
        self.run_on("2026-03-05")
        self.assertEqual(self.communications(customer).company_id, self.company)
        self.assertEqual(self.communications(customer).amount_due, 100.0)
        # The second company has no policy of its own: the shared default applies.
        run_2 = self.run_on("2026-03-10", company=company_2)
        communication_2 = run_2.communication_ids
        self.assertEqual(communication_2.amount_due, 900.0)
        self.assertEqual(
            communication_2.policy_id, self.env.ref("ar_credit_control.dunning_policy_default")
        )
        seen = self.env["ar.dunning.communication"].with_user(self.collector).search([])
        self.assertNotIn(company_2, seen.company_id)
        self.assertIn(self.company, seen.company_id)

    def test_access_rights(self):
        Run = self.env["ar.dunning.run"]
        with self.assertRaises(AccessError):
            Run.with_user(self.collector).action_run_now()
        with self.assertRaises(AccessError):
            self.policy.with_user(self.collector).name = "Mine"
        with self.assertRaises(AccessError):
            self.env["ar.dunning.policy"].with_user(self.salesperson).search([])
        self.policy.with_user(self.credit_manager).name = "Managed ladder"
        customer = self.dunned_customer("Rights Co")
        invoice = self.invoice_due(customer, 100.0, "2026-03-01")
        log = (
            self.env["ar.collection.log"]
            .with_user(self.collector)
            .create(
                {
                    "partner_id": customer.id,
                    "result": "disputed",
                    "dispute_reason": "quality",
                    "note": "Broken goods",
                    "move_ids": [Command.set(invoice.ids)],
                }
            )
        )
        self.assertEqual(log.dispute_id.move_ids, invoice)
        self.assertEqual(log.dispute_id.state, "open")
        action = Run.with_user(self.credit_manager).action_run_now()
        self.assertEqual(action["res_model"], "ar.dunning.run")

    def test_promised_to_pay_creates_a_promise(self):
        customer = self.dunned_customer("Promising Log Co")
        invoice = self.invoice_due(customer, 600.0, "2026-03-01")
        with self.assertRaises(ValidationError):
            self.env["ar.collection.log"].create({"partner_id": customer.id, "result": "promised"})
        log = (
            self.env["ar.collection.log"]
            .with_user(self.collector)
            .create(
                {
                    "partner_id": customer.id,
                    "result": "promised",
                    "promise_amount": 600.0,
                    "promise_date": "2026-04-01",
                    "date": "2026-03-20",
                }
            )
        )
        promise = log.promise_id
        self.assertEqual(promise.move_ids, invoice, "all overdue invoices by default")
        self.assertEqual(promise.amount, 600.0)
        self.assertEqual(promise.state, "open")

    def test_worklist_orders_by_amount_times_days(self):
        # The worklist counts days from the database's clock: use real dates.
        today = fields.Date.today()
        big_recent = self.dunned_customer("Big Recent Co")
        self.invoice_due(big_recent, 1000.0, today - timedelta(days=2))  # 1000 x 2
        small_old = self.dunned_customer("Small Old Co")
        self.invoice_due(small_old, 100.0, today - timedelta(days=30))  # 100 x 30
        self.run_on(today.isoformat())
        worklist = self.env["ar.collection.worklist"].with_user(self.collector)
        domain = [("partner_id", "in", (big_recent | small_old).ids)]
        rows = worklist.search([("user_id", "=", self.collector.id), *domain])
        self.assertEqual(rows.partner_id, small_old | big_recent)
        self.assertEqual(rows[0].partner_id, small_old)
        self.assertEqual(rows[0].priority, 3000.0)
        self.assertEqual(rows[1].priority, 2000.0)
        # One click: the customer leaves today's list.
        rows[0].action_log_no_answer()
        self.assertEqual(worklist.search(domain).partner_id, big_recent)
        log = self.env["ar.collection.log"].search([("partner_id", "=", small_old.id)])
        self.assertEqual((log.result, log.user_id), ("no_answer", self.collector))
