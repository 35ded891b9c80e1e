from datetime import date

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CreditControlCommon


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
