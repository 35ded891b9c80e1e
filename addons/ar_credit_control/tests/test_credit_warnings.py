from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .warning_common import WarningCommon


@tagged("post_install", "-at_install")
class TestCreditWarnings(WarningCommon):
    def test_overdue_fires_once_for_new_overdue_only_and_resolves_when_paid(self):
        rule = self.rule("overdue", days=30, lookback_days=7)
        late = self.create_invoice(self.customer, 400.0, self.days_ago(33))
        # Long overdue before the look-back: no new warning; not yet 30 days late: none.
        self.create_invoice(self.customer, 300.0, self.days_ago(90))
        self.create_invoice(self.customer, 200.0, self.days_ago(20))
        other = self.create_customer("Punctual Ltd")
        self.create_invoice(other, 100.0, self.days_ago(5))

        warning = self.assert_fires_once(rule, self.customer, key=f"invoice:{late.id}")
        self.assertEqual(warning.user_id, self.collector)
        self.assertIn(late.name, warning.figures)
        self.assertIn("33 days", warning.figures)
        activity = self.activities(warning)
        self.assertEqual(activity.user_id, self.collector)
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("ar_credit_control.mail_activity_credit_warning"),
        )

        self.pay_invoice(late)
        rule._evaluate()
        warning.invalidate_recordset()
        self.assertEqual(warning.state, "resolved")
        self.assertEqual(warning.date_resolved, self.today)
        self.assertFalse(self.activities(warning), "a resolved warning leaves no to-do")
        rule._evaluate()
        self.assertEqual(len(self.warnings(rule)), 1)

    def test_switched_off_rule_raises_nothing(self):
        rule = self.rule("overdue", days=30, lookback_days=7, active=False)
        self.create_invoice(self.customer, 400.0, self.days_ago(33))
        rule._evaluate()
        self.assertFalse(self.warnings(rule))

    def test_utilisation_above_threshold(self):
        self.set_limit(self.customer, 1000.0)
        calm = self.create_customer("Calm Ltd")
        self.set_limit(calm, 1000.0)
        self.create_invoice(self.customer, 950.0, self.today)
        self.create_invoice(calm, 500.0, self.today)
        profiles = self.profile(self.customer) | self.profile(calm)
        self.env["ar.credit.evaluation"]._refresh_snapshots(self.company, profiles)
        self.assertFalse(self.warnings(self.rule("utilisation", threshold_percent=96.0)))
        rule = self.rule("utilisation", threshold_percent=90.0)
        warning = self.assert_fires_once(rule, self.customer, key="utilisation")
        self.assertIn("credit used 95", warning.figures)

    def test_lateness_worse_than_own_history(self):
        def paid(partner, invoice_days_ago, days_late):
            invoice = self.create_invoice(partner, 100.0, self.days_ago(invoice_days_ago))
            self.pay_invoice(invoice, payment_date=self.days_ago(invoice_days_ago - days_late))

        steady = self.create_customer("Steady Ltd")
        for days_ago in (300, 280, 200, 190):
            paid(self.customer, days_ago, 0)
            paid(steady, days_ago, 20)  # always 20 days late: no change
        paid(self.customer, 120, 30)
        paid(self.customer, 100, 26)
        paid(steady, 120, 20)
        paid(steady, 100, 20)

        rule = self.rule("lateness_trend", recent_count=2, margin_days=10.0)
        warning = self.assert_fires_once(rule, self.customer, key="lateness")
        self.assertIn("28.0 days late on average", warning.figures)
        # A margin above the worsening (28 days) keeps quiet.
        self.assertFalse(self.rule("lateness_trend", recent_count=2, margin_days=30.0)._evaluate())
        # Not enough earlier payments to compare with (needs 2k = 8 paid).
        self.assertFalse(self.rule("lateness_trend", recent_count=4, margin_days=1.0)._evaluate())

    def test_broken_promise(self):
        invoice = self.create_invoice(self.customer, 500.0, self.days_ago(40))
        promise = self.env["ar.payment.promise"].create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set(invoice.ids)],
                "amount": 500.0,
                "promised_date": self.days_ago(3),
            }
        )
        rule = self.rule("broken_promise", lookback_days=30)
        rule._evaluate()
        self.assertFalse(self.warnings(rule), "an open promise is not broken")
        promise.state = "broken"
        warning = self.assert_fires_once(rule, self.customer, key=f"promise:{promise.id}")
        self.assertIn("broken", warning.figures)
        promise.state = "kept"
        rule._evaluate()
        self.assertEqual(warning.state, "resolved")

    def test_grade_downgrade(self):
        profile = self.profile(self.customer, grade="D")
        upgraded = self.create_customer("Better Ltd")
        upgraded_profile = self.profile(upgraded, grade="B")
        review = self.env["ar.credit.review"]
        downgrade = review.create(
            {"profile_id": profile.id, "trigger": "cron", "previous_grade": "B", "grade": "D"}
        )
        review.create(
            {
                "profile_id": upgraded_profile.id,
                "trigger": "cron",
                "previous_grade": "D",
                "grade": "B",
            }
        )
        rule = self.rule("grade_downgrade", lookback_days=30)
        warning = self.assert_fires_once(rule, self.customer, key=f"review:{downgrade.id}")
        self.assertIn("from B to D", warning.figures)
        profile.grade = "B"  # the downgrade no longer holds
        rule._evaluate()
        self.assertEqual(warning.state, "resolved")

    def test_large_order_from_watch_segment(self):
        self.profile(self.customer, segment="watch")
        standard = self.create_customer("Standard Ltd")
        self.profile(standard, segment="standard")
        big = self.create_order(self.customer, 20000.0)
        small = self.create_order(self.customer, 5000.0)
        (big | small | self.create_order(standard, 20000.0)).action_confirm()
        rule = self.rule("large_order", amount_threshold=10000.0, lookback_days=7)
        warning = self.assert_fires_once(rule, self.customer, key=f"order:{big.id}")
        self.assertIn(big.name, warning.figures)

    def test_pre_due_reminder_follows_the_grade_policy(self):
        self.env["ar.credit.policy"]._ensure_defaults(self.company)
        policies = self.env["ar.credit.policy"].search([("company_id", "=", self.company.id)])
        policies.filtered(lambda p: p.grade == "B").pre_due_reminder = True
        self.profile(self.customer, grade="B")
        other = self.create_customer("Grade C Ltd")
        self.profile(other, grade="C")
        soon = self.create_invoice(self.customer, 100.0, self.days_ago(-3))
        self.create_invoice(self.customer, 100.0, self.days_ago(-20))  # not within 5 days
        self.create_invoice(other, 100.0, self.days_ago(-3))  # policy wants no reminder
        rule = self.rule("pre_due", days=5)
        warning = self.assert_fires_once(rule, self.customer, key=f"invoice:{soon.id}")
        self.assertIn(soon.name, warning.figures)

    def test_customer_without_salesperson_goes_to_the_rule_collector(self):
        orphan = self.create_customer("Orphan Ltd")
        rule = self.rule("overdue", days=30, responsible_user_id=self.credit_manager.id)
        self.create_invoice(orphan, 100.0, self.days_ago(31))
        warning = self.assert_fires_once(rule, orphan)
        self.assertEqual(self.activities(warning).user_id, self.credit_manager)

    def test_activity_is_created_by_the_orm_for_the_responsible_user(self):
        """mail.activity's own create runs: the responsible user follows the warning and their
        activity counter is told (bus); no "assigned to you" message per to-do."""
        rule = self.rule("overdue", days=30, lookback_days=7)
        self.create_invoice(self.customer, 400.0, self.days_ago(33))
        messages_before = self.env["mail.message"].search_count([])
        self.env.cr.precommit.data.pop("bus.bus.values", None)

        warning = rule._evaluate()
        self.assertEqual(len(warning.activity_ids), 1)
        activity = warning.activity_ids
        self.assertEqual(activity.user_id, self.collector)
        self.assertTrue(activity.automated)
        self.assertEqual(activity.res_name, "Credit Customer")
        self.assertIn(self.collector.partner_id, warning.message_partner_ids)
        bus = [
            value
            for value in self.env.cr.precommit.data.get("bus.bus.values", [])
            if "mail.activity/updated" in value["message"]
        ]
        self.assertTrue(
            any(f'"res.partner",{self.collector.partner_id.id}]' in v["channel"] for v in bus),
            bus,
        )
        self.assertEqual(
            self.env["mail.message"].search_count([]),
            messages_before,
            "no notification per to-do: the digest tells the credit managers",
        )

    def test_activity_speaks_the_responsible_users_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["ar_credit_control"], ["zh_CN"])
        self.collector.lang = "zh_CN"
        rule = self.rule("overdue", days=30, lookback_days=7)
        rule.with_context(lang="zh_CN").name = "逾期规则"
        late = self.create_invoice(self.customer, 400.0, self.days_ago(33))
        activity = rule._evaluate().activity_ids
        self.assertEqual(activity.summary, "逾期规则：Credit Customer")
        self.assertIn(f"发票 {late.name}", activity.note)
        self.assertIn("已逾期 33 天", activity.note)

    def test_negative_parameters_rejected_with_a_clear_message(self):
        for field_name, label in (
            ("threshold_percent", "utilisation threshold"),
            ("days", "number of days"),
            ("lookback_days", "look-back period"),
            ("margin_days", "lateness margin"),
            ("amount_threshold", "order amount"),
            ("recent_count", "number of recent payments"),
        ):
            with self.subTest(field=field_name), self.assertRaises(ValidationError) as caught:
                self.rule("overdue", **{field_name: -1})
            self.assertIn(f"the {label} cannot be negative", str(caught.exception))
        rule = self.rule("lateness_trend")
        with self.assertRaises(ValidationError):
            rule.recent_count = 0

    def test_partner_flag_counts_active_warnings_in_this_company(self):
        rule = self.rule("overdue", days=30)
        self.create_invoice(self.customer, 400.0, self.days_ago(31))
        self.create_invoice(self.customer, 300.0, self.days_ago(32))
        self.assertEqual(self.customer.credit_warning_count, 0)
        rule._evaluate()
        self.customer.invalidate_recordset(["credit_warning_count"])
        self.assertEqual(self.customer.with_user(self.collector).credit_warning_count, 2)
        flagged = self.env["res.partner"].search([("credit_warning_count", ">", 0)])
        self.assertIn(self.customer, flagged)
        self.assertNotIn(self.create_customer("Quiet Ltd"), flagged)

    def test_digest_lists_new_warnings_once_to_credit_managers(self):
        rule = self.rule("overdue", days=30)
        first = self.create_invoice(self.customer, 400.0, self.days_ago(31))
        second = self.create_invoice(self.customer, 300.0, self.days_ago(32))
        rule._evaluate()
        mails = self.env["ar.credit.warning"]._send_digest(listed=1)
        mail = mails.filtered(lambda m: m.model == "res.company" and m.res_id == self.company.id)
        self.assertEqual(len(mail), 1)
        self.assertIn(self.credit_manager.partner_id, mail.recipient_ids)
        self.assertNotIn(self.collector.partner_id, mail.recipient_ids)
        self.assertIn("new credit warnings", mail.subject)
        body = mail.body_html
        self.assertIn("Test overdue: 2", body)
        self.assertIn("Credit Customer", body)
        # One listed in detail (ordered by id: the first raised), the other counted.
        listed = [name for name in (first.name, second.name) if name in body]
        self.assertEqual(len(listed), 1, body)
        self.assertIn("And 1 more", body)
        self.assertFalse(
            self.env["ar.credit.warning"]
            ._send_digest()
            .filtered(lambda m: m.res_id == self.company.id),
            "a warning is in one digest only",
        )

    def test_multi_company_rules_and_visibility(self):
        other = self.setup_other_company()["company"]
        rule_a = self.rule("overdue", days=30)
        rule_b = self.rule("overdue", company=other, days=30)
        self.create_invoice(self.customer, 100.0, self.days_ago(31))
        foreign = self.create_invoice(self.customer, 200.0, self.days_ago(31), company=other)
        (rule_a | rule_b)._evaluate()
        self.assertEqual(self.warnings(rule_b).condition_key, f"invoice:{foreign.id}")
        self.assertEqual(self.warnings(rule_b).company_id, other)
        self.assertEqual(len(self.warnings(rule_a)), 1)
        seen = (
            self.env["ar.credit.warning"]
            .with_user(self.collector)
            .search([("partner_id", "=", self.customer.id)])
        )
        self.assertEqual(seen.rule_id, rule_a, "a collector sees their own company's warnings")
