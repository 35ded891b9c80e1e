"""The dunning run on committed data and real connections: a run cut after its first chunk
(crash, or the cron's time budget spent) resumes the same day without sending anything twice."""

from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, api
from odoo.api import Transaction
from odoo.tests import TransactionCase, tagged

from ..models.ar_dunning_run import ArDunningRun

RUN_DAY = "2020-01-10"  # before any demo invoice: only this test's customers are due


@tagged("post_install", "-at_install")
class TestDunningResume(TransactionCase):
    def _env(self, cr):
        cr.transaction = Transaction(self.registry)
        return api.Environment(cr, api.SUPERUSER_ID, {})

    def _setup_committed(self, count=3):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            company.partner_id.tz = "UTC"
            term = env.ref("account.account_payment_term_immediate")
            partners = env["res.partner"].create(
                [
                    {
                        "name": f"Resume Customer {index}",
                        "is_company": True,
                        "email": f"resume{index}@customer.example",
                    }
                    for index in range(count)
                ]
            )
            moves = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "invoice_date": "2020-01-01",
                        "date": "2020-01-01",
                        "invoice_payment_term_id": term.id,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Service",
                                    "quantity": 1,
                                    "price_unit": 100.0,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for partner in partners
                ]
            )
            moves.action_post()
            return company.id, partners.ids, moves.ids

    def _cleanup(self, partner_ids, move_ids):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            runs = env["ar.dunning.run"].search([("date", "=", RUN_DAY)])
            communications = runs.communication_ids
            env["mail.mail"].search(
                [("model", "=", "ar.dunning.communication"), ("res_id", "in", communications.ids)]
            ).unlink()
            runs.unlink()
            moves = env["account.move"].browse(move_ids)
            moves.button_draft()
            moves.with_context(force_delete=True).unlink()
            env["res.partner"].browse(partner_ids).unlink()

    def _communications(self, partner_ids):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT partner_id, count(*) FROM ar_dunning_communication"
                " WHERE partner_id = ANY(%s) GROUP BY partner_id",
                [partner_ids],
            )
            return dict(cr.fetchall())

    def test_run_killed_after_first_chunk_resumes_without_duplicates(self):
        company_id, partner_ids, move_ids = self._setup_committed()
        original = ArDunningRun._record
        calls = []

        def record_then_die(run, chunk):
            calls.append(len(chunk))
            if len(calls) == 2:
                raise KeyboardInterrupt("worker killed")  # not caught by the run
            return original(run, chunk)

        try:
            with freeze_time(f"{RUN_DAY} 09:00:00"):
                with self.registry.cursor() as cr:
                    env = self._env(cr)
                    company = env["res.company"].browse(company_id)
                    with patch.object(ArDunningRun, "_record", record_then_die):
                        with self.assertRaises(KeyboardInterrupt):
                            env["ar.dunning.run"]._run_company(
                                company, trigger="cron", chunk_size=1, commit=True
                            )
                    cr.rollback()  # what the dying worker had not committed is lost
                self.assertEqual(self._communications(partner_ids), {partner_ids[0]: 1})
                # The lock died with the run: a new one starts and finishes the day.
                with self.registry.cursor() as cr:
                    env = self._env(cr)
                    company = env["res.company"].browse(company_id)
                    run = env["ar.dunning.run"]._run_company(
                        company, trigger="cron", chunk_size=1, commit=True
                    )
                    self.assertEqual(run.state, "done")
                    self.assertEqual(run.processed_count, len(partner_ids))
                    self.assertEqual(run.sent_count, len(partner_ids))
                self.assertEqual(self._communications(partner_ids), dict.fromkeys(partner_ids, 1))
        finally:
            self._cleanup(partner_ids, move_ids)

    def test_cron_time_budget_stops_and_the_next_call_resumes(self):
        company_id, partner_ids, move_ids = self._setup_committed(count=2)
        try:
            with freeze_time(f"{RUN_DAY} 09:00:00"):
                with self.registry.cursor() as cr:
                    env = self._env(cr)
                    # No time left: one chunk, then the cron reports the rest.
                    finished = env["ar.dunning.run"]._cron_dunning_run(chunk_size=1, time_budget=0)
                    self.assertFalse(finished)
                self.assertEqual(len(self._communications(partner_ids)), 1)
                with self.registry.cursor() as cr:
                    env = self._env(cr)
                    finished = env["ar.dunning.run"]._cron_dunning_run(
                        chunk_size=1, time_budget=600
                    )
                    self.assertTrue(finished)
                    run = env["ar.dunning.run"].search(
                        [("company_id", "=", company_id), ("date", "=", RUN_DAY)]
                    )
                    self.assertEqual(run.state, "done")
                self.assertEqual(self._communications(partner_ids), dict.fromkeys(partner_ids, 1))
        finally:
            self._cleanup(partner_ids, move_ids)
