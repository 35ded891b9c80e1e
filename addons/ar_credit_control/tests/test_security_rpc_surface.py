"""Every public method of every model of the three addons, called over JSON-RPC (``call_kw``, as
the web client does) by a plain internal user and by a portal customer, of the records' company
and of another company, on a real record.

Every method must be refused (an access error), unless ``HARMLESS`` lists it with the reason it
may succeed. A new public method is attacked like the others the moment it exists: whoever adds
one makes it refuse these users, or lists it here with a reason.
"""

import inspect
import logging

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .security_common import SecurityCommon

_logger = logging.getLogger(__name__)

OUR_ADDONS = {"ar_credit_control", "ar_credit_control_stock", "ar_credit_control_crm_sync"}
# Overrides of the ORM's generic API: governed by access rights, record rules and field groups,
# and attacked field by field in test_security_sales (read, search, export, onchange...).
ORM_METHODS = {
    "create", "write", "unlink", "copy", "read", "default_get", "name_create", "onchange",
    "export_data", "search", "search_read", "search_fetch", "read_group", "web_read",
    "web_search_read", "web_read_group", "fields_get",
}  # fmt: skip

# Window actions that only open a list or form: what they open is read with the caller's rights.
OPENS_A_VIEW = "returns a window action; the records it opens are read with the caller's rights"
HARMLESS = {
    "res.partner.action_open_credit_warnings": OPENS_A_VIEW,
    "res.partner.action_ar_statement_run": OPENS_A_VIEW,
    "res.partner.action_open_ar_aging": OPENS_A_VIEW,
    "ar.crm.backend.action_view_runs": OPENS_A_VIEW,
    "ar.crm.backend.action_view_dead_letters": OPENS_A_VIEW,
}


def public_methods(registry):
    """(model, method name, api kind) of every public method our addons define or override."""
    for model_name, model_class in sorted(registry.items()):
        seen = set()
        for klass in model_class.__mro__:
            if getattr(klass, "_module", None) not in OUR_ADDONS:
                continue
            for name, func in vars(klass).items():
                if name.startswith("_") or name == "init" or name in ORM_METHODS:
                    continue
                if name in seen or not inspect.isfunction(func):
                    continue
                seen.add(name)
                yield model_name, name, getattr(getattr(model_class, name), "_api", None)


@tagged("post_install", "-at_install")
class TestRpcSurface(SecurityCommon):
    """As a plain internal user and as a portal customer: every public method is refused, or is
    listed in HARMLESS with the reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls.create_invoice(
            cls.customer,
            1000,
            fields.Date.subtract(fields.Date.today(), months=2),
            payment_term=cls.env.ref("account.account_payment_term_immediate"),
        )
        # On the collectors' worklist: a profile in dunning with the invoice overdue.
        cls.env["ar.credit.profile"]._get_or_create(cls.customer, cls.company_a).dunning_level = 1
        cls.env.flush_all()  # the SQL views read the tables
        cls.records = {}
        for model, _name, api in public_methods(cls.registry):
            if not api and model not in cls.records:
                cls.records[model] = cls._sample_record(model)

    @classmethod
    def _sample_record(cls, model):
        """A record of ``model`` to call methods on: an existing one, or one made with the
        model's required fields filled from existing data."""
        Model = cls.env[model].sudo().with_company(cls.company_a)
        if Model._abstract:
            return Model
        if Model._auto:
            found = Model.search([], limit=1, order="id desc")
            if found:
                return found
        else:  # SQL views: any row
            return Model.search([], limit=1)
        values = cls._sample_values().get(model, {})
        for name, field in Model._fields.items():
            if name in values or not field.required or field.default or field.related:
                continue
            if field.compute and field.store is False:
                continue
            if field.type == "many2one":
                comodel = cls.env[field.comodel_name].sudo()
                preferred = {"res.partner": cls.customer, "res.company": cls.company_a}
                domain = []
                if "company_id" in comodel._fields:
                    domain = [("company_id", "in", [False, cls.company_a.id])]
                values[name] = (
                    preferred.get(field.comodel_name)
                    or comodel.search(domain, limit=1)
                    or comodel.search([], limit=1)
                    or cls._sample_record(field.comodel_name)
                ).id
            elif field.type == "many2many":
                values[name] = [(6, 0, cls._sample_record(field.comodel_name).ids)]
            elif field.type == "selection":
                values[name] = field.get_values(cls.env)[0]
            elif field.type == "json":
                values[name] = {"sample": True}
            elif field.type in ("char", "text", "html"):
                values[name] = "x"
            elif field.type == "date":
                values[name] = fields.Date.today()
            elif field.type in ("float", "monetary", "integer"):
                values[name] = 1
        return Model.create(values)

    @classmethod
    def _sample_values(cls):
        """Values the generic filling cannot guess."""
        values = {
            "account.move.reversal": {
                "move_ids": [(6, 0, cls.invoice.ids)],
                "journal_id": cls.invoice.journal_id.id,
            },
        }
        if "stock.picking" in cls.env:
            warehouse = (
                cls.env["stock.warehouse"]
                .sudo()
                .search([("company_id", "=", cls.company_a.id)], limit=1)
            )
            values["stock.picking"] = {"picking_type_id": warehouse.out_type_id.id}
        return values

    def test_harmless_list_is_current(self):
        found = {f"{model}.{name}" for model, name, _api in public_methods(self.registry)}
        self.assertFalse(set(HARMLESS) - found, "HARMLESS lists methods that no longer exist")

    @mute_logger("odoo.http")
    def _attack_every_method(self, user):
        allowed = []
        for model, name, api in public_methods(self.registry):
            key = f"{model}.{name}"
            args = [] if api else [self.records[model].ids]
            reply = self.call_kw(user, model, name, args)
            refused = "error" in reply and reply["error"]["data"]["name"] in (
                "odoo.exceptions.AccessError",
                "odoo.exceptions.UserError",
            )
            _logger.info(
                "RPC surface %s as %s: %s", key, user.login, "refused" if refused else reply
            )
            if not refused and key not in HARMLESS:
                allowed.append(f"{key} {reply}")
        self.assertFalse(allowed, "callable by %s:\n%s" % (user.login, "\n".join(allowed)))

    def test_plain_internal_user(self):
        self._attack_every_method(self.roles["internal"])

    def test_portal_customer(self):
        self._attack_every_method(self.roles["portal"])

    def test_plain_internal_user_of_the_other_company(self):
        self._attack_every_method(self.roles_b["internal"])

    def test_portal_customer_of_the_other_company(self):
        self._attack_every_method(self.roles_b["portal"])

    def test_collector_cannot_evaluate_warning_rules(self):
        rule = self.env["ar.warning.rule"].search([("company_id", "=", self.company_a.id)], limit=1)
        reply = self.call_kw(
            self.roles["collector"], "ar.warning.rule", "action_evaluate", [rule.ids]
        )
        self.assertRefused(reply)
