"""What becomes of a dunning communication once it has left: delivery failures and replies.

"Sent" means queued. What the mail queue, the SMS gateway or the customer's mail server
reports afterwards comes back to the communication: a bounce, a blacklisted address, an email
the mail server refused for its recipient or an SMS that failed marks it "Not delivered" with
the reason and schedules a call for the customer's collector, so that no reminder is silently
lost. A reply to a dunning email lands in the customer's collection log.
"""

from odoo import api, models
from odoo.tools import html2plaintext
from odoo.tools.mail import email_normalize

COMMUNICATION = "ar.dunning.communication"
# Failures of Odoo's mail queue that say the customer's address does not take the email (a
# refused recipient comes back as "unknown"). The others (no connection to the mail server, a
# wrong sender address) are the company's mail setup: the email stays failed in the queue, to
# send again once the server works, and nobody calls the customer about it.
RECIPIENT_FAILURES = {
    "mail_email_invalid",
    "mail_email_missing",
    "mail_bl",
    "mail_optout",
    "unknown",
}


class ArDunningCommunication(models.Model):
    _inherit = COMMUNICATION

    def _mark_undelivered(self, reason):
        """Not delivered, with its reason; the collector gets a call to make instead."""
        for communication in self.filtered(lambda c: c.state != "undelivered"):
            communication.write({"state": "undelivered", "error_message": reason})
            communication._schedule_call(note=reason)

    def _blacklisted(self):
        """The communications of these whose email would go to a blacklisted address (the
        customer unsubscribed or asked for no more email): Odoo's mail queue sends
        transactional email to it anyway, so the run checks it itself."""
        emails = {
            communication.id: email_normalize(communication._contact().email)
            for communication in self.filtered(lambda c: c.level_id.channel_email)
        }
        listed = set(
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "in", [e for e in emails.values() if e])])
            .mapped("email")
        )
        return self.filtered(lambda c: emails.get(c.id) in listed)

    def _message_receive_bounce(self, email, partner):
        super()._message_receive_bounce(email, partner)
        self._mark_undelivered(
            self.env._(
                "The email to %(email)s bounced: the address does not receive mail. Call the "
                "customer and correct the address.",
                email=email,
            )
        )

    def _message_post_after_hook(self, message, msg_vals):
        """An email received on a communication's thread is a reply to its dunning email (the
        mail gateway routes it here by its references): it stays on the thread and is entered
        in the customer's collection log for the collector."""
        result = super()._message_post_after_hook(message, msg_vals)
        if message.message_type == "email":
            text = html2plaintext(message.body or "").strip()
            for communication in self:
                self.env["ar.collection.log"].sudo().create(
                    {
                        "partner_id": communication.partner_id.id,
                        "company_id": communication.company_id.id,
                        "user_id": communication._collector().id,
                        "channel": "email",
                        "result": "replied",
                        "note": "\n".join(
                            filter(None, [message.email_from, message.subject, text])
                        ),
                        "communication_id": communication.id,
                    }
                )
        return result


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        if failure_type in RECIPIENT_FAILURES:
            failed = self.filtered(lambda mail: mail.model == COMMUNICATION and mail.res_id)
            for mail in failed:
                reason = failure_reason or dict(
                    self._fields["failure_type"]._description_selection(self.env)
                ).get(failure_type, failure_type)
                self.env[COMMUNICATION].sudo().browse(mail.res_id).exists()._mark_undelivered(
                    self.env._("The email was not delivered: %(reason)s", reason=reason)
                )
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )


class MailNotification(models.Model):
    """SMS failures reach the communication through the notifications of its SMS message
    (Odoo's SMS module, when installed, records its delivery failures there)."""

    _inherit = "mail.notification"

    @api.model_create_multi
    def create(self, vals_list):
        notifications = super().create(vals_list)
        notifications._report_dunning_sms_failures()
        return notifications

    def write(self, vals):
        result = super().write(vals)
        if vals.get("notification_status") in ("exception", "bounce"):
            self._report_dunning_sms_failures()
        return result

    def _report_dunning_sms_failures(self):
        failed = self.filtered(
            lambda n: (
                n.notification_type == "sms"
                and n.notification_status in ("exception", "bounce")
                and n.mail_message_id.model == COMMUNICATION
            )
        )
        for notification in failed:
            reason = (
                dict(self._fields["failure_type"]._description_selection(self.env)).get(
                    notification.failure_type
                )
                or notification.failure_reason
            )
            self.env[COMMUNICATION].sudo().browse(
                notification.mail_message_id.res_id
            ).exists()._mark_undelivered(
                self.env._("The SMS was not delivered: %(reason)s", reason=reason or "?")
            )
