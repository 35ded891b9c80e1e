"""Unapplied cash shown as such, and no reminder to a customer who paid.

"Paid Ahead" has an invoice 25 days overdue and a payment of the same amount not matched with it
yet; "Still Owing" has 800.00 overdue and 300.00 paid on account. With the company setting on
(the default), the payment shows in the aging's and the statement's "Unapplied" column, the
overdue figure of dunning and of the credit check is net of it: Paid Ahead is neither dunned nor
blocked, Still Owing is dunned for 500.00. With it off, both are dunned and blocked for their
overdue invoices in full.
"""

import importlib.util
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import JsonRpcMixin
from .credit_block_common import CreditBlockCommon
from .dunning_common import DunningCommon


class UnappliedCashCommon(DunningCommon, CreditBlockCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        cls.overdue_day = cls.today - timedelta(days=25)
        cls.paid_ahead = cls.dunned_customer("Paid Ahead Co")
        cls.paid_invoice = cls.invoice_due(cls.paid_ahead, 500.0, cls.overdue_day)
        cls.paid_payment = cls.payment_on_account(cls.paid_ahead, 500.0)
        cls.owing = cls.dunned_customer("Still Owing Co")
        cls.owing_invoice = cls.invoice_due(cls.owing, 800.0, cls.overdue_day)
        cls.payment_on_account(cls.owing, 300.0)
        cls.customers = cls.paid_ahead | cls.owing
        cls.bucket_set = cls.env["ar.aging.bucket.set"]._get_default(cls.company)
        cls.unapplied_bucket = cls.bucket_set._line_of_kind("unapplied")
        cls.not_due_bucket = cls.bucket_set._aging_lines()[0]

    @classmethod
    def block_overdue(cls):
        """The credit check blocks customers with anything overdue by more than 10 days."""
        cls.company.write({"ar_credit_block_overdue": True, "ar_credit_overdue_days": 10})

    def set_netting(self, on):
        self.company.ar_net_unapplied_cash = on
        self.env.flush_all()

    def assert_in_log(self, run, *texts):
        bodies = " ".join(run.message_ids.mapped("body"))
        for text in texts:
            self.assertIn(text, bodies)


@tagged("post_install", "-at_install")
class TestUnappliedCash(UnappliedCashCommon):
    # ------------------------------------------------------------------ the figure

    def test_unapplied_cash_figure_and_partner_tab(self):
        self.assertTrue(self.company.ar_net_unapplied_cash, "on by default")
        receivable = self.env["ar.receivable"]
        self.assertEqual(
            receivable._unapplied_cash(self.company, self.customers.ids),
            {self.paid_ahead.id: 500.0, self.owing.id: 300.0},
        )
        everyone = receivable._unapplied_cash(self.company)
        self.assertEqual(everyone[self.paid_ahead.id], 500.0)
        self.assertEqual(everyone[self.owing.id], 300.0)
        # Matched with the invoice, the payment is no unapplied cash any more.
        (self.paid_invoice.line_ids | self.paid_payment.move_id.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).reconcile()
        self.assertNotIn(
            self.paid_ahead.id, receivable._unapplied_cash(self.company, self.customers.ids)
        )

    def test_partner_credit_tab(self):
        partner = self.paid_ahead.with_company(self.company)
        self.assertEqual(partner.credit_unapplied_cash, 500.0)
        self.assertEqual(partner.amount_overdue, 0.0, "net of the payment not matched yet")
        self.assertEqual(partner.oldest_overdue_days, 0)
        self.assertEqual(self.owing.with_company(self.company).amount_overdue, 500.0)
        summary = str(partner.ar_aging_summary)
        self.assertIn("Unapplied", summary)
        self.assertIn("-500.00", summary.replace("\N{ZERO WIDTH NO-BREAK SPACE}", ""))
        self.set_netting(False)
        partner.invalidate_recordset()
        self.assertEqual(partner.amount_overdue, 500.0)
        self.assertEqual(partner.oldest_overdue_days, 25)

    # ------------------------------------------------------------------ aging

    def test_aging_unapplied_column_and_shares_of_gross(self):
        totals = self.env["ar.aging.report"]._bucket_totals(
            self.bucket_set, self.today, [self.company.id], self.customers.ids
        )
        self.assertEqual(totals[self.paid_ahead.id, self.unapplied_bucket.id], (-500.0, 1))
        self.assertEqual(totals[self.owing.id, self.unapplied_bucket.id], (-300.0, 1))
        self.assertNotIn((self.paid_ahead.id, self.not_due_bucket.id), totals)

        aging = self.env["ar.aging.report"]._for_aging(self.bucket_set, self.today)
        domain = [("partner_id", "in", self.customers.ids)]
        groups = {
            bucket: (amount, share)
            for bucket, amount, share in aging._read_group(
                domain, ["bucket_id"], ["amount_residual:sum", "share:sum"]
            )
        }
        amount, share = groups[self.unapplied_bucket]
        self.assertEqual(amount, -800.0)
        self.assertEqual(share, 0.0, "unapplied cash is no share of the receivables")
        self.assertNotIn(self.not_due_bucket, groups, "the payments are not 'not due'")
        self.assertAlmostEqual(sum(share for _amount, share in groups.values()), 100.0)
        self.assertTrue(all(share >= 0 for _amount, share in groups.values()))
        # Line by line too: the payments have no share, the invoices share the gross 1,300.00.
        rows = aging.search(domain)
        self.assertEqual(set(rows.filtered("unapplied").mapped("share")), {0.0})
        invoice_row = rows.filtered(lambda row: row.move_id == self.paid_invoice)
        self.assertAlmostEqual(invoice_row.share, 100.0 * 500.0 / 1300.0)
        self.assertEqual(aging.search_count(domain + [("unapplied", "=", True)]), 2)

    def test_every_bucket_set_has_one_unapplied_line(self):
        bucket_set = self.bucket_set.copy({"name": "Copy", "is_default": False})

        def unapplied_lines():
            return bucket_set.line_ids.filtered(lambda line: line.kind == "unapplied")

        self.assertEqual(len(unapplied_lines()), 1)
        unapplied_lines().unlink()
        self.assertEqual(len(unapplied_lines()), 1, "made again")
        self.assertEqual(bucket_set._columns()[-1].kind, "unapplied")
        self.assertEqual(bucket_set._columns()[0].kind, "in_payment")

    # ------------------------------------------------------------------ statements

    def test_statement_shows_unapplied_cash(self):
        data = self.env["ar.statement"]._outstanding_data(
            self.paid_ahead, self.company, self.today
        )[self.paid_ahead.id]
        buckets = dict(data["buckets"])
        self.assertEqual(buckets[self.unapplied_bucket], -500.0)
        self.assertEqual(buckets[self.not_due_bucket], 0.0)
        self.assertEqual(data["total"], 0.0)
        payment_item = next(item for item in data["items"] if item["unapplied"])
        self.assertEqual(payment_item["amount"], -500.0)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "ar_credit_control.report_ar_statement_outstanding", self.paid_ahead.ids
            )[0]
            .decode()
        )
        self.assertIn("Unapplied", html)

    # ------------------------------------------------------------------ dunning

    def test_dunning_nets_unapplied_cash(self):
        # Paid Ahead reached the hold level on an earlier run.
        self.env["ar.credit.profile"]._get_or_create(self.paid_ahead, self.company).write(
            {"dunning_level": 4}
        )
        run = self.run_on(self.today)
        self.assertFalse(self.communications(self.paid_ahead), "paid: no reminder")
        profile = self.profile(self.paid_ahead)
        self.assertEqual(profile.dunning_level, 0, "nothing overdue is left: out of dunning")
        self.assertFalse(profile.credit_hold)
        owing = self.communications(self.owing)
        self.assertEqual(len(owing), 1)
        self.assertEqual(owing.amount_due, 500.0, "800.00 overdue less 300.00 paid on account")
        self.assert_in_log(run, "Paid Ahead Co", "covered by payments and credit notes")

    def test_dunning_without_netting(self):
        self.set_netting(False)
        self.env["ar.credit.profile"]._get_or_create(self.paid_ahead, self.company).write(
            {"dunning_level": 4}
        )
        run = self.run_on(self.today)
        communication = self.communications(self.paid_ahead)
        self.assertEqual(len(communication), 1, "dunned for the overdue invoice in full")
        self.assertEqual(communication.amount_due, 500.0)
        self.assertEqual(communication.state, "sent")
        self.assertTrue(self.profile(self.paid_ahead).credit_hold, "held at the hold level")
        self.assertEqual(self.communications(self.owing).amount_due, 800.0)
        self.assertNotIn("Paid Ahead Co", " ".join(run.message_ids.mapped("body")))

    def _run_paying_between_chunks(self, pay):
        """A run in chunks of one letter; after the first chunk is sent, `pay` pays the
        customer whose letter has not gone out yet. Returns (run, that customer)."""
        first = self.dunned_customer("First Debtor Co")
        second = self.dunned_customer("Second Debtor Co")
        invoices = {
            first: self.invoice_due(first, 400.0, self.overdue_day),
            second: self.invoice_due(second, 400.0, self.overdue_day),
        }
        communication_class = type(self.env["ar.dunning.communication"])
        original_send = communication_class._send
        paid = []

        def send_then_pay(communications):
            original_send(communications)
            sent = communications.partner_id & (first | second)
            if sent and not paid:
                customer = (first | second) - sent
                paid.append(customer)
                pay(customer, invoices[customer])

        with (
            patch.object(communication_class, "_send", send_then_pay),
            freeze_time(f"{self.today} 12:00:00"),
        ):
            run = self.env["ar.dunning.run"]._run_company(
                self.company, trigger="manual", chunk_size=1, commit=False
            )
        self.assertEqual(len(paid), 1)
        sent_customer = (first | second) - paid[0]
        self.assertEqual(self.communications(sent_customer).state, "sent")
        return run, paid[0]

    def test_payment_between_chunks_stops_the_letter(self):
        def pay_on_account(customer, _invoice):
            self.payment_on_account(customer, 400.0)

        run, customer = self._run_paying_between_chunks(pay_on_account)
        communication = self.communications(customer)
        self.assertEqual(communication.state, "skipped")
        self.assertFalse(communication.mail_id)
        self.assertIn("Not sent: the customer paid", communication.error_message)
        self.assertEqual(run.skipped_count, 1)
        self.assertEqual(run.state, "done")
        self.assert_in_log(run, customer.name, "paid before their turn came")

    def test_payment_matched_between_chunks_stops_the_letter_without_netting(self):
        self.set_netting(False)

        def pay_invoice(_customer, invoice):
            self.pay_invoice(invoice)

        run, customer = self._run_paying_between_chunks(pay_invoice)
        self.assertEqual(self.communications(customer).state, "skipped")
        self.assertEqual(run.skipped_count, 1)

    # ------------------------------------------------------------------ credit check

    def _order_check(self, partner):
        self.block_overdue()
        order = self.create_order(partner, 100.0)
        return order, self.env["ar.credit.check"]._evaluate(order)[order]

    def test_credit_check_nets_unapplied_cash(self):
        order, credit = self._order_check(self.paid_ahead)
        self.assertEqual(credit.amount_overdue, 0.0)
        self.assertFalse(credit.failures, "paid: not blocked")
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        _order, credit = self._order_check(self.owing)
        self.assertEqual(credit.amount_overdue, 500.0)
        self.assertTrue(credit.failures, "still owes 500.00: blocked")

    def test_credit_check_without_netting(self):
        self.set_netting(False)
        order, credit = self._order_check(self.paid_ahead)
        self.assertEqual(credit.amount_overdue, 500.0)
        self.assertEqual(credit.oldest_overdue_days, 25)
        self.assertTrue(credit.failures)

    # ------------------------------------------------------------------ upgrade

    def test_upgrade_switches_netting_on_and_adds_the_column(self):
        path = Path(__file__).parents[1] / "migrations" / "18.0.1.3.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("unapplied_post_migrate", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        # As a database of 18.0.1.2.0 left them: no netting, no "Unapplied" line.
        self.set_netting(False)
        self.env.cr.execute(
            "DELETE FROM ar_aging_bucket_set_line WHERE id = %s", [self.unapplied_bucket.id]
        )
        self.env.invalidate_all()
        self.assertFalse(self.bucket_set._line_of_kind("unapplied"))
        migration.migrate(self.env.cr, "18.0.1.2.0")
        self.env.invalidate_all()
        self.assertTrue(self.company.ar_net_unapplied_cash)
        self.assertTrue(self.bucket_set._line_of_kind("unapplied"))


@tagged("post_install", "-at_install")
class TestUnappliedCashHttp(JsonRpcMixin, UnappliedCashCommon, HttpCase):
    def test_customer_who_paid_is_neither_dunned_nor_blocked_over_jsonrpc(self):
        manager, seller = self.credit_manager, self.salesperson
        reply = self.jsonrpc(
            manager,
            "res.partner",
            "read",
            self.paid_ahead.ids,
            ["amount_overdue", "credit_unapplied_cash"],
        )
        self.assertEqual(
            reply["result"][0],
            {"id": self.paid_ahead.id, "amount_overdue": 0.0, "credit_unapplied_cash": 500.0},
        )

        # The credit manager runs the dunning: a letter to the customer who still owes only.
        reply = self.jsonrpc(manager, "ar.dunning.run", "action_run_now")
        self.assertNotIn("error", reply, reply)
        run_id = reply["result"]["res_id"]
        reply = self.jsonrpc(
            manager,
            "ar.dunning.communication",
            "search_read",
            [("run_id", "=", run_id)],
            fields=["partner_id", "amount_due"],
        )
        self.assertEqual(
            [(row["partner_id"][0], row["amount_due"]) for row in reply["result"]],
            [(self.owing.id, 500.0)],
        )
        reply = self.jsonrpc(
            manager,
            "mail.message",
            "search_read",
            [("model", "=", "ar.dunning.run"), ("res_id", "=", run_id)],
            fields=["body"],
        )
        log = " ".join(row["body"] for row in reply["result"])
        self.assertIn("Paid Ahead Co", log)
        self.assertIn("covered by payments and credit notes", log)

        # The salesperson confirms the customer's order: the overdue rule lets it through.
        self.block_overdue()
        order = self.create_order(self.paid_ahead, 100.0, user=seller)
        reply = self.jsonrpc(seller, "sale.order", "action_confirm", [order.id])
        self.assertNotIn("error", reply, reply)
        order.invalidate_recordset()
        self.assertEqual(order.state, "sale")
        blocked = self.create_order(self.owing, 100.0, user=seller)
        reply = self.jsonrpc(seller, "sale.order", "action_confirm", [blocked.id])
        self.assertIn("overdue", reply["error"]["data"]["message"])
