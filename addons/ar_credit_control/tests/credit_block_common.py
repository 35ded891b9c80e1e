"""Set-up shared by the credit block tests: a service product and quotations built through the
public API, customers with limits, holds and grades set as a credit manager would."""

from odoo import Command

from .common import CreditControlCommon


class CreditBlockCommon(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service = cls.env["product.product"].create(
            {
                "name": "Consulting day",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
                "invoice_policy": "order",
            }
        )
        cls.customer = cls.create_customer("Credit Customer")
        cls.immediate = cls.env.ref("account.account_payment_term_immediate")
        cls.approval_activity = cls.env.ref("ar_credit_control.mail_activity_credit_approval")

    @classmethod
    def create_order(cls, partner, amount, company=None, pricelist=None, user=None):
        """A quotation of one untaxed service line for `amount` (in the pricelist currency)."""
        company = company or cls.company
        env = cls.env(user=user) if user else cls.env
        return (
            env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    **({"pricelist_id": pricelist.id} if pricelist else {}),
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.service.id,
                                "product_uom_qty": 1,
                                "price_unit": amount,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )

    @classmethod
    def set_limit(cls, partner, limit, company=None):
        partner.with_company(company or cls.company).credit_limit = limit

    @classmethod
    def profile(cls, partner, company=None, **values):
        profile = cls.env["ar.credit.profile"]._get_or_create(partner, company or cls.company)
        if values:
            profile.write(values)
        return profile

    def approval_activities(self, order):
        return order.activity_ids.filtered(lambda a: a.activity_type_id == self.approval_activity)

    def decide(self, orders, decision, reason, user=None, confirm=False):
        """A credit manager's decision through the wizard."""
        wizard = (
            self.env["ar.credit.approval.wizard"]
            .with_user(user or self.credit_manager)
            .create(
                {
                    "order_ids": [Command.set(orders.ids)],
                    "decision": decision,
                    "reason": reason,
                    "confirm_order": confirm,
                }
            )
        )
        return wizard.action_apply()

    def create_provider(self):
        return self.env["payment.provider"].create(
            {
                "name": "Test provider",
                "code": "none",
                "state": "test",
                "company_id": self.company.id,
                "payment_method_ids": [
                    Command.set([self.env.ref("payment.payment_method_unknown").id])
                ],
            }
        )

    def create_transaction(self, provider, order, amount, state=None):
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                    "amount": amount,
                    "currency_id": order.currency_id.id,
                    "partner_id": order.partner_id.id,
                    "reference": f"{order.name}-{amount}",
                    "operation": "online_redirect",
                    "sale_order_ids": [Command.set(order.ids)],
                }
            )
        )
        if state == "done":
            tx._set_done()
        return tx
