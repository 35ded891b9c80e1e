"""Attacks on the balance-confirmation evidence: the access token of the emailed link, a link
used again once answered, an answer typed from an internal session, and the numbers of the
portal form. Each as one role, through JSON-RPC or the portal routes (with and without CSRF
token)."""

import re

from odoo.tests import tagged

from .security_common import SecurityCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
BAD_AMOUNTS = (
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1e309",
    "abc",
    "12.3.4",
    "0x10",
    "-5",
    "1200.01",
    "9" * 400,
)


class PortalCommon(SecurityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice_a = cls.create_invoice(cls.customer, 1200.0, "2026-01-10")
        cls.invoice_b = cls.create_invoice(
            cls.customer_b, 900.0, "2026-01-10", company=cls.company_b
        )
        cls.confirmation_a = cls.sent_confirmation(cls.roles["collector"], cls.customer)
        cls.confirmation_b = cls.sent_confirmation(cls.roles_b["collector"], cls.customer_b)

    @classmethod
    def sent_confirmation(cls, collector, customer):
        confirmation = (
            cls.env["ar.balance.confirmation"]
            .with_user(collector)
            .create({"partner_id": customer.id, "date": "2026-01-31"})
        )
        confirmation.action_send()
        return confirmation.sudo()

    def link(self, confirmation, suffix="", token=None):
        token = confirmation.access_token if token is None else token
        return f"/statement/confirm/{confirmation.id}{suffix}?access_token={token}"

    def csrf_token(self, confirmation):
        page = self.url_open(self.link(confirmation))
        self.assertEqual(page.status_code, 200, page.text[:300])
        return CSRF_RE.search(page.text).group(1)

    def post_answer(self, confirmation, csrf=True, **form):
        data = {"access_token": confirmation.access_token, **form}
        if csrf is True:
            data["csrf_token"] = self.csrf_token(confirmation)
        elif csrf:
            data["csrf_token"] = csrf
        return self.url_open(self.link(confirmation, "/answer"), data=data)

    def contest(self, confirmation, amount, csrf=True):
        return self.post_answer(
            confirmation,
            csrf=csrf,
            answer="contest",
            replied_by="Jane Payables",
            line_type_0="payment_not_recorded",
            line_amount_0=amount,
            line_note_0="Wire",
        )

    def chatter(self, confirmation):
        confirmation.invalidate_recordset()
        return " ".join(confirmation.message_ids.mapped("body"))


# ---------------------------------------------------------------------------- token


class TokenAttacks:
    """The access token names the customer: only credit managers read it."""

    allow_inherited_tests_method = True  # Odoo's loader runs these tests in each subclass

    def readers(self):
        raise NotImplementedError

    def test_access_token_is_not_readable(self):
        for user, confirmation in self.readers():
            model = confirmation._name
            ids = confirmation.ids
            self.assertRefused(self.call_kw(user, model, "read", [ids, ["access_token"]]))
            self.assertRefused(
                self.call_kw(user, model, "search_read", [[("id", "in", ids)], ["access_token"]])
            )
            self.assertRefused(
                self.call_kw(
                    user, model, "search", [[("access_token", "=", confirmation.access_token)]]
                )
            )
            self.assertRefused(self.call_kw(user, model, "get_portal_url", [ids]))
            # Nor through the request email kept with the record.
            reply = self.call_kw(
                user,
                "mail.message",
                "search_read",
                [[("model", "=", model), ("res_id", "=", confirmation.id)], ["body"]],
            )
            self.assertAllowed(reply)
            self.assertNotIn(confirmation.access_token, str(reply))
            # The rest of the record stays readable.
            rows = self.assertAllowed(self.call_kw(user, model, "read", [ids, ["state"]]))
            self.assertEqual(rows[0]["state"], "sent")
            reply = self.call_kw(
                user,
                "portal.share",
                "default_get",
                [["share_link"]],
                {"context": {"active_model": model, "active_id": confirmation.id}},
            )
            self.assertNotIn(confirmation.access_token, str(reply))


@tagged("post_install", "-at_install")
class TestPortalAttacksAsSalesperson(TokenAttacks, PortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.grant("salesperson", "base.group_partner_manager")

    def readers(self):
        return [
            (self.roles["salesperson"], self.confirmation_a),
            (self.roles_b["salesperson"], self.confirmation_b),
        ]


@tagged("post_install", "-at_install")
class TestPortalAttacksAsCollector(TokenAttacks, PortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.grant("collector", "base.group_partner_manager")

    def readers(self):
        return [
            (self.roles["collector"], self.confirmation_a),
            (self.roles_b["collector"], self.confirmation_b),
        ]

    def test_collector_still_sends_and_resends(self):
        for collector, confirmation in self.readers():
            old = confirmation.access_token
            self.assertAllowed(
                self.call_kw(collector, confirmation._name, "action_send", [confirmation.ids])
            )
            confirmation.invalidate_recordset()
            self.assertNotEqual(confirmation.access_token, old)
            self.assertEqual(confirmation.state, "sent")

    def test_answer_from_an_internal_session_is_flagged(self):
        for collector, confirmation in self.readers():
            self.as_role(collector)
            reply = self.post_answer(confirmation, answer="confirm", replied_by="The customer")
            self.assertEqual(reply.status_code, 200)
            confirmation.invalidate_recordset()
            self.assertEqual(confirmation.state, "confirmed")
            bodies = self.chatter(confirmation)
            self.assertIn("internal session", bodies)
            self.assertIn(collector.name, bodies)


@tagged("post_install", "-at_install")
class TestPortalAttacksAsCreditManager(PortalCommon):
    def test_credit_manager_reads_the_token(self):
        for manager, confirmation in (
            (self.roles["manager"], self.confirmation_a),
            (self.roles_b["manager"], self.confirmation_b),
        ):
            rows = self.assertAllowed(
                self.call_kw(
                    manager, confirmation._name, "read", [confirmation.ids, ["access_token"]]
                )
            )
            self.assertEqual(rows[0]["access_token"], confirmation.access_token)
            reply = self.call_kw(
                manager,
                "mail.message",
                "search_read",
                [[("model", "=", confirmation._name), ("res_id", "=", confirmation.id)], ["body"]],
            )
            self.assertIn(confirmation.access_token, str(self.assertAllowed(reply)))
            # Not another company's.
            other = (
                self.confirmation_b if confirmation == self.confirmation_a else self.confirmation_a
            )
            self.assertRefused(
                self.call_kw(manager, other._name, "read", [other.ids, ["access_token"]])
            )


# ---------------------------------------------------------------------------- the link


class LinkAttacks:
    """The customer's side: logged in on the portal or anonymous with the emailed link."""

    allow_inherited_tests_method = True  # Odoo's loader runs these tests in each subclass

    role = None

    def visitor(self):
        return self.roles[self.role] if self.role else None

    def test_answered_link_stops_working(self):
        for confirmation, invoice in (
            (self.confirmation_a, self.invoice_a),
            (self.confirmation_b, self.invoice_b),
        ):
            self.as_role(self.visitor())
            csrf = self.csrf_token(confirmation)
            reply = self.post_answer(confirmation, csrf=csrf, answer="confirm", replied_by="Jane")
            self.assertEqual(reply.status_code, 200)
            self.assertIn("balance was confirmed", reply.text)
            confirmation.invalidate_recordset()
            self.assertEqual(confirmation.state, "confirmed")
            # The page, the PDF: an "already answered" page, no statement any more.
            for suffix in ("", "/pdf"):
                page = self.url_open(self.link(confirmation, suffix))
                self.assertEqual(page.status_code, 410, suffix)
                self.assertIn("already answered", page.text)
                self.assertNotIn(invoice.name, page.text)
                self.assertNotIn("application/pdf", page.headers.get("Content-Type", ""))
            # A second answer is not taken.
            reply = self.contest(confirmation, "100", csrf=csrf)
            self.assertNotEqual(reply.status_code, 500)
            self.assertIn("already answered", reply.text)
            confirmation.invalidate_recordset()
            self.assertEqual(confirmation.state, "confirmed")
            self.assertFalse(confirmation.discrepancy_ids)
            self.assertNotIn("internal session", self.chatter(confirmation))

    def test_no_answer_without_csrf_token(self):
        self.as_role(self.visitor())
        for csrf in (False, "forged-token"):
            reply = self.post_answer(self.confirmation_a, csrf=csrf, answer="confirm")
            self.assertEqual(reply.status_code, 400)
        self.confirmation_a.invalidate_recordset()
        self.assertEqual(self.confirmation_a.state, "sent")

    def test_contested_amount_must_be_an_amount_within_the_balance(self):
        confirmation = self.confirmation_a
        self.as_role(self.visitor())
        csrf = self.csrf_token(confirmation)
        for amount in BAD_AMOUNTS:
            reply = self.contest(confirmation, amount, csrf=csrf)
            self.assertIn(reply.status_code, (200, 400), amount)
            self.assertIn("o_ar_confirmation_error", reply.text, amount)
            self.assertIn("Line 1", reply.text, amount)
            confirmation.invalidate_recordset()
            self.assertEqual(confirmation.state, "sent", amount)
            self.assertFalse(confirmation.discrepancy_ids, amount)
        reply = self.contest(confirmation, "1,200.00", csrf=csrf)
        self.assertEqual(reply.status_code, 200)
        confirmation.invalidate_recordset()
        self.assertEqual(confirmation.state, "contested")
        self.assertEqual(confirmation.discrepancy_ids.line_ids.amount, 1200.0)

    def test_form_errors_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        confirmation = self.confirmation_a
        self.customer.lang = "zh_CN"
        if self.role:
            self.visitor().partner_id.lang = "zh_CN"
        self.as_role(self.visitor())
        for amount, message in (("abc", "不是金额"), ("5000", "未结余额")):
            reply = self.contest(confirmation, amount)
            self.assertIn(reply.status_code, (200, 400))
            self.assertIn(message, reply.text)
        confirmation.invalidate_recordset()
        self.assertEqual(confirmation.state, "sent")


@tagged("post_install", "-at_install")
class TestPortalAttacksAsPortal(LinkAttacks, PortalCommon):
    role = "portal"

    def test_portal_user_does_not_read_the_token(self):
        self.assertRefused(
            self.call_kw(
                self.roles["portal"],
                "ar.balance.confirmation",
                "read",
                [self.confirmation_a.ids, ["access_token"]],
            )
        )


@tagged("post_install", "-at_install")
class TestPortalAttacksAsAnonymous(LinkAttacks, PortalCommon):
    role = None

    def test_wrong_tokens_are_refused_never_a_crash(self):
        self.as_role(None)
        for token in ("", "x", "%C3%A9" * 8, "%00", "a" * 5000):
            for suffix in ("", "/pdf"):
                response = self.url_open(self.link(self.confirmation_a, suffix, token=token))
                self.assertIn(response.status_code, (403, 404), (suffix, token[:20]))
