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
