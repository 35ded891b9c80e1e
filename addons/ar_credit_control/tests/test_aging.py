import io
import zipfile
from datetime import timedelta
from unittest.mock import patch

from PyPDF2 import PdfReader

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL

from .common import CreditControlCommon


class AgingCommon(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.bucket_set = cls.env["ar.aging.bucket.set"]._get_default(cls.company)
        cls.net_30 = cls.env["account.payment.term"].create(
            {
                "name": "Net 30",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})
                ],
            }
        )
        # Due on the invoice date (without terms Odoo would make it due on the posting day).
        cls.immediate = cls.env["account.payment.term"].create(
            {
                "name": "Immediate",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 0})
                ],
            }
        )
        cls.half_now_half_30 = cls.env["account.payment.term"].create(
            {
                "name": "50% now, 50% in 30 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 30}),
                ],
            }
        )

    @classmethod
    def days_ago(cls, days):
        return cls.today - timedelta(days=days)

    @classmethod
    def create_invoice(cls, partner, amount, invoice_date, payment_term=None, **kwargs):
        return super().create_invoice(
            partner, amount, invoice_date, payment_term=payment_term or cls.immediate, **kwargs
        )

    def aging(self, partner, as_of=None, bucket_set=None, user=None):
        report = self.env["ar.aging.report"]
        if user:
            report = report.with_user(user)
        return report._for_aging(bucket_set or self.bucket_set, as_of or self.today).search(
            [("partner_id", "=", partner.commercial_partner_id.id)]
        )

    def by_bucket(self, rows):
        totals = {}
        for row in rows:
            label = row.bucket_id.name
            totals[label] = round(totals.get(label, 0.0) + row.amount_residual, 2)
        return totals

    def gl_balance(self, partner, as_of):
        """The general-ledger receivable balance of the customer at the end of `as_of`."""
        self.env.flush_all()
        [(balance,)] = self.env.execute_query(
            SQL(
                """
                SELECT COALESCE(SUM(aml.balance), 0)
                  FROM account_move_line aml
                  JOIN account_account account ON account.id = aml.account_id
                 WHERE account.account_type = 'asset_receivable'
                   AND aml.parent_state = 'posted'
                   AND aml.partner_id = %s
                   AND aml.date <= %s
                """,
                partner.id,
                as_of,
            )
        )
        return round(balance, 2)

    def register_payment(self, partner, amount, payment_date, currency=None):
        """A customer payment not reconciled with any invoice."""
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "date": payment_date,
                "currency_id": (currency or self.company.currency_id).id,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        return payment


@tagged("post_install", "-at_install")
class TestAging(AgingCommon):
    def test_default_bucket_set_per_company(self):
        labels = self.bucket_set._aging_lines().mapped("name")
        self.assertEqual(labels, ["Not due", "0-30", "31-60", "61-90", "90+"])
        self.assertEqual(self.bucket_set.basis, "due_date")
        self.assertEqual(
            self.bucket_set.line_ids.filtered(lambda line: line.kind == "in_payment").name,
            "In payment",
        )
        new_company = self.env["res.company"].create({"name": "Aging Newco"})
        other = self.env["ar.aging.bucket.set"].search(
            [("company_id", "=", new_company.id), ("is_default", "=", True)]
        )
        self.assertEqual(len(other), 1)
        self.assertEqual(len(other._aging_lines()), 5)

    def test_bucket_edges(self):
        customer = self.create_customer("Edges Co")
        expected = {0: "Not due", 30: "0-30", 31: "31-60", 90: "61-90", 91: "90+"}
        invoices = {}
        for days, _label in expected.items():
            invoices[days] = self.create_invoice(customer, 100.0 + days, self.days_ago(days))
        rows = self.aging(customer)
        self.assertEqual(len(rows), 5)
        for days, label in expected.items():
            row = rows.filtered(lambda r, days=days: r.move_id == invoices[days])
            self.assertEqual(row.days_past_due, days)
            self.assertEqual(row.bucket_id.name, label, f"day {days}")
            self.assertEqual(row.amount_residual, 100.0 + days)
        self.assertAlmostEqual(sum(rows.mapped("share")), 100.0, places=6)

        # Grouped (pivot, list totals): each bucket's share of what is shown, one window over
        # the groups.
        report = self.env["ar.aging.report"]._for_aging(self.bucket_set, self.today)
        groups = report.read_group(
            [("partner_id", "=", customer.id)],
            ["amount_residual:sum", "share:sum"],
            ["bucket_id"],
        )
        total = sum(group["amount_residual"] for group in groups)
        self.assertEqual(len(groups), 5)
        for group in groups:
            self.assertAlmostEqual(group["share"], 100.0 * group["amount_residual"] / total)
        self.assertAlmostEqual(sum(group["share"] for group in groups), 100.0, places=6)

    def test_due_date_versus_invoice_date_basis(self):
        customer = self.create_customer("Basis Co")
        self.create_invoice(customer, 700.0, self.days_ago(40), payment_term=self.net_30)
        self.assertEqual(self.by_bucket(self.aging(customer)), {"0-30": 700.0})
        by_invoice_date = self.bucket_set.copy({"name": "By invoice date", "is_default": False})
        by_invoice_date.basis = "invoice_date"
        rows = self.aging(customer, bucket_set=by_invoice_date)
        self.assertEqual(self.by_bucket(rows), {"31-60": 700.0})
        self.assertEqual(rows.days_past_due, 40)

    def test_instalments_age_on_their_own_due_dates(self):
        customer = self.create_customer("Instalments Co")
        invoice = self.create_invoice(
            customer, 1000.0, self.days_ago(45), payment_term=self.half_now_half_30
        )
        self.assertEqual(invoice.invoice_date_due, self.days_ago(15))
        rows = self.aging(customer)
        self.assertEqual(sorted(rows.mapped("days_past_due")), [15, 45])
        self.assertEqual(self.by_bucket(rows), {"0-30": 500.0, "31-60": 500.0})

    def test_partial_payment_credit_note_and_unreconciled_payment(self):
        customer = self.create_customer("Mixed Co")
        invoice = self.create_invoice(customer, 1000.0, self.days_ago(70))
        self.pay_invoice(invoice, amount=400.0, payment_date=self.days_ago(5))
        self.create_invoice(customer, 200.0, self.days_ago(10), move_type="out_refund")
        self.register_payment(customer, 300.0, self.days_ago(3))
        rows = self.aging(customer)
        # The credit note and the payment not matched yet are unapplied cash, of no age.
        self.assertEqual(self.by_bucket(rows), {"61-90": 600.0, "Unapplied": -500.0})
        self.assertEqual(len(rows.filtered("unapplied")), 2)
        self.assertEqual(round(sum(rows.mapped("amount_residual")), 2), 100.0)
        self.assertEqual(round(sum(rows.mapped("amount_residual")), 2), customer.credit)

    def test_in_payment_invoice_gets_its_own_bucket(self):
        customer = self.create_customer("Aging In Payment Co")
        invoice = self.create_invoice(customer, 800.0, self.days_ago(60), payment_term=self.net_30)
        self.assertEqual(self.by_bucket(self.aging(customer)), {"0-30": 800.0})
        move_class = type(self.env["account.move"])
        with patch.object(move_class, "_get_invoice_in_payment_state", lambda self: "in_payment"):
            self.pay_invoice(invoice, payment_date=self.days_ago(1), with_journal_entry=False)
            self.assertEqual(invoice.payment_state, "in_payment")
        rows = self.aging(customer)
        self.assertEqual(self.by_bucket(rows), {"In payment": 800.0})
        self.assertTrue(rows.in_payment)
        # Before the payment date it was still overdue.
        self.assertEqual(
            self.by_bucket(self.aging(customer, as_of=self.days_ago(2))), {"0-30": 800.0}
        )

    def test_more_buckets_and_clear_errors(self):
        customer = self.create_customer("Many Buckets Co")
        self.create_invoice(customer, 100.0, self.days_ago(20))
        self.create_invoice(customer, 200.0, self.days_ago(130))

        def make(name, lines):
            return self.env["ar.aging.bucket.set"].create(
                {
                    "name": name,
                    "line_ids": [
                        Command.create(
                            {"name": label, "max_days": days or 0, "open_ended": days is None}
                        )
                        for label, days in lines
                    ],
                }
            )

        fine_lines = [
            ("Current", 0),
            ("1-15", 15),
            ("16-30", 30),
            ("31-60", 60),
            ("61-90", 90),
            ("91-120", 120),
            ("120+", None),
        ]
        fine = make("Fine", fine_lines)
        self.assertEqual(len(fine._aging_lines()), 7)
        self.assertEqual(
            self.by_bucket(self.aging(customer, bucket_set=fine)), {"16-30": 100.0, "120+": 200.0}
        )
        with self.assertRaisesRegex(ValidationError, "ending at day 0"):
            make("Late start", [("Current", 5), *fine_lines[1:]])
        with self.assertRaisesRegex(ValidationError, "Only the last bucket may be open-ended"):
            make("Two open", [*fine_lines[:4], ("61+", None), *fine_lines[4:]])
        with self.assertRaisesRegex(ValidationError, "same label"):
            make("Twice", [("Current", 0), ("Late", 30), ("Late", 60), ("60+", None)])
        with self.assertRaisesRegex(ValidationError, "must be open-ended"):
            make("Closed", fine_lines[:-1])
        with self.assertRaisesRegex(ValidationError, "same day"):
            make("Same day", [("Current", 0), ("A", 30), ("B", 30), ("30+", None)])
        # Editing a bucket is checked too.
        with self.assertRaisesRegex(ValidationError, "must be open-ended"):
            fine.line_ids.filtered(lambda line: line.name == "120+").unlink()

    def test_as_of_date_equals_general_ledger_with_exchange_differences(self):
        eur = self.setup_other_currency(
            "EUR",
            rates=[
                (self.days_ago(400), 2.0),
                (self.days_ago(55), 2.5),
                (self.days_ago(15), 1.6),
            ],
        )
        customer = self.create_customer("History Co")
        usd_invoice = self.create_invoice(
            customer, 1000.0, self.days_ago(100), payment_term=self.net_30
        )
        self.pay_invoice(usd_invoice, amount=400.0, payment_date=self.days_ago(60))
        self.pay_invoice(usd_invoice, amount=600.0, payment_date=self.days_ago(20))
        eur_invoice = self.create_invoice(customer, 1000.0, self.days_ago(90), currency=eur)
        self.assertEqual(eur_invoice.amount_total_signed, 500.0)
        # Paid in full in euros when the euro is cheaper: an exchange loss of 100.
        self.pay_invoice(eur_invoice, payment_date=self.days_ago(50))
        exchange_move = eur_invoice.line_ids.matched_credit_ids.exchange_move_id
        self.assertTrue(exchange_move, "the payment at another rate books an exchange difference")
        self.create_invoice(customer, 200.0, self.days_ago(70), move_type="out_refund")
        self.register_payment(customer, 300.0, self.days_ago(40))
        partly_paid = self.create_invoice(customer, 500.0, self.days_ago(30), currency=eur)
        self.pay_invoice(partly_paid, amount=200.0, payment_date=self.days_ago(10))

        for days in (120, 95, 80, 65, 56, 55, 50, 45, 25, 12, 10, 5, 0):
            as_of = self.days_ago(days)
            rows = self.aging(customer, as_of=as_of)
            self.assertEqual(
                round(sum(rows.mapped("amount_residual")), 2),
                self.gl_balance(customer, as_of),
                f"as of {days} days ago",
            )
        # Line by line, as they stood.
        rows = self.aging(customer, as_of=self.days_ago(95))
        self.assertEqual(rows.filtered(lambda r: r.move_id == usd_invoice).amount_residual, 1000.0)
        rows = self.aging(customer, as_of=self.days_ago(56))
        self.assertEqual(rows.filtered(lambda r: r.move_id == usd_invoice).amount_residual, 600.0)
        eur_row = rows.filtered(lambda r: r.move_id == eur_invoice)
        self.assertEqual(eur_row.amount_residual, 500.0)
        self.assertEqual(eur_row.amount_residual_currency, 1000.0)
        self.assertEqual(eur_row.currency_id, eur)
        self.assertEqual(eur_row.bucket_id.name, "31-60")
        # Until the exchange difference is booked, the invoice keeps its difference open in
        # company currency, as the ledger does; from that date on both are closed.
        before_exchange = exchange_move.date - timedelta(days=1)
        if before_exchange >= self.days_ago(50):
            rows = self.aging(customer, as_of=before_exchange)
            eur_row = rows.filtered(lambda r: r.move_id == eur_invoice)
            self.assertEqual(eur_row.amount_residual, 100.0)
            self.assertEqual(eur_row.amount_residual_currency, 0.0)
        for as_of in (before_exchange, exchange_move.date):
            self.assertEqual(
                round(sum(self.aging(customer, as_of=as_of).mapped("amount_residual")), 2),
                self.gl_balance(customer, as_of),
            )
        rows = self.aging(customer, as_of=exchange_move.date)
        self.assertFalse(rows.filtered(lambda r: r.move_id in (eur_invoice, exchange_move)))
        rows = self.aging(customer)
        partly = rows.filtered(lambda r: r.move_id == partly_paid)
        self.assertEqual(partly.amount_residual_currency, 300.0)
        self.assertEqual(self.gl_balance(customer, self.today), customer.credit)

    def test_multi_company_rows_follow_the_companies(self):
        company_2 = self.setup_other_company(name="Aging Second Co")["company"]
        customer = self.create_customer("Two Books Co")
        self.create_invoice(customer, 100.0, self.days_ago(5))
        self.create_invoice(customer, 900.0, self.days_ago(5), company=company_2)
        both = self.env["ar.aging.report"].with_context(
            allowed_company_ids=[self.company.id, company_2.id]
        )
        rows = both.search([("partner_id", "=", customer.id)])
        self.assertEqual(set(rows.company_id.ids), {self.company.id, company_2.id})
        collector_rows = self.aging(customer, user=self.collector)
        self.assertEqual(collector_rows.company_id, self.company)
        self.assertEqual(collector_rows.amount_residual, 100.0)
        rule = self.env.ref("ar_credit_control.rule_ar_aging_report_company")
        self.assertEqual(rule.domain_force, "[('company_id', 'in', company_ids)]")
        bucket_sets = self.env["ar.aging.bucket.set"].with_user(self.collector).search([])
        self.assertNotIn(company_2, bucket_sets.company_id)

    def test_pivot_grouping_and_drill_down(self):
        customer = self.create_customer("Drill Co", user_id=self.salesperson.id)
        first = self.create_invoice(customer, 300.0, self.days_ago(40))
        second = self.create_invoice(customer, 200.0, self.days_ago(45))
        report = self.env["ar.aging.report"].with_context(aging_bucket_set_id=self.bucket_set.id)
        groups = report.read_group(
            [("partner_id", "=", customer.id)],
            ["amount_residual:sum"],
            ["bucket_id", "country_id", "currency_id", "grade", "segment", "user_id"],
            lazy=False,
        )
        self.assertEqual(len(groups), 1)
        self.assertEqual(groups[0]["bucket_id"][1], "31-60")
        self.assertEqual(groups[0]["amount_residual"], 500.0)
        self.assertEqual(groups[0]["__count"], 2)
        cell = report.search(groups[0]["__domain"])
        action = cell.action_open_move_lines()
        self.assertEqual(action["res_model"], "account.move.line")
        lines = self.env["account.move.line"].search(action["domain"])
        self.assertEqual(lines.move_id, first | second)
        self.assertTrue(all(line.account_id.account_type == "asset_receivable" for line in lines))

    def test_contact_lines_age_under_their_company_with_its_attributes(self):
        """A receivable line on a contact (an import may write one) ages under its company,
        with the company's country, grade and segment."""
        belgium = self.env.ref("base.be")
        customer = self.create_customer("Parent Co", country_id=belgium.id)
        self.env["ar.credit.profile"]._get_or_create(customer, self.company).write(
            {"grade": "B", "segment": "vip", "segment_locked": True}
        )
        contact = self.env["res.partner"].create(
            {"name": "Parent Co buyer", "parent_id": customer.id, "type": "invoice"}
        )
        invoice = self.create_invoice(customer, 400.0, self.days_ago(10))
        self.create_invoice(customer, 100.0, self.days_ago(70))
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE account_move_line SET partner_id = %s WHERE move_id = %s",
            [contact.id, invoice.id],
        )
        self.env.invalidate_all()
        report = self.env["ar.aging.report"].with_context(aging_bucket_set_id=self.bucket_set.id)
        groups = report.read_group(
            [("partner_id", "=", customer.id)],
            ["amount_residual:sum"],
            ["partner_id", "bucket_id", "country_id", "grade", "segment"],
            lazy=False,
        )
        self.assertEqual(
            sorted(
                (g["bucket_id"][1], g["amount_residual"], g["__count"], g["country_id"][0])
                for g in groups
            ),
            [("0-30", 400.0, 1, belgium.id), ("61-90", 100.0, 1, belgium.id)],
        )
        self.assertEqual({(g["grade"], g["segment"]) for g in groups}, {("B", "vip")})
        self.assertEqual({g["partner_id"][0] for g in groups}, {customer.id})

    def test_partner_form_summary(self):
        customer = self.create_customer("Summary Co")
        self.create_invoice(customer, 1234.0, self.days_ago(35))
        summary = str(customer.ar_aging_summary)
        self.assertIn("31-60", summary)
        self.assertIn("1,234.00", summary)
        action = customer.action_open_ar_aging()
        self.assertEqual(action["res_model"], "ar.aging.report")
        empty = self.create_customer("Nothing Co")
        self.assertIn("No open receivables", str(empty.ar_aging_summary))

    def test_pdf_is_rendered(self):
        customer = self.create_customer("Printed Customer Ltd")
        self.create_invoice(customer, 4321.0, self.days_ago(65))
        report = self.env.ref("ar_credit_control.action_report_ar_aging")
        html, _kind = report._render_qweb_html(report.report_name, customer.ids)
        self.assertIn(b"Printed Customer Ltd", html)
        self.assertIn(b"61-90", html)
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report.report_name, customer.ids)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = " ".join(
            " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
        )
        self.assertIn("Printed Customer Ltd", text)
        self.assertIn("4,321.00", text)

    def test_xlsx_export(self):
        customer = self.create_customer("Workbook Co")
        self.create_invoice(customer, 250.0, self.days_ago(100))
        wizard = self.env["ar.aging.wizard"].create({"partner_ids": [Command.set(customer.ids)]})
        action = wizard.action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment_id = int(action["url"].split("/")[3].split("?")[0])
        attachment = self.env["ir.attachment"].browse(attachment_id)
        with zipfile.ZipFile(io.BytesIO(attachment.raw)) as workbook:
            strings = workbook.read("xl/sharedStrings.xml").decode()
            sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        self.assertIn("Workbook Co", strings)
        self.assertIn("90+", strings)
        self.assertIn("<v>250</v>", sheet)
        analysis = wizard.action_open_analysis()
        self.assertEqual(analysis["context"]["aging_bucket_set_id"], self.bucket_set.id)
        self.company.external_report_layout_id = self.env.ref("web.external_layout_standard")
        pdf_action = wizard.action_print_pdf()
        self.assertEqual(pdf_action["report_name"], "ar_credit_control.report_ar_aging")


@tagged("post_install", "-at_install")
class TestAgingHttp(AgingCommon, HttpCase):
    def test_collector_reads_aging_by_bucket_over_json_rpc(self):
        customer = self.create_customer("Remote Co")
        self.create_invoice(customer, 150.0, self.days_ago(10))
        self.create_invoice(customer, 350.0, self.days_ago(75))
        self.authenticate("collector", "collector")
        groups = self.make_jsonrpc_request(
            "/web/dataset/call_kw/ar.aging.report/web_read_group",
            {
                "model": "ar.aging.report",
                "method": "web_read_group",
                "args": [],
                "kwargs": {
                    "domain": [["partner_id", "=", customer.id]],
                    "fields": ["amount_residual:sum"],
                    "groupby": ["bucket_id"],
                    "context": {"aging_bucket_set_id": self.bucket_set.id},
                },
            },
        )["groups"]
        totals = {group["bucket_id"][1]: group["amount_residual"] for group in groups}
        self.assertEqual(totals, {"0-30": 150.0, "61-90": 350.0})
