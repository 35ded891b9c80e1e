"""Attacks on the control fields, on company isolation of reports and transient results, and on
bounded input, each made as one role through a real entry point (JSON-RPC ``call_kw``, a report
URL, the dunning run button).

- Control fields: the "no dunning" exemption, the decision fields of a write-off, the dunning
  policies shared by every company and a dunning level's mail template.
- Company isolation: the aging and statement PDFs take their companies from the request
  options; payment-matching proposals and allocations, KPI lines and buckets are rows of
  another company's wizard.
- Bounded input: the KPI period.
"""

import json
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from .security_common import REFUSED, SecurityCommon

# A model constraint refuses with a ValidationError, a UserError for Odoo.
REFUSED_INPUT = (*REFUSED, "odoo.exceptions.ValidationError")


class ControlsCommon(SecurityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        # The customer (shared by both companies) owes 111 in company A and 777 in company B.
        immediate = cls.env.ref("account.account_payment_term_immediate")
        cls.invoice_a = cls.create_invoice(
            cls.customer, 111.0, cls.today - timedelta(days=20), payment_term=immediate
        )
        cls.invoice_b = cls.create_invoice(
            cls.customer,
            777.0,
            cls.today - timedelta(days=20),
            payment_term=immediate,
            company=cls.company_b,
        )

    def assertRefusedInput(self, reply, fragment=None):
        """Refused with Odoo's access or validation error, whose message holds `fragment`."""
        self.assertIn("error", reply, f"not refused: {reply}")
        self.assertIn(reply["error"]["data"]["name"], REFUSED_INPUT, reply)
        if fragment:
            self.assertIn(fragment, reply["error"]["data"]["message"])

    def report_url(self, report, docids=(), **options):
        """The HTML rendering of `report` as the web client asks for it."""
        url = f"/report/html/ar_credit_control.{report}"
        if docids:
            url += "/" + ",".join(str(i) for i in docids)
        return f"{url}?options={json.dumps(options)}" if options else url

    def get_report(self, user, report, docids=(), **options):
        self.as_role(user)
        return self.url_open(self.report_url(report, docids, **options))

    def assertReportRefused(self, response, secret):
        self.assertIn(response.status_code, (403, 404), response.text[:300])
        self.assertNotIn(secret, response.text)


# ---------------------------------------------------------------------------- no dunning


class NoDunningAttacks:
    """Only a credit manager exempts a customer from dunning."""

    allow_inherited_tests_method = True  # Odoo's loader runs these tests in each subclass

    def attackers(self):
        raise NotImplementedError

    def test_cannot_exempt_a_customer_from_dunning(self):
        for user in self.attackers():
            reply = self.call_kw(
                user, "res.partner", "write", [self.customer.ids, {"ar_no_dunning": True}]
            )
            self.assertRefusedInput(reply, "dunning")
            self.customer.invalidate_recordset()
            self.assertFalse(self.customer.ar_no_dunning, user.login)
            # Nor by creating the customer already exempt.
            reply = self.call_kw(
                user,
                "res.partner",
                "create",
                [{"name": f"Exempt by {user.login}", "ar_no_dunning": True}],
            )
            self.assertRefusedInput(reply, "dunning")
            # Their other work on customers goes on: a write that leaves the flag as it is.
            reply = self.call_kw(
                user,
                "res.partner",
                "write",
                [self.customer.ids, {"phone": "+33 1 00 00 00 00", "ar_no_dunning": False}],
            )
            self.assertAllowed(reply)


@tagged("post_install", "-at_install")
class TestControlAttacksAsSalesperson(NoDunningAttacks, ControlsCommon):
    def attackers(self):
        # Odoo's "Contact Creation" right lets them edit customers: not the exemption.
        return [self.salesperson]

    def test_no_aging_or_statement_report(self):
        for report, docids, options in (
            ("report_ar_aging", (), {"company_ids": [self.company_a.id]}),
            ("report_ar_statement_outstanding", self.customer.ids, {}),
        ):
            response = self.get_report(self.salesperson, report, docids, **options)
            self.assertReportRefused(response, "111.00")


@tagged("post_install", "-at_install")
class TestControlAttacksAsCollector(NoDunningAttacks, ControlsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Collectors here may also edit contacts, as Odoo gives every employee by default.
        cls.grant("collector", "base.group_partner_manager")

    def attackers(self):
        return [self.roles["collector"], self.roles_b["collector"]]

    # ------------------------------------------------------------------ reports

    def test_aging_pdf_only_of_own_companies(self):
        for attacker, own, other, own_amount, other_amount in (
            (self.roles["collector"], self.company_a, self.company_b, "111.00", "777.00"),
            (self.roles_b["collector"], self.company_b, self.company_a, "777.00", "111.00"),
        ):
            for company_ids in ([other.id], [own.id, other.id]):
                response = self.get_report(attacker, "report_ar_aging", company_ids=company_ids)
                self.assertReportRefused(response, other_amount)
                response = self.get_report(
                    attacker, "report_ar_aging", self.customer.ids, company_ids=company_ids
                )
                self.assertReportRefused(response, other_amount)
            response = self.get_report(attacker, "report_ar_aging", company_ids=[own.id])
            self.assertEqual(response.status_code, 200)
            self.assertIn(own_amount, response.text)
            self.assertNotIn(other_amount, response.text)

    def test_statement_pdf_only_of_own_companies(self):
        for attacker, own, other, own_amount, other_amount in (
            (self.roles["collector"], self.company_a, self.company_b, "111.00", "777.00"),
            (self.roles_b["collector"], self.company_b, self.company_a, "777.00", "111.00"),
        ):
            for report in ("report_ar_statement_outstanding", "report_ar_statement_activity"):
                response = self.get_report(
                    attacker,
                    report,
                    self.customer.ids,
                    company_id=other.id,
                    date_from=str(self.today - timedelta(days=40)),
                )
                self.assertReportRefused(response, other_amount)
                response = self.get_report(
                    attacker,
                    report,
                    self.customer.ids,
                    company_id=own.id,
                    date_from=str(self.today - timedelta(days=40)),
                )
                self.assertEqual(response.status_code, 200, report)
                self.assertIn(own_amount, response.text)
                self.assertNotIn(other_amount, response.text)

    # ------------------------------------------------------------------ transient results

    def _matching_rows(self, collector, invoice):
        wizard = self.env["ar.payment.matching.wizard"].with_user(collector).create({})
        proposal = (
            self.env["ar.payment.matching.proposal"]
            .with_user(collector)
            .create(
                {
                    "wizard_id": wizard.id,
                    "source": "payment",
                    "currency_id": invoice.currency_id.id,
                    "memo": f"secret memo {wizard.company_id.name}",
                }
            )
        )
        receivable = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        allocation = (
            self.env["ar.payment.matching.allocation"]
            .with_user(collector)
            .create({"proposal_id": proposal.id, "move_line_id": receivable.id, "amount": 1.0})
        )
        return wizard, proposal, allocation

    def test_matching_proposals_of_another_company_are_out_of_reach(self):
        rows = {
            "a": self._matching_rows(self.roles["collector"], self.invoice_a),
            "b": self._matching_rows(self.roles_b["collector"], self.invoice_b),
        }
        for attacker, victim in (
            (self.roles_b["collector"], "a"),
            (self.roles["collector"], "b"),
        ):
            wizard, proposal, allocation = rows[victim]
            for record in (proposal, allocation):
                found = self.assertAllowed(
                    self.call_kw(attacker, record._name, "search", [[("id", "=", record.id)]])
                )
                self.assertEqual(found, [], record._name)
                self.assertRefused(
                    self.call_kw(attacker, record._name, "read", [record.ids, ["id"]])
                )
                self.assertRefused(
                    self.call_kw(attacker, record._name, "write", [record.ids, {"amount": 0.0}])
                )
            # Nor planted in the other company's wizard.
            reply = self.call_kw(
                attacker,
                "ar.payment.matching.proposal",
                "create",
                [{"wizard_id": wizard.id, "source": "payment", "currency_id": 1}],
            )
            self.assertRefused(reply)
        # Each company's collector keeps their own.
        wizard, proposal, allocation = rows["a"]
        self.assertEqual(
            self.assertAllowed(
                self.call_kw(
                    self.roles["collector"],
                    "ar.payment.matching.allocation",
                    "search",
                    [[("proposal_id", "=", proposal.id)]],
                )
            ),
            allocation.ids,
        )

    def _kpi_rows(self, collector):
        kpi = self.env["ar.receivable.kpi"].with_user(collector).create({})
        line = (
            self.env["ar.receivable.kpi.line"]
            .with_user(collector)
            .create({"kpi_id": kpi.id, "kind": "period", "dimension_name": "Secret group"})
        )
        bucket = (
            self.env["ar.receivable.kpi.bucket"]
            .with_user(collector)
            .create({"kpi_id": kpi.id, "kind": "period", "dimension_name": "Secret group"})
        )
        return kpi, line, bucket

    def test_kpi_lines_of_another_company_are_out_of_reach(self):
        rows = {
            "a": self._kpi_rows(self.roles["collector"]),
            "b": self._kpi_rows(self.roles_b["collector"]),
        }
        for attacker, victim in (
            (self.roles_b["collector"], "a"),
            (self.roles["collector"], "b"),
        ):
            kpi, line, bucket = rows[victim]
            for record in (line, bucket):
                found = self.assertAllowed(
                    self.call_kw(
                        attacker, record._name, "search_read", [[]], {"fields": ["kpi_id"]}
                    )
                )
                self.assertNotIn(record.id, [row["id"] for row in found], record._name)
                self.assertRefused(
                    self.call_kw(attacker, record._name, "read", [record.ids, ["dimension_name"]])
                )
                self.assertRefused(
                    self.call_kw(
                        attacker, record._name, "write", [record.ids, {"dimension_name": "x"}]
                    )
                )
                self.assertRefused(
                    self.call_kw(
                        attacker,
                        record._name,
                        "create",
                        [{"kpi_id": kpi.id, "kind": "period", "dimension_name": "planted"}],
                    )
                )
        kpi, line, bucket = rows["a"]
        found = self.assertAllowed(
            self.call_kw(
                self.roles["collector"],
                "ar.receivable.kpi.line",
                "search",
                [[("kpi_id", "=", kpi.id)]],
            )
        )
        self.assertEqual(found, line.ids)

    # ------------------------------------------------------------------ bounded input

    def test_kpi_period_is_capped(self):
        for collector, company in (
            (self.roles["collector"], self.company_a),
            (self.roles_b["collector"], self.company_b),
        ):
            values = {"company_id": company.id, "date_from": "2016-01-01", "date_to": "2025-12-31"}
            reply = self.call_kw(collector, "ar.receivable.kpi", "create", [values])
            self.assertRefusedInput(reply, "36")
            reply = self.call_kw(
                collector,
                "ar.receivable.kpi",
                "create",
                [{**values, "date_from": "2023-01-01"}],
            )
            kpi_id = self.assertAllowed(reply)
            reply = self.call_kw(
                collector, "ar.receivable.kpi", "write", [[kpi_id], {"date_from": "2022-12-31"}]
            )
            self.assertRefusedInput(reply, "36")


# ---------------------------------------------------------------------------- manager


@tagged("post_install", "-at_install")
class TestControlAttacksAsCreditManager(ControlsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shared_policy = cls.env.ref("ar_credit_control.dunning_policy_default")
        cls.policies = {
            company: cls.env["ar.dunning.policy"].create(
                {
                    "name": f"Own ladder {company.name}",
                    "company_id": company.id,
                    "sequence": 0,
                    "level_ids": [
                        Command.create(
                            {"sequence": 1, "name": "Notice", "days": 1, "channel_email": True}
                        )
                    ],
                }
            )
            for company in (cls.company_a, cls.company_b)
        }

    def managers(self):
        return [
            (self.roles["manager"], self.company_a, self.company_b),
            (self.roles_b["manager"], self.company_b, self.company_a),
        ]

    def test_exempts_a_customer_from_dunning(self):
        reply = self.call_kw(
            self.roles["manager"],
            "res.partner",
            "write",
            [self.customer.ids, {"ar_no_dunning": True}],
        )
        self.assertAllowed(reply)
        self.customer.invalidate_recordset()
        self.assertTrue(self.customer.ar_no_dunning)

    # ------------------------------------------------------------------ write-off

    def test_write_off_decision_not_writable_through_a_context_key(self):
        write_off = self.env["ar.write.off"].create(
            {
                "invoice_id": self.invoice_a.id,
                "reason": "Insolvent",
                "allowance_account_id": self.company_data["default_account_expense"].id,
                "journal_id": self.company_data["default_journal_misc"].id,
            }
        )
        manager = self.roles["manager"]
        context = {"ar_write_off_decision": True}
        for values in (
            {"state": "done", "approved_by_id": self.roles_b["manager"].id},
            {"state": "rejected"},
            {"move_id": self.invoice_a.id},
            {"requested_by_id": manager.id},
        ):
            reply = self.call_kw(
                manager, "ar.write.off", "write", [write_off.ids, values], {"context": context}
            )
            self.assertRefused(reply)
            write_off.invalidate_recordset()
            self.assertEqual(write_off.state, "requested")
            self.assertFalse(write_off.move_id)
        # The buttons still decide.
        self.assertAllowed(self.call_kw(manager, "ar.write.off", "action_approve", [write_off.ids]))
        write_off.invalidate_recordset()
        self.assertEqual(write_off.state, "done")
        self.assertEqual(write_off.approved_by_id, manager)
        self.assertTrue(write_off.move_id)

    # ------------------------------------------------------------------ dunning policies

    def test_shared_dunning_policies_not_editable_by_a_company_manager(self):
        shared = self.shared_policy
        for manager, own, other in self.managers():
            name = shared.name
            self.assertRefused(
                self.call_kw(manager, "ar.dunning.policy", "write", [shared.ids, {"name": "Mine"}])
            )
            self.assertRefused(
                self.call_kw(
                    manager,
                    "ar.dunning.level",
                    "write",
                    [shared.level_ids[:1].ids, {"days": 900}],
                )
            )
            self.assertRefused(
                self.call_kw(
                    manager,
                    "ar.dunning.level",
                    "create",
                    [{"policy_id": shared.id, "sequence": 99, "name": "Extra", "days": 400}],
                )
            )
            self.assertRefused(self.call_kw(manager, "ar.dunning.policy", "unlink", [shared.ids]))
            self.assertRefused(
                self.call_kw(
                    manager,
                    "ar.dunning.policy",
                    "create",
                    [{"name": "Shared by me", "company_id": False}],
                )
            )
            shared.invalidate_recordset()
            self.assertEqual(shared.name, name)
            self.assertTrue(shared.exists())
            # Their own policy: yes, but it stays theirs.
            mine = self.policies[own]
            self.assertAllowed(
                self.call_kw(manager, "ar.dunning.policy", "write", [mine.ids, {"name": "Ours"}])
            )
            for company in (other, self.env["res.company"]):
                self.assertRefused(
                    self.call_kw(
                        manager,
                        "ar.dunning.policy",
                        "write",
                        [mine.ids, {"company_id": company.id}],
                    )
                )
            self.assertRefused(
                self.call_kw(
                    manager,
                    "ar.dunning.level",
                    "write",
                    [mine.level_ids.ids, {"policy_id": shared.id}],
                )
            )
            mine.invalidate_recordset()
            self.assertEqual(mine.company_id, own)
            self.assertEqual(mine.level_ids.policy_id, mine)
            # Another company's policy: not even visible.
            self.assertRefused(
                self.call_kw(
                    manager, "ar.dunning.policy", "write", [self.policies[other].ids, {"name": "x"}]
                )
            )

    def test_shared_dunning_policies_editable_by_an_administrator(self):
        admin = new_test_user(
            self.env,
            login="sec_policy_admin",
            password="sec_policy_admin",
            groups="base.group_system,ar_credit_control.group_credit_control_manager",
            company_id=self.company_a.id,
            company_ids=[Command.set(self.company_a.ids)],
        )
        shared = self.shared_policy
        self.assertAllowed(
            self.call_kw(admin, "ar.dunning.policy", "write", [shared.ids, {"name": "Group-wide"}])
        )
        self.assertAllowed(
            self.call_kw(
                admin,
                "ar.dunning.level",
                "create",
                [{"policy_id": shared.id, "sequence": 99, "name": "Extra", "days": 400}],
            )
        )
        self.assertAllowed(
            self.call_kw(
                admin, "ar.dunning.policy", "create", [{"name": "Shared", "company_id": False}]
            )
        )
        # Not another company's own policy.
        self.assertRefused(
            self.call_kw(
                admin,
                "ar.dunning.policy",
                "write",
                [self.policies[self.company_b].ids, {"name": "x"}],
            )
        )

    # ------------------------------------------------------------------ mail template

    def test_dunning_level_mails_only_with_a_dunning_template(self):
        foreign = self.env.ref("ar_credit_control.mail_template_ar_balance_confirmation")
        for manager, own, _other in self.managers():
            level = self.policies[own].level_ids
            reply = self.call_kw(
                manager, "ar.dunning.level", "write", [level.ids, {"mail_template_id": foreign.id}]
            )
            self.assertRefusedInput(reply, "template")
            reply = self.call_kw(
                manager,
                "ar.dunning.level",
                "create",
                [
                    {
                        "policy_id": self.policies[own].id,
                        "sequence": 2,
                        "name": "Second",
                        "days": 10,
                        "mail_template_id": foreign.id,
                    }
                ],
            )
            self.assertRefusedInput(reply, "template")
            level.invalidate_recordset()
            self.assertFalse(level.mail_template_id)
            dunning = self.env.ref("ar_credit_control.mail_template_dunning")
            self.assertAllowed(
                self.call_kw(
                    manager,
                    "ar.dunning.level",
                    "write",
                    [level.ids, {"mail_template_id": dunning.id}],
                )
            )

    def test_dunning_run_never_renders_a_template_of_another_model(self):
        # A level linked to another model's template before the constraint existed: it would
        # mail the contacts whose ids are the communications' ids.
        foreign = self.env["mail.template"].create(
            {
                "name": "Contact letter",
                "model_id": self.env.ref("base.model_res_partner").id,
                "subject": "Letter to {{ object.name }}",
                "body_html": "<p>Private to <t t-out='object.name'/></p>",
                "email_to": "{{ object.email or 'nobody@example.com' }}",
            }
        )
        level = self.policies[self.company_a].level_ids
        self.env.cr.execute(
            "UPDATE ar_dunning_level SET mail_template_id = %s WHERE id = %s",
            (foreign.id, level.id),
        )
        level.invalidate_recordset()
        mails_before = self.env["mail.mail"].search_count([("model", "=", foreign.model)])
        self.assertAllowed(
            self.call_kw(self.roles["manager"], "ar.dunning.run", "action_run_now", [])
        )
        communication = self.env["ar.dunning.communication"].search(
            [("partner_id", "=", self.customer.id), ("company_id", "=", self.company_a.id)]
        )
        self.assertEqual(len(communication), 1)
        self.assertEqual(communication.state, "error")
        self.assertIn("template", communication.error_message)
        self.assertFalse(communication.mail_id)
        self.assertEqual(
            self.env["mail.mail"].search_count([("model", "=", foreign.model)]), mails_before
        )


@tagged("post_install", "-at_install")
class TestControlAttacksAsAnonymous(ControlsCommon):
    def test_reports_need_a_login(self):
        response = self.get_report(
            None, "report_ar_aging", company_ids=[self.company_a.id, self.company_b.id]
        )
        self.assertNotIn("111.00", response.text)
        self.assertIn("/web/login", response.url)
