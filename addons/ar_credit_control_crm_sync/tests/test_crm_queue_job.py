"""Chunked pushes as OCA queue_job jobs. Runs where queue_job is installed beside this addon
(it is optional, detected at run time); elsewhere the inline fallback is covered by
TestCrmBackend.test_push_in_chunks_runs_inline_without_queue_job."""

from odoo.tests import tagged

from .common import CrmSyncCommon

CURSOR_KEY = "cursor:erp.customers"


@tagged("post_install", "-at_install")
class TestCrmQueueJob(CrmSyncCommon):
    def setUp(self):
        super().setUp()
        if "queue.job" not in self.env:
            self.skipTest("OCA queue_job is not installed: the inline fallback is tested instead")

    def cursor(self):
        return (
            self.env["ar.crm.sync.state"]
            .sudo()
            .search([("backend_id", "=", self.backend.id), ("key", "=", CURSOR_KEY)])
        )

    def test_chunks_become_parallel_jobs_and_the_cursor_moves_after_all(self):
        from odoo.addons.queue_job.tests.common import trap_jobs  # noqa: PLC0415

        customers = self.env["res.partner"].union(
            *(self.create_customer(f"CRMT Job {n}", ref=f"CRMT-J{n}") for n in range(5))
        )
        self.backend.with_user(self.crm_admin).write({"use_queue_job": True, "push_chunk_size": 2})
        with trap_jobs() as trap:
            self.sync_as(self.credit_manager)
            # three chunk jobs and the cursor job that depends on all of them
            trap.assert_jobs_count(3, only=self.backend._push_chunk_job)
            trap.assert_jobs_count(1, only=self.backend._complete_push_job)
            complete = [j for j in trap.enqueued_jobs if j.method_name == "_complete_push_job"]
            self.assertEqual(len(complete[0].depends_on), 3)
            self.assertEqual(self.last_run().counters["push_chunks"], 3)
            self.assertFalse(self.cursor(), "nothing pushed yet: the cursor has not moved")
            self.assertFalse(set(map(str, customers.ids)) & set(self.crm_accounts()))
            trap.perform_enqueued_jobs()
        self.assertTrue(set(map(str, customers.ids)) <= set(self.crm_accounts()))
        self.assertEqual(len(self.cursor()), 1)
        self.assertGreaterEqual(int(self.cursor().value.rpartition("|")[2]), max(customers.ids))
