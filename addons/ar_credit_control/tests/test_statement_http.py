"""End to end over HTTP: the customer's statement on the portal, and a balance confirmation
answered through its emailed link without logging in."""

import re
from datetime import timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .test_balance_confirmation import ConfirmationCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@tagged("post_install", "-at_install")
class TestStatementHttp(ConfirmationCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="confirm_portal",
            password="confirm_portal",
            name="Portal Buyer",
            groups="base.group_portal",
            company_id=cls.company.id,
        )
        cls.portal_user.partner_id.parent_id = cls.customer
        cls.other_invoice = cls.env["account.move"].search(
            [("partner_id", "=", cls.other_customer.id)], limit=1
        )

    def confirmation_url(self, confirmation, token=None, suffix=""):
        token = confirmation.access_token if token is None else token
        return f"/statement/confirm/{confirmation.id}{suffix}?access_token={token}"

    def answer(self, confirmation, **form):
        page = self.url_open(self.confirmation_url(confirmation))
        self.assertEqual(page.status_code, 200)
        csrf = CSRF_RE.search(page.text).group(1)
        return self.url_open(
            self.confirmation_url(confirmation, suffix="/answer"),
            data={"csrf_token": csrf, "access_token": confirmation.access_token, **form},
        )

    def test_portal_statement_shows_only_own_account(self):
        self.authenticate("confirm_portal", "confirm_portal")
        page = self.url_open("/my/statement")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.invoice.name, page.text)
        self.assertIn("1,200.00", page.text)
        self.assertNotIn(self.other_invoice.name, page.text)
        self.assertNotIn("Pay now", page.text)
        pdf = self.url_open("/my/statement/pdf")
        self.assertEqual(pdf.status_code, 200)
        self.assertIn(b"Confirm Co", pdf.content)
        self.assertNotIn(b"Other Co", pdf.content)
        # With a payment provider, each open invoice gets Odoo's pay-online link.
        self.env["payment.provider"].create(
            {"name": "Statement test provider", "state": "test", "company_id": self.company.id}
        )
        page = self.url_open("/my/statement")
        self.assertIn("Pay now", page.text)
        self.assertIn(f"/my/invoices/{self.invoice.id}", page.text)
        self.assertIn("payment_token=", page.text)
        # Not for anonymous visitors.
        self.logout()
        page = self.url_open("/my/statement")
        self.assertIn("/web/login", page.url)

    def test_confirm_over_http(self):
        confirmation = self.sent_confirmation()
        theirs = self.sent_confirmation(self.other_customer)
        # Another customer's token, a wrong one, none: refused.
        for token in (theirs.access_token, "not-a-token", ""):
            refused = self.url_open(self.confirmation_url(confirmation, token))
            self.assertEqual(refused.status_code, 403)
            self.assertIn("This link is not valid", refused.text)
            self.assertNotIn("1,200.00", refused.text)
        page = self.url_open(self.confirmation_url(confirmation))
        self.assertEqual(page.status_code, 200)
        self.assertIn("1,200.00", page.text)
        self.assertIn(self.invoice.name, page.text)
        self.assertNotIn(self.other_invoice.name, page.text)
        pdf = self.url_open(self.confirmation_url(confirmation, suffix="/pdf"))
        self.assertEqual(pdf.status_code, 200)
        self.assertIn(b"Confirm Co", pdf.content)
        # A token cannot answer another customer's request.
        page = self.url_open(self.confirmation_url(confirmation))
        csrf = CSRF_RE.search(page.text).group(1)
        refused = self.url_open(
            self.confirmation_url(theirs, confirmation.access_token, "/answer"),
            data={"csrf_token": csrf, "answer": "confirm"},
        )
        self.assertEqual(refused.status_code, 403)
        self.assertEqual(theirs.state, "sent")

        reply = self.answer(confirmation, answer="confirm", replied_by="Jane Payables")
        self.assertEqual(reply.status_code, 200)
        confirmation.invalidate_recordset()
        self.assertEqual(confirmation.state, "confirmed")
        self.assertEqual(confirmation.replied_by, "Jane Payables")
        self.assertEqual(confirmation.reply_channel, "portal")
        self.assertIn("balance was confirmed", reply.text)
        bodies = " ".join(confirmation.message_ids.mapped("body"))
        self.assertIn("Jane Payables confirmed", bodies)

    def test_contest_over_http_opens_discrepancy(self):
        confirmation = self.sent_confirmation()
        reply = self.answer(
            confirmation,
            answer="contest",
            replied_by="Jane Payables",
            note="We paid part of it",
            line_type_0="payment_not_recorded",
            line_amount_0="500.00",
            line_note_0="Wire of the 3rd",
            line_type_1="missing_invoice",
            line_amount_1="",
            line_note_1="",
        )
        self.assertEqual(reply.status_code, 200)
        confirmation.invalidate_recordset()
        self.assertEqual(confirmation.state, "contested")
        discrepancy = confirmation.discrepancy_ids
        self.assertEqual(len(discrepancy), 1)
        self.assertEqual(discrepancy.state, "open")
        self.assertEqual(discrepancy.note, "We paid part of it")
        self.assertEqual(len(discrepancy.line_ids), 1)
        self.assertEqual(discrepancy.line_ids.type, "payment_not_recorded")
        self.assertEqual(discrepancy.line_ids.amount, 500.0)
        self.assertEqual(discrepancy.line_ids.note, "Wire of the 3rd")
        # Answered: the link shows the answer and takes no other.
        page = self.url_open(self.confirmation_url(confirmation))
        self.assertIn("the balance differs", page.text)
        self.assertNotIn('name="answer"', page.text)

    def test_expired_link_is_refused(self):
        confirmation = self.sent_confirmation()
        confirmation.expiry_date = self.today - timedelta(days=1)
        page = self.url_open(self.confirmation_url(confirmation))
        self.assertEqual(page.status_code, 410)
        self.assertIn("This link has expired", page.text)
        confirmation.invalidate_recordset()
        self.assertEqual(confirmation.state, "expired")
