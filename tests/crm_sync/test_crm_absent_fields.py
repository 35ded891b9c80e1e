"""Absent is not null: a field missing from a CRM answer never clears an Odoo value; an explicit
empty value clears it, and only for contact data (the CRM's); credit data (Odoo's) is never
written from the CRM. For every CRM connector, through the engine against its emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import sync_config
from pydantic import SecretStr

from crm_sync.config import Secrets
from crm_sync.engine import DL_PULL
from crm_sync.errors import ConfigError, CrmSyncError
from crm_sync.runtime import Runtime
from crm_sync.testing import FakeOdoo, ZohoEmulator
from crm_sync.testing.fxiaoke_emulator import FxiaokeEmulator
from crm_sync.testing.pytest_plugin import (
    fxiaoke_emulator,
    make_fxiaoke_emulator,
    make_soap_crm_server,
    soap_crm_server,
    zoho_emulator,
)
from crm_sync.testing.soap_server import SoapCrmServer

__all__ = [
    "fxiaoke_emulator",
    "make_fxiaoke_emulator",
    "make_soap_crm_server",
    "soap_crm_server",
    "zoho_emulator",
]

VAT = "BE0999999999"


def odoo_partner(odoo: FakeOdoo) -> int:
    return odoo.create(
        "res.partner",
        {
            "name": "Odoo NV",
            "is_company": True,
            "vat": VAT,
            "email": "billing@odoo-nv.example",
            "phone": "+32 1",
            "city": "Gent",
            "credit_limit": 5000.0,
            "credit_grade": "B",
        },
    )


Build = Callable[..., Runtime]


@pytest.fixture
def build(tmp_path: Path, runtime_builder) -> Callable[..., Build]:
    """``build(crm_section, secrets, odoo)(fields, **sync)`` → a runtime whose CRM maps
    ``fields``."""

    def bind(crm_section: dict[str, Any], secrets: Secrets, odoo: FakeOdoo) -> Build:
        def make(fields: dict[str, str], **sync: Any) -> Runtime:
            section = {**crm_section, "fields": fields}
            config = sync_config(section, odoo, tmp_path / "state.db", **sync)
            return runtime_builder(config, secrets)

        return make

    return bind


def zoho(crm: ZohoEmulator, odoo: FakeOdoo, build: Callable[..., Build]) -> Build:
    section = {"client_id": crm.client_id, "accounts_url": crm.accounts_url()}
    secrets = Secrets(
        zoho_client_secret=SecretStr(crm.client_secret),
        zoho_refresh_token=SecretStr(crm.refresh_token),
        odoo_api_key=SecretStr(odoo.api_key),
    )
    return build(section, secrets, odoo)


def fxiaoke(crm: FxiaokeEmulator, odoo: FakeOdoo, build: Callable[..., Build]) -> Build:
    section = {
        "kind": "fxiaoke",
        "base_url": crm.base_url,
        "app_id": crm.app_id,
        "current_open_user_id": crm.open_user_id,
        "timeout_seconds": 5,
    }
    secrets = Secrets(
        fxiaoke_app_secret=SecretStr(crm.app_secret),
        fxiaoke_permanent_code=SecretStr(crm.permanent_code),
        odoo_api_key=SecretStr(odoo.api_key),
    )
    return build(section, secrets, odoo)


def soap(crm: SoapCrmServer, odoo: FakeOdoo, build: Callable[..., Build]) -> Build:
    section = {
        "kind": "soap",
        "login_url": crm.login_url,
        "username": crm.username,
        "query_batch_size": 200,
        "timeout_seconds": 5,
    }
    secrets = Secrets(soap_password=SecretStr(crm.password), odoo_api_key=SecretStr(odoo.api_key))
    return build(section, secrets, odoo)


# -- a misspelt mapping: the field is absent from every answer -------------------------------
def test_zoho_misspelt_field_is_refused_and_leaves_odoo_value(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, build
) -> None:
    """The field metadata names what the module has: the run is refused before any read."""
    partner_id = odoo_partner(fake_odoo)
    zoho_emulator.add_record(
        "Accounts", {"Account_Name": "CRM NV", "VAT_Number": VAT, "Phone": "+32 2"}
    )
    with pytest.raises(ConfigError, match='"E_mail"'):
        zoho(zoho_emulator, fake_odoo, build)({"email": "E_mail"}).engine.run()
    partner = fake_odoo.data["res.partner"][partner_id]
    assert (partner["name"], partner["email"]) == ("Odoo NV", "billing@odoo-nv.example")


def test_fxiaoke_misspelt_field_is_refused_and_leaves_odoo_value(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, build
) -> None:
    """The object describe names what the object has: the run is refused before any read."""
    partner_id = odoo_partner(fake_odoo)
    fxiaoke_emulator.add_record(
        "AccountObj", {"name": "CRM 公司", "uniform_social_credit_code": VAT, "tel": "+32 2"}
    )
    with pytest.raises(ConfigError, match='"E_mail"'):
        fxiaoke(fxiaoke_emulator, fake_odoo, build)({"email": "E_mail"}).engine.run()
    partner = fake_odoo.data["res.partner"][partner_id]
    assert (partner["name"], partner["email"]) == ("Odoo NV", "billing@odoo-nv.example")


def test_fxiaoke_field_left_out_of_a_record_leaves_odoo_value(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, build
) -> None:
    """FXiaoKe leaves unset fields out of its answers: a record without ``email`` has none."""
    partner_id = odoo_partner(fake_odoo)
    fxiaoke_emulator.add_record(
        "AccountObj", {"name": "CRM 公司", "uniform_social_credit_code": VAT, "tel": "+32 2"}
    )
    fxiaoke(fxiaoke_emulator, fake_odoo, build)({}).engine.run()
    partner = fake_odoo.data["res.partner"][partner_id]
    assert partner["phone"] == "+32 2"
    assert partner["email"] == "billing@odoo-nv.example"


def test_soap_misspelt_field_is_refused_and_leaves_odoo_value(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, build
) -> None:
    """SOQL names each field: the CRM refuses the query (INVALID_FIELD) and nothing is written."""
    partner_id = odoo_partner(fake_odoo)
    soap_crm_server.add_record(
        "Account", {"Name": "CRM NV", "VAT_Number__c": VAT, "Phone": "+32 2"}
    )
    with pytest.raises(CrmSyncError):
        soap(soap_crm_server, fake_odoo, build)({"email": "E_mail"}).engine.run()
    partner = fake_odoo.data["res.partner"][partner_id]
    assert (partner["name"], partner["email"]) == ("Odoo NV", "billing@odoo-nv.example")


# -- an explicit empty value: clears what the CRM owns, never what Odoo owns -----------------
def assert_cleared_but_credit_kept(odoo: FakeOdoo, partner_id: int) -> None:
    partner = odoo.data["res.partner"][partner_id]
    assert partner["phone"] == "+32 2"
    assert partner["email"] is False  # explicitly empty in the CRM: cleared
    assert partner["city"] is False
    assert (partner["credit_limit"], partner["credit_grade"]) == (5000.0, "B")  # Odoo's


def test_zoho_explicit_empty_clears_crm_owned_field_only(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, build
) -> None:
    partner_id = odoo_partner(fake_odoo)
    zoho_emulator.add_record(
        "Accounts",
        {"Account_Name": "CRM NV", "VAT_Number": VAT, "Phone": "+32 2", "Email": None,
         "Billing_City": "", "Credit_Limit": None, "Credit_Grade": ""},
    )  # fmt: skip
    zoho(zoho_emulator, fake_odoo, build)({}).engine.run()
    assert_cleared_but_credit_kept(fake_odoo, partner_id)


def test_fxiaoke_explicit_empty_clears_crm_owned_field_only(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, build
) -> None:
    partner_id = odoo_partner(fake_odoo)
    fxiaoke_emulator.add_record(
        "AccountObj",
        {"name": "CRM 公司", "uniform_social_credit_code": VAT, "tel": "+32 2", "email": None,
         "address": "", "credit_limit__c": None, "credit_grade__c": ""},
    )  # fmt: skip
    fxiaoke(fxiaoke_emulator, fake_odoo, build)({"city": "address"}).engine.run()
    assert_cleared_but_credit_kept(fake_odoo, partner_id)


def test_soap_explicit_empty_clears_crm_owned_field_only(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, build
) -> None:
    partner_id = odoo_partner(fake_odoo)
    soap_crm_server.add_record(
        "Account",
        {"Name": "CRM NV", "VAT_Number__c": VAT, "Phone": "+32 2", "Email__c": None,
         "BillingCity": "", "Credit_Limit__c": None, "Credit_Grade__c": ""},
    )  # fmt: skip
    soap(soap_crm_server, fake_odoo, build)({}).engine.run()
    assert_cleared_but_credit_kept(fake_odoo, partner_id)


def test_fxiaoke_field_emptied_after_being_absent_clears_odoo_value(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, build
) -> None:
    """Absent, then explicitly emptied: a change, though both read as ``None``."""
    partner_id = odoo_partner(fake_odoo)
    account = fxiaoke_emulator.add_record(
        "AccountObj", {"name": "CRM 公司", "uniform_social_credit_code": VAT, "tel": "+32 2"}
    )
    runtime = fxiaoke(fxiaoke_emulator, fake_odoo, build)({})
    runtime.engine.run()
    assert fake_odoo.data["res.partner"][partner_id]["email"] == "billing@odoo-nv.example"
    fxiaoke_emulator.update_record("AccountObj", account, {"email": None})
    runtime.engine.run()
    assert fake_odoo.data["res.partner"][partner_id]["email"] is False


def test_fxiaoke_absent_field_stays_absent_through_a_dead_letter_replay(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, build
) -> None:
    partner_id = odoo_partner(fake_odoo)
    crm = fxiaoke_emulator
    first = crm.add_record("AccountObj", {"name": "CRM 一", "uniform_social_credit_code": VAT})
    runtime = fxiaoke(crm, fake_odoo, build)({}, deletions_from_crm="ignore", create_in_crm=False)
    runtime.engine.run()
    # A second account with the same VAT: a duplicate in the CRM, quarantined.
    crm.add_record(
        "AccountObj", {"name": "CRM 二", "uniform_social_credit_code": VAT, "tel": "+32 2"}
    )
    runtime.engine.run()
    assert [d.code for d in runtime.state.dead_letters(DL_PULL)] == ["duplicate_in_crm"]
    crm.invalidate_record("AccountObj", first)  # unlinks the partner
    runtime.engine.run()
    runtime.engine.replay()
    partner = fake_odoo.data["res.partner"][partner_id]
    assert (partner["name"], partner["phone"]) == ("CRM 二", "+32 2")
    assert partner["email"] == "billing@odoo-nv.example"
