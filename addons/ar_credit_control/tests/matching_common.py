"""Customers, invoices, payments and statement lines for the payment matching tests."""

from odoo import fields

from .common import CreditControlCommon


class MatchingCommon(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.write_off_account = cls.company_data["default_account_expense"]
        cls.company.write(
            {
                "ar_matching_write_off_account_id": cls.write_off_account.id,
                "ar_matching_tolerance_amount": 5.0,
                "ar_matching_tolerance_percent": 0.5,
                "ar_matching_auto_accept": 0.9,
            }
        )
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.customer_a = cls.create_customer("Alpha Trading")
        cls.customer_b = cls.create_customer("Beta Retail")

    @classmethod
    def create_invoice(cls, partner, amount, invoice_date, payment_term=None, **kwargs):
        # Due on the invoice date: "oldest first" follows the dates given here.
        immediate = cls.env.ref("account.account_payment_term_immediate")
        return super().create_invoice(
            partner, amount, invoice_date, payment_term=payment_term or immediate, **kwargs
        )

    @classmethod
    def create_payment(cls, partner, amount, memo="", date="2019-03-01", currency=None):
        payment = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "date": date,
                "memo": memo,
                "journal_id": cls.bank_journal.id,
                "currency_id": (currency or cls.company.currency_id).id,
            }
        )
        payment.action_post()
        return payment

    @classmethod
    def payment_line(cls, payment):
        return payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    @classmethod
    def create_statement_line(cls, amount, memo, partner=None, date="2019-03-01"):
        return cls.env["account.bank.statement.line"].create(
            {
                "journal_id": cls.bank_journal.id,
                "date": date,
                "payment_ref": memo,
                "amount": amount,
                "partner_id": partner.id if partner else False,
            }
        )

    def propose(self, partners, user=None, **values):
        wizard = (
            self.env["ar.payment.matching.wizard"]
            .with_user(user or self.env.user)
            .create({"partner_ids": [fields.Command.set(partners.ids)], **values})
        )
        wizard.action_propose()
        return wizard

    def proposal_for(self, wizard, record):
        field = (
            "statement_line_id"
            if record._name == "account.bank.statement.line"
            else ("move_line_id")
        )
        target = record if field == "statement_line_id" else self.payment_line(record)
        return wizard.proposal_ids.filtered(lambda proposal: proposal[field] == target)

    @staticmethod
    def receivable(invoice):
        return invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
