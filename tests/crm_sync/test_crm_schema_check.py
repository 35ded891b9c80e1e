"""The field map is checked against the CRM's field metadata before a run reads or writes:
``crm-sync check``, ``run`` and ``replay`` refuse (exit 2) a mapped field the CRM lacks, naming
its closest match, and a field whose type cannot hold the value. Per connector, through the CLI
against its emulator (Zoho: tests/crm_sync/test_crm_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import add_customers, state_rows

from crm_sync.cli import main
from crm_sync.errors import EXIT_CONFIG, EXIT_OK
from crm_sync.testing import FakeOdoo
from crm_sync.testing.fxiaoke_emulator import FxiaokeEmulator
from crm_sync.testing.pytest_plugin import (
    fxiaoke_emulator,
    make_fxiaoke_emulator,
    make_soap_crm_server,
    soap_crm_server,
)
from crm_sync.testing.soap_server import SoapCrmServer

__all__ = ["fxiaoke_emulator", "make_fxiaoke_emulator", "make_soap_crm_server", "soap_crm_server"]


def _cli_config(
    kind: str, replacements: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A ``crm-sync init --kind <kind>`` file pointed at the emulators (the default mapping),
    as ``$CRM_SYNC_CONFIG``; returns ``(edit(old, new), state path)``."""
    config = tmp_path / "crm-sync.toml"
    assert main(["--config", str(config), "init", "--kind", kind]) == EXIT_OK
    state = tmp_path / "state.sqlite3"
    text = config.read_text()
    for old, new in {**replacements, 'path = "crm-sync.sqlite3"': f'path = "{state}"'}.items():
        assert old in text
        text = text.replace(old, new)
    config.write_text(text)
    monkeypatch.setenv("CRM_SYNC_CONFIG", str(config))

    def edit(old: str, new: str) -> None:
        text = config.read_text()
        assert old in text
        config.write_text(text.replace(old, new))

    return edit, state


def _odoo(odoo: FakeOdoo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("ODOO_API_KEY", odoo.api_key)
    return {
        "https://odoo.example.com": odoo.url,
        '"production"': f'"{odoo.database}"',
        "crm-sync@example.com": odoo.login,
    }


def _nothing_synced(state: Path) -> bool:
    """No cursor, id map or run summary in the state store (a token cache may be there)."""
    rows = state_rows(state, "SELECT key FROM sync_state WHERE key NOT LIKE 'token:%'")
    return not rows and not state_rows(state, "SELECT * FROM id_map")


# -- SOAP (describeSObject) ------------------------------------------------------------------
@pytest.fixture
def soap_cli(
    soap_crm_server: SoapCrmServer,
    fake_odoo: FakeOdoo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("SOAP_CRM_PASSWORD", soap_crm_server.password)
    replacements = {
        "https://login.example-crm.com/services/Soap/u/59.0": soap_crm_server.login_url,
        "integration@example.com": soap_crm_server.username,
        **_odoo(fake_odoo, monkeypatch),
    }
    return _cli_config("soap", replacements, tmp_path, monkeypatch)


@pytest.mark.parametrize("command", ["check", "run", "replay"])
def test_soap_misspelt_field_is_refused_before_anything_is_read_or_written(
    soap_cli, soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, capsys, command: str
) -> None:
    edit, state = soap_cli
    add_customers(fake_odoo, 2)
    soap_crm_server.add_record("Account", {"Name": "New in the CRM"})
    edit('email = "Email__c"', 'email = "Emial__c"')
    edit('modified_field = "SystemModstamp"', 'modified_field = "SystemModstmp"')
    capsys.readouterr()
    assert main([command]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert (
        'crm.fields.email: the SOAP CRM object Account has no field "Emial__c" '
        '(did you mean "Email__c"?)' in err
    )
    assert 'crm.modified_field: the SOAP CRM object Account has no field "SystemModstmp" ' in err
    assert '(did you mean "SystemModstamp"?)' in err
    assert soap_crm_server.upsert_calls() == 0 and _nothing_synced(state)
    if command != "check":  # check proves both logins with one read each first
        assert not fake_odoo.calls
        assert soap_crm_server.calls["query"] == 0 and soap_crm_server.calls["getDeleted"] == 0
    assert soap_crm_server.calls["describeSObject"] == 2  # Account and Payment__c, once each


@pytest.mark.parametrize(
    ("setting", "line", "api_name", "data_type"),
    [
        ("credit_limit", 'credit_limit = "Credit_Limit__c"', "Name", "string"),
        ("email", 'email = "Email__c"', "Credit_Hold__c", "boolean"),
        ("vat", 'vat = "VAT_Number__c"', "Credit_Exposure__c", "double"),
    ],
)
def test_soap_field_of_the_wrong_type_is_refused(
    soap_cli,
    soap_crm_server: SoapCrmServer,
    fake_odoo: FakeOdoo,
    capsys,
    setting: str,
    line: str,
    api_name: str,
    data_type: str,
) -> None:
    edit, state = soap_cli
    add_customers(fake_odoo, 1)
    edit(line, f'{setting} = "{api_name}"')
    capsys.readouterr()
    assert main(["run"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert f'crm.fields.{setting}: field "{api_name}" of the SOAP CRM object Account' in err
    assert f"is of type {data_type}" in err
    assert soap_crm_server.upsert_calls() == 0 and not fake_odoo.calls and _nothing_synced(state)


def test_soap_unknown_object_names_its_setting(
    soap_cli, soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, capsys
) -> None:
    edit, _state = soap_cli
    edit('payment_object = "Payment__c"', 'payment_object = "Payments__c"')
    capsys.readouterr()
    assert main(["run"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "crm.payment_object" in err and "'Payments__c'" in err
    assert soap_crm_server.upsert_calls() == 0 and not fake_odoo.calls


def test_soap_default_mapping_passes_check_and_run_reading_metadata_once_per_run(
    soap_cli, soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo
) -> None:
    add_customers(fake_odoo, 3)
    assert main(["check"]) == EXIT_OK
    assert soap_crm_server.calls["describeSObject"] == 2
    assert main(["run", "--no-progress"]) == EXIT_OK
    assert len(soap_crm_server.by_external_id()) == 3
    assert soap_crm_server.calls["describeSObject"] == 4  # nothing cached across runs
    assert main(["replay"]) == EXIT_OK
    assert soap_crm_server.calls["describeSObject"] == 6


# -- FXiaoKe (crm/v2/object/describe) --------------------------------------------------------
@pytest.fixture
def fxiaoke_cli(
    fxiaoke_emulator: FxiaokeEmulator,
    fake_odoo: FakeOdoo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    crm = fxiaoke_emulator
    monkeypatch.setenv("FXIAOKE_APP_SECRET", crm.app_secret)
    monkeypatch.setenv("FXIAOKE_PERMANENT_CODE", crm.permanent_code)
    replacements = {
        "https://open.fxiaoke.com": crm.base_url,
        "FSAID_REPLACE_ME": crm.app_id,
        "FSUID_REPLACE_ME": crm.open_user_id,
        **_odoo(fake_odoo, monkeypatch),
    }
    return _cli_config("fxiaoke", replacements, tmp_path, monkeypatch)


DESCRIBE = "crm/v2/object/describe"


@pytest.mark.parametrize("command", ["check", "run", "replay"])
def test_fxiaoke_misspelt_field_is_refused_before_anything_is_read_or_written(
    fxiaoke_cli, fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, capsys, command: str
) -> None:
    edit, state = fxiaoke_cli
    add_customers(fake_odoo, 2)
    fxiaoke_emulator.add_record("AccountObj", {"name": "CRM 公司"})
    edit('email = "email"', 'email = "e_mail"')
    edit('credit_limit = "credit_limit__c"',
         'credit_limit = "credit_limit__c"\npayment_amount = "payment_amout"')  # fmt: skip
    capsys.readouterr()
    assert main([command]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert (
        'crm.fields.email: FXiaoKe object AccountObj has no field "e_mail" '
        '(did you mean "email"?)' in err
    )
    assert (
        'crm.fields.payment_amount: FXiaoKe object PaymentObj has no field "payment_amout" '
        '(did you mean "payment_amount"?)' in err
    )
    assert fxiaoke_emulator.write_calls() == 0 and _nothing_synced(state)
    if command != "check":  # check proves both logins with one read each first
        assert not fake_odoo.calls
        assert fxiaoke_emulator.calls["crm/v2/data/query"] == 0
    assert fxiaoke_emulator.calls[DESCRIBE] == 2  # AccountObj and PaymentObj, once each


@pytest.mark.parametrize(
    ("line", "setting", "api_name", "object_name", "data_type"),
    [
        ('credit_limit = "credit_limit__c"', "credit_limit", "name", "AccountObj", "text"),
        ('email = "email"', "email", "credit_hold__c", "AccountObj", "true_or_false"),
        ('vat = "uniform_social_credit_code"', "payment_account", "remark", "PaymentObj", "text"),
    ],
)
def test_fxiaoke_field_of_the_wrong_type_is_refused(
    fxiaoke_cli,
    fxiaoke_emulator: FxiaokeEmulator,
    fake_odoo: FakeOdoo,
    capsys,
    line: str,
    setting: str,
    api_name: str,
    object_name: str,
    data_type: str,
) -> None:
    edit, state = fxiaoke_cli
    add_customers(fake_odoo, 1)
    edit(line, f'{line}\n{setting} = "{api_name}"' if setting == "payment_account" else
         f'{setting} = "{api_name}"')  # fmt: skip
    capsys.readouterr()
    assert main(["run"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert f'crm.fields.{setting}: field "{api_name}" of FXiaoKe object {object_name}' in err
    assert f"is of type {data_type}" in err
    assert fxiaoke_emulator.write_calls() == 0 and not fake_odoo.calls and _nothing_synced(state)


def test_fxiaoke_unknown_object_names_its_setting(
    fxiaoke_cli, fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, capsys
) -> None:
    edit, _state = fxiaoke_cli
    edit('customer_object = "AccountObj"', 'customer_object = "AccountsObj"')
    capsys.readouterr()
    assert main(["run"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "crm.customer_object" in err and "'AccountsObj'" in err
    assert fxiaoke_emulator.write_calls() == 0 and not fake_odoo.calls


def test_fxiaoke_default_mapping_passes_check_and_run_reading_metadata_once_per_run(
    fxiaoke_cli, fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo
) -> None:
    add_customers(fake_odoo, 3)
    assert main(["check"]) == EXIT_OK
    assert fxiaoke_emulator.calls[DESCRIBE] == 2
    assert main(["run", "--no-progress"]) == EXIT_OK
    assert len(fxiaoke_emulator.by_external_id()) == 3
    assert fxiaoke_emulator.calls[DESCRIBE] == 4  # nothing cached across runs
    assert main(["replay"]) == EXIT_OK
    assert fxiaoke_emulator.calls[DESCRIBE] == 6
