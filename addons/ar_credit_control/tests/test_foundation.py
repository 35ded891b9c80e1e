from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestFoundation(CreditControlCommon):
    def test_groups_are_a_hierarchy(self):
        user_group = self.env.ref("ar_credit_control.group_credit_control_user")
        manager_group = self.env.ref("ar_credit_control.group_credit_control_manager")
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertTrue(
            self.credit_manager.has_group("ar_credit_control.group_credit_control_user")
        )
        self.assertFalse(self.collector.has_group("ar_credit_control.group_credit_control_manager"))
        # Collectors read the books, but cannot invoice.
        self.assertTrue(self.collector.has_group("account.group_account_readonly"))
        self.assertFalse(self.collector.has_group("account.group_account_invoice"))
        self.assertTrue(
            self.env.ref("base.user_admin").has_group(
                "ar_credit_control.group_credit_control_manager"
            )
        )

    def test_settings_are_per_company_and_validated(self):
        settings = self.env["res.config.settings"].create({"ar_scoring_window_months": 6})
        settings.execute()
        self.assertEqual(self.company.ar_scoring_window_months, 6)
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"ar_scoring_window_months": 0}).execute()
        other = self.setup_other_company(name="Other Co")["company"]
        self.assertEqual(other.ar_scoring_window_months, 12, "default for a new company")


@tagged("post_install", "-at_install")
class TestFoundationHttp(HttpCase):
    """The real entry points: the menu a user is served, settings saved over JSON-RPC."""

    def setUp(self):
        super().setUp()
        self.manager = new_test_user(
            self.env,
            login="cc_manager_http",
            password="cc_manager_http",
            groups="base.group_user,base.group_system,"
            "ar_credit_control.group_credit_control_manager",
        )
        self.seller = new_test_user(
            self.env,
            login="seller_http",
            password="seller_http",
            groups="base.group_user,sales_team.group_sale_salesman",
        )

    def _menu_names(self):
        menus = self.url_open("/web/webclient/load_menus/1").json()
        return {
            menu["name"] for menu in menus.values() if isinstance(menu, dict) and "name" in menu
        }

    def test_menu_visible_only_to_credit_control(self):
        self.authenticate("cc_manager_http", "cc_manager_http")
        self.assertIn("Credit Control", self._menu_names())
        self.authenticate("seller_http", "seller_http")
        self.assertNotIn("Credit Control", self._menu_names())

    def test_manager_saves_settings_over_json_rpc(self):
        self.authenticate("cc_manager_http", "cc_manager_http")
        settings_id = self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "res.config.settings",
                "method": "create",
                "args": [{"ar_scoring_window_months": 18}],
                "kwargs": {},
            },
        )
        self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "res.config.settings",
                "method": "execute",
                "args": [[settings_id]],
                "kwargs": {},
            },
        )
        self.assertEqual(self.manager.company_id.ar_scoring_window_months, 18)
