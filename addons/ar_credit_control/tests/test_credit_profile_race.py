"""Two transactions opening the same customer's credit profile, on committed data and two real
connections: the later one, whose snapshot predates the other's commit, cannot see that profile;
it fails with a serialization error that Odoo's retry loop replays, and then finds it."""

from odoo import api
from odoo.api import Transaction
from odoo.modules.registry import DummyRLock, Registry
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestCreditProfileRace(TransactionCase):
    def _env(self, cr):
        # Bind the cursor to this registry (see test_credit_race).
        cr.transaction = Transaction(self.registry)
        return api.Environment(cr, api.SUPERUSER_ID, {})

    def _get_or_create(self, env, partner_id, company_id):
        return env["ar.credit.profile"]._get_or_create(
            env["res.partner"].browse(partner_id), env["res.company"].browse(company_id)
        )

    def test_concurrent_creation_is_replayed_and_finds_the_profile(self):
        # Odoo's retry loop takes the registry lock the test runner holds.
        self.patch(Registry, "_lock", DummyRLock())
        with self.registry.cursor() as cr:
            env = self._env(cr)
            partner_id = (
                env["res.partner"].create({"name": "Race Profile Co", "is_company": True}).id
            )
            company_id = env.ref("base.main_company").id
        try:
            with self.registry.cursor() as late_cr:
                late = self._env(late_cr)
                # The later transaction takes its snapshot before the other one commits.
                late_cr.execute("SELECT count(*) FROM ar_credit_profile")
                with self.registry.cursor() as first_cr:
                    created = self._get_or_create(self._env(first_cr), partner_id, company_id).id
                attempts = []

                def attempt():
                    attempts.append(len(attempts) + 1)
                    return self._get_or_create(late, partner_id, company_id).ids

                # The unique key's violation is logged by the cursor before it is replayed.
                with mute_logger("odoo.sql_db"):
                    found = retrying(attempt, late)
                self.assertEqual(found, [created])
                self.assertEqual(attempts, [1, 2], "replayed once on a fresh snapshot")
        finally:
            with self.registry.cursor() as cr:
                env = self._env(cr)
                env["ar.credit.profile"].search([("partner_id", "=", partner_id)]).unlink()
                env["res.partner"].browse(partner_id).unlink()
