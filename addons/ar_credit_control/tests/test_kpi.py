from datetime import date, timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.ar_receivable_kpi_month import RATIOS
from .common import CreditControlCommon, JsonRpcMixin

IMMEDIATE = "account.account_payment_term_immediate"


@tagged("post_install", "-at_install")
class TestReceivableKpis(CreditControlCommon):
    """One customer over February and March 2025, figures worked out by hand:

    - 10 Feb: invoice 1,000 on net 30 (due 12 Mar), paid on 20 Mar;
    - 1 Mar: invoice 600 due at once, unpaid: 30 days late on 31 Mar (bucket 0-30);
    - 5 Mar: invoice 3,000 on net 30 (due 4 Apr); 25 Mar: invoice 2,000 on net 30.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        net_30 = cls.env["account.payment.term"].create(
            {
                "name": "Net 30",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})
                ],
            }
        )
        immediate = cls.env["account.payment.term"].create(
            {
                "name": "Immediate",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 0})
                ],
            }
        )
        cls.customer = cls.create_customer("KPI Co")
        february = cls.create_invoice(cls.customer, 1000.0, date(2025, 2, 10), net_30)
        cls.create_invoice(cls.customer, 600.0, date(2025, 3, 1), immediate)
        cls.create_invoice(cls.customer, 3000.0, date(2025, 3, 5), net_30)
        cls.create_invoice(cls.customer, 2000.0, date(2025, 3, 25), net_30)
        cls.pay_invoice(february, payment_date=date(2025, 3, 20))

    def compute(self, date_from, date_to, dimension="customer"):
        wizard = self.env["ar.receivable.kpi"].create(
            {"date_from": date_from, "date_to": date_to, "dimension": dimension}
        )
        wizard.action_compute()
        return wizard

    def line(self, wizard, kind, month=None):
        return wizard.line_ids.filtered(
            lambda line: (
                line.kind == kind
                and line.dimension_key == str(self.customer.id)
                and (month is None or line.month == month)
            )
        )

    def test_march_kpis_by_hand(self):
        wizard = self.compute(date(2025, 3, 1), date(2025, 3, 31))
        march = self.line(wizard, "period")
        self.assertEqual(march.dimension_name, "KPI Co")
        self.assertEqual(march.beginning_receivables, 1000.0)
        self.assertEqual(march.credit_sales, 5600.0)
        self.assertEqual(march.ending_receivables, 5600.0)
        self.assertEqual(march.current_receivables, 5000.0)
        self.assertEqual(march.overdue_amount, 600.0)
        self.assertEqual(march.overdue_count, 1)
        self.assertAlmostEqual(march.overdue_share, 600 / 5600 * 100, places=6)
        self.assertAlmostEqual(march.dso, 5600 / 5600 * 31, places=6)
        self.assertAlmostEqual(march.best_possible_dso, 5000 / 5600 * 31, places=6)
        self.assertAlmostEqual(march.average_days_delinquent, 600 / 5600 * 31, places=6)
        # (1,000 + 5,600 - 5,600) / (1,000 + 5,600 - 5,000): 1,000 of 1,600 collectable.
        self.assertAlmostEqual(march.cei, 62.5, places=6)
        # March sales (5,600) cover the whole balance: 31 days.
        self.assertAlmostEqual(march.dso_countback, 31.0, places=6)
        bucket = wizard.bucket_ids.filtered(
            lambda row: row.kind == "period" and row.dimension_name == "KPI Co"
        )
        self.assertEqual(bucket.bucket_id.name, "0-30")
        self.assertEqual((bucket.amount, bucket.count), (600.0, 1))

    def test_two_months_with_monthly_trend(self):
        wizard = self.compute(date(2025, 2, 1), date(2025, 3, 31))
        period = self.line(wizard, "period")
        self.assertEqual(period.beginning_receivables, 0.0)
        self.assertEqual(period.credit_sales, 6600.0)
        self.assertAlmostEqual(period.dso, 5600 / 6600 * 59, places=6)
        self.assertAlmostEqual(period.cei, 1000 / 1600 * 100, places=6)
        february = self.line(wizard, "month", date(2025, 2, 1))
        self.assertEqual(february.ending_receivables, 1000.0)
        self.assertEqual(february.overdue_amount, 0.0)
        self.assertAlmostEqual(february.dso, 28.0, places=6)
        self.assertFalse(february.has_cei, "nothing was collectable in February")
        march = self.line(wizard, "month", date(2025, 3, 1))
        self.assertEqual(march.beginning_receivables, 1000.0)
        self.assertAlmostEqual(march.cei, 62.5, places=6)

    def test_countback_reaches_into_earlier_months(self):
        # At 15 March: open 1,000 (Feb) + 600 + 3,000 = 4,600; March sales so far 3,600.
        wizard = self.compute(date(2025, 3, 1), date(2025, 3, 15))
        period = self.line(wizard, "period")
        self.assertEqual(period.ending_receivables, 4600.0)
        # 15 days cover 3,600; the other 1,000 is all of February's 1,000 (28 days).
        self.assertAlmostEqual(period.dso_countback, 15 + 28, places=6)

    def test_salesperson_dimension_and_bad_period(self):
        wizard = self.compute(date(2025, 3, 1), date(2025, 3, 31), dimension="salesperson")
        mine = wizard.line_ids.filtered(
            lambda line: line.kind == "period" and line.dimension_key == str(self.env.user.id)
        )
        self.assertEqual(mine.dimension_name, self.env.user.display_name)
        self.assertGreaterEqual(mine.credit_sales, 5600.0)
        with self.assertRaises(UserError):
            self.env["ar.receivable.kpi"].create(
                {"date_from": date(2025, 3, 31), "date_to": date(2025, 3, 1)}
            )

    # ------------------------------------------------------------------ the monthly report

    def test_monthly_report_cells_are_the_ratios_of_their_group(self):
        other = self.create_customer("KPI Other Co")
        self.create_invoice(other, 1000.0, date(2025, 3, 1), self.env.ref(IMMEDIATE))
        months = self.env["ar.receivable.kpi.month"]
        months._refresh_month(self.company, date(2025, 2, 1))
        months._refresh_month(self.company, date(2025, 3, 1))
        report = months.with_user(self.collector)
        measures = [f"{name}:avg" for name in RATIOS] + ["ending_receivables:sum"]

        # One customer and month: the wizard's figures for that customer.
        [cell] = report.read_group(
            [("partner_id", "=", self.customer.id), ("month", "=", date(2025, 3, 1))],
            measures,
            ["month:month"],
        )
        march = self.line(self.compute(date(2025, 3, 1), date(2025, 3, 31)), "period")
        for name in RATIOS:
            self.assertAlmostEqual(cell[name], march[name], places=6, msg=name)

        # Two customers: the ratios of the summed figures, as the wizard computes them for the
        # company, not the mean of the customers' ratios.
        company_march = self.compute(date(2025, 3, 1), date(2025, 3, 31), dimension="company")
        company_line = company_march.line_ids.filtered(lambda line: line.kind == "period")
        [cell] = report.read_group(
            [("month", "=", date(2025, 3, 1))], measures, ["company_id"], lazy=False
        )
        self.assertEqual(cell["ending_receivables"], 6600.0)
        for name in ("dso", "best_possible_dso", "average_days_delinquent", "cei"):
            self.assertAlmostEqual(cell[name], company_line[name], places=6, msg=name)
        self.assertAlmostEqual(cell["overdue_share"], 1600 / 6600 * 100, places=6)
        self.assertAlmostEqual(cell["cei"], 1000 / 2600 * 100, places=6)
        # The countback of a group: its customers' countbacks weighted by their balances.
        other_row = months.search([("partner_id", "=", other.id), ("month", "=", "2025-03-01")])
        self.assertAlmostEqual(
            cell["dso_countback"],
            (march.dso_countback * 5600 + other_row.dso_countback * 1000) / 6600,
            places=6,
        )
        # By month: February's own figures.
        by_month = report.read_group([], measures, ["month:month"])
        self.assertEqual([group["ending_receivables"] for group in by_month], [1000.0, 6600.0])
        self.assertAlmostEqual(by_month[0]["dso"], 28.0, places=6)

    def test_cron_fills_the_recent_months_once_a_day_for_allowed_companies_only(self):
        today = fields.Date.today()
        self.create_invoice(
            self.customer, 700.0, today - timedelta(days=40), self.env.ref(IMMEDIATE)
        )
        months = self.env["ar.receivable.kpi.month"]
        with patch.object(self.env.cr, "commit", lambda *args: None):
            self.assertTrue(months._cron_refresh(time_budget=60))
            self.assertFalse(months._months_due(), "every month refreshed today")
            self.assertTrue(months._cron_refresh(time_budget=60))
        this_month = today.replace(day=1)
        row = months.with_user(self.collector).search(
            [("partner_id", "=", self.customer.id), ("month", "=", this_month)]
        )
        self.assertEqual(row.days, today.day)
        self.assertEqual(row.overdue_amount, 700.0 + 600.0 + 3000.0 + 2000.0)
        self.assertEqual(row.user_id, self.env.user)

        other_company = self.setup_other_company()["company"]
        stranger = new_test_user(
            self.env,
            login="kpi_stranger",
            groups="base.group_user,ar_credit_control.group_credit_control_user",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.assertFalse(months.with_user(stranger).search_count([]))
        with self.assertRaises(AccessError):
            months.with_user(self.salesperson).search_count([])
        with self.assertRaises(AccessError):
            months.with_user(self.collector).action_refresh()
        refreshed = self.env["ar.receivable.kpi.refresh"].search_count([])
        months.with_user(self.credit_manager).action_refresh()
        self.assertLess(self.env["ar.receivable.kpi.refresh"].search_count([]), refreshed)
        self.assertTrue(months._months_due())


@tagged("post_install", "-at_install")
class TestReceivableKpisHttp(JsonRpcMixin, CreditControlCommon, HttpCase):
    def test_collector_opens_the_report_with_data(self):
        today = fields.Date.today()
        customer = self.create_customer("KPI Web Co")
        self.create_invoice(customer, 900.0, today - timedelta(days=20), self.env.ref(IMMEDIATE))
        with patch.object(self.env.cr, "commit", lambda *args: None):
            self.env["ar.receivable.kpi.month"]._cron_refresh()
        action = self.env.ref("ar_credit_control.action_ar_receivable_kpi_month")
        self.assertEqual(action.view_mode.split(",")[0], "pivot")
        # What the pivot asks: every ratio per month and company, as a collector.
        reply = self.jsonrpc(
            self.collector,
            "ar.receivable.kpi.month",
            "read_group",
            [("month", "=", today.replace(day=1).isoformat())],
            ["overdue_share:avg", "cei:avg", "dso_countback:avg"],
            ["month:month", "company_id"],
            lazy=False,
        )
        [cell] = reply["result"]
        rows = self.env["ar.receivable.kpi.month"].search_read(
            [("partner_id", "=", customer.id)], ["month", "ending_receivables", "overdue_amount"]
        )
        self.assertAlmostEqual(cell["overdue_share"], 100.0, places=6, msg=f"{cell} {rows}")
        self.assertNotIn("__arcc_credit_sales", cell)
        reply = self.jsonrpc(
            self.salesperson, "ar.receivable.kpi.month", "read_group", [], ["cei:avg"], ["month"]
        )
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")


@tagged("post_install", "-at_install")
class TestReceivableKpisAdvancePayment(CreditControlCommon):
    def test_more_credit_than_owed_gives_no_ratio_instead_of_an_error(self):
        """A customer who paid in advance: the receivables are negative at the end of the
        month, DSO and CEI mean nothing (as without sales), and the wizard still computes."""
        customer = self.create_customer("Advance Co")
        self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": customer.id,
                "amount": 500.0,
                "date": date(2025, 3, 10),
            }
        ).action_post()
        wizard = self.env["ar.receivable.kpi"].create(
            {"date_from": date(2025, 3, 1), "date_to": date(2025, 3, 31), "dimension": "customer"}
        )
        wizard.action_compute()
        line = wizard.line_ids.filtered(
            lambda row: row.kind == "period" and row.dimension_key == str(customer.id)
        )
        self.assertEqual(line.ending_receivables, -500.0)
        self.assertFalse(line.has_dso)
        self.assertFalse(line.has_cei)
