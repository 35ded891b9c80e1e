from odoo.tests import tagged
from odoo.tools import html2plaintext

from .warning_common import WarningCommon


@tagged("post_install", "-at_install")
class TestCreditWarningFigures(WarningCommon):
    def test_bulk_money_format_matches_the_currency_format(self):
        warning_model = self.env["ar.credit.warning"]
        for currency in (self.company.currency_id, self.env.ref("base.EUR")):
            format_money = warning_model._money_formatter(currency)
            for amount in (0.0, 5.5, -1234.567, 1234567.891):
                with self.subTest(currency=currency.name, amount=amount):
                    self.assertEqual(format_money(amount), currency.format(amount))

    def test_activity_carries_summary_name_and_escaped_figures(self):
        rule = self.rule("overdue", days=30)
        rule.name = "Overdue <30>"
        invoice = self.create_invoice(self.customer, 1234.5, self.days_ago(31))
        warning = self.assert_fires_once(rule, self.customer)
        activity = self.activities(warning)
        self.assertEqual(activity.summary, f"Overdue <30>: {self.customer.name}")
        self.assertEqual(activity.res_name, self.customer.display_name)
        # The note is sanitized HTML (the no-break spaces of amounts become entities).
        note = html2plaintext(activity.note)
        self.assertEqual(note, warning.figures)
        self.assertIn(invoice.name, note)
        self.assertIn(self.company.currency_id.format(1234.5), note)
        self.assertEqual(activity.user_id, self.collector)
