"""A statement run picks its customers with open items in SQL alone: the same customers as
the statements themselves would cover."""

from odoo.tests import tagged

from .test_statement import StatementCommon


@tagged("post_install", "-at_install")
class TestStatementTargets(StatementCommon):
    def test_partners_with_open_items_are_the_statements_customers(self):
        open_customer = self.create_customer("Open Items Co")
        self.create_invoice(open_customer, 120.0, self.days_ago(3))
        paid_customer = self.create_customer("Paid Up Co")
        paid = self.create_invoice(paid_customer, 80.0, self.days_ago(9))
        self.pay_invoice(paid, payment_date=self.days_ago(2))
        later_customer = self.create_customer("Invoiced Tomorrow Co")
        self.create_invoice(later_customer, 50.0, self.days_ago(-1))
        contact = self.env["res.partner"].create(
            {"name": "Buyer", "parent_id": open_customer.id, "type": "contact"}
        )
        partners = open_customer | paid_customer | later_customer | contact
        statement = self.env["ar.statement"]
        found = statement._partners_with_open_items(partners, self.company, self.today)
        self.assertEqual(found, [open_customer.id])
        expected = sorted(statement._outstanding_data(partners, self.company, self.today))
        self.assertEqual(found, expected)
        tomorrow = self.days_ago(-1)
        self.assertEqual(
            statement._partners_with_open_items(partners, self.company, tomorrow),
            sorted((open_customer | later_customer).ids),
        )
