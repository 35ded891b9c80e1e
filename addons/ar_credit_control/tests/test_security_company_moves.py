"""Moving a company's record into another company: a credit manager of company A may not move
a policy, a rule, a profile, a bucket set or a CRM backend into company B, where it would act on
B's customers (Odoo checks record rules before a write only)."""

from odoo.tests import tagged

from .security_common import SecurityCommon


@tagged("post_install", "-at_install")
class TestCompanyMoveAttacksAsCreditManager(SecurityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        company = cls.company_a.id
        policy = env["ar.credit.policy"].search([("company_id", "=", company)], limit=1)
        # One policy per grade and company: free the grade in company B for the attack.
        env["ar.credit.policy"].search(
            [("company_id", "=", cls.company_b.id), ("grade", "=", policy.grade)]
        ).unlink()
        cls.targets = {
            "ar.credit.policy": policy,
            "ar.credit.segment.rule": env["ar.credit.segment.rule"].create(
                {"company_id": company, "segment": "vip"}
            ),
            "ar.warning.rule": env["ar.warning.rule"]._ensure_default_rules(cls.company_a),
            "ar.credit.profile": env["ar.credit.profile"]._get_or_create(
                cls.customer, cls.company_a
            ),
            "ar.aging.bucket.set": env["ar.aging.bucket.set"].search(
                [("company_id", "=", company)]
            ),
            "ar.dunning.policy": env["ar.dunning.policy"].create(
                {"name": "Move me", "company_id": company}
            ),
        }
        if "ar.crm.backend" in env:
            cls.targets["ar.crm.backend"] = env["ar.crm.backend"].create(
                {"name": "Move me", "company_id": company}
            )

    def test_cannot_move_a_record_into_another_company(self):
        manager = self.roles["manager"]
        for model, records in self.targets.items():
            record = records[:1]
            self.assertTrue(record, f"no {model} of company A to attack")
            reply = self.call_kw(
                manager, model, "write", [record.ids, {"company_id": self.company_b.id}]
            )
            self.assertRefused(reply, f"{model} moved to company B: {reply}")
            self.assertEqual(record.company_id, self.company_a, model)

    def test_may_move_between_own_companies(self):
        manager = self.roles["manager"]
        manager.company_ids |= self.company_b
        policy = self.targets["ar.dunning.policy"]
        reply = self.call_kw(
            manager,
            "ar.dunning.policy",
            "write",
            [policy.ids, {"company_id": self.company_b.id}],
            {"context": {"allowed_company_ids": [self.company_a.id, self.company_b.id]}},
        )
        self.assertAllowed(reply)
        self.assertEqual(policy.company_id, self.company_b)
