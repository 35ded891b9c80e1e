"""Attacks on the sales side of credit control, each role through the real entry points.

Hole 2: a credit approval binds to the order's customer (commercial partner), the invoice
address's commercial partner, the company, the currency and the amount; changing any of them
voids it (with a chatter line saying why) and the confirmation re-checks it. A credit manager
cannot approve their own order unless the company allows it.

Hole 5: the credit fields of customers and orders are readable only by credit control and
accounting users; salespeople keep what the order form shows them (grade, hold, available
credit, why blocked); internal users and portal customers get none, whatever the way in (read,
search_read, read_group, export, a search domain, onchange).
"""

import re

from odoo import Command
from odoo.tests import new_test_user, tagged

from .security_common import SecurityCommon

# What a salesperson sees on a customer and on an order.
PARTNER_SALES_FIELDS = ["credit_grade", "credit_hold", "credit_available"]
PARTNER_CREDIT_FIELDS = PARTNER_SALES_FIELDS + [
    "credit_profile_id",
    "credit_score",
    "credit_reasons",
    "credit_segment",
    "credit_last_evaluation",
    "credit_open_receivable",
    "credit_draft_invoiced",
    "credit_uninvoiced_orders",
    "credit_exposure",
    "credit_utilisation",
    "amount_overdue",
    "oldest_overdue_days",
    "ar_aging_summary",
]
ORDER_SALES_FIELDS = [
    "credit_hold",
    "credit_hold_reason",
    "credit_approval_state",
    "credit_approved_amount",
    "credit_approved_by_id",
    "credit_approved_date",
    "credit_approval_valid",
    "credit_check_grade",
    "credit_check_available",
    "credit_check_warning",
]  # Odoo's own partner_credit_warning stays as Odoo defines it
ORDER_CREDIT_FIELDS = ORDER_SALES_FIELDS + [
    "credit_approval_reason",
    "credit_check_limit",
    "credit_check_overdue",
    "credit_check_excess",
]
VOIDED = "no longer applies"


class SalesSecurityCommon(SecurityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service = cls.env["product.product"].create(
            {
                "name": "Security consulting day",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
                "invoice_policy": "order",
            }
        )
        cls.seller = cls.roles["salesperson"]
        cls.manager = cls.roles["manager"]
        cls.customer.with_company(cls.company_a).credit_limit = 1000
        # "B": on credit hold and far over its tiny limit.
        cls.risky = cls.env["res.partner"].create({"name": "Risky Customer B", "is_company": True})
        cls.risky_contact = cls.env["res.partner"].create(
            {"name": "Risky Billing", "parent_id": cls.risky.id, "type": "invoice"}
        )
        cls.risky.with_company(cls.company_a).credit_limit = 10
        cls.env["ar.credit.profile"]._get_or_create(cls.risky, cls.company_a).credit_hold = True
        # Exports need Odoo's export right: give it so only the field rights stand in the way.
        export = cls.env.ref("base.group_allow_export")
        for role in ("internal", "salesperson", "collector", "manager"):
            cls.roles[role].groups_id |= export
            cls.roles_b[role].groups_id |= export

    @classmethod
    def create_order(cls, partner, amount, user, company=None):
        company = company or cls.company_a
        return (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "user_id": user.id,
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

    def approve(self, order, user=None, **context):
        """A credit manager's approval through the wizard, over JSON-RPC."""
        user = user or self.manager
        kwargs = {"context": context} if context else {}
        reply = self.call_kw(
            user,
            "ar.credit.approval.wizard",
            "create",
            [{"order_ids": [[6, 0, order.ids]], "decision": "approve", "reason": "Guarantee"}],
            kwargs,
        )
        if "error" in reply:
            return reply
        return self.call_kw(
            user, "ar.credit.approval.wizard", "action_apply", [[reply["result"]]], kwargs
        )

    def approved_order(self, seller=None, **context):
        """A quotation over the customer's limit, held, then approved by a credit manager."""
        seller = seller or self.seller
        order = self.create_order(self.customer, 1500, seller)
        kwargs = {"context": context} if context else {}
        self.assertRefused(
            self.call_kw(seller, "sale.order", "action_confirm", [order.ids], kwargs)
        )
        self.assertAllowed(
            self.call_kw(
                seller, "sale.order", "action_request_credit_approval", [order.ids], kwargs
            )
        )
        self.assertAllowed(self.approve(order))
        order.invalidate_recordset()
        self.assertEqual(order.credit_approval_state, "approved")
        return order

    def assertVoided(self, order, *what):
        order = order.sudo()
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.credit_approval_state)
        self.assertFalse(order.credit_approved_by_id)
        self.assertFalse(order.credit_approval_valid)
        notes = order.message_ids.filtered(lambda m: VOIDED in (m.body or ""))
        self.assertTrue(notes, "no chatter line says why the approval was voided")
        for item in what:
            self.assertIn(item, notes[0].body)

    # ------------------------------------------------------------------ field attacks

    def assertFieldRefused(self, user, model, ids, fname, **context):
        """No way in reveals ``fname`` of these records (or which of them match it)."""
        kwargs = {"context": context} if context else {}
        domain = [("id", "in", ids)]
        label = f"{model}.{fname} as {user.login}"
        self.assertRefused(self.call_kw(user, model, "read", [ids, [fname]], kwargs), label)
        reply = self.call_kw(user, model, "search_read", [domain, [fname]], kwargs)
        if "error" not in reply:  # the records themselves are out of reach
            self.assertFalse(reply["result"], label)
        self.assertRefused(self.call_kw(user, model, "export_data", [ids, [fname]], kwargs), label)
        self.assertRefused(
            self.call_kw(user, model, "onchange", [ids, {"id": ids[0]}, [], {fname: {}}], kwargs),
            label,
        )
        # A search or a grouping on the field is refused, else it would be an oracle of its
        # value (Odoo searches stored fields and those with a search method only, and groups
        # by stored fields only).
        field = self.env[model]._fields[fname]
        if field.store or field.search:
            for op in ("=", "!="):
                reply = self.call_kw(user, model, "search", [[(fname, op, False), *domain]], kwargs)
                if "error" not in reply:  # the records themselves are out of reach
                    self.assertFalse(reply["result"], f"search on {label}")
        if field.store:
            reply = self.call_kw(
                user, model, "read_group", [domain, [fname], [fname]], {"lazy": False, **kwargs}
            )
            if "error" not in reply:
                self.assertFalse(any(fname in group for group in reply["result"]), label)

    def assertFieldReadable(self, user, model, ids, fname):
        label = f"{model}.{fname} as {user.login}"
        rows = self.assertAllowed(self.call_kw(user, model, "read", [ids, [fname]]), label)
        self.assertIn(fname, rows[0], label)
        self.assertAllowed(
            self.call_kw(user, model, "search_read", [[("id", "in", ids)], [fname]]), label
        )
        self.assertAllowed(self.call_kw(user, model, "export_data", [ids, [fname]]), label)

    def assertViewsWork(self, user, model, view_types, allowed, denied):
        """The views load; no credit field the user cannot read is in them or in a modifier."""
        reply = self.call_kw(
            user, model, "get_views", [], {"views": [[False, t] for t in view_types]}
        )
        result = self.assertAllowed(reply)
        available = set(result["models"][model]["fields"])
        for view_type in view_types:
            arch = result["views"][view_type]["arch"]
            used = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", arch))
            for fname in denied:
                self.assertNotIn(fname, available, f"{fname} in the {view_type} view")
                self.assertNotIn(fname, used, f"{fname} used in the {view_type} view")
            for fname in allowed & used:
                self.assertIn(fname, available, f"{fname} used but missing in {view_type}")
        return result


@tagged("post_install", "-at_install")
class TestSalesAttacksAsSalesperson(SalesSecurityCommon):
    """Hole 2: approve for customer A, then change what the approval was given for."""

    def test_move_approved_order_to_other_customer(self):
        order = self.approved_order()
        self.assertAllowed(
            self.call_kw(
                self.seller, "sale.order", "write", [order.ids, {"partner_id": self.risky.id}]
            )
        )
        reply = self.call_kw(self.seller, "sale.order", "action_confirm", [order.ids])
        self.assertRefused(reply)
        self.assertIn("credit hold", reply["error"]["data"]["message"])
        self.assertVoided(order, "customer")

    def test_change_invoice_address_to_other_company_contact(self):
        order = self.approved_order()
        self.assertAllowed(
            self.call_kw(
                self.seller,
                "sale.order",
                "write",
                [order.ids, {"partner_invoice_id": self.risky_contact.id}],
            )
        )
        self.assertRefused(self.call_kw(self.seller, "sale.order", "action_confirm", [order.ids]))
        self.assertVoided(order, "invoice address")

    def test_change_company(self):
        seller_ab = new_test_user(
            self.env,
            login="sec_seller_ab",
            password="sec_seller_ab",
            groups="base.group_user,sales_team.group_sale_salesman",
            company_id=self.company_a.id,
            company_ids=[Command.set((self.company_a | self.company_b).ids)],
        )
        both = {"allowed_company_ids": [self.company_a.id, self.company_b.id]}
        # In company B the customer is on credit hold.
        self.env["ar.credit.profile"]._get_or_create(
            self.customer, self.company_b
        ).credit_hold = True
        order = self.approved_order(seller=seller_ab, **both)
        # Any ORM path (an import, a server action, another addon): not only the form.
        order.sudo().write({"company_id": self.company_b.id})
        reply = self.call_kw(
            seller_ab, "sale.order", "action_confirm", [order.ids], {"context": both}
        )
        self.assertRefused(reply)
        self.assertVoided(order, "company")

    def test_change_currency(self):
        currency = self.setup_other_currency("EUR", rates=[("2000-01-01", 0.5)])
        pricelist = self.env["product.pricelist"].create(
            {"name": "EUR list", "currency_id": currency.id, "company_id": False}
        )
        order = self.approved_order()
        self.assertAllowed(
            self.call_kw(
                self.seller, "sale.order", "write", [order.ids, {"pricelist_id": pricelist.id}]
            )
        )
        self.assertEqual(order.currency_id, currency)
        self.assertRefused(self.call_kw(self.seller, "sale.order", "action_confirm", [order.ids]))
        self.assertVoided(order, "currency")

    def test_raise_amount(self):
        order = self.approved_order()
        line = {"product_id": self.service.id, "price_unit": 900, "tax_id": [[5, 0, 0]]}
        self.assertAllowed(
            self.call_kw(
                self.seller, "sale.order", "write", [order.ids, {"order_line": [[0, 0, line]]}]
            )
        )
        self.assertRefused(self.call_kw(self.seller, "sale.order", "action_confirm", [order.ids]))
        self.assertVoided(order, "amount")

    def test_raise_amount_through_the_line_is_caught_at_confirmation(self):
        order = self.approved_order()
        self.assertAllowed(
            self.call_kw(
                self.seller,
                "sale.order.line",
                "write",
                [order.order_line.ids, {"price_unit": 5000}],
            )
        )
        reply = self.call_kw(self.seller, "sale.order", "action_confirm", [order.ids])
        self.assertRefused(reply)
        self.assertIn(VOIDED, reply["error"]["data"]["message"])
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")

    def test_lower_amount_keeps_the_approval(self):
        order = self.approved_order()
        self.assertAllowed(
            self.call_kw(
                self.seller,
                "sale.order.line",
                "write",
                [order.order_line.ids, {"price_unit": 1200}],
            )
        )
        self.assertAllowed(self.call_kw(self.seller, "sale.order", "action_confirm", [order.ids]))
        order.invalidate_recordset()
        self.assertEqual(order.state, "sale")

    def test_cannot_approve(self):
        order = self.create_order(self.customer, 1500, self.seller)
        self.assertRefused(self.approve(order, self.seller))

    # ------------------------------------------------------------------ hole 5

    def test_order_credit_fields(self):
        order = self.create_order(self.customer, 1500, self.seller)
        for fname in ORDER_SALES_FIELDS:
            self.assertFieldReadable(self.seller, "sale.order", order.ids, fname)
        for fname in set(ORDER_CREDIT_FIELDS) - set(ORDER_SALES_FIELDS):
            self.assertFieldRefused(self.seller, "sale.order", order.ids, fname)

    def test_partner_credit_fields(self):
        for fname in PARTNER_SALES_FIELDS:
            self.assertFieldReadable(self.seller, "res.partner", self.customer.ids, fname)
        for fname in set(PARTNER_CREDIT_FIELDS) - set(PARTNER_SALES_FIELDS):
            self.assertFieldRefused(self.seller, "res.partner", self.customer.ids, fname)

    def test_credit_profiles_and_reviews(self):
        # The profile holds the score, the reasons, the limit and the exposure snapshot.
        profile = self.env["ar.credit.profile"]._get_or_create(self.customer, self.company_a)
        for model, ids in (("ar.credit.profile", profile.ids), ("ar.credit.review", [])):
            self.assertRefused(self.call_kw(self.seller, model, "search_read", [[], ["id"]]))
            if ids:
                self.assertRefused(self.call_kw(self.seller, model, "read", [ids, ["score"]]))

    def test_partner_credit_fields_in_company_b(self):
        seller_b = self.roles_b["salesperson"]
        for fname in set(PARTNER_CREDIT_FIELDS) - set(PARTNER_SALES_FIELDS):
            self.assertFieldRefused(seller_b, "res.partner", self.customer.ids, fname)

    def test_views(self):
        denied = set(ORDER_CREDIT_FIELDS) - set(ORDER_SALES_FIELDS)
        result = self.assertViewsWork(
            self.seller, "sale.order", ["form", "list", "search"], set(ORDER_SALES_FIELDS), denied
        )
        self.assertIn("credit_check_available", result["views"]["form"]["arch"])
        self.assertIn("credit_check_warning", result["views"]["form"]["arch"])
        denied = set(PARTNER_CREDIT_FIELDS) - set(PARTNER_SALES_FIELDS)
        result = self.assertViewsWork(
            self.seller, "res.partner", ["form", "search"], set(PARTNER_SALES_FIELDS), denied
        )
        self.assertIn("credit_available", result["views"]["form"]["arch"])


@tagged("post_install", "-at_install")
class TestSalesAttacksAsCreditManager(SalesSecurityCommon):
    def test_cannot_approve_own_order_unless_allowed(self):
        # A credit manager who is also the order's salesperson.
        self.manager.groups_id |= self.env.ref("sales_team.group_sale_salesman")
        order = self.create_order(self.customer, 1500, self.manager)
        self.assertAllowed(
            self.call_kw(self.manager, "sale.order", "action_request_credit_approval", [order.ids])
        )
        reply = self.approve(order, self.manager)
        self.assertRefused(reply)
        self.assertIn("your own order", reply["error"]["data"]["message"])
        order.invalidate_recordset()
        self.assertEqual(order.credit_approval_state, "requested")
        self.assertFalse(self.company_a.ar_credit_allow_self_approval)

        self.company_a.ar_credit_allow_self_approval = True
        self.assertAllowed(self.approve(order, self.manager))
        order.invalidate_recordset()
        self.assertEqual(order.credit_approval_state, "approved")

    def test_cannot_approve_own_order_by_clearing_the_salesperson_first(self):
        self.manager.groups_id |= self.env.ref("sales_team.group_sale_salesman")
        order = self.create_order(self.customer, 1500, self.manager)
        self.call_kw(self.manager, "sale.order", "action_request_credit_approval", [order.ids])
        self.assertAllowed(
            self.call_kw(self.manager, "sale.order", "write", [order.ids, {"user_id": False}])
        )
        self.assertAllowed(self.approve(order, self.manager))
        reply = self.call_kw(
            self.manager, "sale.order", "write", [order.ids, {"user_id": self.manager.id}]
        )
        self.assertAllowed(reply)
        self.assertVoided(order, "the salesperson (now the approver)")
        reply = self.call_kw(self.manager, "sale.order", "action_confirm", [order.ids])
        self.assertRefused(reply)

    def test_approval_binds_what_it_was_given_for(self):
        order = self.approved_order()
        self.assertEqual(order.credit_approved_partner_id, self.customer)
        self.assertEqual(order.credit_approved_invoice_partner_id, self.customer)
        self.assertEqual(order.credit_approved_company_id, self.company_a)
        self.assertEqual(order.credit_approved_currency_id, order.currency_id)
        # Nobody writes them by hand, a credit manager neither.
        reply = self.call_kw(
            self.manager,
            "sale.order",
            "write",
            [order.ids, {"credit_approved_partner_id": self.risky.id}],
        )
        self.assertRefused(reply)

    def test_settings_expose_self_approval(self):
        admin = self.env.ref("base.user_admin")
        settings = self.env["res.config.settings"].with_user(admin).create({})
        self.assertFalse(settings.ar_credit_allow_self_approval)
        self.assertIn(
            "ar_credit_allow_self_approval",
            self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"],
        )

    def test_reads_every_credit_field(self):
        order = self.create_order(self.customer, 1500, self.seller)
        for user in (self.manager, self.roles["collector"]):
            for fname in ORDER_CREDIT_FIELDS:
                self.assertFieldReadable(user, "sale.order", order.ids, fname)
            for fname in PARTNER_CREDIT_FIELDS:
                self.assertFieldReadable(user, "res.partner", self.customer.ids, fname)
        self.assertViewsWork(
            self.manager, "res.partner", ["form"], set(PARTNER_CREDIT_FIELDS), set()
        )
        self.assertViewsWork(
            self.manager, "sale.order", ["form", "list"], set(ORDER_CREDIT_FIELDS), set()
        )


@tagged("post_install", "-at_install")
class TestSalesAttacksAsInternalUser(SalesSecurityCommon):
    def test_partner_credit_fields(self):
        user = self.roles["internal"]
        for fname in PARTNER_CREDIT_FIELDS:
            self.assertFieldRefused(user, "res.partner", self.customer.ids, fname)

    def test_partner_credit_fields_in_company_b(self):
        user = self.roles_b["internal"]
        for fname in PARTNER_CREDIT_FIELDS:
            self.assertFieldRefused(user, "res.partner", self.customer.ids, fname)

    def test_order_credit_fields(self):
        order = self.create_order(self.customer, 1500, self.seller)
        for fname in ORDER_CREDIT_FIELDS:
            self.assertFieldRefused(self.roles["internal"], "sale.order", order.ids, fname)
            self.assertFieldRefused(self.roles_b["collector"], "sale.order", order.ids, fname)

    def test_partner_form(self):
        self.assertViewsWork(
            self.roles["internal"], "res.partner", ["form", "list", "search"], set(),
            set(PARTNER_CREDIT_FIELDS),
        )  # fmt: skip


@tagged("post_install", "-at_install")
class TestSalesAttacksAsPortal(SalesSecurityCommon):
    def setUp(self):
        super().setUp()
        self.portal = self.roles["portal"]
        self.order = self.create_order(self.customer, 1500, self.seller)
        self.order.message_subscribe(partner_ids=self.customer.ids)

    def test_own_partner_credit_fields(self):
        own = self.portal.partner_id
        self.assertAllowed(self.call_kw(self.portal, "res.partner", "read", [own.ids, ["name"]]))
        for fname in PARTNER_CREDIT_FIELDS:
            self.assertFieldRefused(self.portal, "res.partner", own.ids, fname)

    def test_own_quotation_credit_fields(self):
        self.assertAllowed(
            self.call_kw(self.portal, "sale.order", "read", [self.order.ids, ["name"]])
        )
        for fname in ORDER_CREDIT_FIELDS:
            self.assertFieldRefused(self.portal, "sale.order", self.order.ids, fname)

    def test_portal_page_still_shows_pending_review(self):
        self.env["ar.credit.profile"]._get_or_create(
            self.customer, self.company_a
        ).credit_hold = True
        self.order.action_quotation_sent()
        self.order.sudo()._validate_order()
        self.assertTrue(self.order.credit_hold)
        self.as_role(self.portal)
        response = self.url_open(f"/my/orders/{self.order.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your order is pending review.", response.text)
