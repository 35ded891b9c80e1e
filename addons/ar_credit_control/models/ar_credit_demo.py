"""Demo histories: invoices and payments (dates relative to today) for six demo customers,
posted and paid through Odoo's own flows, so the demo shows every grade with real reasons."""

from datetime import timedelta

from odoo import Command, api, fields, models

# (customer xmlid, invoices as (days ago, amount, days paid after the due date or None),
#  the grade this history is meant to produce with the default scoring settings)
DEMO_HISTORIES = [
    ("demo_partner_grade_a", [(380 - 40 * n, 1500.0, 0) for n in range(8)], "A"),
    (
        "demo_partner_grade_b",
        [(400 - 30 * n, 1000.0, 20 if n % 3 == 0 and n < 9 else 0) for n in range(10)],
        "B",
    ),
    ("demo_partner_grade_c", [(330 - 40 * n, 800.0, 20) for n in range(7)], "C"),
    (
        "demo_partner_grade_d",
        [(330 - 40 * n, 1200.0, 40) for n in range(6)] + [(75, 2000.0, None)],
        "D",
    ),
    (
        "demo_partner_grade_e",
        [(360 - 45 * n, 900.0, 75) for n in range(5)] + [(130, 5000.0, None)],
        "E",
    ),
    ("demo_partner_grade_new", [(10, 600.0, None)], "new"),
]


class ArCreditDemo(models.AbstractModel):
    _name = "ar.credit.demo"
    _description = "Credit control demo data"

    @api.model
    def _create_demo_histories(self):
        company = self.env.company
        if not self.env["account.journal"].search(
            [("type", "=", "sale"), *self.env["account.journal"]._check_company_domain(company)],
            limit=1,
        ):
            return  # no chart of accounts: nothing to invoice with
        today = fields.Date.context_today(self)
        term = self.env["account.payment.term"].create(
            {
                "name": "Net 30 (credit control demo)",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})
                ],
            }
        )
        partners = self.env["res.partner"]
        for xmlid, invoices, _grade in DEMO_HISTORIES:
            partner = self.env.ref(f"ar_credit_control.{xmlid}")
            partners |= partner
            for days_ago, amount, days_late in invoices:
                invoice_date = today - timedelta(days=days_ago)
                invoice = self.env["account.move"].create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": invoice_date,
                        "invoice_payment_term_id": term.id,
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
                invoice.action_post()
                if days_late is not None:
                    paid_on = invoice_date + timedelta(days=30 + days_late)
                    self.env["account.payment.register"].with_context(
                        active_model="account.move", active_ids=invoice.ids
                    ).create({"payment_date": paid_on})._create_payments()
        self.env["ar.credit.evaluation"]._evaluate_partners(partners, company, trigger="manual")
