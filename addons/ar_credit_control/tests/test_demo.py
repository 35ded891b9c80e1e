from collections import Counter
from datetime import date, timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged

from ..models.ar_credit_demo import DEMO_HISTORIES


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    def test_demo_customers_land_in_every_grade(self):
        if not self.env.ref("ar_credit_control.demo_partner_grade_a", raise_if_not_found=False):
            self.skipTest("installed without demo data")
        grades = {}
        for xmlid, _invoices, expected in DEMO_HISTORIES:
            partner = self.env.ref(f"ar_credit_control.{xmlid}")
            profile = self.env["ar.credit.profile"].search(
                [("partner_id", "=", partner.id), ("company_id", "=", self.env.company.id)]
            )
            self.assertEqual(profile.grade, expected, f"{partner.name}: {profile.reasons_text}")
            self.assertTrue(profile.reasons_text)
            grades[expected] = partner
        self.assertEqual(set(grades), {"A", "B", "C", "D", "E", "new"})

    def test_demo_switches_the_credit_block_on(self):
        if not self.env.ref("ar_credit_control.demo_partner_grade_a", raise_if_not_found=False):
            self.skipTest("installed without demo data")
        self.assertTrue(self.env.ref("base.main_company").ar_credit_block_enabled)


@tagged("post_install", "-at_install")
class TestDemoLife(TransactionCase):
    """The demo database shows every state a credit controller meets, reached by the
    features themselves over about 200 customers with 18 months of history."""

    def setUp(self):
        super().setUp()
        if not self.env.ref("ar_credit_control.demo_partner_grade_a", raise_if_not_found=False):
            self.skipTest("installed without demo data")
        self.company = self.env.ref("base.main_company")
        self.profiles = self.env["ar.credit.profile"].search(
            [("company_id", "=", self.company.id), ("partner_id.ref", "=like", "DEMO-%")]
        )

    def count(self, model, domain):
        return self.env[model].search_count([("company_id", "=", self.company.id), *domain])

    def test_customers_in_every_grade_and_segment_with_limits(self):
        self.assertGreaterEqual(len(self.profiles), 190)
        grades = Counter(self.profiles.mapped("grade"))
        for grade in ("A", "B", "C", "D", "E", "new"):
            self.assertGreaterEqual(grades[grade], 2, f"grade {grade}: {grades}")
        segments = Counter(self.profiles.mapped("segment"))
        for segment in ("vip", "standard", "watch"):
            self.assertGreaterEqual(segments[segment], 2, f"segment {segment}: {segments}")
        limited = self.profiles.filtered(lambda p: p.credit_limit > 0)
        self.assertGreaterEqual(len(limited), len(self.profiles) // 2)
        self.assertTrue(limited.filtered(lambda p: p.available_credit > 0 and p.utilisation > 0))
        partner = limited[0].partner_id.with_company(self.company)
        self.assertEqual(partner.credit_limit, limited[0].credit_limit)

    def test_eighteen_months_of_invoices_in_several_currencies(self):
        invoices = self.env["account.move"].search(
            [
                ("company_id", "=", self.company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("partner_id", "in", self.profiles.partner_id.ids),
            ]
        )
        self.assertGreaterEqual(len(invoices), 250)
        oldest = min(invoices.mapped("invoice_date"))
        self.assertLessEqual(oldest, date.today() - timedelta(days=500))
        foreign = invoices.filtered(lambda m: m.currency_id != self.company.currency_id)
        self.assertTrue(foreign, "no invoice in a foreign currency")
        states = Counter(invoices.mapped("payment_state"))
        for state in ("paid", "partial", "not_paid"):
            self.assertTrue(states[state], f"no {state} invoice: {states}")
        self.assertTrue(
            self.env["account.move"].search_count(
                [
                    ("move_type", "=", "out_refund"),
                    ("partner_id", "in", self.profiles.partner_id.ids),
                ]
            )
        )

    def test_every_dunning_level_and_collection_state(self):
        policy = self.env.ref("ar_credit_control.dunning_policy_default")
        ladder = policy.level_ids.filtered(lambda level: level.days >= 1).mapped("sequence")
        reached = set(self.profiles.mapped("dunning_level"))
        self.assertEqual(set(ladder) - reached, set(), f"levels reached: {sorted(reached)}")
        self.assertIn(0, reached)
        self.assertGreaterEqual(self.count("ar.dunning.run", [("state", "=", "done")]), 5)
        self.assertTrue(
            self.count("ar.dunning.communication", [("letter_attachment_id", "!=", False)])
        )
        promises = Counter(
            self.env["ar.payment.promise"]
            .search([("partner_id", "in", self.profiles.partner_id.ids)])
            .mapped("state")
        )
        for state in ("open", "kept", "broken"):
            self.assertTrue(promises[state], f"no {state} promise: {promises}")
        self.assertTrue(self.count("ar.dispute", [("state", "=", "open")]))
        self.assertTrue(self.count("ar.dispute", [("state", "=", "resolved")]))

    def test_holds_warnings_statements_forecast_and_unapplied_cash(self):
        held = self.env["sale.order"].search(
            [
                ("company_id", "=", self.company.id),
                ("credit_hold", "=", True),
                ("credit_approval_state", "=", "requested"),
                ("state", "in", ("draft", "sent")),
            ]
        )
        self.assertTrue(held, "no order waits for credit approval")
        self.assertTrue(held.activity_ids, "no credit manager was asked")
        self.assertTrue(self.count("ar.credit.warning", [("state", "=", "active")]))
        self.assertTrue(self.count("ar.statement.run.line", [("state", "=", "sent")]))
        self.assertTrue(self.count("ar.collection.forecast", []))
        # The overview's DSO/CEI trend has its months.
        overview = self.env["ar.overview"].with_context(allowed_company_ids=self.company.ids)
        trend = overview._kpi_trend(self.company, fields.Date.today())
        self.assertTrue(any(month["dso"] is not None for month in trend))
        unapplied = self.env["account.move.line"].search_count(
            [
                ("company_id", "=", self.company.id),
                ("partner_id", "in", self.profiles.partner_id.ids),
                ("account_id.account_type", "=", "asset_receivable"),
                ("payment_id", "!=", False),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("amount_residual", "<", 0),
            ]
        )
        self.assertTrue(unapplied, "no payment left on account")
