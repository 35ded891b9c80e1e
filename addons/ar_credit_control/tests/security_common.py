"""The adversarial suite's set-up: one user per role in each of two companies, and the real
entry points an attacker has (JSON-RPC ``call_kw`` with a web session, ``execute_kw`` with a
password, portal routes with and without CSRF token, report URLs).

Role users (each in company A, ``cls.roles``; and in company B, ``cls.roles_b``):
- ``portal``: a customer's portal login (the customer is ``cls.customer`` / ``cls.customer_b``);
- ``salesperson``: Sales / own documents only, nothing of accounting;
- ``internal``: an internal user with no application rights;
- ``collector``: Credit control: user;
- ``manager``: Credit control: manager.
Anonymous requests are made without logging in. The CRM integration user belongs to the CRM
sync addon and is tested there.

Each test class of the suite attacks as one role; ``as_role`` logs that user in (a real web
session, CSRF token included) so ``call_kw`` and portal routes run exactly as from a browser.
"""

import json

from odoo import Command
from odoo.tests import HttpCase, new_test_user

from .common import CreditControlCommon, JsonRpcMixin

ROLE_GROUPS = {
    "portal": "base.group_portal",
    "salesperson": "base.group_user,sales_team.group_sale_salesman",
    "internal": "base.group_user",
    "collector": "base.group_user,ar_credit_control.group_credit_control_user",
    "manager": "base.group_user,ar_credit_control.group_credit_control_manager",
}
# Odoo's own access errors as they come back over JSON-RPC.
REFUSED = (
    "odoo.exceptions.AccessError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.MissingError",
)


class SecurityCommon(JsonRpcMixin, CreditControlCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company
        cls.company_b = cls.setup_other_company(name="Security Company B")["company"]
        cls.customer = cls.create_customer("Attack Customer A", email="a@customer.example")
        cls.customer_b = cls.env["res.partner"].create(
            {
                "name": "Attack Customer B",
                "is_company": True,
                "email": "b@customer.example",
                "company_id": cls.company_b.id,
            }
        )
        cls.roles = cls._role_users(cls.company_a, cls.customer, "a")
        cls.roles_b = cls._role_users(cls.company_b, cls.customer_b, "b")

    @classmethod
    def _role_users(cls, company, customer, suffix):
        users = {}
        for role, groups in ROLE_GROUPS.items():
            login = f"sec_{role}_{suffix}"
            values = {
                "login": login,
                "password": login,
                "name": f"{role.title()} {suffix.upper()}",
                "groups": groups,
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
            }
            if role == "portal":
                # The portal login is a contact of the customer, as Odoo's portal wizard makes it.
                contact = cls.env["res.partner"].create(
                    {"name": f"Portal {suffix.upper()}", "parent_id": customer.id,
                     "email": f"portal_{suffix}@customer.example", "company_id": company.id}
                )  # fmt: skip
                values["partner_id"] = contact.id
            users[role] = new_test_user(cls.env, **values)
        return users

    @classmethod
    def grant(cls, role, group_xmlid):
        """Give the role's users of both companies one more group (e.g. contact editing, which
        Odoo gives every employee by default)."""
        group = cls.env.ref(group_xmlid)
        for roles in (cls.roles, cls.roles_b):
            roles[role].groups_id |= group

    # ------------------------------------------------------------------ entry points

    def as_role(self, user):
        """Log ``user`` in through /web/login (None: log out, anonymous)."""
        if user is None:
            self.authenticate(None, None)  # a fresh anonymous session, even before any login
        else:
            self.authenticate(user.login, user.login)

    def call_kw(self, user, model, method, args=(), kwargs=None):
        """``/web/dataset/call_kw`` as the browser makes it; returns the JSON-RPC reply."""
        self.as_role(user)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": kwargs or {},
            },
        }
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def assertRefused(self, reply, msg=None):
        """The JSON-RPC reply is an error of Odoo's access kind (never a crash, never a result)."""
        self.assertIn("error", reply, msg or f"not refused: {reply}")
        self.assertIn(reply["error"]["data"]["name"], REFUSED, msg or reply)

    def assertAllowed(self, reply, msg=None):
        self.assertNotIn("error", reply, msg or reply)
        return reply["result"]
