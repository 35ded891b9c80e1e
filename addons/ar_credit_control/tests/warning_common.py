"""Set-up shared by the early-warning tests: rules of one kind, evaluated as the cron does."""

from datetime import timedelta

from odoo import fields

from .credit_block_common import CreditBlockCommon


class WarningCommon(CreditBlockCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.customer.user_id = cls.collector  # the responsible for its warnings

    @classmethod
    def create_invoice(cls, partner, amount, invoice_date, payment_term=None, **values):
        """Due on the invoice date unless told otherwise."""
        return super().create_invoice(
            partner, amount, invoice_date, payment_term=payment_term or cls.immediate, **values
        )

    @classmethod
    def days_ago(cls, days):
        return cls.today - timedelta(days=days)

    @classmethod
    def rule(cls, rule_type, company=None, **values):
        return cls.env["ar.warning.rule"].create(
            {
                "name": f"Test {rule_type}",
                "rule_type": rule_type,
                "company_id": (company or cls.company).id,
                **values,
            }
        )

    def warnings(self, rule, state=None):
        domain = [("rule_id", "=", rule.id)]
        if state:
            domain.append(("state", "=", state))
        return self.env["ar.credit.warning"].search(domain)

    def activities(self, warnings):
        return self.env["mail.activity"].search(
            [("res_model", "=", "ar.credit.warning"), ("res_id", "in", warnings.ids)]
        )

    def assert_fires_once(self, rule, partner, key=None):
        """Two runs: exactly one active warning and one activity, for `partner`."""
        rule._evaluate()
        rule._evaluate()
        warnings = self.warnings(rule)
        self.assertEqual(len(warnings), 1, warnings.mapped("condition_key"))
        self.assertEqual(warnings.partner_id, partner)
        self.assertEqual(warnings.state, "active")
        if key:
            self.assertEqual(warnings.condition_key, key)
        self.assertEqual(len(self.activities(warnings)), 1 if warnings.user_id else 0)
        return warnings
