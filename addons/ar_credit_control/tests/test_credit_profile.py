import json
import math
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditProfile(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.evaluation = cls.env["ar.credit.evaluation"]
        cls.half_now_half_30 = cls.env["account.payment.term"].create(
            {
                "name": "50% now, 50% in 30 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 30}),
                ],
            }
        )
        cls.net_30 = cls.env["account.payment.term"].create(
            {
                "name": "Net 30",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})
                ],
            }
        )

    def days_ago(self, days):
        return self.today - timedelta(days=days)

    def evaluate(self, partner, company=None):
        company = company or self.company
        # Odoo's test base disables tracking; credit changes must be tracked here.
        self.evaluation.with_context(tracking_disable=False, mail_notrack=False)._evaluate_partners(
            partner, company, trigger="manual"
        )
        return self.env["ar.credit.profile"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", company.id)]
        )

    def history(self, partner, days_late, invoices=6, amount=1000.0, first_days_ago=400):
        """Invoices on net 30 over the past, each paid `days_late` days after its due date
        (the last one early enough for its payment date to be in the past)."""
        last_days_ago = 30 + days_late + 5
        step = (first_days_ago - last_days_ago) // max(invoices - 1, 1)
        for n in range(invoices):
            invoice_date = self.days_ago(first_days_ago - n * step)
            invoice = self.create_invoice(partner, amount, invoice_date, payment_term=self.net_30)
            self.pay_invoice(invoice, payment_date=invoice_date + timedelta(days=30 + days_late))

    # ------------------------------------------------------------------ facts and grades

    def test_lateness_is_measured_per_instalment(self):
        """Two instalments paid by one payment 40 days after the invoice: the first is 40
        days late, the second (due at 30 days) 10 days: amount-weighted average 25."""
        customer = self.create_customer("Instalment Co")
        invoice_date = self.days_ago(100)
        invoice = self.create_invoice(
            customer, 1000.0, invoice_date, payment_term=self.half_now_half_30
        )
        maturities = invoice.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).mapped("date_maturity")
        self.assertEqual(sorted(maturities), [invoice_date, invoice_date + timedelta(days=30)])
        self.pay_invoice(invoice, payment_date=invoice_date + timedelta(days=40))
        profile = self.env["ar.credit.profile"]._get_or_create(customer, self.company)
        [facts], *_rest = self.evaluation._gather_facts(profile, self.company, self.today)
        self.assertEqual(facts.paid_instalment_count, 2)
        self.assertAlmostEqual(facts.avg_days_late, 25.0)
        self.assertAlmostEqual(facts.max_days_late, 40.0)
        self.assertAlmostEqual(facts.share_paid_on_time, 0.0)
        self.assertEqual(facts.amount_overdue, 0.0)

    def test_grades_follow_payment_behaviour(self):
        prompt = self.create_customer("Prompt Payer")
        self.history(prompt, days_late=0)
        late = self.create_customer("Late Payer")
        self.history(late, days_late=75)
        # ... and an invoice 95 days overdue.
        self.create_invoice(late, 3000.0, self.days_ago(125), payment_term=self.net_30)
        newcomer = self.create_customer("Newcomer")
        self.create_invoice(newcomer, 500.0, self.days_ago(5), payment_term=self.net_30)

        prompt_profile = self.evaluate(prompt)
        late_profile = self.evaluate(late)
        new_profile = self.evaluate(newcomer)
        self.assertEqual(prompt_profile.grade, "A", prompt_profile.reasons_text)
        self.assertIn(late_profile.grade, ("D", "E"), late_profile.reasons_text)
        self.assertLess(late_profile.score, prompt_profile.score)
        self.assertEqual(new_profile.grade, "new")
        # The reasons speak of the real figures.
        reasons = json.loads(late_profile.reasons_json)
        codes = {r["code"] for r in reasons}
        self.assertIn("late_payments", codes)
        self.assertIn("overdue", codes)
        late_reason = next(r for r in reasons if r["code"] == "late_payments")
        self.assertEqual(late_reason["params"]["late_share_pct"], 100)
        self.assertIn("late in the last 12 months, average 75 days", late_profile.reasons_text)
        self.assertIn("oldest 95 days", late_profile.reasons_text)
        # Shown on the partner form for the current company.
        self.assertEqual(late.credit_grade, late_profile.grade)
        self.assertEqual(late.amount_overdue, 3000.0)
        self.assertEqual(late.oldest_overdue_days, 95)

    def test_open_disputes_lower_the_score_until_resolved(self):
        customer = self.create_customer("Disputing Co")
        self.history(customer, days_late=0, invoices=4)
        invoice = self.create_invoice(customer, 2000.0, self.days_ago(20), payment_term=self.net_30)
        clean_score = self.evaluate(customer).score
        dispute = (
            self.env["ar.dispute"]
            .with_user(self.collector)
            .create(
                {
                    "partner_id": customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "reason": "quality",
                }
            )
        )
        self.assertEqual(dispute.amount_disputed, 2000.0)
        profile = self.evaluate(customer)
        self.assertLess(profile.score, clean_score)
        disputes = next(r for r in json.loads(profile.reasons_json) if r["code"] == "disputes")
        self.assertEqual(disputes["params"]["disputed_count"], 1)
        self.assertEqual(disputes["params"]["disputed_amount"], 2000.0)
        with self.assertRaises(UserError):  # no resolution written yet
            dispute.with_user(self.collector).action_resolve()
        dispute.with_user(self.collector).write({"resolution": "Replacement shipped"})
        dispute.with_user(self.collector).action_resolve()
        self.assertEqual(self.evaluate(customer).score, clean_score)

    def test_reasons_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["ar_credit_control"], ["zh_CN"])
        late = self.create_customer("Late Payer zh")
        self.history(late, days_late=20, invoices=3)
        profile = self.evaluate(late)
        text = profile.with_context(lang="zh_CN").reasons_text
        self.assertTrue(text)
        self.assertIn("天", text, "reasons are rendered from the zh_CN translation")

    def test_missing_profiles_are_created_with_the_orms_defaults(self):
        """Profiles the system opens are created by the ORM: a default set for new profiles
        (here a user-defined one) applies, the salesperson comes from the customer."""
        self.env["ir.default"].set("ar.credit.profile", "settlement_cycle", "monthly")
        customer = self.create_customer("Defaulted Co", user_id=self.salesperson.id)
        existing = self.create_customer("Existing Co")
        before = self.env["ar.credit.profile"]._get_or_create(existing, self.company)
        profiles = self.env["ar.credit.profile"]._get_or_create(customer | existing, self.company)
        self.assertEqual(len(profiles), 2)
        self.assertIn(before, profiles)
        profile = profiles - before
        self.assertEqual(profile.partner_id, customer)
        self.assertEqual(profile.settlement_cycle, "monthly")
        self.assertEqual(profile.segment, "standard")
        self.assertEqual(profile.user_id, self.salesperson)
        self.assertEqual(profile.create_uid, self.env.user)
        self.assertEqual(
            self.env["ar.credit.profile"]._get_or_create(customer, self.company), profile
        )

    def test_every_evaluation_is_reviewed(self):
        customer = self.create_customer("Reviewed Co")
        self.history(customer, days_late=0, invoices=3)
        profile = self.evaluate(customer)
        # Odoo does not track records created in the same transaction: end it as a real
        # request would, then change the grade.
        self.flush_tracking()
        self.create_invoice(customer, 9000.0, self.days_ago(150), payment_term=self.net_30)
        self.evaluate(customer)
        reviews = profile.review_ids.sorted("id")
        self.assertEqual(len(reviews), 2)
        self.assertFalse(reviews[0].previous_grade)
        self.assertEqual(reviews[1].previous_grade, reviews[0].grade)
        self.assertEqual(reviews[1].grade, profile.grade)
        self.assertNotEqual(reviews[0].grade, reviews[1].grade, "the overdue invoice lowers it")
        self.assertEqual(set(reviews.mapped("trigger")), {"manual"})
        # The grade change is tracked on the profile.
        self.assertIn("grade", self.tracked_fields(profile))

    # ------------------------------------------------------------------ policy

    def test_policy_sets_limit_from_sales_and_holds_the_worst(self):
        good = self.create_customer("Good Co")
        self.history(good, days_late=0, invoices=6, amount=2000.0)
        profile = self.evaluate(good)
        self.assertEqual(profile.grade, "A")
        self.flush_tracking()  # the customer was created in this transaction
        profile.with_user(self.credit_manager).with_context(
            tracking_disable=False, mail_notrack=False
        ).action_apply_policy()
        expected = profile.invoiced_last_12_months / 12 * 3  # grade A: 3 months of sales
        limit = good.with_company(self.company).credit_limit
        self.assertAlmostEqual(limit, math.floor(expected / 1000 + 0.5) * 1000)  # half up
        self.assertGreater(limit, 0)
        self.assertFalse(profile.credit_hold)
        self.assertIn("credit_limit", self.tracked_fields(good))

        bad = self.create_customer("Bad Co")
        self.history(bad, days_late=120, invoices=4)
        self.create_invoice(bad, 5000.0, self.days_ago(200), payment_term=self.net_30)
        bad.with_company(self.company).sudo().credit_limit = 7000
        bad_profile = self.evaluate(bad)
        self.assertEqual(bad_profile.grade, "E", bad_profile.reasons_text)
        bad_profile.with_user(self.credit_manager).action_apply_policy()
        self.assertTrue(bad_profile.credit_hold)
        self.assertEqual(bad_profile.prepayment_percent, 100)
        self.assertEqual(bad.with_company(self.company).credit_limit, 7000, "never set to 0")

    def test_policy_without_limit_hold_or_prepayment_is_refused(self):
        policy = self.env["ar.credit.policy"].search(
            [("company_id", "=", self.company.id), ("grade", "=", "E")]
        )
        with self.assertRaises(ValidationError):
            policy.write({"limit_months": 0, "credit_hold": False, "prepayment_percent": 0})

    def test_auto_applied_policy(self):
        self.env["ar.credit.policy"].search(
            [("company_id", "=", self.company.id), ("grade", "=", "E")]
        ).auto_apply = True
        bad = self.create_customer("Auto Hold Co")
        self.history(bad, days_late=120, invoices=4)
        self.create_invoice(bad, 5000.0, self.days_ago(200), payment_term=self.net_30)
        profile = self.evaluate(bad)
        self.assertEqual(profile.grade, "E")
        self.assertTrue(profile.credit_hold)
        self.assertTrue(bad.credit_hold)

    def test_segment_rules(self):
        self.env["ar.credit.segment.rule"].create(
            [
                {
                    "segment": "vip",
                    "best_grade": "A",
                    "worst_grade": "A",
                    "min_revenue": 5000,
                    "sequence": 1,
                },
                {"segment": "watch", "best_grade": "D", "worst_grade": "E", "sequence": 2},
            ]
        )
        vip = self.create_customer("VIP Co")
        self.history(vip, days_late=0, invoices=6, amount=2000)
        self.assertEqual(self.evaluate(vip).segment, "vip")
        locked = self.create_customer("Locked Co")
        self.history(locked, days_late=0, invoices=6, amount=2000)
        profile = self.env["ar.credit.profile"]._get_or_create(locked, self.company)
        profile.write({"segment": "standard", "segment_locked": True})
        self.assertEqual(self.evaluate(locked).segment, "standard")
        with self.assertRaises(ValidationError):
            self.env["ar.credit.segment.rule"].create(
                {"segment": "vip", "best_grade": "D", "worst_grade": "A"}
            )

    def test_bad_scoring_settings_are_refused(self):
        with self.assertRaises(ValidationError):
            self.company.ar_grade_cutoff_b = 90  # above A's 80
        with self.assertRaises(ValidationError):
            self.company.ar_weight_lateness = -1

    # ------------------------------------------------------------------ exposure

    def test_live_exposure(self):
        customer = self.create_customer("Exposure Co")
        customer.with_company(self.company).sudo().credit_limit = 5000
        self.create_invoice(customer, 1000.0, self.days_ago(10), payment_term=self.net_30)
        self.create_invoice(customer, 200.0, self.days_ago(1), post=False)
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "product_uom_qty": 2,
                            "price_unit": 150.0,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        payment = self.env["account.payment"].create(
            {
                "partner_id": customer.id,
                "amount": 150.0,
                "payment_type": "inbound",
                "partner_type": "customer",
                "date": self.days_ago(2),
            }
        )
        payment.action_post()
        customer.invalidate_recordset()
        self.assertEqual(customer.credit_open_receivable, 1000.0 - 150.0)
        self.assertEqual(customer.credit_draft_invoiced, 200.0)
        self.assertEqual(customer.credit_uninvoiced_orders, 300.0)
        self.assertEqual(customer.credit_exposure, 1350.0)
        self.assertEqual(customer.credit_available, 5000.0 - 1350.0)
        self.assertAlmostEqual(customer.credit_utilisation, 27.0)
        # Partly invoiced order: only the rest counts; the invoice counts once.
        order_invoice = order._create_invoices()
        order_invoice.invoice_line_ids.quantity = 1
        order_invoice.action_post()
        customer.invalidate_recordset()
        self.assertEqual(customer.credit_uninvoiced_orders, 150.0)
        self.assertEqual(customer.credit_exposure, 1000.0 - 150.0 + 200.0 + 150.0 + 150.0)
        # Without draft invoices (setting).
        self.company.ar_exposure_include_draft_invoices = False
        customer.invalidate_recordset()
        self.assertEqual(customer.credit_draft_invoiced, 0.0)
        # Contacts' documents count for their company.
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": customer.id})
        self.create_invoice(contact, 50.0, self.days_ago(1), payment_term=self.net_30)
        customer.invalidate_recordset()
        self.assertEqual(customer.credit_open_receivable, 1000.0 - 150.0 + 150.0 + 50.0)

    def test_in_payment_invoice_is_not_overdue(self):
        """With Odoo's accounting app a payment can be registered without a journal entry: the
        invoice shows "in payment" while its receivable stays open until the bank statement
        is matched. Community always books the payment, so the test enables that hook the way
        the accounting app does."""
        customer = self.create_customer("In Payment Co")
        invoice = self.create_invoice(customer, 800.0, self.days_ago(60), payment_term=self.net_30)
        customer.invalidate_recordset()
        self.assertEqual(customer.amount_overdue, 800.0)
        move_class = type(self.env["account.move"])
        with patch.object(move_class, "_get_invoice_in_payment_state", lambda self: "in_payment"):
            self.pay_invoice(invoice, payment_date=self.days_ago(1), with_journal_entry=False)
            self.assertEqual(invoice.payment_state, "in_payment")
        self.assertEqual(invoice.amount_residual, 800.0, "still open in the books")
        customer.invalidate_recordset()
        self.assertEqual(customer.amount_overdue, 0.0)
        self.assertEqual(customer.credit_exposure, 0.0)
        profile = self.evaluate(customer)
        self.assertNotIn("overdue", profile.reasons_json)

    def test_snapshot_is_refreshed_in_batch_not_on_posting(self):
        customer = self.create_customer("Snapshot Co")
        customer.with_company(self.company).sudo().credit_limit = 1000
        self.create_invoice(customer, 500.0, self.days_ago(5), payment_term=self.net_30)
        profile = self.evaluate(customer)
        self.assertEqual(profile.exposure, 500.0)
        self.assertEqual(profile.utilisation, 50.0)
        self.create_invoice(customer, 700.0, self.days_ago(1), payment_term=self.net_30)
        self.assertEqual(profile.exposure, 500.0, "posting does not rewrite the snapshot")
        self.evaluation._refresh_snapshots(self.company)
        self.assertEqual(profile.exposure, 1200.0)
        self.assertEqual(profile.available_credit, -200.0)
        over = self.env["ar.credit.profile"].search([("utilisation", ">", 100)])
        self.assertIn(profile, over)
        grouped = self.env["ar.credit.profile"].read_group(
            [("id", "=", profile.id)], ["exposure:sum"], ["grade"]
        )
        self.assertEqual(grouped[0]["exposure"], 1200.0)

    # ------------------------------------------------------------------ rights

    def test_salesperson_with_invoicing_rights_cannot_change_credit(self):
        customer = self.create_customer("Rights Co")
        as_seller = customer.with_user(self.salesperson)
        # Plain Odoo lets an invoicing user edit the limit; we refuse.
        with self.assertRaises(AccessError):
            as_seller.write({"credit_limit": 99999})
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.salesperson).create(
                {"name": "Sneaky", "credit_limit": 5000}
            )
        profile = self.env["ar.credit.profile"]._get_or_create(customer, self.company)
        with self.assertRaises(AccessError):
            profile.with_user(self.salesperson).write({"credit_hold": False})
        with self.assertRaises(AccessError):
            profile.with_user(self.collector).write({"grade": "A"})
        with self.assertRaises(AccessError):
            as_seller.action_evaluate_credit()
        # The salesperson still sees the grade and exposure, and can edit other fields.
        self.assertFalse(as_seller.credit_hold)
        as_seller.write({"phone": "+1 555 0100"})
        # The credit manager changes the limit, and the change is tracked.
        customer.with_user(self.credit_manager).write({"credit_limit": 4000})
        self.assertEqual(customer.with_company(self.company).credit_limit, 4000)

    def test_limits_import_like_a_spreadsheet(self):
        a = self.create_customer("Import A")
        b = self.create_customer("Import B")
        rows = [[str(a.id), "2500"], [str(b.id), "7500"]]
        result = (
            self.env["res.partner"]
            .with_user(self.credit_manager)
            .load([".id", "credit_limit"], rows)
        )
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(a.with_company(self.company).credit_limit, 2500)
        self.assertEqual(b.with_company(self.company).credit_limit, 7500)
        refused = (
            self.env["res.partner"]
            .with_user(self.salesperson)
            .load([".id", "credit_limit"], [[str(a.id), "1"]])
        )
        self.assertTrue(refused["messages"])
        self.assertEqual(a.with_company(self.company).credit_limit, 2500)

    def test_multi_company_isolation(self):
        other = self.setup_other_company(name="Company B")["company"]
        customer = self.create_customer("Shared Customer")
        self.history(customer, days_late=90, invoices=4)
        profile_a = self.evaluate(customer)
        profile_b = self.evaluate(customer, company=other)
        self.assertNotEqual(profile_a, profile_b)
        self.assertEqual(profile_b.grade, "new", "company B has no history with them")
        self.assertEqual(profile_b.amount_overdue, 0.0)
        user_b = self.credit_manager.copy(
            {"login": "manager_b", "company_id": other.id, "company_ids": [Command.set(other.ids)]}
        )
        visible = (
            self.env["ar.credit.profile"]
            .with_user(user_b)
            .search([("partner_id", "=", customer.id)])
        )
        self.assertEqual(visible, profile_b)
        with self.assertRaises(AccessError):
            profile_a.with_user(user_b).read(["grade"])
        self.assertEqual(customer.with_user(user_b).with_company(other).credit_grade, "new")
        self.assertEqual(customer.with_company(self.company).credit_grade, profile_a.grade)
        self.assertEqual(
            self.env["ar.credit.policy"].search_count([("company_id", "=", other.id)]),
            6,
            "a new company gets the default policy table",
        )

    # ------------------------------------------------------------------ cron

    def test_cron_evaluates_in_chunks_and_resumes(self):
        customers = self.env["res.partner"]
        for n in range(3):
            customer = self.create_customer(f"Cron Co {n}")
            self.create_invoice(customer, 100.0 * (n + 1), self.days_ago(5))
            customers |= customer
        cron = self.env.ref("ar_credit_control.ir_cron_credit_evaluation")
        with patch.object(self.env.cr, "commit", lambda *args: None):
            # A zero time budget still evaluates one chunk per call, then reports the rest.
            more = self.evaluation._cron_evaluate_credit(chunk_size=1, time_budget=0)
            self.assertFalse(more)
            evaluated = self.env["ar.credit.profile"].search(
                [("partner_id", "in", customers.ids), ("last_evaluation_date", "!=", False)]
            )
            self.assertEqual(len(evaluated), 1)
            # The real cron entry point finishes the rest and reports its progress.
            cron.method_direct_trigger()
        profiles = self.env["ar.credit.profile"].search([("partner_id", "in", customers.ids)])
        self.assertEqual(len(profiles), 3)
        self.assertTrue(all(profiles.mapped("last_evaluation_date")))
        self.assertEqual(
            self.env["ar.credit.review"].search_count([("partner_id", "in", customers.ids)]),
            3,
            "each customer evaluated exactly once today",
        )
        progress = self.env["ir.cron.progress"].search(
            [("cron_id", "=", cron.id)], limit=1, order="id desc"
        )
        self.assertEqual(progress.remaining, 0)
        self.assertGreaterEqual(progress.done, 2)

    def test_cron_day_starts_at_midnight_in_the_users_time_zone(self):
        # 23:30 UTC is already the next morning in Shanghai: "evaluated today" means since
        # 16:00 UTC the day before, whatever the server's clock says.
        with freeze_time("2026-03-10 23:30:00"):
            shanghai = self.evaluation.with_context(tz="Asia/Shanghai")._start_of_today_utc()
            utc = self.evaluation.with_context(tz="UTC")._start_of_today_utc()
        self.assertEqual(str(shanghai), "2026-03-10 16:00:00")
        self.assertEqual(str(utc), "2026-03-10 00:00:00")

    def test_profile_form_for_credit_manager(self):
        customer = self.create_customer("Form Co")
        profile = self.env["ar.credit.profile"]._get_or_create(customer, self.company)
        with Form(profile.with_user(self.credit_manager)) as form:
            form.external_rating = "B"
            form.industry_risk = "high"
        self.assertEqual(profile.external_rating, "B")
        self.evaluate(customer)
        self.assertIn("high industry risk", profile.reasons_text)
