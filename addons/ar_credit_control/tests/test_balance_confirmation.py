from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .test_statement import StatementCommon


class ConfirmationCommon(StatementCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.create_customer("Confirm Co", email="ap@confirm.example.com")
        cls.other_customer = cls.create_customer("Other Co", email="ap@other.example.com")
        cls.invoice = cls.create_invoice(cls.customer, 1200.0, cls.days_ago(20))
        cls.create_invoice(cls.other_customer, 333.0, cls.days_ago(20))

    def sent_confirmation(self, partner=None, user=None):
        confirmation = (
            self.env["ar.balance.confirmation"]
            .with_user(user or self.collector)
            .create({"partner_id": (partner or self.customer).id})
        )
        confirmation.action_send()
        return confirmation.sudo()


@tagged("post_install", "-at_install")
class TestBalanceConfirmation(ConfirmationCommon):
    def test_send_fixes_balance_issues_expiring_link_and_mails_it(self):
        self.pay_invoice(self.invoice, amount=200.0, payment_date=self.days_ago(1))
        confirmation = self.sent_confirmation()
        self.assertEqual(confirmation.state, "sent")
        self.assertEqual(confirmation.balance, 1000.0)
        self.assertEqual(confirmation.balance, self.gl_balance(self.customer, self.today))
        self.assertEqual(confirmation.expiry_date, self.today + timedelta(days=30))
        self.assertTrue(confirmation.access_token)
        mail = self.env["mail.mail"].search(
            [("model", "=", "ar.balance.confirmation"), ("res_id", "=", confirmation.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertIn(confirmation.access_token, str(mail.body_html))
        self.assertIn(f"/statement/confirm/{confirmation.id}", str(mail.body_html))
        self.assertEqual(mail.attachment_ids.mimetype, "application/pdf")
        self.assertIn("sent for confirmation", " ".join(confirmation.message_ids.mapped("body")))
        # Sending again issues a new link: the old one stops working.
        old_token = confirmation.access_token
        confirmation.with_user(self.collector).action_send()
        self.assertNotEqual(confirmation.access_token, old_token)
        self.assertFalse(confirmation._check_portal_token(old_token))
        self.assertTrue(confirmation._check_portal_token(confirmation.access_token))

    def test_token_opens_only_its_own_confirmation(self):
        mine = self.sent_confirmation()
        theirs = self.sent_confirmation(self.other_customer)
        self.assertTrue(mine._check_portal_token(mine.access_token))
        self.assertFalse(mine._check_portal_token(theirs.access_token))
        self.assertFalse(mine._check_portal_token(""))
        self.assertFalse(mine._check_portal_token(None))

    def test_link_expires(self):
        confirmation = self.sent_confirmation()
        confirmation.expiry_date = self.today - timedelta(days=1)
        self.assertTrue(confirmation._is_expired())
        self.env["ar.balance.confirmation"]._cron_expire_confirmations()
        self.assertEqual(confirmation.state, "expired")
        with self.assertRaises(UserError):
            confirmation._record_confirmed("Someone", False, "portal")
        # A fresh link can be sent.
        confirmation.with_user(self.collector).action_send()
        self.assertEqual(confirmation.state, "sent")
        self.assertFalse(confirmation._is_expired())

    def test_collector_records_answers(self):
        confirmed = self.sent_confirmation()
        confirmed.with_user(self.collector).action_record_confirmed()
        self.assertEqual(confirmed.state, "confirmed")
        self.assertEqual(confirmed.reply_channel, "back_office")
        self.assertEqual(confirmed.replied_by, self.collector.name)
        with self.assertRaises(UserError):
            confirmed.with_user(self.collector).action_record_contested()
        contested = self.sent_confirmation(self.other_customer)
        action = contested.with_user(self.collector).action_record_contested()
        discrepancy = self.env["ar.reconciliation.discrepancy"].browse(action["res_id"])
        self.assertEqual(contested.state, "contested")
        self.assertEqual(discrepancy.confirmation_id, contested)
        self.assertEqual(discrepancy.partner_id, self.other_customer)
        self.assertTrue(discrepancy.name.startswith("DIFF/"))
        self.assertEqual(contested.action_view_discrepancies()["res_id"], discrepancy.id)

    def test_no_email_no_request(self):
        silent = self.create_customer("Silent Co")
        confirmation = self.env["ar.balance.confirmation"].create({"partner_id": silent.id})
        with self.assertRaisesRegex(UserError, "no email"):
            confirmation.action_send()
        self.assertEqual(confirmation.state, "draft")

    def test_access_rights_and_companies(self):
        confirmation = self.sent_confirmation()
        confirmation.with_user(self.salesperson).read(["state"])
        with self.assertRaises(AccessError):
            confirmation.with_user(self.salesperson).write({"reply_note": "no"})
        with self.assertRaises(AccessError):
            confirmation.with_user(self.collector).unlink()
        company_2 = self.setup_other_company(name="Confirm Second Co")["company"]
        elsewhere = self.env["ar.balance.confirmation"].create(
            {"partner_id": self.customer.id, "company_id": company_2.id}
        )
        with self.assertRaises(AccessError):
            elsewhere.with_user(self.collector).read(["state"])
        discrepancy = self.env["ar.reconciliation.discrepancy"].create(
            {"partner_id": self.customer.id, "company_id": company_2.id}
        )
        with self.assertRaises(AccessError):
            discrepancy.with_user(self.collector).read(["name"])


@tagged("post_install", "-at_install")
class TestDiscrepancy(ConfirmationCommon):
    def test_lifecycle_each_line_resolved_by_its_action(self):
        self.env.user.groups_id |= self.env.ref("account.group_account_manager")
        second_invoice = self.create_invoice(self.customer, 400.0, self.days_ago(15))
        confirmation = self.sent_confirmation()
        discrepancy = confirmation._record_contested(
            "Jane Payables",
            "Our books say 600",
            "portal",
            [
                {"type": "missing_invoice", "amount": 1200.0, "note": "Never received"},
                {"type": "payment_not_recorded", "amount": 400.0, "note": "Paid by wire"},
                {"type": "amount_difference", "amount": 10.0, "note": "Rounding"},
                {"type": "other", "amount": 0.0, "note": "Address"},
            ],
        )
        discrepancy = discrepancy.with_user(self.credit_manager).with_context(
            tracking_disable=False, mail_notrack=False
        )
        self.assertEqual(confirmation.state, "contested")
        self.assertEqual(discrepancy.state, "open")
        self.assertEqual(discrepancy.open_line_count, 4)
        self.assertEqual(discrepancy.amount_total, 1610.0)
        missing, unpaid, difference, other = discrepancy.line_ids
        missing.move_id = self.invoice
        unpaid.move_id = second_invoice

        # A credit note through Odoo's reversal wizard, prefilled from the line.
        action = missing.action_credit_note()
        self.assertEqual(action["res_model"], "account.move.reversal")
        reversal = Form(
            self.env["account.move.reversal"]
            .with_user(self.credit_manager)
            .with_context(**action["context"])
        )
        self.assertEqual(reversal.reason, "Never received")
        reversal = reversal.save()
        reversal.refund_moves()
        self.assertEqual(missing.state, "resolved")
        self.assertEqual(missing.resolution, "credit_note")
        credit_note = missing.resolution_move_id
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.reversed_entry_id, self.invoice)
        self.assertEqual(discrepancy.state, "open")

        # A payment through Odoo's payment register.
        action = unpaid.action_register_payment()
        self.assertEqual(action["res_model"], "account.payment.register")
        register = Form(
            self.env["account.payment.register"]
            .with_user(self.credit_manager)
            .with_context(**action["context"])
        )
        self.assertEqual(register.amount, 400.0)
        register.save().action_create_payments()
        self.assertEqual(unpaid.state, "resolved")
        self.assertEqual(unpaid.resolution, "payment")
        self.assertIn(second_invoice.payment_state, ("paid", "in_payment"))

        # A correction or an explanation needs a note.
        with self.assertRaisesRegex(UserError, "Write what was corrected"):
            difference.action_resolve_correction()
        difference.resolution_note = "Customer rounded the invoice"
        difference.action_resolve_correction()
        with self.assertRaises(UserError):
            discrepancy.action_close()
        other.resolution_note = "Only their address changed"
        other.action_resolve_explanation()

        self.assertEqual(discrepancy.state, "closed")
        self.assertTrue(discrepancy.date_closed)
        with self.assertRaises(UserError):
            other.action_resolve_explanation()
        bodies = " ".join(discrepancy.message_ids.mapped("body"))
        self.assertIn("Credit note", bodies)
        self.assertIn("Payment registered", bodies)
        self.assertIn("closed", bodies)
        self.assertIn("Jane Payables contested", " ".join(confirmation.message_ids.mapped("body")))

        # A line found later reopens it.
        discrepancy.write({"line_ids": [Command.create({"type": "other", "note": "One more"})]})
        self.assertEqual(discrepancy.state, "open")

    def test_wizard_actions_need_an_invoice(self):
        discrepancy = self.env["ar.reconciliation.discrepancy"].create(
            {
                "partner_id": self.customer.id,
                "line_ids": [Command.create({"type": "other", "amount": 5.0})],
            }
        )
        with self.assertRaisesRegex(UserError, "invoice"):
            discrepancy.line_ids.action_credit_note()
        with self.assertRaisesRegex(UserError, "invoice"):
            discrepancy.line_ids.action_register_payment()
        self.assertEqual(discrepancy.state, "open")
