"""The Odoo connector over JSON-RPC (against the fake server) and over a duck-typed env."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from crm_sync.connector import ErpPosition
from crm_sync.errors import AuthError, ValidationError
from crm_sync.odoo_connector import OdooConnector
from crm_sync.odoo_env import OdooEnvGateway
from crm_sync.odoo_rpc import OdooJsonRpcGateway
from crm_sync.records import ContactData, DraftPayment
from crm_sync.testing import FakeOdoo
from crm_sync.testing.odoo_fake import OdooFault


def rpc(odoo: FakeOdoo, api_key: str | None = None) -> OdooConnector:
    gateway = OdooJsonRpcGateway(
        odoo.url, odoo.database, odoo.login, SecretStr(api_key or odoo.api_key), timeout=5
    )
    return OdooConnector(gateway)


class _FakeRecords:
    """Just enough of an Odoo recordset for OdooEnvGateway, backed by FakeOdoo's data."""

    def __init__(self, odoo: FakeOdoo, model: str, context: dict[str, Any], ids=()):
        self._odoo, self._model, self._context, self.ids = odoo, model, context, list(ids)
        self._fields = odoo.fields[model]

    def with_context(self, **context: Any) -> _FakeRecords:
        return _FakeRecords(self._odoo, self._model, {**self._context, **context}, self.ids)

    def _run(self, call: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        self._odoo.calls[f"{self._model}.{call}"] += 1
        try:
            return self._odoo._execute(
                self._model, call, args, {**kwargs, "context": self._context}
            )
        except OdooFault as fault:
            raise type(fault.name.rsplit(".", 1)[-1], (Exception,), {})(fault.message) from None

    def search_read(self, domain, fields, order=None, limit=None):
        return self._run(
            "search_read", [domain], {"fields": fields, "order": order, "limit": limit}
        )

    def search(self, domain, limit=None):
        return _FakeRecords(
            self._odoo, self._model, self._context, self._run("search", [domain], {"limit": limit})
        )

    def create(self, values):
        return _FakeRecords(
            self._odoo, self._model, self._context, [self._run("create", [values], {})]
        )

    @property
    def id(self) -> int:
        return self.ids[0]

    def browse(self, ids):
        return _FakeRecords(self._odoo, self._model, self._context, ids)

    def write(self, values):
        return self._run("write", [self.ids, values], {})

    def read_group(self, domain, fields, groupby, lazy=True):
        return self._run("read_group", [domain, fields, groupby], {"lazy": lazy})


class FakeEnv:
    def __init__(self, odoo: FakeOdoo) -> None:
        self.odoo = odoo

    def __getitem__(self, model: str) -> _FakeRecords:
        return _FakeRecords(self.odoo, model, {})


@pytest.fixture(params=["jsonrpc", "env"])
def connector(request, fake_odoo: FakeOdoo) -> OdooConnector:
    if request.param == "jsonrpc":
        return rpc(fake_odoo)
    return OdooConnector(OdooEnvGateway(FakeEnv(fake_odoo)))


def test_wrong_api_key_is_an_auth_error(fake_odoo: FakeOdoo) -> None:
    with pytest.raises(AuthError):
        rpc(fake_odoo, api_key="wrong").check()


def test_customers_in_keyset_order_with_credit_and_summaries(
    connector: OdooConnector, fake_odoo: FakeOdoo
) -> None:
    user = fake_odoo.create("res.users", {"name": "Rep", "login": "rep", "email": "rep@x.com"})
    country = fake_odoo.create("res.country", {"name": "Belgium", "code": "BE"})
    ids = [
        fake_odoo.create(
            "res.partner",
            {
                "name": f"P{i}",
                "is_company": True,
                "user_id": user,
                "country_id": country,
                "credit_limit": 100.0 * i,
            },
        )
        for i in range(7)
    ]
    fake_odoo.create("res.partner", {"name": "A contact", "is_company": False})
    fake_odoo.write("res.partner", [ids[1]], {"active": False})
    fake_odoo.create(
        "account.move",
        {
            "partner_id": ids[0],
            "move_type": "out_invoice",
            "state": "posted",
            "payment_state": "partial",
            "amount_residual": 120.5,
        },
    )
    fake_odoo.create(
        "account.payment",
        {
            "partner_id": ids[0],
            "amount": 80.0,
            "payment_type": "inbound",
            "state": "paid",
            "date": dt.date.today().isoformat(),
        },
    )
    pages = list(connector.iter_customers(None, page_size=3))
    assert [len(page) for page in pages] == [3, 3, 1]  # all share one write_date second
    seen = [c.erp_id for page in pages for c in page]
    assert sorted(seen) == ids  # archived included, non-companies excluded
    first = next(c for page in pages for c in page if c.erp_id == ids[0])
    assert first.contact.salesperson == "rep@x.com"
    assert first.contact.country == "Belgium"
    assert first.credit.open_invoice_count == 1
    assert first.credit.open_invoice_amount == Decimal("120.5")
    assert first.credit.paid_last_365_days == Decimal("80.0")
    assert not next(c for page in pages for c in page if c.erp_id == ids[1]).active
    last = pages[-1][-1]
    after = ErpPosition(last.write_date, last.erp_id)
    assert list(connector.iter_customers(after, page_size=3)) == []


def test_matching_rules_and_change_only_updates(
    connector: OdooConnector, fake_odoo: FakeOdoo
) -> None:
    a = fake_odoo.create("res.partner", {"name": "Acme", "is_company": True, "vat": "BE1"})
    fake_odoo.create("res.partner", {"name": "Twin", "is_company": True, "email": "t@x.com"})
    fake_odoo.create("res.partner", {"name": "Twin 2", "is_company": True, "email": "t@x.com"})
    rules = ["vat", "email", "name"]
    assert connector.find_customer("c1", a, ContactData(name="zzz"), rules) == a
    assert connector.find_customer("c1", None, ContactData(vat="BE1"), rules) == a
    assert connector.find_customer("c1", None, ContactData(name="ACME"), rules) == a
    assert connector.find_customer("c1", None, ContactData(email="t@x.com"), rules) is None
    fake_odoo.calls.clear()
    same = ContactData(name="Acme", vat="BE1")
    assert connector.update_customers([(a, same)]) == 0
    assert connector.update_customers([(a, ContactData(name="Acme SA", vat="BE1"))]) == 1
    assert fake_odoo.data["res.partner"][a]["name"] == "Acme SA"
    assert fake_odoo.calls["res.partner.write"] == 1


def test_draft_payment_and_record_errors(connector: OdooConnector, fake_odoo: FakeOdoo) -> None:
    partner = fake_odoo.create("res.partner", {"name": "Payer", "is_company": True})
    draft = DraftPayment(
        partner_id=partner,
        amount=Decimal("99.90"),
        date=dt.date(2024, 6, 1),
        memo="wire",
        external_ref="zoho:42",
    )
    payment_id = connector.create_draft_payment(draft)
    assert connector.find_draft_payment("zoho:42") == payment_id
    assert fake_odoo.data["account.payment"][payment_id]["state"] == "draft"
    with pytest.raises(ValidationError):
        connector.create_customer(ContactData(email="x@y.z"), "crm-1")  # no name


def test_outbound_records_are_strict() -> None:
    with pytest.raises(Exception, match="greater than 0"):
        DraftPayment(partner_id=1, amount=Decimal("-1"), date=dt.date.today(), external_ref="x")
    with pytest.raises(Exception, match="Extra inputs"):
        DraftPayment(
            partner_id=1,
            amount=Decimal("1"),
            date=dt.date.today(),
            external_ref="x",
            state="posted",
        )
