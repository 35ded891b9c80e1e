"""End to end over HTTP JSON-RPC, as the real users: a credit manager evaluates a customer and
applies the grade's policy; a salesperson (with invoicing rights) reads the credit status but
cannot change it."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditProfileHttp(CreditControlCommon, HttpCase):
    def call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def test_manager_evaluates_and_applies_policy_salesperson_reads_only(self):
        today = fields.Date.context_today(self.env.user)
        term = self.env["account.payment.term"].create(
            {
                "name": "Net 30 (http)",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})
                ],
            }
        )
        customer = self.create_customer("Slow Payer over RPC")
        for days_ago in (300, 240, 180, 150):
            invoice = self.create_invoice(
                customer, 1000.0, today - timedelta(days=days_ago), payment_term=term
            )
            self.pay_invoice(invoice, payment_date=today - timedelta(days=days_ago - 30 - 120))
        self.create_invoice(customer, 4000.0, today - timedelta(days=200), payment_term=term)

        # The credit manager evaluates from the customer form, then applies the policy.
        self.authenticate("credit_manager", "credit_manager")
        self.call("res.partner", "action_evaluate_credit", [customer.id])
        [profile] = self.call(
            "ar.credit.profile",
            "search_read",
            [("partner_id", "=", customer.id)],
            fields=["grade", "score", "reasons_text", "credit_hold"],
        )
        self.assertEqual(profile["grade"], "E", profile["reasons_text"])
        self.assertIn("currently overdue, oldest 170 days", profile["reasons_text"])
        self.assertFalse(profile["credit_hold"])
        self.call("ar.credit.profile", "action_apply_policy", [profile["id"]])
        [profile] = self.call(
            "ar.credit.profile",
            "read",
            [profile["id"]],
            fields=["credit_hold", "prepayment_percent"],
        )
        self.assertTrue(profile["credit_hold"])
        self.assertEqual(profile["prepayment_percent"], 100.0)
        reviews = self.call(
            "ar.credit.review",
            "search_read",
            [("partner_id", "=", customer.id)],
            fields=["trigger", "grade"],
        )
        self.assertEqual([(r["trigger"], r["grade"]) for r in reviews], [("manual", "E")])

        # The salesperson sees why, live, but changes nothing.
        self.authenticate("salesperson", "salesperson")
        [seen] = self.call(
            "res.partner",
            "read",
            [customer.id],
            fields=[
                "credit_grade",
                "credit_hold",
                "credit_exposure",
                "amount_overdue",
                "credit_reasons",
            ],
        )
        self.assertEqual(seen["credit_grade"], "E")
        self.assertTrue(seen["credit_hold"])
        self.assertEqual(seen["credit_exposure"], 4000.0)
        self.assertEqual(seen["amount_overdue"], 4000.0)
        self.assertIn("overdue", seen["credit_reasons"])
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self.call("res.partner", "write", [customer.id], {"credit_limit": 1000000})
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self.call("ar.credit.profile", "write", [profile["id"]], {"credit_hold": False})
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self.call("res.partner", "action_evaluate_credit", [customer.id])
        self.assertTrue(
            self.env["ar.credit.profile"].browse(profile["id"]).credit_hold, "nothing changed"
        )
