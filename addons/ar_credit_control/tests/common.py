"""Shared set-up for the addon's tests: customers, invoices and payments built through the
public API (post invoices, register payments), never by writing residuals directly."""

import json

from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class CreditControlCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        # The credit block is a company setting, off by default. The tests of what it does run
        # with it on, in this company and in every company they create (test_credit_block_setting
        # switches it off).
        cls.company.ar_credit_block_enabled = True
        cls.env["ir.default"].set("res.company", "ar_credit_block_enabled", True)
        # The accountant running the tests also manages credit.
        cls.env.user.groups_id |= cls.env.ref("ar_credit_control.group_credit_control_manager")
        cls.credit_manager = new_test_user(
            cls.env,
            login="credit_manager",
            password="credit_manager",
            name="Credit Manager",
            groups="base.group_user,ar_credit_control.group_credit_control_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.collector = new_test_user(
            cls.env,
            login="collector",
            password="collector",
            name="Collector",
            groups="base.group_user,ar_credit_control.group_credit_control_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        # A salesperson who may also invoice: plain Odoo lets them edit credit limits.
        cls.salesperson = new_test_user(
            cls.env,
            login="salesperson",
            password="salesperson",
            name="Salesperson",
            groups="base.group_user,base.group_partner_manager,sales_team.group_sale_salesman,"
            "account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def create_customer(cls, name, **values):
        return cls.env["res.partner"].create({"name": name, "is_company": True, **values})

    @classmethod
    def create_invoice(
        cls,
        partner,
        amount,
        invoice_date,
        payment_term=None,
        post=True,
        currency=None,
        move_type="out_invoice",
        company=None,
    ):
        """A customer invoice of one untaxed line for `amount`, posted unless told otherwise."""
        company = company or cls.company
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": invoice_date,
                    "date": invoice_date,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_payment_term_id": payment_term.id if payment_term else False,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Goods",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    def flush_tracking(self):
        """Odoo writes tracking values when the transaction commits; run that step now."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    def tracked_fields(self, record):
        """Names of the fields whose changes are tracked in the record's chatter."""
        self.flush_tracking()
        return set(
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("mail_message_id.model", "=", record._name),
                    ("mail_message_id.res_id", "=", record.id),
                ]
            )
            .field_id.mapped("name")
        )

    @classmethod
    def pay_invoice(cls, invoice, amount=None, payment_date=None, with_journal_entry=True):
        """Register a payment on the invoice with Odoo's payment wizard.

        Without a journal entry (a payment method with no outstanding account), Odoo marks the
        invoice paid/in payment but leaves its receivable open until the bank matches it.
        """
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "payment_date": payment_date or fields.Date.today(),
                    **({"amount": amount} if amount is not None else {}),
                }
            )
        )
        if not with_journal_entry:
            wizard.payment_method_line_id.payment_account_id = False
        return wizard._create_payments()

    @classmethod
    def payment_on_account(cls, partner, amount, payment_date=None, company=None):
        """A posted customer payment matched with no invoice: unapplied cash."""
        company = company or cls.company
        payment = (
            cls.env["account.payment"]
            .with_company(company)
            .create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner.id,
                    "amount": amount,
                    "date": payment_date or fields.Date.today(),
                    "journal_id": cls.env["account.journal"]
                    .search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
                    .id,
                }
            )
        )
        payment.action_post()
        return payment


class JsonRpcMixin:
    """For HttpCase tests: call a model method over HTTP JSON-RPC as a user whose password is
    their login, as a client outside Odoo would."""

    def jsonrpc(self, user, model, method, *args, **kwargs):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [self.env.cr.dbname, user.id, user.login, model, method]
                + [list(args), kwargs],
            },
        }
        response = self.url_open(
            "/jsonrpc", data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        self.assertEqual(response.status_code, 200)
        return response.json()
