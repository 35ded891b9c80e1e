"""Every row of Zoho's error table, end to end: the emulator answers the code as Zoho sends it,
``crm-sync run`` exits with the row's code and says the row's fix on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import add_customers, config_for, env_for
from test_crm_cli import write_config

from crm_sync import cli
from crm_sync.errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_LIMIT,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNAVAILABLE,
)
from crm_sync.testing import FakeOdoo, Fault, ZohoEmulator
from crm_sync.zoho_errors import RECORD_CODES, ZOHO_ERRORS

ATTEMPTS = 3


@pytest.fixture
def setup(zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, tmp_path: Path, monkeypatch):
    """A configuration for the emulators that retries 3 times without waiting."""
    config = config_for(zoho_emulator, fake_odoo, tmp_path / "state.sqlite3")
    config.retry.max_attempts = ATTEMPTS
    config.retry.base_delay = 0.0
    config.retry.max_delay = 0.0
    path = write_config(tmp_path / "crm-sync.toml", config)
    for key, value in env_for(zoho_emulator, fake_odoo).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CRM_SYNC_CONFIG", str(path))
    add_customers(fake_odoo, 3)
    return path


# (code, HTTP status, exit code, what stderr must say: the fix, in the row's words)
ROWS: list[tuple[str, int, int, str]] = [
    ("INVALID_TOKEN", 401, EXIT_AUTH,
     "refused a freshly refreshed access token (INVALID_TOKEN): set crm.data_centre"),
    ("INVALID_OAUTHTOKEN", 401, EXIT_AUTH,
     "refused a freshly refreshed access token (INVALID_OAUTHTOKEN): set crm.data_centre"),
    ("AUTHENTICATION_FAILURE", 401, EXIT_AUTH,
     "(AUTHENTICATION_FAILURE): generate a new refresh token for client"),
    ("OAUTH_SCOPE_MISMATCH", 401, EXIT_AUTH,
     "(OAUTH_SCOPE_MISMATCH): generate a new one for client {client_id} with the scopes the "
     "README lists for this command (crm-sync check names the missing ones) and set it in "
     "ZOHO_REFRESH_TOKEN"),
    ("NO_PERMISSION", 403, EXIT_AUTH,
     "no permission on module Accounts (NO_PERMISSION): give that user's profile view, create "
     "and edit on the module"),
    ("AUTHORIZATION_FAILED", 400, EXIT_AUTH,
     "(AUTHORIZATION_FAILED): grant the token as a user whose profile has API access"),
    ("INVALID_MODULE", 400, EXIT_CONFIG,
     "has no module 'Accounts' (INVALID_MODULE): set crm.accounts_module to the module's API "
     "name"),
    ("INVALID_URL_PATTERN", 404, EXIT_CONFIG,
     "(INVALID_URL_PATTERN): check that crm.data_centre"),
    ("FEATURE_NOT_SUPPORTED", 403, EXIT_CONFIG,
     "(FEATURE_NOT_SUPPORTED): upgrade the edition, or set crm.accounts_module"),
    ("FEATURE_NOT_ENABLED", 400, EXIT_CONFIG,
     "(FEATURE_NOT_ENABLED): switch it on in Zoho CRM's Setup"),
    ("TOO_MANY_REQUESTS", 429, EXIT_LIMIT,
     "(TOO_MANY_REQUESTS, the org's concurrency limit) after the retries: run crm-sync alone"),
    ("LIMIT_REACHED", 400, EXIT_LIMIT,
     "API credits for the rolling 24 hours are spent (LIMIT_REACHED): the run stopped with its "
     "cursors saved"),
    ("LIMIT_EXCEEDED", 400, EXIT_LIMIT,
     "(LIMIT_EXCEEDED): the run stopped with its cursors saved; raise the limit in Zoho"),
    ("PAGINATION_LIMIT_EXCEEDED", 400, EXIT_LIMIT,
     "(PAGINATION_LIMIT_EXCEEDED): the run stopped with its cursors saved; run it again"),
    ("DISCRETE_PAGINATION_LIMIT_EXCEEDED", 400, EXIT_LIMIT,
     "beyond 2,000 records of module Accounts (DISCRETE_PAGINATION_LIMIT_EXCEEDED)"),
    ("STORAGE_SPACE_EXCEEDED", 400, EXIT_LIMIT,
     "(STORAGE_SPACE_EXCEEDED): free space or buy more storage"),
    ("INTERNAL_ERROR", 500, EXIT_UNAVAILABLE,
     "(INTERNAL_ERROR) after the retries: run again later"),
    ("REQUIRED_PARAM_MISSING", 400, EXIT_UNAVAILABLE,
     "(REQUIRED_PARAM_MISSING): no setting fixes it: report this line"),
    ("INVALID_REQUEST_METHOD", 405, EXIT_UNAVAILABLE,
     "(INVALID_REQUEST_METHOD): no setting fixes it: report this line"),
    ("INVALID_REQUEST", 400, EXIT_UNAVAILABLE,
     "(INVALID_REQUEST): no setting fixes it: report this line"),
    ("INVALID_QUERY", 400, EXIT_UNAVAILABLE,
     "(INVALID_QUERY): no setting fixes it: report this line"),
]  # fmt: skip


def run(capsys) -> tuple[int, str, str]:
    code = cli.main(["run", "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_rows_cover_the_whole_table() -> None:
    assert {row[0] for row in ROWS} == set(ZOHO_ERRORS)
    assert not RECORD_CODES & set(ZOHO_ERRORS)


@pytest.mark.parametrize(("code", "status", "exit_code", "fix"), ROWS, ids=[r[0] for r in ROWS])
def test_zoho_error_code_exits_with_its_code_and_names_the_fix(
    setup, zoho_emulator: ZohoEmulator, capsys, code: str, status: int, exit_code: int, fix: str
) -> None:
    fault = zoho_emulator.inject(Fault(count=50, status=status, code=code, retry_after=0))
    got, out, err = run(capsys)
    assert got == exit_code, err
    assert fix.format(client_id=zoho_emulator.client_id) in err
    answered = 50 - fault.count
    if ZOHO_ERRORS[code].transient:
        assert answered == ATTEMPTS  # retried, then the run failed
    elif code in ("INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE"):
        assert answered == 2  # one refresh, then the refusal stands
    else:
        assert answered == 1  # no retry: waiting cannot fix it
    assert out == ""  # no report: the run stopped
    assert zoho_emulator.upsert_calls() == 0


@pytest.mark.parametrize("code", ["INVALID_DATA", "MANDATORY_NOT_FOUND", "DUPLICATE_DATA"])
def test_record_level_errors_are_dead_letters_not_a_run_failure(
    setup, zoho_emulator: ZohoEmulator, capsys, code: str
) -> None:
    zoho_emulator.inject(
        Fault(count=1, status=400, code=code, per_record=True, method="POST",
              details={"api_name": "Account_Name"})
    )  # fmt: skip
    got, out, err = run(capsys)
    assert got == EXIT_PARTIAL, err
    report = json.loads(out)
    assert report["dead_letters"] == 3
    assert cli.main(["replay"]) == EXIT_OK  # the fault is spent: the records go through
    assert len(zoho_emulator.records("Accounts")) == 3


def test_a_run_level_code_on_one_record_stops_the_run(
    setup, zoho_emulator: ZohoEmulator, capsys
) -> None:
    zoho_emulator.inject(
        Fault(count=1, status=400, code="NO_PERMISSION", per_record=True, method="POST")
    )
    got, _, err = run(capsys)
    assert got == EXIT_AUTH
    assert "no permission on module Accounts (NO_PERMISSION)" in err


def test_an_unknown_code_is_a_remote_error_with_zohos_message(
    setup, zoho_emulator: ZohoEmulator, capsys
) -> None:
    zoho_emulator.inject(Fault(count=1, status=400, code="SOMETHING_NEW", message="new thing"))
    got, _, err = run(capsys)
    assert got == EXIT_UNAVAILABLE
    assert "Zoho CRM error SOMETHING_NEW: new thing" in err


def test_a_message_about_api_credits_is_the_credits_row(
    setup, zoho_emulator: ZohoEmulator, capsys
) -> None:
    zoho_emulator.inject(
        Fault(count=5, status=429, code="TOO_MANY_REQUESTS",
              message="You have exceeded your API credits")
    )  # fmt: skip
    got, _, err = run(capsys)
    assert got == EXIT_LIMIT
    assert "API credits for the rolling 24 hours are spent" in err
    assert zoho_emulator.faults[0].count == 4  # not retried


def test_token_endpoint_throttle_is_waited_out(setup, zoho_emulator, capsys) -> None:
    fault = zoho_emulator.inject(Fault(count=ATTEMPTS - 1, status=400, endpoint="token"))
    got, out, err = run(capsys)
    assert got == EXIT_OK, err
    assert fault.count == 0 and json.loads(out)["crm_created"] == 3


def test_token_endpoint_throttle_that_persists_exits_4(setup, zoho_emulator, capsys) -> None:
    fault = zoho_emulator.inject(Fault(count=50, status=400, endpoint="token"))
    got, _, err = run(capsys)
    assert got == EXIT_LIMIT
    assert 50 - fault.count == ATTEMPTS  # waited and retried, no more
    assert "kept refusing the token refresh as too many requests: run crm-sync less often" in err


def test_a_record_level_code_refusing_the_whole_call_is_a_remote_error(
    setup, zoho_emulator: ZohoEmulator, capsys
) -> None:
    fault = zoho_emulator.inject(
        Fault(count=5, status=400, code="INVALID_DATA", details={"param_name": "fields"})
    )
    got, _, err = run(capsys)
    assert got == EXIT_UNAVAILABLE
    assert "refused the whole call as invalid (INVALID_DATA: param_name fields)" in err
    assert fault.count == 4  # not retried
