from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestOpenBalance(CreditControlCommon):
    """The open balances kept by triggers equal the sums of the open move lines after every
    kind of change, from the ORM or plain SQL, and compaction changes rows, not sums."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.open_balance = cls.env["ar.open.balance"]
        cls.two_instalments = cls.env["account.payment.term"].create(
            {
                "name": "50% in 10 days, 50% in 40 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 10}),
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 40}),
                ],
            }
        )
        cls.customer = cls.create_customer("Open balance customer")
        cls.other_customer = cls.create_customer("Open balance other customer")

    def days_ago(self, days):
        return self.today - timedelta(days=days)

    def assertNoDrift(self):
        self.assertEqual(self.open_balance._drift(), [])

    def kept_rows(self, partner):
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT date_maturity, is_debit, SUM(amount), COUNT(*)
              FROM ar_open_balance
             WHERE partner_id = %s AND company_id = %s AND account_id = %s
             GROUP BY date_maturity, is_debit
            HAVING SUM(amount) <> 0
             ORDER BY date_maturity, is_debit
            """,
            [partner.id, self.company.id, self.receivable_account(partner).id],
        )
        return self.env.cr.fetchall()

    def receivable_account(self, partner):
        # The customer's receivable (payments also leave open lines on the outstanding
        # receipts account until the bank matches them).
        return partner.with_company(self.company).property_account_receivable_id

    def exposure(self, partner):
        return self.env["ar.credit.exposure"]._compute_exposures([partner.id], self.company)[
            partner.id
        ]

    def test_sums_follow_every_change_of_the_lines(self):
        invoice = self.create_invoice(
            self.customer, 1000.0, self.days_ago(50), payment_term=self.two_instalments
        )
        # Each instalment has its own maturity date: two keys of 500.
        self.assertEqual(
            [(row[0], row[1], float(row[2])) for row in self.kept_rows(self.customer)],
            [(self.days_ago(40), True, 500.0), (self.days_ago(10), True, 500.0)],
        )
        self.assertNoDrift()

        self.pay_invoice(invoice, amount=300.0)
        self.assertNoDrift()
        exposure = self.exposure(self.customer)
        self.assertAlmostEqual(exposure.open_receivable, 700.0)
        # The payment went to the oldest instalment first; both are overdue today.
        self.assertAlmostEqual(exposure.amount_overdue, 700.0)
        self.assertEqual(exposure.oldest_due_date, self.days_ago(40))

        refund = self.create_invoice(self.customer, 200.0, self.days_ago(5), move_type="out_refund")
        self.assertNoDrift()
        self.assertAlmostEqual(self.exposure(self.customer).open_receivable, 500.0)

        # Back to draft: nothing of the refund is open any more; cancelled: still nothing.
        refund.button_draft()
        self.assertNoDrift()
        self.assertAlmostEqual(self.exposure(self.customer).open_receivable, 700.0)
        refund.button_cancel()
        self.assertNoDrift()

        # Another customer on the draft invoice, posted again: the balance moves with it; the
        # payment, unmatched from the draft invoice, is an open credit of the first customer.
        invoice.button_draft()
        self.assertNoDrift()
        self.assertAlmostEqual(self.exposure(self.customer).open_receivable, -300.0)
        invoice.partner_id = self.other_customer
        invoice.action_post()
        self.assertNoDrift()
        self.assertAlmostEqual(self.exposure(self.other_customer).open_receivable, 1000.0)
        self.assertAlmostEqual(self.exposure(self.customer).open_receivable, -300.0)

        # Deleted lines stop counting (a draft invoice's lines never counted).
        draft = self.create_invoice(self.customer, 50.0, self.days_ago(1), post=False)
        draft.unlink()
        self.assertNoDrift()

    def test_oldest_open_maturity_date(self):
        """The oldest overdue date is the first maturity date with something open: dates
        fully paid (rows that net to zero, compacted or not) and invoices paid but not yet
        matched with the bank are skipped; a contact's own lines count for the company."""
        immediate = self.env.ref("account.account_payment_term_immediate")

        def invoice(partner, amount, days):
            return self.create_invoice(partner, amount, self.days_ago(days), payment_term=immediate)

        paid = invoice(self.customer, 400.0, 70)
        in_payment = invoice(self.customer, 300.0, 60)
        open_invoice = invoice(self.customer, 200.0, 45)
        invoice(self.customer, 100.0, 0)  # due today: not overdue
        self.pay_invoice(paid)
        # A payment registered without journal entry (the accounting app's "in payment"):
        # the invoice's receivable stays open until the bank matches it.
        move_class = type(self.env["account.move"])
        with patch.object(move_class, "_get_invoice_in_payment_state", lambda self: "in_payment"):
            self.pay_invoice(in_payment, payment_date=self.days_ago(1), with_journal_entry=False)
            self.assertEqual(in_payment.payment_state, "in_payment")
        self.assertEqual(in_payment.amount_residual, 300.0)
        self.assertNoDrift()

        exposure = self.exposure(self.customer)
        self.assertEqual(exposure.oldest_due_date, self.days_ago(45))
        self.assertAlmostEqual(exposure.amount_overdue, 200.0)
        self.assertAlmostEqual(exposure.open_receivable, 300.0)
        # The same after compaction (the paid date's rows folded away).
        self.open_balance._compact()
        self.assertEqual(self.exposure(self.customer).oldest_due_date, self.days_ago(45))

        # Without overdue items the date is empty.
        self.pay_invoice(open_invoice)
        exposure = self.exposure(self.customer)
        self.assertFalse(exposure.oldest_due_date)
        self.assertAlmostEqual(exposure.amount_overdue, 0.0)

        # A customer without invoices in payment (the direct path): the first date with an
        # open debit, a contact's line (written in SQL, as an import might) included.
        contact = self.env["res.partner"].create(
            {"name": "Buyer", "parent_id": self.other_customer.id, "type": "invoice"}
        )
        paid_early = invoice(self.other_customer, 70.0, 90)
        contact_invoice = invoice(self.other_customer, 90.0, 80)
        invoice(self.other_customer, 50.0, 20)
        self.pay_invoice(paid_early)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE account_move_line SET partner_id = %s WHERE move_id = %s",
            [contact.id, contact_invoice.id],
        )
        self.env.invalidate_all()
        exposure = self.exposure(self.other_customer)
        self.assertEqual(exposure.oldest_due_date, self.days_ago(80))
        self.assertAlmostEqual(exposure.amount_overdue, 140.0)

    def test_plain_sql_writers_are_caught(self):
        invoice = self.create_invoice(self.customer, 800.0, self.days_ago(3))
        self.env.flush_all()
        # Not through the ORM: triggers see every statement.
        self.env.cr.execute(
            "UPDATE account_move_line SET partner_id = %s WHERE move_id = %s",
            [self.other_customer.id, invoice.id],
        )
        self.env.invalidate_all()
        self.assertNoDrift()
        self.assertAlmostEqual(self.exposure(self.other_customer).open_receivable, 800.0)
        self.assertAlmostEqual(self.exposure(self.customer).open_receivable, 0.0)

    def test_compaction_folds_rows_and_keeps_sums(self):
        invoices = [
            self.create_invoice(self.customer, 100.0 * (n + 1), self.days_ago(20)) for n in range(3)
        ]
        for invoice in invoices:
            self.pay_invoice(invoice, amount=50.0)
        before = self.kept_rows(self.customer)
        self.assertGreater(before[0][3], 1, "several changes appended for one key")
        exposure_before = self.exposure(self.customer)

        self.open_balance._compact()

        after = self.kept_rows(self.customer)
        self.assertEqual([row[:3] for row in after], [row[:3] for row in before])
        self.assertTrue(all(row[3] == 1 for row in after), after)
        self.assertNoDrift()
        self.assertAlmostEqual(
            self.exposure(self.customer).open_receivable, exposure_before.open_receivable
        )
        self.env.cr.execute("SELECT COUNT(*) FROM ar_open_balance WHERE NOT compacted")
        self.assertEqual(self.env.cr.fetchone()[0], 0)

        # Settled in full: the key's sum is zero and compaction removes it.
        for invoice in invoices:
            self.pay_invoice(invoice)
        self.open_balance._compact()
        self.assertEqual(self.kept_rows(self.customer), [])
        self.env.cr.execute(
            "SELECT COUNT(*) FROM ar_open_balance WHERE partner_id = %s AND account_id = %s",
            [self.customer.id, self.receivable_account(self.customer).id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_compaction_cron_and_rebuild(self):
        first = self.create_invoice(self.customer, 400.0, self.days_ago(15))
        self.create_invoice(self.customer, 600.0, self.days_ago(15))
        cron = self.env.ref("ar_credit_control.ir_cron_open_balance_compaction")
        cron.method_direct_trigger()
        self.env.cr.execute("SELECT COUNT(*) FROM ar_open_balance WHERE NOT compacted")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertEqual(
            [(row[0], float(row[2]), row[3]) for row in self.kept_rows(self.customer)],
            [(first.invoice_date_due, 1000.0, 1)],
        )
        # A table emptied by hand is rebuilt from the lines.
        self.env.cr.execute("DELETE FROM ar_open_balance")
        self.assertTrue(self.open_balance._drift())
        self.open_balance._rebuild()
        self.assertNoDrift()
        self.assertAlmostEqual(self.exposure(self.customer).open_receivable, 1000.0)
