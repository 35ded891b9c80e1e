"""What comes back after a dunning email left: bounces and replies through Odoo's mail gateway
(``mail.thread.message_process``), a blacklisted address, a mail server's refusal."""

from odoo.tests import tagged

from .dunning_common import DunningCommon

BOUNCE = """\
From: MAILER-DAEMON@mx.customer.example
To: ar@co.example
Subject: Undelivered Mail Returned to Sender
Message-Id: <bounce-{n}@mx.customer.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="REPORT"

--REPORT
Content-Type: text/plain; charset=utf-8

Your message could not be delivered to one or more recipients.

--REPORT
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.1.1

--REPORT
Content-Type: text/rfc822-headers

Message-Id: {message_id}
Subject: Overdue invoices
To: {email}

--REPORT--
"""

REPLY = """\
From: Accounts Payable <{email}>
To: ar@co.example
Subject: Re: Overdue invoices
Message-Id: <reply-{n}@customer.example>
In-Reply-To: {message_id}
References: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

We paid this invoice last Friday, the remittance advice follows.
"""


@tagged("post_install", "-at_install")
class TestDunningDelivery(DunningCommon):
    def dunned(self, name, **values):
        customer = self.dunned_customer(name, **values)
        self.invoice_due(customer, 300.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(customer)
        self.assertEqual(communication.state, "sent")
        return customer, communication

    def calls(self, communication):
        return communication.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )

    def process(self, template, communication, n=1):
        message = template.format(
            n=n,
            email=communication.contact_id.email or communication.partner_id.email,
            message_id=communication.mail_id.message_id,
        )
        self.env["mail.thread"].sudo().message_process(None, message)
        communication.invalidate_recordset()

    def test_bounce_marks_it_undelivered_and_schedules_a_call(self):
        customer, communication = self.dunned("Bouncy Co")
        self.assertTrue(communication.mail_id.message_id)
        self.process(BOUNCE, communication)
        self.assertEqual(communication.state, "undelivered")
        self.assertIn("bouncy@customer.example", communication.error_message)
        self.assertIn("bounced", communication.error_message)
        call = self.calls(communication)
        self.assertEqual(len(call), 1)
        self.assertEqual(call.user_id, self.collector)
        self.assertIn("bounced", call.note)
        # A second report of the same bounce schedules no second call.
        self.process(BOUNCE, communication, n=2)
        self.assertEqual(len(self.calls(communication)), 1)
        # Fixed address, sent again: it goes out again.
        customer.email = "ap@bouncy.example"
        communication.with_user(self.credit_manager).action_send_again()
        self.assertEqual(communication.state, "sent")

    def test_reply_lands_in_the_collection_log(self):
        customer, communication = self.dunned("Replying Co")
        self.process(REPLY, communication)
        log = self.env["ar.collection.log"].search([("partner_id", "=", customer.id)])
        self.assertEqual(len(log), 1)
        self.assertEqual(log.result, "replied")
        self.assertEqual(log.channel, "email")
        self.assertEqual(log.communication_id, communication)
        self.assertEqual(log.user_id, self.collector)
        self.assertIn("We paid this invoice last Friday", log.note)
        self.assertEqual(communication.state, "sent", "a reply is not a failure")
        self.assertIn(
            "We paid this invoice last Friday",
            " ".join(communication.message_ids.mapped("body")),
            "the reply stays on the communication's thread",
        )

    def test_blacklisted_address_is_not_emailed_and_a_call_is_scheduled(self):
        self.env["mail.blacklist"].sudo()._add("Optout@Customer.example")
        listed = self.dunned_customer("Optout Co")
        self.invoice_due(listed, 300.0, "2026-03-01")
        other = self.dunned_customer("Other Co")
        self.invoice_due(other, 300.0, "2026-03-01")
        self.run_on("2026-03-05")
        communication = self.communications(listed)
        self.assertEqual(communication.state, "undelivered")
        self.assertFalse(communication.mail_id, "nothing queued to the blacklisted address")
        self.assertIn("blacklist", communication.error_message)
        self.assertEqual(len(self.calls(communication)), 1)
        self.assertEqual(self.communications(other).state, "sent")

    def test_mail_server_refusal_marks_it_undelivered(self):
        _customer, communication = self.dunned("Refused Co")
        # A refused recipient: Odoo's mail queue records it as an unknown failure.
        communication.mail_id.sudo()._postprocess_sent_message(
            success_pids=self.env["res.partner"],
            failure_reason="550 5.1.1 mailbox unavailable",
            failure_type="unknown",
        )
        self.assertEqual(communication.state, "undelivered")
        self.assertIn("550 5.1.1 mailbox unavailable", communication.error_message)
        self.assertEqual(len(self.calls(communication)), 1)

    def test_mail_server_down_is_no_customer_failure(self):
        _customer, communication = self.dunned("Outage Co")
        communication.mail_id.sudo().write({"state": "exception"})
        communication.mail_id.sudo()._postprocess_sent_message(
            success_pids=self.env["res.partner"],
            failure_reason="Connection refused",
            failure_type="mail_smtp",
        )
        self.assertEqual(communication.state, "sent", "the email waits in the queue, failed")
        self.assertEqual(communication.mail_state, "exception")
        self.assertFalse(self.calls(communication), "nobody calls the customer about an outage")

    def test_undelivered_filter_and_status_for_a_collector(self):
        _customer, communication = self.dunned("Visible Co")
        communication._mark_undelivered("test reason")
        found = (
            self.env["ar.dunning.communication"]
            .with_user(self.collector)
            .search([("state", "=", "undelivered")])
        )
        self.assertIn(communication, found)
