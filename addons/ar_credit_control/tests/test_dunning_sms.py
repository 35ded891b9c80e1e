from odoo.tests import tagged

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningSms(DunningCommon):
    """The SMS channel of a dunning level, through Odoo's ``sms`` module (skipped without it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The test ladder's level 2 ("First notice", 1 day overdue) also goes out by SMS.
        cls.notice = cls.policy.level_ids.filtered(lambda level: level.sequence == 2)
        cls.notice.channel_sms = True

    def setUp(self):
        super().setUp()
        if "sms.sms" not in self.env:
            self.skipTest("Odoo's sms module is not installed")

    def sms_of(self, partner):
        return self.env["sms.sms"].sudo().search([("partner_id", "=", partner.id)])

    @staticmethod
    def words(text):
        return " ".join(text.split())  # currency formats may hold non-breaking spaces

    def test_sms_queued_to_the_customer_mobile(self):
        customer = self.dunned_customer("Mobile Co", mobile="+32470123456")
        self.invoice_due(customer, 1234.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(customer)
        self.assertEqual(communication.level_sequence, 2)
        self.assertEqual(communication.state, "sent")
        self.assertFalse(communication.error_message)
        sms = self.sms_of(customer)
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.number, "+32470123456")
        self.assertEqual(sms.state, "outgoing", "queued for Odoo's SMS queue, not sent inline")
        self.assertEqual(self.words(sms.body), self.words(communication._sms_body()))
        self.assertIn(self.company.name, sms.body)
        self.assertIn("1,234.00", sms.body)
        self.assertIn("is overdue on your account", sms.body)
        # The SMS is logged on the communication's chatter like its email.
        self.assertIn(sms.mail_message_id, communication.message_ids)

    def test_phone_number_when_there_is_no_mobile(self):
        customer = self.dunned_customer("Landline Co", phone="+32 2 555 12 34")
        self.invoice_due(customer, 300.0, "2026-03-01")
        self.run_on("2026-03-05")
        number = self.sms_of(customer).number
        # E.164 when the phonenumbers library is there, else as typed.
        self.assertEqual("".join(filter(str.isdigit, number)), "3225551234")

    def test_contact_without_number_is_reported_and_the_email_still_goes_out(self):
        customer = self.dunned_customer("Silent Co")
        self.invoice_due(customer, 300.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(customer)
        self.assertEqual(communication.state, "sent")
        self.assertEqual(communication.mail_id.state, "outgoing")
        self.assertIn("SMS not sent", communication.error_message)
        self.assertIn("Silent Co has no mobile or phone number", communication.error_message)
        self.assertFalse(self.sms_of(customer))

    def test_sms_only_level_without_number_is_not_sent(self):
        self.notice.channel_email = False
        silent = self.dunned_customer("Unreachable Co")
        self.invoice_due(silent, 300.0, "2026-03-01")
        reachable = self.dunned_customer("Texting Co", mobile="+32470999888")
        self.invoice_due(reachable, 300.0, "2026-03-01")
        run = self.run_on("2026-03-05")
        run.invalidate_recordset()
        failed = self.communications(silent)
        self.assertEqual(failed.state, "error", "nothing reached the customer")
        self.assertIn("Unreachable Co has no mobile or phone number", failed.error_message)
        self.assertFalse(failed.sent_at)
        self.assertFalse(self.sms_of(silent))
        sent = self.communications(reachable)
        self.assertEqual(sent.state, "sent")
        self.assertFalse(sent.mail_id, "an SMS-only level queues no email")
        self.assertEqual(self.sms_of(reachable).state, "outgoing")
        self.assertEqual((run.sent_count, run.error_count), (1, 1))
        # Once a number is known, sending again queues the SMS.
        silent.mobile = "+32470111222"
        failed.action_send_again()
        self.assertEqual(failed.state, "sent")
        self.assertEqual(self.sms_of(silent).number, "+32470111222")

    def test_failed_sms_marks_it_undelivered_and_schedules_a_call(self):
        customer = self.dunned_customer("Wrong Number Co", mobile="+32470111222")
        self.invoice_due(customer, 300.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(customer)
        self.assertEqual(communication.state, "sent")
        # What Odoo's SMS gateway reports for a number it cannot reach.
        self.sms_of(customer)._update_sms_state_and_trackers(
            "error", failure_type="sms_number_format"
        )
        communication.invalidate_recordset()
        self.assertEqual(communication.state, "undelivered")
        self.assertIn("The SMS was not delivered", communication.error_message)
        self.assertIn("Wrong Number Format", communication.error_message)
        call = communication.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual(call.user_id, self.collector)
