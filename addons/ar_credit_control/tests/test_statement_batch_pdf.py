"""A statement run for many customers printed as one PDF: rendered in batches of customers by
wkhtmltopdf and merged, the same pages in the same order as one rendering would give."""

import io

from PyPDF2 import PdfReader

from odoo import Command
from odoo.tests import tagged

from .test_statement import StatementCommon


@tagged("post_install", "-at_install")
class TestStatementBatchPdf(StatementCommon):
    def render_pages(self, run, partners, batch_size):
        report = run._report()
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True, ar_statement_pdf_batch_size=batch_size)
            ._render_qweb_pdf(report.report_name, partners.ids, data=run._report_data())
        )
        self.assertEqual(kind, "pdf")
        return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]

    def test_run_for_several_customers_in_one_pdf(self):
        customers = self.env["res.partner"]
        invoices = []
        for index in range(5):
            customer = self.create_customer(f"Batch Customer {index}")
            customers |= customer
            invoices.append(self.create_invoice(customer, 1000.0 + index, self.days_ago(20)))
        run = self.env["ar.statement.run"].create(
            {"partner_ids": [Command.set(customers.ids)], "date_to": self.today}
        )
        partners = run._target_partners()
        self.assertEqual(partners, customers)

        pages = self.render_pages(run, partners, batch_size=2)  # three wkhtmltopdf calls
        self.assertGreaterEqual(len(pages), len(customers))
        # Every page belongs to one customer, the customers follow each other in order.
        owners = []
        for text in pages:
            names = [customer.name for customer in customers if customer.name in text]
            self.assertEqual(len(names), 1, f"one customer per page: {text[:200]}")
            if not owners or owners[-1] != names[0]:
                owners.append(names[0])
        self.assertEqual(owners, partners.mapped("name"))
        for customer, invoice, index in zip(customers, invoices, range(5)):
            text = " ".join(page for page in pages if customer.name in page)
            self.assertIn(invoice.name, text)
            self.assertIn(f"1,00{index}.00", text)
        # The same document as a single rendering of all of them.
        self.assertEqual(self.render_pages(run, partners, batch_size=100), pages)
