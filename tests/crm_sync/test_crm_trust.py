"""What the sync trusts: Odoo ids coming from the CRM, the company it works for, and the
server URLs credentials are sent to."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import config_for, env_for
from test_crm_cli import run_cli, write_config
from test_crm_odoo import FakeEnv, rpc

from crm_sync.config import is_secure_url, parse_config
from crm_sync.errors import EXIT_CONFIG, ConfigError, ValidationError
from crm_sync.odoo_connector import OdooConnector
from crm_sync.odoo_env import OdooEnvGateway
from crm_sync.records import ContactData
from crm_sync.testing import FakeOdoo, ZohoEmulator

COMPANY_A, COMPANY_B = 1, 2


@pytest.fixture(params=["jsonrpc", "env"])
def connector(request, fake_odoo: FakeOdoo) -> OdooConnector:
    gateway = (
        rpc(fake_odoo).gateway if request.param == "jsonrpc" else OdooEnvGateway(FakeEnv(fake_odoo))
    )
    return OdooConnector(gateway, company_id=COMPANY_A)


# -- Odoo ids from the CRM ----------------------------------------------------------------


def test_crm_ids_only_name_customers_the_sync_owns(
    connector: OdooConnector, fake_odoo: FakeOdoo
) -> None:
    def partner(name: str, **values) -> int:
        return fake_odoo.create("res.partner", {"name": name, "is_company": True, **values})

    owned = partner("Owned")
    shared = partner("Shared", company_id=False)
    own_company = partner("Own company", company_id=COMPANY_A)
    user_partner = partner("Admin", user_ids=[2], email="admin@example.com")
    other_company = partner("Other company", company_id=COMPANY_B)
    contact = fake_odoo.create("res.partner", {"name": "A person", "is_company": False})
    rules = ["vat", "email", "name"]
    for erp_id in (owned, shared, own_company):
        assert connector.find_customer("c1", erp_id, ContactData(name="x"), rules) == erp_id
    reasons = {
        user_partner: "partner of a user",
        other_company: "belongs to another company",
        contact: "outside the backend's customer filter",
        999_999: "does not exist",
    }
    for erp_id, reason in reasons.items():
        with pytest.raises(ValidationError, match=reason) as refused:
            connector.find_customer("c1", erp_id, ContactData(name="Owned"), rules)
        assert refused.value.code == "erp_id_refused"
        assert f"Odoo partner {erp_id} " in str(refused.value)
    # Duplicate rules never land on a user's partner either.
    assert (
        connector.find_customer("c1", None, ContactData(email="admin@example.com"), rules) is None
    )
    # Updates and archives by id refuse such partners before writing anything.
    fake_odoo.calls.clear()
    with pytest.raises(ValidationError, match="partner of a user"):
        connector.update_customers(
            [(owned, ContactData(name="Owned 2")), (user_partner, ContactData(email="x@evil.io"))]
        )
    assert fake_odoo.calls["res.partner.write"] == 0
    assert fake_odoo.data["res.partner"][user_partner]["email"] == "admin@example.com"
    with pytest.raises(ValidationError, match="another company"):
        connector.archive_customer(other_company)
    assert fake_odoo.data["res.partner"][other_company]["active"] is True
    connector.archive_customer(owned)
    assert fake_odoo.data["res.partner"][owned]["active"] is False


def test_push_reads_only_the_company(connector: OdooConnector, fake_odoo: FakeOdoo) -> None:
    shared = fake_odoo.create("res.partner", {"name": "Shared", "is_company": True})
    fake_odoo.create("res.partner", {"name": "B", "is_company": True, "company_id": COMPANY_B})
    for company, residual, paid in ((COMPANY_A, 300.0, 50.0), (COMPANY_B, 700.0, 100.0)):
        fake_odoo.create(
            "account.move",
            {"partner_id": shared, "move_type": "out_invoice", "state": "posted",
             "payment_state": "not_paid", "amount_residual": residual, "company_id": company},
        )  # fmt: skip
        fake_odoo.create(
            "account.payment",
            {"partner_id": shared, "amount": paid, "payment_type": "inbound", "state": "paid",
             "date": dt.date.today().isoformat(), "company_id": company},
        )  # fmt: skip
    fake_odoo.calls.clear()
    pages = list(connector.iter_customers(None, page_size=100))
    assert [c.erp_id for page in pages for c in page] == [shared]
    credit = pages[0][0].credit
    assert (credit.open_invoice_count, float(credit.open_invoice_amount)) == (1, 300.0)
    assert float(credit.paid_last_365_days) == 50.0
    # Still one grouped read per figure and page.
    assert fake_odoo.calls["account.move.read_group"] == 1
    assert fake_odoo.calls["account.payment.read_group"] == 1


# -- server URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secure"),
    [
        ("https://accounts.zoho.eu", True),
        ("https://10.0.0.5:8443/accounts", True),
        ("http://127.0.0.1:8080/accounts/eu", True),
        ("http://127.9.9.9", True),
        ("http://localhost:8069", True),
        ("http://[::1]:9000", True),
        ("http://accounts.zoho.eu", False),
        ("http://10.0.0.5", False),
        ("http://127.0.0.1.evil.example", False),
        ("http://localhost.evil.example", False),
        ("ftp://accounts.zoho.eu", False),
        ("accounts.zoho.eu", False),
        ("https://", False),
        ("http://[::1", False),
        # Read as 127.0.0.1 by urlsplit, sent to evil.example by HTTP clients.
        ("http://evil.example\\@127.0.0.1/oauth", False),
        ("http://evil.example@127.0.0.1", False),
        ("https://user:secret@accounts.zoho.eu", False),
        ("http://127.0.0.1:abc", False),
        ("http://127.0.0.1\t.evil.example", False),
        (" https://accounts.zoho.eu", False),
    ],
)
def test_is_secure_url(url: str, secure: bool) -> None:
    assert is_secure_url(url) is secure


def test_configuration_refuses_clear_text_servers() -> None:
    odoo = {"url": "https://odoo.example.com", "database": "db", "login": "sync"}
    crms = [
        {"kind": "zoho", "client_id": "1000.X", "accounts_url": "http://accounts.example.com"},
        {"kind": "soap", "username": "u", "login_url": "http://crm.example.com/soap"},
        {"kind": "fxiaoke", "app_id": "a", "current_open_user_id": "u",
         "base_url": "http://open.example.com"},
    ]  # fmt: skip
    for crm in crms:
        with pytest.raises(ConfigError, match="https://"):
            parse_config({"crm": crm, "odoo": odoo})
    loopback = {**crms[0], "accounts_url": "http://127.0.0.1:9/accounts/eu"}
    assert parse_config({"crm": loopback, "odoo": odoo}).crm.accounts_url


def test_cli_sends_no_secret_to_a_clear_text_server(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, tmp_path: Path, monkeypatch, capsys
) -> None:
    config = config_for(zoho_emulator, fake_odoo, tmp_path / "state.sqlite3")
    path = write_config(tmp_path / "crm-sync.toml", config)
    path.write_text(
        path.read_text().replace(zoho_emulator.accounts_url(), "http://accounts.example.com")
    )
    for key, value in env_for(zoho_emulator, fake_odoo).items():
        monkeypatch.setenv(key, value)
    assert run_cli("--config", str(path), "check") == EXIT_CONFIG
    assert "https://" in capsys.readouterr().err
    assert zoho_emulator.token_requests == 0
