"""The collector's worklist: the rank and why, who works which customer, and one click from
the row to log a call, a promise or a dispute (as a collector and as a manager, in-process and
over the web client's JSON-RPC)."""

import json
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import format_date

from .dunning_common import DunningCommon


class WorklistCommon(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        cls.other_collector = new_test_user(
            cls.env,
            login="collector_two",
            password="collector_two",
            name="Collector Two",
            groups="base.group_user,ar_credit_control.group_credit_control_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def overdue(self, name, *amounts_and_days, grade=None):
        customer = self.dunned_customer(name)
        invoices = self.env["account.move"]
        for amount, days in amounts_and_days:
            invoices |= self.invoice_due(customer, amount, self.today - timedelta(days=days))
        return customer, invoices

    def worklist(self, user, customers):
        return (
            self.env["ar.collection.worklist"]
            .with_user(user)
            .search([("partner_id", "in", customers.ids)])
        )


@tagged("post_install", "-at_install")
class TestWorklist(WorklistCommon):
    def test_rank_weighs_amount_lateness_grade_promise_dispute_and_says_why(self):
        graded, _ = self.overdue("Graded Co", (1000.0, 10))
        promised, promised_invoices = self.overdue("Promised Co", (2000.0, 10))
        disputed, disputed_invoices = self.overdue("Disputed Co", (300.0, 30), (100.0, 30))
        self.run_on(self.today.isoformat())
        self.profile(graded).grade = "D"
        self.profile(disputed).grade = "B"
        promise_date = self.today + timedelta(days=5)
        self.env["ar.payment.promise"].create(
            {
                "partner_id": promised.id,
                "move_ids": [Command.set(promised_invoices.ids)],
                "amount": 2000.0,
                "promised_date": promise_date,
            }
        )
        self.env["ar.dispute"].create(
            {
                "partner_id": disputed.id,
                "move_ids": [
                    Command.set(disputed_invoices.filtered(lambda m: m.amount_total == 100).ids)
                ],
                "reason": "price",
            }
        )
        self.env.flush_all()
        rows = self.worklist(self.collector, graded | promised | disputed)
        self.assertEqual(
            rows.partner_id.mapped("name"), ["Graded Co", "Promised Co", "Disputed Co"]
        )
        self.assertEqual(
            rows.mapped("priority"),
            [1000 * 10 * 1.5, 2000 * 10 * 0.5, (300 * 30 + 100 * 30 * 0.5) * 0.75],
        )
        self.assertEqual(rows[0].rank_reason, "1,000 overdue × 10 days × grade D (×1.5)")
        self.assertEqual(
            rows[1].rank_reason,
            f"2,000 overdue × 10 days; promise due {format_date(self.env, promise_date)} halves it",
        )
        self.assertEqual(
            rows[2].rank_reason,
            "400 overdue × 30 days × grade B (×0.75); dispute open halves 100 of it",
        )
        self.assertEqual(rows[1].next_promise_date, promise_date)
        self.assertEqual((rows[2].amount_disputed, rows[2].amount_promised), (100.0, 0.0))

    def test_collector_is_the_customers_else_the_segments(self):
        watched, _ = self.overdue("Watched Co", (500.0, 5))
        standard, _ = self.overdue("Standard Co", (500.0, 5))
        self.env["ar.credit.profile"]._get_or_create(watched, self.company).write(
            {"segment": "watch", "segment_locked": True}
        )
        self.env["ar.credit.segment.rule"].create(
            [
                # The first rule of the segment naming a collector counts.
                {"segment": "watch", "sequence": 1, "worst_grade": "B"},
                {"segment": "watch", "sequence": 2, "collector_id": self.other_collector.id},
                {"segment": "watch", "sequence": 3, "collector_id": self.collector.id},
            ]
        )
        # The dunning run gives its policy's collector to customers without one, not to
        # customers whose segment has one.
        self.run_on(self.today.isoformat())
        self.assertFalse(self.profile(watched).collector_id)
        self.assertEqual(self.profile(standard).collector_id, self.collector)
        self.assertEqual(self.profile(watched)._collector(), self.other_collector)
        rows = self.worklist(self.credit_manager, watched | standard)
        self.assertEqual(
            {row.partner_id: row.user_id for row in rows},
            {watched: self.other_collector, standard: self.collector},
        )
        # The dunning communication's call goes to the same collector.
        communication = self.communications(watched)[-1:]
        self.assertEqual(communication._collector(), self.other_collector)
        self.assertFalse(self.profile(watched).collector_id, "the segment's stays the segment's")
        # The customer's own collector comes first.
        self.profile(watched).collector_id = self.collector
        self.env.flush_all()  # the view reads the tables, of a new request in real life
        self.env.invalidate_all()
        self.assertEqual(self.profile(watched)._collector(), self.collector)
        self.assertEqual(self.worklist(self.collector, watched).user_id, self.collector)

    def test_collector_opens_their_customers_manager_everyones(self):
        mine, _ = self.overdue("Mine Co", (100.0, 3))
        theirs, _ = self.overdue("Theirs Co", (5000.0, 3))
        self.run_on(self.today.isoformat())
        self.profile(theirs).collector_id = self.other_collector
        self.env.flush_all()  # the view reads the tables
        my_action = self.env.ref("ar_credit_control.action_ar_collection_worklist")
        team_menu = self.env.ref("ar_credit_control.menu_credit_control_worklist_team")
        team_action = team_menu.action
        self.assertIn("search_default_mine", my_action.context)
        self.assertNotIn("search_default_mine", team_action.context or "")
        self.assertEqual(
            team_menu.groups_id, self.env.ref("ar_credit_control.group_credit_control_manager")
        )
        self.assertNotIn(
            team_menu, self.env["ir.ui.menu"].with_user(self.collector)._visible_menu_ids()
        )
        self.assertIn(
            team_menu.id, self.env["ir.ui.menu"].with_user(self.credit_manager)._visible_menu_ids()
        )
        # Both see every customer of their companies; "mine" narrows the collector's.
        customers = mine | theirs
        self.assertEqual(self.worklist(self.credit_manager, customers).partner_id, theirs | mine)
        worklist = self.env["ar.collection.worklist"].with_user(self.collector)
        self.assertEqual(
            worklist.search(
                [("user_id", "=", self.collector.id), ("partner_id", "in", customers.ids)]
            ).partner_id,
            mine,
        )
        self.assertEqual(worklist.count_today(only_mine=True), 1)
        self.assertEqual(worklist.count_today(), 2)
        self.assertEqual(
            self.env["ar.collection.worklist"].with_user(self.other_collector).count_today(True), 1
        )


@tagged("post_install", "-at_install")
class TestWorklistHttp(WorklistCommon, HttpCase):
    def call_kw(self, user, model, method, args=(), **kwargs):
        """``/web/dataset/call_kw`` as the web client calls it, logged in as ``user``."""
        self.authenticate(user.login, user.login)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        }
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def test_collector_logs_a_promise_from_the_row(self):
        customer, invoices = self.overdue("Row Click Co", (1500.0, 12))
        self.run_on(self.today.isoformat())
        [row] = self.call_kw(
            self.collector,
            "ar.collection.worklist",
            "search_read",
            [[("partner_id", "=", customer.id)]],
            fields=["rank_reason", "user_id"],
        )["result"]
        self.assertEqual(row["rank_reason"], "1,500 overdue × 12 days")
        action = self.call_kw(
            self.collector, "ar.collection.worklist", "action_log_promise", [[row["id"]]]
        )["result"]
        self.assertEqual((action["res_model"], action["target"]), ("ar.collection.log", "new"))
        defaults = action["context"]
        for method, result in (("action_log_call", "reached"), ("action_log_dispute", "disputed")):
            reply = self.call_kw(self.collector, "ar.collection.worklist", method, [[row["id"]]])
            self.assertEqual(reply["result"]["context"]["default_result"], result)
        self.assertEqual(defaults["default_partner_id"], customer.id)
        self.assertEqual(defaults["default_result"], "promised")
        self.assertEqual(defaults["default_promise_amount"], 1500.0)
        # The dialog saves what the collector filled in, over the preset values.
        reply = self.call_kw(
            self.collector,
            "ar.collection.log",
            "web_save",
            [[], {"promise_date": (self.today + timedelta(days=7)).isoformat()}],
            specification={"promise_id": {}},
            context=defaults,
        )
        self.assertNotIn("error", reply, reply)
        promise = self.env["ar.payment.promise"].browse(reply["result"][0]["promise_id"])
        self.assertEqual((promise.partner_id, promise.amount), (customer, 1500.0))
        self.assertEqual(promise.move_ids, invoices)
        self.assertEqual(promise.user_id, self.collector)
        # Logged today: off today's list.
        reply = self.call_kw(
            self.collector, "ar.collection.worklist", "search_count", [[("id", "=", row["id"])]]
        )
        self.assertEqual(reply["result"], 0)
        # A salesperson cannot open the row.
        reply = self.call_kw(
            self.salesperson, "ar.collection.worklist", "action_log_promise", [[row["id"]]]
        )
        self.assertEqual(reply["error"]["data"]["name"], "odoo.exceptions.AccessError")
