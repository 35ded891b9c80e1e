"""The credit controller's overview: its figures agree with the features that own them, it
follows the company switcher, only credit users get it, and its tiles open their records (in
a browser, as a credit manager would)."""

from datetime import timedelta
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .common import JsonRpcMixin
from .credit_block_common import CreditBlockCommon


class OverviewCommon(CreditBlockCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["ar.overview"])
        cls.late_customer = cls.create_customer("Overview Late Customer")
        cls.early_customer = cls.create_customer("Overview Early Customer")
        # 1,500 overdue by 45 days, 700 not due yet (net 30 from today), 300 unapplied cash.
        cls.create_invoice(cls.late_customer, 1500.0, cls.today - timedelta(days=45), cls.immediate)
        cls.create_invoice(
            cls.early_customer,
            700.0,
            cls.today,
            cls.env.ref("account.account_payment_term_30days"),
        )
        payment = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": cls.early_customer.id,
                "amount": 300.0,
                "date": cls.today,
            }
        )
        payment.action_post()
        # Paid 45 days ago, not matched yet: unapplied cash in an overdue bucket, which does
        # not make the customer's overdue invoice any less overdue.
        advance = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": cls.late_customer.id,
                "amount": 200.0,
                "date": cls.today - timedelta(days=45),
            }
        )
        advance.action_post()
        cls.env["ar.payment.promise"].create(
            {
                "partner_id": cls.late_customer.id,
                "amount": 400.0,
                "promised_date": cls.today - timedelta(days=3),
                "state": "broken",
            }
        )
        cls.env["ar.dispute"].create({"partner_id": cls.late_customer.id, "reason": "price"})
        # An order waiting for a credit decision.
        cls.set_limit(cls.late_customer, 100)
        cls.held_order = cls.create_order(cls.late_customer, 900, user=cls.salesperson)
        cls.held_order.with_user(cls.salesperson).action_request_credit_approval()

    def overview(self, user=None, companies=None):
        user = user or self.credit_manager
        companies = companies or self.company
        return (
            self.env["ar.overview"]
            .with_user(user)
            .with_context(allowed_company_ids=companies.ids)
            .with_company(companies[:1])
            .get_overview()
        )

    def open_tile(self, tile, value=None, user=None):
        """The records behind a tile, searched as its action would."""
        action = (
            self.env["ar.overview"]
            .with_user(user or self.credit_manager)
            .with_context(allowed_company_ids=self.company.ids)
            .action_open_tile(tile, value)
        )
        return (
            self.env[action["res_model"]]
            .with_user(user or self.credit_manager)
            .with_context(**action["context"], allowed_company_ids=self.company.ids)
            .search(action["domain"])
        )


@tagged("post_install", "-at_install")
class TestOverview(OverviewCommon):
    def test_figures_agree_with_aging_and_records(self):
        data = self.overview()
        # 1,500 + 700 of invoices, less 300 + 200 of unapplied cash.
        self.assertAlmostEqual(data["receivable"], 1700.0)
        self.assertAlmostEqual(data["overdue"], 1500.0)
        self.assertAlmostEqual(data["overdue_share"], 100.0 * 1500 / 2200)
        self.assertAlmostEqual(data["unapplied_cash"], 500.0)
        self.assertEqual(
            [(row["id"], row["amount"]) for row in data["top_overdue"]],
            [(self.late_customer.id, 1500.0)],
        )
        # The buckets as the aging report shows them: the invoices by age, the unapplied
        # payments in a tile (and an aging column) of their own.
        self.assertAlmostEqual(sum(bucket["amount"] for bucket in data["buckets"]), 2200.0)
        self.assertAlmostEqual(
            sum(bucket["amount"] for bucket in data["buckets"] if bucket["overdue"]), 1500.0
        )
        self.assertEqual(data["hold_orders"], 1)
        self.assertEqual(data["broken_promises"], 1)
        self.assertAlmostEqual(data["broken_promises_amount"], 400.0)
        self.assertEqual(data["open_disputes"], 1)
        self.assertEqual(len(data["forecast"]), 13)
        # Each tile opens the records it counts.
        overdue_rows = self.open_tile("overdue")
        self.assertAlmostEqual(sum(overdue_rows.mapped("amount_residual")), data["overdue"])
        self.assertEqual(overdue_rows.partner_id, self.late_customer)
        customer_rows = self.open_tile("customer", self.late_customer.id)
        self.assertAlmostEqual(sum(customer_rows.mapped("amount_residual")), 1500.0)
        self.assertEqual(self.open_tile("hold_orders"), self.held_order)
        self.assertEqual(len(self.open_tile("broken_promises")), data["broken_promises"])
        self.assertEqual(len(self.open_tile("open_disputes")), data["open_disputes"])
        unapplied = self.open_tile("unapplied_cash")
        self.assertAlmostEqual(-sum(unapplied.mapped("amount_residual")), data["unapplied_cash"])
        for bucket in data["buckets"]:
            rows = self.open_tile("bucket", bucket["id"])
            self.assertAlmostEqual(sum(rows.mapped("amount_residual")), bucket["amount"])

    def test_forecast_weeks_open_their_lines(self):
        self.env["ar.collection.forecast"]._refresh(self.company, self.today)
        data = self.overview()
        self.assertAlmostEqual(
            sum(week["amount"] for week in data["forecast"]),
            sum(self.open_tile("forecast").mapped("amount")),
        )
        for week in data["forecast"]:
            lines = self.open_tile("forecast_week", week["week"])
            self.assertAlmostEqual(sum(lines.mapped("amount")), week["amount"])
        with self.assertRaises(UserError):
            self.open_tile("forecast_week", "next tuesday")
        with self.assertRaises(UserError):
            self.open_tile("customer", "1 OR 1=1")

    def test_trend_reads_the_monthly_receivables_kpis(self):
        self.assertEqual(self.overview()["trend"], [])
        last = self.today.replace(day=1) - relativedelta(months=1)
        first = last - relativedelta(months=11)
        # Credit sales last month, so that it has a DSO and a CEI.
        self.create_invoice(self.early_customer, 400.0, last.replace(day=10), self.immediate)
        months = self.env["ar.receivable.kpi.month"]
        for index in range(12):
            months._refresh_month(self.company, first + relativedelta(months=index))
        data = self.overview(user=self.collector)
        self.assertEqual(len(data["trend"]), 12)
        self.assertEqual(data["trend"][0]["month"], fields.Date.to_string(first))
        self.assertEqual(data["trend"][-1]["month"], fields.Date.to_string(last))
        # The same figures as the receivables KPI report's cell of that month (their one home).
        cell = months.read_group(
            [("company_id", "=", self.company.id), ("month", "=", last)], ["dso", "cei"], []
        )[0]
        self.assertEqual(data["trend"][-1]["dso"], cell["dso"])
        self.assertEqual(data["trend"][-1]["cei"], cell["cei"])
        # The customer who bought last month has its ratios in the refreshed rows.
        own = months.read_group(
            [("partner_id", "=", self.early_customer.id), ("month", "=", last)], ["dso"], []
        )[0]
        self.assertGreater(own["dso"], 0.0)

    def test_daily_job_fills_the_trend_of_every_company(self):
        cron = self.env.ref("ar_credit_control.ir_cron_receivable_kpi_refresh")
        self.assertTrue(cron.active)
        with patch.object(self.env.cr, "commit", lambda *args: None):
            cron.method_direct_trigger()
        self.assertFalse(self.env["ar.receivable.kpi.month"]._months_due())
        self.assertEqual(len(self.overview(user=self.collector)["trend"]), 12)

    def test_follows_the_company_switcher(self):
        other = self.setup_other_company(name="Overview Other Co")["company"]
        self.credit_manager.company_ids = [Command.link(other.id)]
        self.create_invoice(
            self.late_customer,
            250.0,
            self.today - timedelta(days=45),
            self.immediate,
            company=other,
        )
        self.assertAlmostEqual(self.overview()["receivable"], 1700.0)
        self.assertAlmostEqual(self.overview(companies=other)["receivable"], 250.0)
        both = self.overview(companies=self.company | other)
        self.assertAlmostEqual(both["receivable"], 1950.0)
        self.assertAlmostEqual(both["overdue"], 1750.0)
        self.assertEqual(both["companies"], [self.company.name, other.name])

    def test_only_credit_users(self):
        with self.assertRaises(AccessError):
            self.overview(user=self.salesperson)
        with self.assertRaises(AccessError):
            self.env["ar.overview"].with_user(self.salesperson).action_open_tile("overdue")
        self.assertAlmostEqual(self.overview(user=self.collector)["overdue"], 1500.0)


@tagged("post_install", "-at_install")
class TestOverviewHttp(JsonRpcMixin, OverviewCommon, HttpCase):
    def test_data_call_over_jsonrpc(self):
        reply = self.jsonrpc(self.collector, "ar.overview", "get_overview")
        self.assertAlmostEqual(reply["result"]["overdue"], 1500.0)
        reply = self.jsonrpc(self.salesperson, "ar.overview", "get_overview")
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")
        reply = self.jsonrpc(self.collector, "ar.overview", "action_open_tile", "nonsense")
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.UserError")

    def test_tour_tiles_open_their_records(self):
        """In the browser: the app opens on the overview; its tiles open the overdue lines
        of the largest overdue customer, the held order, the broken promise and the dispute."""
        self.start_tour(
            "/odoo/action-ar_credit_control.action_ar_overview",
            "ar_credit_control_overview_tour",
            login="credit_manager",
        )
