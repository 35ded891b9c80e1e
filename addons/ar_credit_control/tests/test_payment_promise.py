from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestPaymentPromise(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.create_customer("Promising Ltd")
        cls.invoice = cls.create_invoice(cls.customer, 500.0, "2026-01-10")

    def _promise(self, user=None, **values):
        model = self.env["ar.payment.promise"]
        if user:
            model = model.with_user(user)
        return model.create(
            {
                "partner_id": self.customer.id,
                "move_ids": [(6, 0, self.invoice.ids)],
                "amount": 500.0,
                "promised_date": "2026-02-01",
                **values,
            }
        )

    def test_collector_records_a_promise_and_its_outcome(self):
        promise = self._promise(user=self.collector)
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.user_id, self.collector)
        promise.action_mark_kept()
        self.assertEqual(promise.state, "kept")

    def test_amount_must_be_positive(self):
        with self.assertRaises(ValidationError):
            self._promise(amount=0.0)
        with self.assertRaises(ValidationError):
            self._promise(amount=-10.0)

    def test_salesperson_reads_but_cannot_record(self):
        promise = self._promise()
        self.assertEqual(promise.with_user(self.salesperson).amount, 500.0)
        with self.assertRaises(AccessError):
            self._promise(user=self.salesperson)

    def test_other_company_promises_are_hidden(self):
        other = self.setup_other_company()["company"]
        customer = self.create_customer("Elsewhere SA")
        invoice = self.create_invoice(customer, 80.0, "2026-01-10", company=other)
        foreign = (
            self.env["ar.payment.promise"]
            .with_company(other)
            .create(
                {
                    "company_id": other.id,
                    "partner_id": customer.id,
                    "move_ids": [(6, 0, invoice.ids)],
                    "amount": 80.0,
                    "promised_date": "2026-02-01",
                }
            )
        )
        visible = self.env["ar.payment.promise"].with_user(self.collector).search([])
        self.assertNotIn(foreign, visible)
