import io
from datetime import timedelta
from unittest.mock import patch

from PyPDF2 import PdfReader

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .test_aging import AgingCommon


class StatementCommon(AgingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.statement = cls.env["ar.statement"]
        cls.collector.email = "collector@example.com"

    def outstanding(self, partner, as_of=None, company=None):
        data = self.statement._outstanding_data(
            partner, company or self.company, as_of or self.today
        )
        return data.get(partner.commercial_partner_id.id, {"items": [], "total": 0.0})

    def pdf_text(self, report_xmlid, partners, data=None):
        report = self.env.ref(report_xmlid)
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report.report_name, partners.ids, data=data)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        return " ".join(
            " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
        )

    def mixed_history(self, customer):
        """Partial payments, a credit note, an unmatched payment and a foreign-currency
        invoice: the cases where a statement can drift from the ledger."""
        eur = self.setup_other_currency(
            "EUR", rates=[(self.days_ago(400), 2.0), (self.days_ago(20), 2.5)]
        )
        paid_part = self.create_invoice(customer, 1000.0, self.days_ago(70))
        self.pay_invoice(paid_part, amount=400.0, payment_date=self.days_ago(40))
        self.create_invoice(customer, 500.0, self.days_ago(10))
        self.create_invoice(customer, 200.0, self.days_ago(35), move_type="out_refund")
        self.register_payment(customer, 100.0, self.days_ago(5))
        eur_invoice = self.create_invoice(customer, 1000.0, self.days_ago(50), currency=eur)
        # Half paid in euros at another rate: an exchange difference is booked.
        self.pay_invoice(eur_invoice, amount=500.0, payment_date=self.days_ago(15))
        paid_full = self.create_invoice(customer, 300.0, self.days_ago(30))
        self.pay_invoice(paid_full, payment_date=self.days_ago(25))
        return eur, eur_invoice, paid_part


@tagged("post_install", "-at_install")
class TestStatement(StatementCommon):
    def test_outstanding_total_equals_receivable_balance(self):
        customer = self.create_customer("Statement Mix Co")
        eur, eur_invoice, paid_part = self.mixed_history(customer)
        statement = self.outstanding(customer)
        self.assertEqual(statement["total"], self.gl_balance(customer, self.today))
        self.assertAlmostEqual(statement["total"], customer.credit, places=2)
        by_move = {item["move_id"]: item for item in statement["items"]}
        self.assertEqual(by_move[paid_part.id]["amount"], 600.0)
        self.assertEqual(by_move[eur_invoice.id]["amount_currency"], 500.0)
        self.assertEqual(by_move[eur_invoice.id]["currency"], eur)
        # Aging columns add up to the balance.
        self.assertAlmostEqual(sum(a for _b, a in statement["buckets"]), statement["total"], 2)
        # As it stood on earlier dates.
        for days in (60, 45, 30, 20, 12):
            as_of = self.days_ago(days)
            self.assertEqual(
                self.outstanding(customer, as_of)["total"], self.gl_balance(customer, as_of)
            )

    def test_several_customers_in_one_query(self):
        first = self.create_customer("Statement First")
        second = self.create_customer("Statement Second")
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": second.id})
        self.create_invoice(first, 100.0, self.days_ago(3))
        self.create_invoice(contact, 250.0, self.days_ago(3))
        nothing = self.create_customer("Statement Nothing")
        data = self.statement._outstanding_data(first | contact | nothing, self.company, self.today)
        self.assertEqual(set(data), {first.id, second.id})
        self.assertEqual(data[second.id]["total"], 250.0)

    def test_activity_opening_plus_movements_equals_closing(self):
        customer = self.create_customer("Activity Co")
        self.mixed_history(customer)
        date_from, date_to = self.days_ago(45), self.days_ago(8)
        data = self.statement._activity_data(customer, self.company, date_from, date_to)[
            customer.id
        ]
        self.assertEqual(data["opening"], self.gl_balance(customer, date_from - timedelta(days=1)))
        self.assertEqual(data["closing"], self.gl_balance(customer, date_to))
        self.assertAlmostEqual(
            data["opening"] + sum(m["balance"] for m in data["movements"]), data["closing"], 2
        )
        kinds = {m["kind_code"] for m in data["movements"]}
        self.assertTrue({"invoice", "credit_note", "payment"} <= kinds, kinds)
        self.assertTrue(all(date_from <= m["date"] <= date_to for m in data["movements"]))
        self.assertEqual(data["movements"][-1]["running_balance"], data["closing"])
        # An activity statement ending today closes at the outstanding total.
        today_data = self.statement._activity_data(customer, self.company, date_from, self.today)
        self.assertEqual(today_data[customer.id]["closing"], self.outstanding(customer)["total"])

    def test_pdfs_are_rendered(self):
        customer = self.create_customer("Printed Statement Ltd")
        invoice = self.create_invoice(customer, 4321.0, self.days_ago(65))
        self.pay_invoice(invoice, amount=321.0, payment_date=self.days_ago(2))
        text = self.pdf_text(
            "ar_credit_control.action_report_ar_statement_outstanding",
            customer,
            {"company_id": self.company.id, "as_of": fields.Date.to_string(self.today)},
        )
        self.assertIn("Printed Statement Ltd", text)
        self.assertIn("4,000.00", text)
        self.assertIn(invoice.name, text)
        self.assertIn("61-90", text)
        text = self.pdf_text(
            "ar_credit_control.action_report_ar_statement_activity",
            customer,
            {
                "company_id": self.company.id,
                "date_from": fields.Date.to_string(self.days_ago(70)),
                "date_to": fields.Date.to_string(self.today),
            },
        )
        self.assertIn("Opening balance", text)
        self.assertIn("4,321.00", text)
        self.assertIn("321.00", text)
        self.assertIn("Closing balance", text)

    def test_run_prints_one_pdf_for_chosen_customers_and_segment(self):
        chosen = self.create_customer("Chosen Co")
        vip = self.create_customer("Vip Co")
        vip_without_balance = self.create_customer("Vip Quiet Co")
        self.create_invoice(vip, 80.0, self.days_ago(1))
        profiles = self.env["ar.credit.profile"].sudo()
        for partner in vip | vip_without_balance:
            profile = profiles._get_or_create(partner, self.company)
            profile.sudo().write({"segment": "vip"})
        run = (
            self.env["ar.statement.run"]
            .with_user(self.collector)
            .create({"partner_ids": [Command.set(chosen.ids)], "segment": "vip"})
        )
        self.assertEqual(run._target_partners(), chosen | vip)
        action = run.action_print()
        self.assertEqual(action["report_name"], "ar_credit_control.report_ar_statement_outstanding")
        self.assertEqual(sorted(action["context"]["active_ids"]), sorted((chosen | vip).ids))

    def test_run_emails_each_customer_in_their_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        template = self.env.ref("ar_credit_control.mail_template_ar_statement")
        template.with_context(lang="fr_FR").subject = "Votre relevé de compte"
        french = self.create_customer("Société Française", lang="fr_FR", email="fr@example.com")
        billing = self.env["res.partner"].create(
            {
                "name": "Comptabilité",
                "parent_id": french.id,
                "type": "invoice",
                "email": "compta@example.com",
            }
        )
        english = self.create_customer("English Ltd", lang="en_US", email="en@example.com")
        no_email = self.create_customer("Silent Ltd")
        for partner in french | english | no_email:
            self.create_invoice(partner, 1500.0, self.days_ago(40))
        run = (
            self.env["ar.statement.run"]
            .with_user(self.collector)
            .create({"partner_ids": [Command.set((french | english | no_email).ids)]})
        )
        run.action_send()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.sent_count, 2)
        mails = run.line_ids.mail_id
        self.assertEqual(len(mails), 2)
        french_mail = run.line_ids.filtered(lambda line: line.partner_id == french).mail_id
        self.assertEqual(french_mail.recipient_ids, billing)
        self.assertEqual(french_mail.subject, "Votre relevé de compte")
        self.assertEqual(french_mail.state, "outgoing")
        english_mail = run.line_ids.filtered(lambda line: line.partner_id == english).mail_id
        self.assertIn("Your statement of account", english_mail.subject)
        for mail in mails:
            self.assertEqual(len(mail.attachment_ids), 1)
            self.assertEqual(mail.attachment_ids.mimetype, "application/pdf")
        self.assertEqual(
            run.line_ids.filtered(lambda line: line.partner_id == no_email).state, "skipped"
        )
        # Sending again mails nobody twice.
        run.action_send()
        self.assertEqual(len(run.line_ids.mail_id), 2)

    def test_monthly_cron_is_idempotent_per_month(self):
        flagged = self.create_customer("Monthly Co", email="monthly@example.com")
        flagged_too = self.create_customer("Monthly Two", email="two@example.com")
        not_flagged = self.create_customer("Quiet Co", email="quiet@example.com")
        (flagged | flagged_too).with_company(self.company).ar_send_monthly_statement = True
        month_start = self.today.replace(day=1)
        for partner in flagged | flagged_too | not_flagged:
            self.create_invoice(partner, 700.0, month_start - timedelta(days=20))
        # An invoice of this month is not on last month's statement.
        self.create_invoice(flagged, 55.0, self.today)
        runs = self.env["ar.statement.run"]
        with patch.object(self.env.cr, "commit", lambda *args: None):
            # A budget spent at once still sends one chunk, then asks to be run again.
            self.assertFalse(runs._cron_send_monthly_statements(chunk_size=1, time_budget=0))
            run = runs.search([("period_key", "=", self.today.strftime("%Y-%m"))])
            self.assertEqual(len(run), 1)
            self.assertEqual(run.sent_count, 1)
            self.assertTrue(runs._cron_send_monthly_statements(chunk_size=1, time_budget=60))
            self.assertTrue(runs._cron_send_monthly_statements())
        run = runs.search([("period_key", "=", self.today.strftime("%Y-%m"))])
        self.assertEqual(len(run), 1)
        self.assertEqual(run.date_to, month_start - timedelta(days=1))
        self.assertEqual(run.line_ids.partner_id, flagged | flagged_too)
        self.assertEqual(len(run.line_ids.mail_id), 2)
        self.assertEqual(run.state, "done")

    def test_multi_company(self):
        company_2 = self.setup_other_company(name="Statement Second Co")["company"]
        customer = self.create_customer("Two Books Co")
        self.create_invoice(customer, 100.0, self.days_ago(5))
        self.create_invoice(customer, 900.0, self.days_ago(5), company=company_2)
        self.assertEqual(self.outstanding(customer)["total"], 100.0)
        self.assertEqual(self.outstanding(customer, company=company_2)["total"], 900.0)
        run_2 = (
            self.env["ar.statement.run"]
            .with_company(company_2)
            .create({"company_id": company_2.id, "partner_ids": [Command.set(customer.ids)]})
        )
        self.assertEqual(run_2._report_data()["company_id"], company_2.id)
        # The collector works in the first company only.
        with self.assertRaises(AccessError):
            run_2.with_user(self.collector).read(["name"])

    def test_access_rights(self):
        customer = self.create_customer("Rights Co")
        run = self.env["ar.statement.run"].create({"partner_ids": [Command.set(customer.ids)]})
        run.with_user(self.salesperson).read(["name"])
        with self.assertRaises(AccessError):
            self.env["ar.statement.run"].with_user(self.salesperson).create({})
        with self.assertRaises(AccessError):
            run.with_user(self.collector).unlink()
        run.with_user(self.credit_manager).unlink()

    def test_same_statement_for_a_public_request(self):
        """Portal pages compute statements as the public or portal user in sudo mode."""
        customer = self.create_customer("Public View Co")
        self.create_invoice(customer, 640.0, self.days_ago(12))
        public = self.env.ref("base.public_user")
        as_public = self.env["ar.statement"].with_user(public).sudo()
        data = as_public._outstanding_data(customer, self.company, self.today)
        self.assertEqual(data[customer.id]["total"], 640.0)
