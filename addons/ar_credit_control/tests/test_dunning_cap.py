"""The company's daily cap on dunning emails: a run larger than the cap is spread over the next
days by the daily dunning job, the most urgent first, with none lost and none sent twice."""

from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningDailyCap(DunningCommon):
    def cron_on(self, day):
        """The daily dunning job as the scheduler runs it on `day` (its commits between chunks
        kept inside the test's transaction); returns the company's run of that day."""
        cron = self.env.ref("ar_credit_control.ir_cron_dunning_run")
        with freeze_time(f"{day} 12:00:00"), patch.object(self.env.cr, "commit", lambda: None):
            cron.method_direct_trigger()
        return self.env["ar.dunning.run"].search(
            [("company_id", "=", self.company.id), ("date", "=", day)]
        )

    def test_a_thousand_reminders_under_a_cap_of_two_hundred(self):
        self.company.ar_dunning_daily_email_cap = 200
        customers = self.env["res.partner"].create(
            [
                {"name": f"Capped {n:04d}", "is_company": True, "email": f"c{n}@cap.example"}
                for n in range(1000)
            ]
        )
        term = self.env.ref("account.account_payment_term_immediate")
        invoices = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": customer.id,
                    "invoice_date": "2026-03-01",
                    "date": "2026-03-01",
                    "invoice_payment_term_id": term.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Service",
                                "quantity": 1,
                                "price_unit": 100.0 + n,  # a distinct amount: a known order
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
                for n, customer in enumerate(customers)
            ]
        )
        invoices.action_post()
        by_amount = customers.sorted(lambda c: -int(c.name.split()[1]))  # largest amount first
        sent_on = {}
        for offset in range(6):
            day = date(2026, 3, 5) + timedelta(days=offset)
            run = self.cron_on(day.isoformat())
            sent = self.env["ar.dunning.communication"].search(
                [("partner_id", "in", customers.ids), ("sent_at", "!=", False)]
            )
            for communication in sent:
                sent_on.setdefault(communication.partner_id, day)
            if offset == 0:
                self.assertEqual(len(run.communication_ids), 1000, "all decided on day one")
                self.assertIn("800 dunning emails wait for the next runs", run.message_ids[0].body)
            else:
                self.assertFalse(
                    run.communication_ids,
                    "a customer waiting under the cap gets no second communication",
                )
        per_day = [
            sum(1 for d in sent_on.values() if d == date(2026, 3, 5) + timedelta(days=n))
            for n in range(6)
        ]
        self.assertEqual(per_day, [200, 200, 200, 200, 200, 0])
        # The most urgent first: the largest amounts on the first day, and so on.
        for n in range(5):
            batch = by_amount[n * 200 : (n + 1) * 200]
            self.assertEqual({sent_on[c] for c in batch}, {date(2026, 3, 5) + timedelta(days=n)})
        # None lost, none twice: one communication and one email per customer.
        communications = self.env["ar.dunning.communication"].search(
            [("partner_id", "in", customers.ids)]
        )
        self.assertEqual(len(communications), 1000)
        self.assertEqual(set(communications.mapped("state")), {"sent"})
        self.assertEqual(len(communications.mail_id), 1000)
        self.assertEqual(communications.mail_id.recipient_ids, customers)

    def test_no_cap_sends_everything_the_same_day(self):
        customers = [self.dunned_customer(f"Uncapped {n}") for n in range(3)]
        for customer in customers:
            self.invoice_due(customer, 100.0, "2026-03-01")
        run = self.run_on("2026-03-05")
        self.assertEqual(run.sent_count, 3)
