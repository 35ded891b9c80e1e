from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCollectionForecast(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.regular = cls.create_customer("Regular Ltd", user_id=cls.salesperson.id)
        # History: three invoices, each paid 10 days after its due date.
        for days_ago in (200, 150, 100):
            invoice = cls.create_invoice(cls.regular, 100.0, cls.days_ago(days_ago))
            cls.pay_invoice(invoice, payment_date=cls.days_ago(days_ago - 10))

    @classmethod
    def create_invoice(cls, partner, amount, invoice_date, payment_term=None, **values):
        """Due on the invoice date unless told otherwise."""
        return super().create_invoice(
            partner,
            amount,
            invoice_date,
            payment_term=payment_term or cls.env.ref("account.account_payment_term_immediate"),
            **values,
        )

    @classmethod
    def days_ago(cls, days):
        return cls.today - timedelta(days=days)

    def refresh(self, company=None):
        return self.env["ar.collection.forecast"]._refresh(company or self.company)

    def line(self, invoice):
        return self.env["ar.collection.forecast"].search([("move_id", "=", invoice.id)])

    def test_customer_history_moves_the_date(self):
        invoice = self.create_invoice(self.regular, 300.0, self.today)
        self.refresh()
        line = self.line(invoice)
        self.assertEqual(line.basis, "customer")
        self.assertEqual(line.predicted_date, self.today + timedelta(days=10))
        self.assertEqual(line.amount, 300.0)
        self.assertEqual(line.user_id, self.salesperson)
        self.assertEqual(line.week_start.weekday(), 0)
        self.assertEqual(
            line.week_start, line.predicted_date - timedelta(days=line.predicted_date.weekday())
        )
        self.assertTrue(line.in_horizon)
        self.assertEqual(line.week, line.predicted_date.strftime("%G-W%V"))

    def test_new_customer_falls_back_to_the_population(self):
        newcomer = self.create_customer("Newcomer Ltd")
        invoice = self.create_invoice(newcomer, 50.0, self.today)
        self.refresh()
        line = self.line(invoice)
        self.assertEqual(line.basis, "population")
        # Everyone known pays 10 days late: so is the newcomer expected to.
        self.assertEqual(line.predicted_date, self.today + timedelta(days=10))

    def test_open_promise_sets_the_date_and_broken_one_does_not(self):
        invoice = self.create_invoice(self.regular, 300.0, self.today)
        promise = self.env["ar.payment.promise"].create(
            {
                "partner_id": self.regular.id,
                "move_ids": [Command.set(invoice.ids)],
                "amount": 300.0,
                "promised_date": self.today + timedelta(days=40),
            }
        )
        self.refresh()
        self.assertEqual(self.line(invoice).basis, "promise")
        self.assertEqual(self.line(invoice).predicted_date, promise.promised_date)
        promise.state = "broken"
        self.refresh()
        self.assertEqual(self.line(invoice).basis, "customer")

    def test_disputed_invoice_is_excluded_until_resolved(self):
        invoice = self.create_invoice(self.regular, 300.0, self.today)
        dispute = self.env["ar.dispute"].create(
            {
                "partner_id": self.regular.id,
                "move_ids": [Command.set(invoice.ids)],
                "reason": "quality",
            }
        )
        self.refresh()
        self.assertFalse(self.line(invoice))
        dispute.resolution = "Credit note sent"
        dispute.action_resolve()
        self.refresh()
        self.assertTrue(self.line(invoice))

    def test_paid_invoices_leave_the_forecast_and_a_second_refresh_replaces(self):
        invoice = self.create_invoice(self.regular, 300.0, self.today)
        counts = self.refresh()
        self.assertEqual(counts[self.company.id], 1)
        self.assertEqual(self.refresh()[self.company.id], 1)
        self.pay_invoice(invoice)
        self.assertEqual(self.refresh()[self.company.id], 0)
        self.assertFalse(self.line(invoice))

    def test_multi_company(self):
        other = self.setup_other_company()["company"]
        mine = self.create_invoice(self.regular, 300.0, self.today)
        theirs = self.create_invoice(self.regular, 70.0, self.today, company=other)
        self.env["ar.collection.forecast"]._refresh(self.company | other)
        self.assertEqual(self.line(theirs).company_id, other)
        # The other company has no history: its forecast does not borrow ours.
        self.assertEqual(self.line(theirs).basis, "population")
        self.assertEqual(self.line(theirs).predicted_date, self.today)
        seen = self.env["ar.collection.forecast"].with_user(self.collector).search([])
        self.assertIn(self.line(mine), seen)
        self.assertNotIn(self.line(theirs), seen)

    def test_cron_refreshes_and_collector_groups_by_week(self):
        self.create_invoice(self.regular, 300.0, self.today)
        self.create_invoice(self.regular, 200.0, self.today)
        self.env.ref("ar_credit_control.ir_cron_collection_forecast").method_direct_trigger()
        groups = (
            self.env["ar.collection.forecast"]
            .with_user(self.collector)
            .read_group(
                [("in_horizon", "=", True), ("company_id", "=", self.company.id)],
                ["amount:sum"],
                ["week", "user_id"],
                lazy=False,
            )
        )
        self.assertEqual(len(groups), 1)
        self.assertEqual(groups[0]["amount"], 500.0)
        self.assertEqual(groups[0]["user_id"][0], self.salesperson.id)

    def test_backtest_wizard_compares_with_the_due_date(self):
        # After the cut-off, two more invoices paid 10 days late, like the history.
        for days_ago in (60, 40):
            invoice = self.create_invoice(self.regular, 100.0, self.days_ago(days_ago))
            self.pay_invoice(invoice, payment_date=self.days_ago(days_ago - 10))
        wizard = (
            self.env["ar.forecast.backtest"]
            .with_user(self.collector)
            .create({"cutoff_date": self.days_ago(70)})
        )
        wizard.action_run()
        self.assertEqual(wizard.train_invoices, 3)
        self.assertEqual(wizard.test_invoices, 2)
        self.assertEqual(wizard.naive_mae_days, 10.0)
        self.assertEqual(wizard.model_mae_days, 0.0)
        self.assertTrue(wizard.model_better)
        too_early = self.env["ar.forecast.backtest"].create({"cutoff_date": self.days_ago(500)})
        with self.assertRaisesRegex(UserError, "Nothing to compare"):
            too_early.action_run()
