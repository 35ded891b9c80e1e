"""``crm-sync setup`` (the CRM fields the field map needs) and the OAuth scopes ``check`` reports.

Every test goes through the CLI against the emulators: Zoho creates custom fields through its
metadata API (``POST /settings/fields``), FXiaoKe's open API has no such call (setup lists the
fields to create by hand), and the Zoho emulator grants a configurable scope set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import add_customers, config_for, env_for, sync_config
from crm_oas import SPEC_DIR, Spec
from test_crm_cli import write_config
from test_soap_engine import soap_config

from crm_sync import cli
from crm_sync.config import ZohoFields
from crm_sync.errors import EXIT_AUTH, EXIT_CONFIG, EXIT_OK
from crm_sync.provisioning import FieldSpec
from crm_sync.testing import FakeOdoo, ZohoEmulator
from crm_sync.testing.fxiaoke_emulator import (
    ACCOUNT_FIELDS as FX_ACCOUNT_FIELDS,
)
from crm_sync.testing.fxiaoke_emulator import FxiaokeEmulator, ObjectSchema
from crm_sync.testing.pytest_plugin import make_fxiaoke_emulator, make_soap_crm_server
from crm_sync.testing.soap_server import ObjectSchema as ObjectSchemaSoap
from crm_sync.testing.soap_server import SoapCrmServer
from crm_sync.testing.soap_server import default_objects as default_soap_objects
from crm_sync.testing.zoho_emulator import (
    ACCOUNTS_FIELDS,
    PAYMENTS_FIELDS,
    STANDARD_FIELDS,
    ModuleSchema,
)
from crm_sync.zoho_connector import zoho_field_definition

__all__ = ["make_fxiaoke_emulator", "make_soap_crm_server"]

# What a new Zoho org has: the standard fields only.
NEW_ORG = {
    "Accounts": ModuleSchema(
        {k: v for k, v in ACCOUNTS_FIELDS.items() if k in STANDARD_FIELDS}, ("Account_Name",)
    ),
    "Payments": ModuleSchema({k: v for k, v in PAYMENTS_FIELDS.items() if k in STANDARD_FIELDS}),
}
PAYMENT_SETTINGS = ("payment_account", "payment_amount", "payment_date", "payment_memo")


def new_org() -> dict[str, ModuleSchema]:
    return {
        name: ModuleSchema(dict(schema.fields), schema.mandatory, schema.unique)
        for name, schema in NEW_ORG.items()
    }


def expected_creations(*, archived: bool = False) -> set[tuple[str, str]]:
    """The custom fields the default Zoho field map names: everything mapped but standard."""
    fields = ZohoFields()
    names = [n for n in ZohoFields.model_fields if n not in PAYMENT_SETTINGS]
    if not archived:
        names.remove("archived")
    wanted = {("Accounts", getattr(fields, n)) for n in names}
    wanted |= {("Payments", getattr(fields, n)) for n in PAYMENT_SETTINGS}
    return {(module, name) for module, name in wanted if name not in STANDARD_FIELDS}


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


@pytest.fixture
def zoho_cli(make_zoho_emulator, fake_odoo: FakeOdoo, tmp_path: Path, monkeypatch):
    """``zoho_cli(**emulator_options)`` → a started emulator, the CLI configured against it."""

    def start(archived_in_odoo: str = "ignore", **options: Any) -> ZohoEmulator:
        crm = make_zoho_emulator(**options)
        config = config_for(
            crm, fake_odoo, tmp_path / "state.sqlite3", archived_in_odoo=archived_in_odoo
        )
        path = write_config(tmp_path / "crm-sync.toml", config)
        for key, value in env_for(crm, fake_odoo).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CRM_SYNC_CONFIG", str(path))
        return crm

    return start


def test_setup_creates_the_mapped_fields_once_and_the_sync_then_writes_them(
    zoho_cli, fake_odoo: FakeOdoo, capsys
) -> None:
    crm = zoho_cli(modules=new_org())
    add_customers(fake_odoo, 3)
    code, _out, err = cli_json(capsys, "check")
    assert code == EXIT_CONFIG and 'has no field "Credit_Limit"' in err  # before setup

    code, plan, _err = cli_json(capsys, "setup", "--dry-run")
    assert code == EXIT_OK and plan["dry_run"] is True
    would = {(item["object"], item["field"]) for item in plan["would_create"]}
    assert would == expected_creations()
    kinds = {item["field"]: item for item in plan["would_create"]}
    assert kinds["Credit_Limit"]["kind"] == "amount" and kinds["Credit_Hold"]["kind"] == "boolean"
    assert kinds["Odoo_Partner_ID"]["unique"] is True
    assert kinds["Account"]["reference_to"] == "Accounts"
    assert crm.created_fields == [] and crm.calls["POST /settings/fields"] == 0  # changed nothing

    code, done, _err = cli_json(capsys, "setup")
    assert code == EXIT_OK and done["conflicts"] == [] and done["create_by_hand"] == []
    assert {(item["object"], item["field"]) for item in done["created"]} == expected_creations()
    types = {(module, name): kind for module, name, kind in crm.created_fields}
    assert types[("Accounts", "Credit_Limit")] == "currency"
    assert types[("Accounts", "Oldest_Overdue_Days")] == "integer"
    assert types[("Accounts", "Last_Payment_Date")] == "date"
    assert types[("Payments", "Account")] == "lookup"
    assert "Odoo_Partner_ID" in crm.modules["Accounts"].unique
    created_calls = crm.calls["POST /settings/fields"]
    assert created_calls == len(expected_creations())

    code, again, _err = cli_json(capsys, "setup")  # idempotent: nothing left to create
    assert code == EXIT_OK and again["created"] == []
    assert again["present"] == done["present"] + len(done["created"])
    assert crm.calls["POST /settings/fields"] == created_calls

    code, checked, _err = cli_json(capsys, "check")  # the existing schema check now passes
    assert code == EXIT_OK and checked["fields"] == "ok"
    code, report, _err = cli_json(capsys, "run", "--no-progress")
    assert code == EXIT_OK and report["crm_created"] == 3
    written = crm.records("Accounts")[0]
    assert written["Credit_Limit"] >= 1000 and written["Credit_Grade"] == "B"
    assert written["Credit_Hold"] is False and written["Odoo_Partner_ID"]


def test_setup_creates_the_archived_flag_only_when_the_sync_writes_it(zoho_cli, capsys) -> None:
    zoho_cli(modules=new_org(), archived_in_odoo="mark")
    code, plan, _err = cli_json(capsys, "setup", "--dry-run")
    assert code == EXIT_OK
    fields = {(item["object"], item["field"]) for item in plan["would_create"]}
    assert ("Accounts", "Odoo_Archived") in fields
    assert fields == expected_creations(archived=True)


def test_a_field_of_the_wrong_type_is_reported_and_nothing_is_created_or_altered(
    zoho_cli, capsys
) -> None:
    modules = new_org()
    modules["Accounts"].fields["Credit_Limit"] = "text"  # an admin made it by hand, as text
    modules["Accounts"].fields["Credit_Hold"] = "picklist"
    crm = zoho_cli(modules=modules)
    for args in (("setup", "--dry-run"), ("setup",)):
        code, plan, err = cli_json(capsys, *args)
        assert code == EXIT_CONFIG
        assert len(plan["conflicts"]) == 2
        assert 'crm.fields.credit_limit: field "Credit_Limit" of Zoho CRM module Accounts' in err
        assert "is of type text" in err and "is of type picklist" in err
        assert "never changes an existing field" in err
    assert crm.created_fields == [] and crm.calls["POST /settings/fields"] == 0
    assert crm.modules["Accounts"].fields["Credit_Limit"] == "text"


def test_check_names_the_missing_scopes_and_setup_needs_the_create_scope(zoho_cli, capsys) -> None:
    read_only = ("ZohoCRM.modules.ALL", "ZohoCRM.settings.fields.READ")
    crm = zoho_cli(granted_scopes=read_only)
    code, result, err = cli_json(capsys, "check")
    assert code == EXIT_OK  # the sync's scopes are all there: only setup lacks one
    assert result["scopes_missing"] == {"setup": ["ZohoCRM.settings.fields.CREATE"]}
    assert "the token lacks scopes setup needs: ZohoCRM.settings.fields.CREATE" in err
    code, plan, err = cli_json(capsys, "setup", "--dry-run")  # reading needs no CREATE scope
    assert code == EXIT_OK and plan["would_create"] == []
    assert "ZohoCRM.settings.fields.CREATE" in err
    code, _out, err = cli_json(capsys, "setup")
    assert code == EXIT_AUTH and "ZohoCRM.settings.fields.CREATE" in err
    assert crm.calls["POST /settings/fields"] == 0

    crm.granted_scopes = ("ZohoCRM.settings.ALL", "ZohoCRM.modules.accounts.READ")
    crm.expire_tokens()
    code, result, err = cli_json(capsys, "check")
    assert code == EXIT_AUTH and result["crm"] == "scopes missing"
    assert result["scopes_missing"]["run"] == [
        "ZohoCRM.modules.accounts.CREATE",
        "ZohoCRM.modules.accounts.UPDATE",
        "ZohoCRM.modules.custom.READ",
    ]
    assert "setup" not in result["scopes_missing"]


def test_without_scope_in_the_token_answer_the_api_refusal_names_the_remedy(
    zoho_cli, fake_odoo: FakeOdoo, capsys
) -> None:
    crm = zoho_cli(token_reports_scope=False, granted_scopes=("ZohoCRM.settings.ALL",))
    add_customers(fake_odoo, 1)
    code, _out, err = cli_json(capsys, "check")
    assert code == EXIT_AUTH and "OAUTH_SCOPE_MISMATCH" in err
    assert "scopes the README lists" in err
    code, _out, err = cli_json(capsys, "run", "--no-progress")
    assert code == EXIT_AUTH and "OAUTH_SCOPE_MISMATCH" in err
    assert crm.upsert_calls() == 0


def test_fxiaoke_setup_lists_the_fields_to_create_by_hand(
    make_fxiaoke_emulator, fake_odoo: FakeOdoo, tmp_path: Path, monkeypatch, capsys
) -> None:
    standard = {k: v for k, v in FX_ACCOUNT_FIELDS.items() if not k.endswith("__c")}
    crm: FxiaokeEmulator = make_fxiaoke_emulator()
    crm.objects["AccountObj"] = ObjectSchema(standard, ("name",), ())
    config = sync_config(
        {"kind": "fxiaoke", "base_url": crm.base_url, "app_id": crm.app_id,
         "current_open_user_id": crm.open_user_id},
        fake_odoo, tmp_path / "state.sqlite3",
    )  # fmt: skip
    path = write_config(tmp_path / "crm-sync.toml", config)
    monkeypatch.setenv("FXIAOKE_APP_SECRET", crm.app_secret)
    monkeypatch.setenv("FXIAOKE_PERMANENT_CODE", crm.permanent_code)
    for args in (("setup", "--dry-run"), ("setup",)):
        code, plan, err = cli_json(capsys, "--config", str(path), *args)
        assert code == EXIT_CONFIG
        by_hand = {item["field"]: item for item in plan["create_by_hand"]}
        assert set(by_hand) == {n for n in FX_ACCOUNT_FIELDS if n.endswith("__c")} - {
            "odoo_archived__c"
        }
        assert by_hand["credit_limit__c"]["kind"] == "amount"
        assert "has no call that creates fields" in err and "credit_limit__c" in err
        assert plan.get("would_create", []) == [] and plan.get("created", []) == []
    crm.objects["AccountObj"] = ObjectSchema(dict(FX_ACCOUNT_FIELDS), ("name",), ())  # by hand
    code, plan, _err = cli_json(capsys, "--config", str(path), "setup")
    assert code == EXIT_OK and plan["create_by_hand"] == [] and plan["created"] == []


@pytest.fixture
def soap_cli(make_soap_crm_server, fake_odoo: FakeOdoo, tmp_path: Path, monkeypatch):
    """``soap_cli(**server_options)`` → a SOAP CRM whose objects have their standard fields
    only, and the path of a configuration against it."""

    def start(**options: Any) -> tuple[SoapCrmServer, Path]:
        standard = {
            name: ObjectSchemaSoap(
                {k: v for k, v in schema.fields.items() if not k.endswith("__c")},
                schema.required,
                (),
                schema.prefix,
            )
            for name, schema in default_soap_objects().items()
        }
        crm = make_soap_crm_server(objects=standard, **options)
        config = soap_config(crm, fake_odoo, tmp_path / "state.sqlite3")
        path = write_config(tmp_path / "crm-sync.toml", config)
        monkeypatch.setenv("SOAP_CRM_PASSWORD", crm.password)
        monkeypatch.setenv("ODOO_API_KEY", fake_odoo.api_key)
        return crm, path

    return start


def test_soap_setup_creates_custom_fields_through_the_metadata_api(
    soap_cli, fake_odoo: FakeOdoo, capsys
) -> None:
    crm, path = soap_cli()
    add_customers(fake_odoo, 2)
    config = ("--config", str(path))
    code, plan, _err = cli_json(capsys, *config, "setup", "--dry-run")
    assert code == EXIT_OK and crm.created_fields == []
    wanted = {(item["object"], item["field"]) for item in plan["would_create"]}
    assert ("Account", "Credit_Limit__c") in wanted and ("Payment__c", "Account__c") in wanted
    assert all(name.endswith("__c") for _obj, name in wanted)

    code, done, _err = cli_json(capsys, *config, "setup")
    assert code == EXIT_OK
    assert {(item["object"], item["field"]) for item in done["created"]} == wanted
    kinds = {(obj, name): kind for obj, name, kind in crm.created_fields}
    assert kinds[("Account", "Credit_Limit__c")] == "currency"
    assert kinds[("Account", "Credit_Hold__c")] == "boolean"
    assert kinds[("Payment__c", "Account__c")] == "reference"
    assert "Odoo_Partner_ID__c" in crm.objects["Account"].external_ids
    calls = crm.calls["createMetadata"]
    code, again, _err = cli_json(capsys, *config, "setup")
    assert code == EXIT_OK and again["created"] == [] and crm.calls["createMetadata"] == calls

    code, report, _err = cli_json(capsys, *config, "run", "--no-progress")
    assert code == EXIT_OK and report["crm_created"] == 2
    assert {record["Credit_Grade__c"] for record in crm.records("Account")} == {"B"}


def test_soap_crm_without_a_metadata_api_lists_the_fields_to_create_by_hand(
    soap_cli, capsys
) -> None:
    crm, path = soap_cli()
    crm.metadata_api = False
    code, plan, err = cli_json(capsys, "--config", str(path), "setup")
    assert code == EXIT_CONFIG and crm.created_fields == []
    assert "no metadata server" in err and "Account: Credit_Limit__c" in err
    assert {item["field"] for item in plan["create_by_hand"]} >= {"Credit_Limit__c"}


@pytest.mark.skipif(not (SPEC_DIR / "fields.json").exists(), reason="Zoho's OpenAPI spec absent")
def test_field_creation_request_and_answers_follow_zohos_openapi(make_zoho_emulator) -> None:
    """What setup sends to "Create Field" and what the emulator answers, against fields.json."""
    spec = Spec()
    crm: ZohoEmulator = make_zoho_emulator(modules=new_org())
    session = requests.Session()
    session.headers["Authorization"] = f"Zoho-oauthtoken {crm.issue_token()}"
    url = f"{crm.api_domain()}/crm/v8/settings/fields"
    kinds = {
        "amount": "credit_limit",
        "count": "oldest_overdue_days",
        "boolean": "credit_hold",
        "date": "last_payment_date",
        "text": "external_id",
        "reference": "payment_account",
    }
    for kind, canonical in kinds.items():
        module = "Payments" if kind == "reference" else "Accounts"
        api_name = getattr(ZohoFields(), canonical)
        field_spec = FieldSpec(
            module,
            api_name,
            canonical,
            f"crm.fields.{canonical}",
            reference_to="Accounts" if kind == "reference" else None,
        )
        definition = zoho_field_definition(field_spec)
        spec.check_subset(definition, "fields.json", "fields", ["field_label", "data_type"])
        answer = session.post(url, params={"module": module}, json={"fields": [definition]})
        assert answer.status_code == 201, answer.text
        spec.check(answer.json(), "fields.json", "SuccessWrapper")
        created = session.get(url, params={"module": module}).json()["fields"]
        [meta] = [item for item in created if item["api_name"] == api_name]
        assert meta["custom_field"] is True
    again = session.post(
        url,
        params={"module": "Accounts"},
        json={"fields": [{"field_label": "Credit Limit", "data_type": "currency"}]},
    )
    assert again.status_code == 400 and again.json()["fields"][0]["code"] == "DUPLICATE_DATA"
    missing = session.post(
        url, params={"module": "Accounts"}, json={"fields": [{"data_type": "text"}]}
    )
    assert missing.status_code == 400
    spec.check(missing.json(), "fields.json", "MandatoryErrorWrapper")
    bad_type = session.post(
        url,
        params={"module": "Accounts"},
        json={"fields": [{"field_label": "X", "data_type": "bogus"}]},
    )
    spec.check(bad_type.json(), "fields.json", "InvalidValueErrorWrapper")
