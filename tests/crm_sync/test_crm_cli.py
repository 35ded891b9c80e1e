"""The ``crm-sync`` CLI: commands, exit codes, JSON logs, and no secret anywhere in output."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from conftest import add_customers, config_for, env_for, secrets_for, state_rows

from crm_sync import cli
from crm_sync.config import Config, load_config, tomllib
from crm_sync.errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNAVAILABLE,
)
from crm_sync.runtime import build_runtime
from crm_sync.state_sqlite import SqliteStateStore
from crm_sync.testing import FakeOdoo, Fault, ZohoEmulator


def write_config(path: Path, config: Config) -> Path:
    lines = []
    data = config.model_dump(mode="json", exclude_none=True)
    for section, values in data.items():
        scalars = {k: v for k, v in values.items() if not isinstance(v, dict)}
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in scalars.items()]
        for name, table in values.items():
            if isinstance(table, dict):  # e.g. [crm.fields]
                lines.append(f"[{section}.{name}]")
                lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def setup(zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, tmp_path: Path, monkeypatch):
    config = config_for(zoho_emulator, fake_odoo, tmp_path / "state.sqlite3")
    path = write_config(tmp_path / "crm-sync.toml", config)
    for key, value in env_for(zoho_emulator, fake_odoo).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CRM_SYNC_CONFIG", str(path))
    return path


def run_cli(*args: str) -> int:
    return cli.main(list(args))


def test_init_writes_a_commented_template_without_secrets(tmp_path: Path, capsys) -> None:
    target = tmp_path / "new.toml"
    assert run_cli("--config", str(target), "init") == EXIT_OK
    text = target.read_text()
    assert text.count("#") > 10
    assert "client_secret_env" in text and "secret =" not in text
    parsed = tomllib.loads(text)
    assert parsed["crm"]["refresh_token_env"] == "ZOHO_REFRESH_TOKEN"
    assert load_config(target).sync.duplicate_rules == ["vat", "email", "name"]
    assert run_cli("--config", str(target), "init") == EXIT_CONFIG  # no silent overwrite


def test_check_run_status_replay(setup, zoho_emulator, fake_odoo, capsys) -> None:
    add_customers(fake_odoo, 120)
    assert run_cli("check") == EXIT_OK
    capsys.readouterr()
    assert run_cli("run", "--dry-run") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["push_would_send"] == 120
    assert zoho_emulator.upsert_calls() == 0
    assert run_cli("run") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["crm_created"] == 120
    assert run_cli("status") == EXIT_OK
    status = json.loads(capsys.readouterr().out)
    assert status["id_map"] == {"customers": 120}
    assert status["last_run"]["crm_created"] == 120
    assert status["cursors"]["erp.customers"]


def test_partial_failure_exit_code_and_replay(setup, zoho_emulator, fake_odoo, capsys) -> None:
    [partner] = add_customers(fake_odoo, 1)
    fake_odoo.write("res.partner", [partner], {"email": "broken"})
    assert run_cli("run") == EXIT_PARTIAL
    assert run_cli("replay") == EXIT_PARTIAL
    fake_odoo.write("res.partner", [partner], {"email": "ok@example.com"})
    assert run_cli("replay") == EXIT_OK
    capsys.readouterr()
    assert run_cli("status") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["dead_letters"] == 0


def test_config_and_auth_errors(setup, monkeypatch, tmp_path, capsys) -> None:
    assert run_cli("--config", str(tmp_path / "missing.toml"), "run") == EXIT_CONFIG
    broken = tmp_path / "broken.toml"
    broken.write_text("[crm]\nclient_id = 1\nbogus = true\n")
    assert run_cli("--config", str(broken), "check") == EXIT_CONFIG
    assert "bogus" in capsys.readouterr().err
    monkeypatch.delenv("ZOHO_REFRESH_TOKEN")
    assert run_cli("check") == EXIT_CONFIG
    monkeypatch.setenv("ZOHO_REFRESH_TOKEN", "1000.revoked.token")
    assert run_cli("check") == EXIT_AUTH


def _sync_rows(path: Path) -> list[tuple]:
    """Everything the sync keeps in a SQLite state store but its token cache and the API
    credits counted (a refused call is still a call)."""
    rows = state_rows(
        path,
        "SELECT key, value FROM sync_state WHERE key NOT LIKE 'token:%' AND key != 'zoho.credits'",
    )
    return sorted(rows) + sorted(state_rows(path, "SELECT * FROM id_map"))


def test_wrong_refresh_token_fails_at_start_despite_a_cached_token(
    setup, zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, monkeypatch, capsys
) -> None:
    state_path = Path(load_config(setup).state.path)
    add_customers(fake_odoo, 2)
    assert run_cli("run") == EXIT_OK  # caches an access token of the right refresh token
    add_customers(fake_odoo, 2, start=2)
    zoho_emulator.add_record("Accounts", {"Account_Name": "New in Zoho"})
    before = (_sync_rows(state_path), zoho_emulator.upsert_calls(), dict(fake_odoo.calls))
    partners = len(fake_odoo.partners())
    capsys.readouterr()
    monkeypatch.setenv("ZOHO_REFRESH_TOKEN", "1000.another.refresh.token")
    assert run_cli("run") == EXIT_AUTH
    err = capsys.readouterr().err
    assert "generate a new one" in err and "ZOHO_REFRESH_TOKEN" in err
    after = (_sync_rows(state_path), zoho_emulator.upsert_calls(), dict(fake_odoo.calls))
    assert after == before  # nothing read from Odoo, nothing written anywhere
    assert len(fake_odoo.partners()) == partners
    assert run_cli("replay") == EXIT_AUTH


@pytest.mark.parametrize("setting", ["accounts_module", "payments_module"])
def test_misspelt_module_is_a_configuration_error(
    setup, zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, capsys, setting: str
) -> None:
    add_customers(fake_odoo, 2)
    config = load_config(setup)
    setattr(config.crm, setting, "Acounts")
    write_config(setup, config)
    state_path = Path(config.state.path)
    capsys.readouterr()
    assert run_cli("run") == EXIT_CONFIG
    err = capsys.readouterr().err
    assert f"crm.{setting}" in err and "'Acounts'" in err
    assert not [row for row in _sync_rows(state_path) if row[0] == "last_run"]
    if setting == "accounts_module":  # the run's first call: nothing read or written
        assert _sync_rows(state_path) == [] and not fake_odoo.calls
        assert zoho_emulator.upsert_calls() == 0
        assert run_cli("check") == EXIT_CONFIG


def _misspelt_and_mistyped(config: Config) -> None:
    config.crm.fields.email = "E_mail"  # type: ignore[union-attr]
    config.crm.fields.credit_limit = "Credit_Grade"  # a text field  # type: ignore[union-attr]
    config.crm.fields.payment_amount = "Amuont"  # type: ignore[union-attr]


@pytest.mark.parametrize("command", ["check", "run", "replay"])
def test_field_map_is_checked_against_the_crm_metadata_first(
    setup, zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, capsys, command: str
) -> None:
    add_customers(fake_odoo, 2)
    zoho_emulator.add_record("Accounts", {"Account_Name": "New in Zoho"})
    config = load_config(setup)
    _misspelt_and_mistyped(config)
    write_config(setup, config)
    capsys.readouterr()
    assert run_cli(command) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert 'crm.fields.email: Zoho CRM module Accounts has no field "E_mail" ' in err
    assert '(did you mean "Email"?)' in err
    assert 'crm.fields.credit_limit: field "Credit_Grade" of Zoho CRM module Accounts' in err
    assert "is of type text" in err
    assert 'Payments has no field "Amuont" (did you mean "Amount"?)' in err
    # Refused before anything was read or written: Odoo, the CRM, the state store
    # (``check`` first proves both logins with one read each).
    assert _sync_rows(Path(config.state.path)) == []
    assert zoho_emulator.upsert_calls() == 0
    if command != "check":
        assert not fake_odoo.calls
        assert not [call for call in zoho_emulator.calls if call.startswith("GET /Accounts")]
    assert zoho_emulator.calls["GET /settings/fields"] == 2  # one per module


@pytest.mark.parametrize(
    ("setting", "api_name"),
    [("email", "Credit_Hold"), ("credit_exposure", "Owner"), ("payment_account", "Reference")],
)
def test_field_of_the_wrong_type_is_a_configuration_error(
    setup, zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, capsys, setting: str, api_name: str
) -> None:
    add_customers(fake_odoo, 1)
    config = load_config(setup)
    setattr(config.crm.fields, setting, api_name)
    write_config(setup, config)
    capsys.readouterr()
    assert run_cli("run") == EXIT_CONFIG
    err = capsys.readouterr().err
    assert f'crm.fields.{setting}: field "{api_name}"' in err and "is of type" in err
    assert zoho_emulator.upsert_calls() == 0 and not fake_odoo.calls


def test_default_mapping_passes_and_metadata_is_read_once_per_module_per_run(
    setup, zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, capsys
) -> None:
    add_customers(fake_odoo, 2)
    assert run_cli("check") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["fields"] == "ok"
    assert zoho_emulator.calls["GET /settings/fields"] == 2
    assert run_cli("run") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["crm_created"] == 2
    assert zoho_emulator.calls["GET /settings/fields"] == 4  # nothing cached across runs
    assert run_cli("replay") == EXIT_OK
    assert zoho_emulator.calls["GET /settings/fields"] == 6


def test_token_cache_holds_no_secret_in_clear(setup, zoho_emulator, fake_odoo) -> None:
    add_customers(fake_odoo, 1)
    assert run_cli("run") == EXIT_OK
    state_path = Path(load_config(setup).state.path)
    cached = state_rows(state_path, "SELECT key, value FROM sync_state WHERE key LIKE 'token:%'")
    assert cached and all("access_token" in value for _key, value in cached)
    stored = b"".join(p.read_bytes() for p in state_path.parent.glob(state_path.name + "*"))
    for secret in (zoho_emulator.refresh_token, zoho_emulator.client_secret, fake_odoo.api_key):
        assert secret.encode() not in stored


def test_remote_unavailable_and_lock_held(setup, zoho_emulator, fake_odoo) -> None:
    add_customers(fake_odoo, 3)
    config = load_config(setup)
    config.retry.max_attempts = 1
    write_config(setup, config)
    zoho_emulator.inject(Fault(count=50, status=503))
    assert run_cli("run") == EXIT_UNAVAILABLE
    zoho_emulator.faults.clear()
    holder = SqliteStateStore(config.state.path)
    with holder.lock():
        import subprocess

        code = "import sys; from crm_sync.cli import main; sys.exit(main(['run']))"
        assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == EXIT_LOCKED
    holder.close()
    assert run_cli("run") == EXIT_OK


def test_no_secret_in_logs_reprs_errors_or_output(
    setup, zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, capsys, caplog, monkeypatch
) -> None:
    add_customers(fake_odoo, 5)
    fake_odoo.write("res.partner", [1], {"email": "broken"})  # a dead letter, logged
    zoho_emulator.inject(Fault(count=1, status=429, retry_after=0))
    secrets = secrets_for(zoho_emulator, fake_odoo)
    config = load_config(setup)
    runtime = build_runtime(config, secrets=secrets)
    texts = [
        repr(secrets),
        str(secrets),
        repr(config),
        repr(runtime),
        repr(runtime.crm),
        repr(runtime.crm.client.auth),
        repr(runtime.erp),
    ]
    with caplog.at_level(logging.DEBUG, logger="crm_sync"):
        logging.getLogger("crm_sync").propagate = True
        runtime.engine.run()
        zoho_emulator.expire_tokens()
        runtime.engine.run(full=True)
        access_token = runtime.crm.client.auth.access()[0]
        # A careless log call with a secret in it is masked by the filter on the CLI handler.
        cli.configure_json_logging(logging.DEBUG, sys.stderr)
        logging.getLogger("crm_sync.test").warning("token was %s", access_token)
    runtime.close()
    assert run_cli("--log-level", "debug", "run", "--full") in (EXIT_OK, EXIT_PARTIAL)
    monkeypatch.setenv("ZOHO_CLIENT_SECRET", "a-wrong-secret-value")
    assert run_cli("check") == EXIT_AUTH
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    texts += [str(record.__dict__) for record in caplog.records]
    forbidden = [
        zoho_emulator.client_secret,
        zoho_emulator.refresh_token,
        fake_odoo.api_key,
        access_token,
        "a-wrong-secret-value",
    ]
    assert "***" in captured.err  # the careless line was masked
    for text in texts:
        for secret in forbidden:
            assert secret not in text
    json_lines = [line for line in captured.err.splitlines() if line.startswith("{")]
    assert json_lines and all(json.loads(line)["level"] for line in json_lines)
