from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.ar_credit_control.tests.common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestDeliveryBlock(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.create_customer("Hold Customer")
        cls.goods = cls.env["product.product"].create({"name": "Crate", "is_storable": True})
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.env["stock.quant"]._update_available_quantity(cls.goods, cls.warehouse.lot_stock_id, 10)

    def delivery(self):
        picking = self.env["stock.picking"].create(
            {
                "partner_id": self.customer.id,
                "picking_type_id": self.warehouse.out_type_id.id,
                "location_id": self.warehouse.lot_stock_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "Crate",
                            "product_id": self.goods.id,
                            "product_uom_qty": 1,
                            "location_id": self.warehouse.lot_stock_id.id,
                            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_ids.quantity = 1
        picking.move_ids.picked = True
        return picking

    def test_delivery_blocked_on_hold_only_when_enabled(self):
        profile = self.env["ar.credit.profile"]._get_or_create(self.customer, self.company)
        profile.credit_hold = True
        free = self.delivery()
        free.button_validate()
        self.assertEqual(free.state, "done")
        self.company.ar_credit_block_delivery_on_hold = True
        held = self.delivery()
        with self.assertRaises(UserError):
            held.button_validate()
        self.assertNotEqual(held.state, "done")
        profile.credit_hold = False
        held.button_validate()
        self.assertEqual(held.state, "done")

    def test_no_delivery_block_while_the_credit_block_is_off(self):
        """The delivery setting applies only while the company's credit block is on."""
        self.env["ar.credit.profile"]._get_or_create(self.customer, self.company).credit_hold = True
        self.company.ar_credit_block_delivery_on_hold = True
        self.company.ar_credit_block_enabled = False
        free = self.delivery()
        free.button_validate()
        self.assertEqual(free.state, "done")
        self.company.ar_credit_block_enabled = True
        held = self.delivery()
        with self.assertRaises(UserError):
            held.button_validate()
        self.assertNotEqual(held.state, "done")
