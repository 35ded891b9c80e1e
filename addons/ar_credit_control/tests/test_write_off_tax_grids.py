"""Write-off with tax adjustment: the output tax of the written-off share is reversed as a
credit note for it would be, with the taxes' refund repartition lines and tax grids, so the
tax report's grids go down by the share written off."""

from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestWriteOffTaxGrids(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.allowance_account = cls.env["account.account"].create(
            {"name": "Bad-debt allowance", "code": "123102", "account_type": "asset_current"}
        )
        cls.journal = cls.company_data["default_journal_misc"]
        cls.customer = cls.create_customer("Delta Wholesale")
        # A tax report with a base grid and a tax grid, as a localization declares them.
        report = cls.env["account.report"].create(
            {
                "name": "VAT return",
                "country_id": cls.company.account_fiscal_country_id.id,
                "column_ids": [Command.create({"name": "Balance", "expression_label": "balance"})],
            }
        )
        cls.grids = {}
        for grid in ("WO_BASE", "WO_TAX"):
            line = cls.env["account.report.line"].create(
                {
                    "name": grid,
                    "report_id": report.id,
                    "expression_ids": [
                        Command.create({"label": "balance", "engine": "tax_tags", "formula": grid})
                    ],
                }
            )
            plus, minus = line.expression_ids._get_matching_tags().sorted("tax_negate")
            cls.grids[grid] = (plus, minus)
        tax_account = cls.company_data["default_account_tax_sale"]
        base_plus, base_minus = cls.grids["WO_BASE"]
        tax_plus, tax_minus = cls.grids["WO_TAX"]

        def repartition(base_tag, tax_tag):
            return [
                Command.create(
                    {"repartition_type": "base", "tag_ids": [Command.set(base_tag.ids)]}
                ),
                Command.create(
                    {
                        "repartition_type": "tax",
                        "account_id": tax_account.id,
                        "tag_ids": [Command.set(tax_tag.ids)],
                    }
                ),
            ]

        # Invoices add to the grids, refunds take off them (the "-" tags).
        cls.tax = cls.env["account.tax"].create(
            {
                "name": "VAT 20%",
                "amount": 20.0,
                "type_tax_use": "sale",
                "country_id": cls.company.account_fiscal_country_id.id,
                "invoice_repartition_line_ids": repartition(base_plus, tax_plus),
                "refund_repartition_line_ids": repartition(base_minus, tax_minus),
            }
        )
        cls.tax_account = tax_account

    def grid_amount(self, grid):
        """A grid's amount as the tax report computes it from the tagged journal items."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT COALESCE(SUM(aml.balance
                         * CASE WHEN tag.tax_negate THEN -1 ELSE 1 END
                         * CASE WHEN aml.tax_tag_invert THEN -1 ELSE 1 END), 0)
                  FROM account_move_line aml
                  JOIN account_account_tag_account_move_line_rel rel
                    ON rel.account_move_line_id = aml.id
                  JOIN account_account_tag tag ON tag.id = rel.account_account_tag_id
                 WHERE tag.id = ANY(%s) AND aml.parent_state = 'posted'
                   AND aml.company_id = %s
                """,
                [tag.id for tag in self.grids[grid]],
                self.company.id,
            )
        )
        return float(rows[0][0])

    def test_tax_adjustment_carries_refund_grids_and_reduces_output_tax(self):
        immediate = self.env.ref("account.account_payment_term_immediate")
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": "2019-01-01",
                "invoice_payment_term_id": immediate.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Goods",
                            "quantity": 4,
                            "price_unit": 250,
                            "tax_ids": [Command.set(self.tax.ids)],
                        }
                    ),
                    Command.create(
                        {"name": "Exempt service", "quantity": 1, "price_unit": 300, "tax_ids": []}
                    ),
                ],
            }
        )
        invoice.action_post()
        self.assertAlmostEqual(invoice.amount_total, 1500.0)
        self.assertAlmostEqual(self.grid_amount("WO_BASE"), 1000.0)
        self.assertAlmostEqual(self.grid_amount("WO_TAX"), 200.0)
        self.pay_invoice(invoice, amount=750, payment_date="2019-02-01")

        write_off = self.env["ar.write.off"].create(
            {
                "invoice_id": invoice.id,
                "reason": "Insolvent",
                "tax_treatment": "adjust",
                "allowance_account_id": self.allowance_account.id,
                "journal_id": self.journal.id,
                "date": "2019-06-30",
            }
        )
        write_off.action_approve()
        self.assertEqual(write_off.state, "done")
        lines = write_off.move_id.line_ids
        refund_tax_rep = self.tax.refund_repartition_line_ids.filtered(
            lambda rep: rep.repartition_type == "tax"
        )
        tax_line = lines.filtered("tax_repartition_line_id")
        self.assertEqual(tax_line.tax_repartition_line_id, refund_tax_rep)
        self.assertEqual(tax_line.account_id, self.tax_account)
        self.assertEqual(tax_line.tax_tag_ids, self.grids["WO_TAX"][1])
        self.assertAlmostEqual(tax_line.balance, 100.0)
        self.assertAlmostEqual(tax_line.tax_base_amount, 500.0)
        base_line = lines.filtered("tax_ids")
        self.assertEqual(base_line.account_id, self.allowance_account)
        self.assertEqual(base_line.tax_ids, self.tax)
        self.assertEqual(base_line.tax_tag_ids, self.grids["WO_BASE"][1])
        self.assertAlmostEqual(base_line.balance, 500.0)
        self.assertTrue(base_line.is_refund and tax_line.is_refund)
        # The exempt line's open share goes to the allowance without tax.
        untaxed = lines.filtered(
            lambda line: line.account_id == self.allowance_account and not line.tax_ids
        )
        self.assertAlmostEqual(sum(untaxed.mapped("balance")), 150.0)
        self.assertFalse(untaxed.tax_tag_ids)
        # The VAT return: base and output tax reduced by the written-off half.
        self.assertAlmostEqual(self.grid_amount("WO_BASE"), 500.0)
        self.assertAlmostEqual(self.grid_amount("WO_TAX"), 100.0)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        self.assertAlmostEqual(sum(lines.mapped("balance")), 0.0)

    def test_without_tax_adjustment_grids_are_untouched(self):
        invoice = self.create_invoice(self.customer, 800, "2019-01-01", post=False)
        invoice.invoice_line_ids.tax_ids = self.tax
        invoice.action_post()
        before = self.grid_amount("WO_TAX")
        write_off = self.env["ar.write.off"].create(
            {
                "invoice_id": invoice.id,
                "reason": "Gone",
                "allowance_account_id": self.allowance_account.id,
                "journal_id": self.journal.id,
            }
        )
        write_off.action_approve()
        self.assertFalse(write_off.move_id.line_ids.tax_tag_ids)
        self.assertFalse(write_off.move_id.line_ids.tax_ids)
        self.assertAlmostEqual(self.grid_amount("WO_TAX"), before)
