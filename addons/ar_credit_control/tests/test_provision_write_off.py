"""Bad-debt provision runs (increase and decrease) and write-offs against the allowance."""

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestProvisionWriteOff(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.allowance_account = cls.env["account.account"].create(
            {"name": "坏账准备", "code": "123101", "account_type": "asset_current"}
        )
        cls.expense_account = cls.company_data["default_account_expense"]
        cls.bucket_set = cls.env["ar.aging.bucket.set"]._get_default(cls.company)
        cls.matrix = cls.env["ar.provision.matrix"].create(
            {
                "name": "Aging matrix",
                "bucket_set_id": cls.bucket_set.id,
                "allowance_account_id": cls.allowance_account.id,
                "expense_account_id": cls.expense_account.id,
                "journal_id": cls.company_data["default_journal_misc"].id,
            }
        )
        cls.matrix.action_load_buckets()
        cls.customer = cls.create_customer("Gamma Stores")

    @classmethod
    def create_invoice(cls, partner, amount, invoice_date, payment_term=None, **kwargs):
        # Due on the invoice date, so the aging depends on the dates given here only.
        immediate = cls.env.ref("account.account_payment_term_immediate")
        return super().create_invoice(
            partner, amount, invoice_date, payment_term=payment_term or immediate, **kwargs
        )

    def bucket_of(self, invoice, as_of):
        rows = self.env["ar.aging.report"]._for_aging(self.bucket_set, as_of)
        return rows.search([("move_id", "=", invoice.id)]).bucket_id

    def set_rate(self, bucket, rate):
        self.matrix.line_ids.filtered(lambda line: line.bucket_id == bucket).rate_percent = rate

    def allowance_balance(self):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", self.allowance_account.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))

    def test_matrix_covers_every_bucket_and_rejects_bad_rates(self):
        self.assertEqual(self.matrix.line_ids.bucket_id, self.bucket_set.line_ids)
        with self.assertRaises(ValidationError):
            self.matrix.line_ids[:1].rate_percent = 120
        with self.assertRaises(AccessError):
            self.matrix.with_user(self.collector).name = "Mine"

    def test_provision_increase_then_decrease(self):
        old = self.create_invoice(self.customer, 1000, "2019-01-01")
        recent = self.create_invoice(self.customer, 400, "2019-05-25")
        as_of = fields.Date.to_date("2019-06-01")
        old_bucket, recent_bucket = self.bucket_of(old, as_of), self.bucket_of(recent, as_of)
        self.assertNotEqual(old_bucket, recent_bucket)
        self.set_rate(old_bucket, 50)
        self.set_rate(recent_bucket, 5)

        run = self.env["ar.provision.run"].create({"matrix_id": self.matrix.id, "date": as_of})
        with self.assertRaises(AccessError):
            run.with_user(self.collector).action_post()
        run.with_user(self.credit_manager).action_post()
        self.assertEqual(run.state, "posted")
        self.assertAlmostEqual(run.total_required, 520.0)  # 50% of 1000 + 5% of 400
        self.assertAlmostEqual(run.adjustment, 520.0)
        expense = run.move_id.line_ids.filtered(
            lambda line: line.account_id == self.expense_account
        )
        self.assertAlmostEqual(expense.balance, 520.0)
        self.assertAlmostEqual(self.allowance_balance(), -520.0)

        self.pay_invoice(old, amount=600, payment_date="2019-06-15")
        lower = self.env["ar.provision.run"].create(
            {"matrix_id": self.matrix.id, "date": "2019-06-20"}
        )
        lower.action_compute()
        self.assertAlmostEqual(lower.existing_allowance, 520.0)
        required = lower.total_required
        self.assertLess(required, 520.0)
        lower.action_post()
        self.assertAlmostEqual(lower.adjustment, required - 520.0)
        expense = lower.move_id.line_ids.filtered(
            lambda line: line.account_id == self.expense_account
        )
        self.assertAlmostEqual(expense.balance, required - 520.0, msg="a reversal credits expense")
        self.assertAlmostEqual(self.allowance_balance(), -required)
        # The first run, recomputed as of its own date, still needs no change.
        again = self.env["ar.provision.run"].create({"matrix_id": self.matrix.id, "date": as_of})
        again.action_compute()
        self.assertAlmostEqual(again.total_required, 520.0)

    def test_write_off_requested_by_collector_approved_by_manager(self):
        invoice = self.create_invoice(self.customer, 800, "2019-01-01")
        request = (
            self.env["ar.write.off"]
            .with_user(self.collector)
            .create(
                {
                    "invoice_id": invoice.id,
                    "reason": "Customer insolvent",
                    "state": "done",  # ignored: a request starts as a request
                }
            )
        )
        self.assertEqual(request.state, "requested")
        self.assertEqual(request.allowance_account_id, self.allowance_account)
        with self.assertRaises(AccessError):
            request.action_approve()
        with self.assertRaises(AccessError):
            request.write({"state": "done"})
        self.assertEqual(invoice.payment_state, "not_paid")

        request.with_user(self.credit_manager).action_approve()
        self.assertEqual(request.state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        allowance = request.move_id.line_ids.filtered(
            lambda line: line.account_id == self.allowance_account
        )
        self.assertAlmostEqual(allowance.balance, 800.0)
        profile = self.env["ar.credit.profile"]._get_or_create(self.customer, self.company)
        for record in (invoice, profile):
            self.assertTrue(
                any("written off" in (m.body or "") for m in record.message_ids),
                f"{record._name} history shows the write-off",
            )
        self.assertFalse(
            any("written off" in (m.body or "") for m in self.customer.message_ids),
            "the customer's chatter, open to every employee, does not",
        )

    def test_write_off_with_tax_adjustment(self):
        tax = self.company_data["default_tax_sale"]
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": "2019-01-01",
                "invoice_payment_term_id": self.env.ref(
                    "account.account_payment_term_immediate"
                ).id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Goods",
                            "quantity": 1,
                            "price_unit": 1000,
                            "tax_ids": [Command.set(tax.ids)],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        self.pay_invoice(invoice, amount=invoice.amount_total / 2, payment_date="2019-02-01")
        request = self.env["ar.write.off"].create(
            {"invoice_id": invoice.id, "reason": "Bankrupt", "tax_treatment": "adjust"}
        )
        request.action_approve()
        lines = request.move_id.line_ids
        tax_account = invoice.line_ids.filtered(lambda line: line.display_type == "tax").account_id
        tax_share = sum(
            lines.filtered(lambda line: line.account_id == tax_account).mapped("balance")
        )
        self.assertAlmostEqual(tax_share, invoice.amount_tax / 2)
        allowance = sum(
            lines.filtered(lambda line: line.account_id == self.allowance_account).mapped("balance")
        )
        self.assertAlmostEqual(allowance, invoice.amount_untaxed / 2)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))

    def test_write_off_foreign_currency_and_bad_input(self):
        eur = self.setup_other_currency("EUR")
        invoice = self.create_invoice(self.customer, 500, "2019-01-01", currency=eur)
        blank = self.env["ar.write.off"].create({"invoice_id": invoice.id, "reason": "  "})
        with self.assertRaisesRegex(UserError, "reason"):
            blank.action_approve()
        self.company.fiscalyear_lock_date = fields.Date.to_date("2019-12-31")
        locked = self.env["ar.write.off"].create(
            {"invoice_id": invoice.id, "reason": "Gone", "date": "2019-06-30"}
        )
        with self.assertRaisesRegex(UserError, "locked period"):
            locked.action_approve()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(locked.state, "requested")
        done = self.env["ar.write.off"].create(
            {"invoice_id": invoice.id, "reason": "Gone", "date": "2020-01-15"}
        )
        done.action_approve()
        self.assertTrue(eur.is_zero(invoice.amount_residual))
        with self.assertRaisesRegex(UserError, "nothing left"):
            locked.with_context().write({"date": "2020-01-16"})
            locked.action_approve()
