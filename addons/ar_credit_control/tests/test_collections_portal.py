"""End to end over HTTP: the customer's collections page, as a portal user and through the
signed link of the dunning emails and letters: pay what is due now, promise, dispute, download
the statement; each action logged, dunning paused for its items the same day, the collector
told; another customer's ids and forged tokens refused."""

import json
import re
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from .dunning_common import DunningCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PAY_TOKEN_RE = re.compile(r'data-access-token="([^"]+)"')
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@tagged("post_install", "-at_install")
class TestCollectionsPortal(DunningCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.context_today(cls.env.user)
        cls.today = today
        halves = cls.env["account.payment.term"].create(
            {
                "name": "Half now, half in 60 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 60}),
                ],
            }
        )
        cls.customer = cls.dunned_customer("Portal Co", lang="en_US")
        cls.split_invoice = cls.create_invoice(
            cls.customer, 1000.0, today - timedelta(days=20), payment_term=halves
        )
        cls.promised_invoice = cls.invoice_due(cls.customer, 300.0, today - timedelta(days=15))
        cls.disputed_invoice = cls.invoice_due(cls.customer, 200.0, today - timedelta(days=12))
        cls.other = cls.dunned_customer("Other Co")
        cls.other_invoice = cls.invoice_due(cls.other, 450.0, today - timedelta(days=14))
        cls.profile = cls.env["ar.credit.profile"]._get_or_create(cls.customer, cls.company)
        cls.other_profile = cls.env["ar.credit.profile"]._get_or_create(cls.other, cls.company)
        cls.profile.collector_id = cls.collector
        cls.portal_user = new_test_user(
            cls.env,
            login="collections_portal",
            password="collections_portal",
            name="Portal Payables Clerk",
            groups="base.group_portal",
            company_id=cls.company.id,
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    # ------------------------------------------------------------------ helpers

    def receivable_lines(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.display_type == "payment_term").sorted(
            "date_maturity"
        )

    def signed_path(self, profile=None, suffix=""):
        profile = (profile or self.profile).sudo()
        profile._portal_ensure_token()
        return f"/my/collections/{profile.id}{suffix}?access_token={profile.access_token}"

    def csrf(self, path):
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200, page.text[:500])
        return CSRF_RE.search(page.text).group(1)

    def portal_logs(self, partner=None):
        return self.env["ar.collection.log"].search(
            [("partner_id", "=", (partner or self.customer).id), ("channel", "=", "portal")]
        )

    # ------------------------------------------------------------------ tests

    def test_signed_link_shows_its_own_customer_only(self):
        path = self.signed_path()
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        for invoice in (self.split_invoice, self.promised_invoice, self.disputed_invoice):
            self.assertIn(invoice.name, page.text)
        self.assertNotIn(self.other_invoice.name, page.text)
        self.assertIn("1/2", page.text, "the instalments of the split invoice are shown")
        self.assertIn("2/2", page.text)
        # Due now: the first half of the split invoice and the two others, not the total.
        due_now = re.search(
            r'o_ar_collections_due_now"[^>]*>(.+?)</strong>', page.text, re.S
        ).group(1)
        self.assertIn("1,000.00", due_now)
        total = re.search(r'o_ar_collections_total"[^>]*>(.+?)</strong>', page.text, re.S).group(1)
        self.assertIn("1,500.00", total)
        # Nothing of the credit file reaches the customer.
        self.profile.sudo().write({"grade": "E", "score": 13})
        page = self.url_open(path)
        for internal in ("Grade", "Score", "Credit limit", "credit_hold", ">E<"):
            self.assertNotIn(internal, page.text)
        pdf = self.url_open(self.signed_path(suffix="/statement.pdf"))
        self.assertEqual(pdf.status_code, 200)
        self.assertIn(b"Portal Co", pdf.content)
        self.assertNotIn(b"Other Co", pdf.content)
        # The other customer's token, a forged one, none: refused, and nothing shown.
        self.other_profile.sudo()._portal_ensure_token()
        forged = (self.other_profile.sudo().access_token, "x" * 40, "", "é")
        for token in forged:
            for suffix in ("", "/statement.pdf"):
                refused = self.url_open(
                    f"/my/collections/{self.profile.id}{suffix}?access_token={token}"
                )
                self.assertEqual(refused.status_code, 403)
                self.assertNotIn(self.split_invoice.name, refused.text)
        # An unknown id is refused the same way (ids tell nothing).
        refused = self.url_open(f"/my/collections/999999?access_token={token}")
        self.assertEqual(refused.status_code, 403)
        # Anonymous visitors of the unsigned page are sent to log in.
        self.assertIn("/web/login", self.url_open("/my/collections").url)

    def test_dunning_email_and_letter_carry_the_signed_link(self):
        run = self.env["ar.dunning.run"]._run_company(self.company, trigger="manual", commit=False)
        self.assertTrue(run)
        communication = self.communications(self.customer)
        self.assertEqual(communication.state, "sent", communication.error_message)
        link = self.profile.sudo().get_portal_url()
        self.assertIn(f"/my/collections/{self.profile.id}?access_token=", link)
        self.assertIn(link, communication.mail_id.body_html)
        self.assertIn("View and pay your account online", communication.mail_id.body_html)
        other_link = self.other_profile.sudo().get_portal_url()
        self.assertNotEqual(link, other_link)
        self.assertNotIn(other_link, communication.mail_id.body_html)
        letter = communication._render_letter("ar_credit_control.action_report_dunning_letter")
        letter = letter.raw.decode()
        self.assertIn("View and pay your account online", letter)
        self.assertIn(link.replace("&", "&amp;"), letter)

    def test_portal_promise_and_dispute_pause_dunning_the_same_day(self):
        bystander = self.dunned_customer("Bystander Co")
        bystander_invoice = self.invoice_due(bystander, 80.0, self.today - timedelta(days=15))
        self.authenticate("collections_portal", "collections_portal")
        csrf = self.csrf("/my/collections")
        promised_line = self.receivable_lines(self.promised_invoice)
        disputed_line = self.receivable_lines(self.disputed_invoice)
        promise = self.url_open(
            "/my/collections/promise",
            data={
                "csrf_token": csrf,
                "line_ids": promised_line.ids,
                "amount": "300",
                "promised_date": fields.Date.to_string(self.today + timedelta(days=7)),
                "note": "Paying next week",
            },
        )
        self.assertEqual(promise.status_code, 200)
        self.assertIn("we have recorded your promise", promise.text)
        dispute = self.url_open(
            "/my/collections/dispute",
            data={
                "csrf_token": csrf,
                "line_id": disputed_line.id,
                "reason": "quality",
                "description": "Two boxes arrived broken",
            },
            files={"attachment": ("photo.pdf", PDF, "application/pdf")},
        )
        self.assertEqual(dispute.status_code, 200)
        self.assertIn("we have recorded your dispute", dispute.text)
        # Each action is in the collection log at once, with what it opened.
        logs = self.portal_logs()
        self.assertEqual(sorted(logs.mapped("result")), ["disputed", "promised"])
        promise_record = logs.filtered(lambda log: log.result == "promised").promise_id
        self.assertEqual(promise_record.move_ids, self.promised_invoice)
        self.assertEqual(promise_record.amount, 300.0)
        self.assertEqual(promise_record.state, "open")
        dispute_record = logs.filtered(lambda log: log.result == "disputed").dispute_id
        self.assertEqual(dispute_record.move_ids, self.disputed_invoice)
        self.assertEqual(dispute_record.reason, "quality")
        self.assertEqual(dispute_record.user_id, self.collector)
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "ar.dispute"), ("res_id", "=", dispute_record.id)]
        )
        self.assertEqual(attachment.raw, PDF)
        # The collector has a to-do for each.
        activities = self.profile.activity_ids.filtered(lambda a: a.user_id == self.collector)
        self.assertEqual(len(activities), 2)
        # The page shows what is paused.
        page = self.url_open("/my/collections")
        self.assertNotIn(self.other_invoice.name, page.text, "only their own customer's items")
        self.assertIn("Disputed", page.text)
        self.assertIn("Promised by", page.text)
        # The dunning run of the same day: the promised and disputed invoices are not dunned;
        # the customer's other overdue instalment and the other customers are.
        self.env["ar.dunning.run"]._run_company(self.company, trigger="manual", commit=False)
        dunned = self.communications(self.customer).line_ids
        self.assertEqual(
            dunned.mapped("move_line_ref"), self.receivable_lines(self.split_invoice)[:1].ids
        )
        self.assertFalse(
            set(dunned.mapped("move_ref")) & {self.promised_invoice.id, self.disputed_invoice.id}
        )
        self.assertEqual(self.communications(bystander).line_ids.move_ref, bystander_invoice.id)
        self.assertTrue(self.communications(self.other))

    def test_refuses_what_is_not_the_customers_or_out_of_bounds(self):
        self.authenticate("collections_portal", "collections_portal")
        csrf = self.csrf("/my/collections")
        own = self.receivable_lines(self.promised_invoice)
        theirs = self.receivable_lines(self.other_invoice)
        tomorrow = fields.Date.to_string(self.today + timedelta(days=1))
        cases = [
            ({"line_ids": theirs.ids, "amount": "10", "promised_date": tomorrow}, "not open"),
            ({"line_ids": own.ids, "amount": "300.01", "promised_date": tomorrow}, "at most"),
            ({"line_ids": own.ids, "amount": "0", "promised_date": tomorrow}, "more than 0"),
            ({"line_ids": own.ids, "amount": "nan", "promised_date": tomorrow}, "more than 0"),
            (
                {
                    "line_ids": own.ids,
                    "amount": "10",
                    "promised_date": fields.Date.to_string(self.today - timedelta(days=1)),
                },
                "payment date",
            ),
            ({"line_ids": own.ids, "amount": "10", "promised_date": "someday"}, "payment date"),
        ]
        for form, message in cases:
            refused = self.url_open("/my/collections/promise", data={"csrf_token": csrf, **form})
            self.assertEqual(refused.status_code, 400, form)
            self.assertIn(message, refused.text)
        refused = self.url_open(
            "/my/collections/dispute",
            data={"csrf_token": csrf, "line_id": theirs.id, "reason": "price", "description": "x"},
        )
        self.assertEqual(refused.status_code, 400)
        refused = self.url_open(
            "/my/collections/dispute",
            data={"csrf_token": csrf, "line_id": own.id, "reason": "price", "description": "x"},
            files={"attachment": ("tool.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/pdf")},
        )
        self.assertEqual(refused.status_code, 400)
        self.assertIn("Attach a PDF", refused.text)
        # Without the CSRF token, nothing is accepted.
        refused = self.url_open(
            "/my/collections/promise",
            data={"line_ids": own.ids, "amount": "10", "promised_date": tomorrow},
        )
        self.assertEqual(refused.status_code, 400)
        # Posting on another customer's signed page needs its token, not a session.
        refused = self.url_open(
            f"/my/collections/{self.other_profile.id}/promise",
            data={"csrf_token": csrf, "amount": "10", "promised_date": tomorrow},
        )
        self.assertEqual(refused.status_code, 403)
        customers = [("partner_id", "in", (self.customer | self.other).ids)]
        self.assertFalse(self.env["ar.payment.promise"].search(customers))
        self.assertFalse(self.env["ar.dispute"].search(customers))
        self.assertFalse(self.env["ar.collection.log"].search(customers))

    def test_signed_link_whole_account_promise(self):
        path = self.signed_path()
        csrf = self.csrf(path)
        answer = self.url_open(
            f"/my/collections/{self.profile.id}/promise",
            data={
                "csrf_token": csrf,
                "access_token": self.profile.sudo().access_token,
                "amount": "1500",
                "promised_date": fields.Date.to_string(self.today + timedelta(days=30)),
            },
        )
        self.assertEqual(answer.status_code, 200)
        promise = self.portal_logs().promise_id
        self.assertEqual(
            promise.move_ids,
            self.split_invoice | self.promised_invoice | self.disputed_invoice,
            "no item chosen: the whole account",
        )

    def test_signed_page_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["ar_credit_control"], ["zh_CN"])
        self.customer.lang = "zh_CN"
        page = self.url_open(self.signed_path())
        self.assertEqual(page.status_code, 200)
        for text in ("您在以下公司的账户", "当前应付", "对项目提出争议", "付款日期"):
            self.assertIn(text, page.text)
        self.assertNotIn("Due now", page.text)
        # A refused promise explains why, in the customer's language too.
        csrf = CSRF_RE.search(page.text).group(1)
        refused = self.url_open(
            f"/my/collections/{self.profile.id}/promise",
            data={
                "csrf_token": csrf,
                "access_token": self.profile.sudo().access_token,
                "amount": "99999",
                "promised_date": fields.Date.to_string(self.today + timedelta(days=3)),
            },
        )
        self.assertEqual(refused.status_code, 400)
        self.assertIn("承诺金额必须大于 0", refused.text)

    def _setup_provider(self):
        method_info = self.env["account.payment.method"]._get_payment_method_information()

        def with_none(*args, **kwargs):
            return {**method_info, "none": {"mode": "electronic", "type": ("bank",)}}

        with patch.object(
            self.env.registry["account.payment.method"],
            "_get_payment_method_information",
            with_none,
        ):
            self.env["account.payment.method"].sudo().create(
                {"name": "Dummy method", "code": "none", "payment_type": "inbound"}
            )
            unknown = self.env.ref("payment.payment_method_unknown")
            provider = self.env["payment.provider"].create(
                {
                    "name": "Collections test provider",
                    "code": "none",
                    "state": "test",
                    "is_published": True,
                    "company_id": self.company.id,
                    "payment_method_ids": [Command.set(unknown.ids)],
                    "journal_id": self.company_data["default_journal_bank"].id,
                }
            )
            unknown.active = True
        return provider, unknown

    def test_pay_the_amount_due_now_through_the_signed_link(self):
        provider, method = self._setup_provider()
        first_half = self.receivable_lines(self.split_invoice)[:1]
        promised_line = self.receivable_lines(self.promised_invoice)
        lines = first_half | promised_line
        query = "&".join(f"line_ids={line_id}" for line_id in lines.ids)
        page = self.url_open(self.signed_path(suffix="/pay") + "&" + query)
        self.assertEqual(page.status_code, 200, page.text[:500])
        self.assertIn("800.00", page.text, "the first instalment and the other invoice")
        pay_token = PAY_TOKEN_RE.search(page.text).group(1)
        route = re.search(r'data-transaction-route="([^"]+)"', page.text).group(1)
        route = route.replace("&amp;", "&")
        params = {
            "provider_id": provider.id,
            "payment_method_id": method.id,
            "token_id": None,
            "amount": 1500.0,  # what the browser says does not count
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "https://evil.example/",
            "is_validation": False,
            "access_token": pay_token,
        }

        def call(url, **changes):
            return self.url_open(
                url,
                data=json.dumps({"params": {**params, **changes}}),
                headers={"Content-Type": "application/json"},
            ).json()

        # Another customer's line slipped into the signed selection: refused.
        theirs = self.receivable_lines(self.other_invoice)
        forged_route = route.replace(
            f"/{'-'.join(map(str, sorted(lines.ids)))}",
            f"/{'-'.join(map(str, sorted((lines | theirs).ids)))}",
        )
        self.assertIn("error", call(forged_route))
        # A forged payment token: refused.
        self.assertIn("error", call(route, access_token="0" * 64))
        self.assertFalse(
            self.env["payment.transaction"].search([("provider_id", "=", provider.id)])
        )
        answer = call(route)
        self.assertNotIn("error", answer, answer)
        tx = self.env["payment.transaction"].search([("provider_id", "=", provider.id)])
        self.assertEqual(tx.amount, 800.0)
        self.assertEqual(tx.invoice_ids, self.split_invoice | self.promised_invoice)
        self.assertEqual(tx.partner_id, self.customer)
        self.assertTrue(tx.landing_route.startswith(f"/my/collections/{self.profile.id}?"))
        tx._set_done()
        tx._post_process()
        self.assertTrue(tx.payment_id)
        self.assertTrue(first_half.reconciled)
        self.assertTrue(promised_line.reconciled)
        self.assertFalse(self.receivable_lines(self.split_invoice)[1:].reconciled)
        log = self.portal_logs()
        self.assertEqual(log.result, "paid")
        self.assertIn("800.00", log.note)
