"""Zoho API credits: counted per call at Zoho's cost, a daily budget across runs, concurrency."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import add_customers, config_for, env_for, state_rows
from test_crm_cli import run_cli, write_config
from test_crm_zoho_client import make_client

from crm_sync.config import parse_config
from crm_sync.errors import EXIT_LIMIT, EXIT_OK, DailyLimitExceeded
from crm_sync.state_sqlite import SqliteStateStore
from crm_sync.testing import FakeOdoo, ZohoEmulator
from crm_sync.zoho_client import ZohoClient
from crm_sync.zoho_credits import CREDITS_KEY, EDITION_CONCURRENCY, CreditLedger, call_cost


def test_call_costs_follow_zohos_published_table() -> None:
    assert call_cost("GET", "/Accounts") == 1  # a page of up to 200 records
    assert call_cost("GET", "/Accounts/deleted") == 1
    assert call_cost("GET", "/settings/fields") == 1
    data = {"data": [{}] * 100}
    assert call_cost("POST", "/Accounts/upsert", data) == 10  # 1 credit per 10 records
    assert call_cost("POST", "/Accounts/upsert", {"data": [{}] * 95}) == 10
    assert call_cost("POST", "/Accounts/upsert", {"data": [{}]}) == 1
    assert call_cost("PUT", "/Accounts", {"data": [{}] * 21}) == 3  # update
    assert call_cost("POST", "/Accounts", {"data": [{}] * 10}) == 1  # insert
    assert (
        parse_config(
            {"crm": {"client_id": "x"}, "odoo": {"url": "https://o", "database": "d", "login": "l"}}
        ).crm.concurrency_limit
        == EDITION_CONCURRENCY["standard"]
    )  # type: ignore[union-attr]


def test_the_day_total_is_shared_by_runs_of_the_same_utc_day(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    day = dt.date(2026, 12, 7)
    first = CreditLedger(store, daily_budget=25, today=lambda: day)
    first.charge(10)
    first.charge(10)
    second = CreditLedger(store, daily_budget=25, today=lambda: day)  # a later run
    assert second.spent_today() == 20
    with pytest.raises(DailyLimitExceeded) as caught:
        second.charge(10)
    assert caught.value.exit_code == EXIT_LIMIT and caught.value.code == "CREDIT_BUDGET_EXCEEDED"
    assert second.spent == 0 and second.spent_today() == 20  # a refused call is not counted
    second.charge(5)  # up to the budget exactly
    tomorrow = CreditLedger(store, daily_budget=25, today=lambda: day + dt.timedelta(days=1))
    assert tomorrow.spent_today() == 0
    tomorrow.charge(25)
    store.close()


def credits_row(state_path: Path) -> dict[str, Any]:
    [(value,)] = state_rows(
        state_path, "SELECT value FROM sync_state WHERE key = ?", (CREDITS_KEY,)
    )
    return json.loads(value)


def test_run_reports_credits_and_stops_before_the_daily_budget_with_cursors_saved(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, tmp_path: Path, monkeypatch, capsys
) -> None:
    add_customers(fake_odoo, 450)  # 5 upserts of up to 100: 10 credits each
    state_path = tmp_path / "state.sqlite3"
    config = config_for(zoho_emulator, fake_odoo, state_path)
    # Before the push: 2 field-metadata calls, 1 read of changed and 1 of deleted accounts.
    config.crm.daily_credit_budget = 4 + 2 * 10  # type: ignore[union-attr]
    path = write_config(tmp_path / "crm-sync.toml", config)
    for key, value in env_for(zoho_emulator, fake_odoo).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CRM_SYNC_CONFIG", str(path))

    assert run_cli("run") == EXIT_LIMIT
    err = capsys.readouterr().err
    assert "credit budget" in err and "24 of 24" in err
    assert zoho_emulator.upsert_calls() == 2 and len(zoho_emulator.records("Accounts")) == 200
    assert len(state_rows(state_path, "SELECT * FROM id_map")) == 200  # committed per batch
    [(summary,)] = state_rows(state_path, "SELECT value FROM sync_state WHERE key = 'last_run'")
    last_run = json.loads(summary)
    assert last_run["stopped"] == "CREDIT_BUDGET_EXCEEDED" and last_run["crm_credits"] == 24
    assert last_run["crm_created"] == 200
    assert credits_row(state_path)["spent"] == 24

    assert run_cli("run") == EXIT_LIMIT  # the same UTC day: nothing more is sent
    assert zoho_emulator.upsert_calls() == 2

    # The next UTC day (the stored day moved back): the run resumes where the cursor stopped.
    db = sqlite3.connect(state_path)
    with db:
        yesterday = (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)).isoformat()
        db.execute(
            "UPDATE sync_state SET value = ? WHERE key = ?",
            (json.dumps({"day": yesterday, "spent": 24}), CREDITS_KEY),
        )
    db.close()
    config.crm.daily_credit_budget = 1000  # type: ignore[union-attr]
    write_config(path, config)
    capsys.readouterr()
    assert run_cli("run") == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["crm_created"] == 250 and zoho_emulator.upsert_calls() == 2 + 3
    assert len(zoho_emulator.records("Accounts")) == 450  # none twice
    # This run's reads (fields ×2, changed and deleted accounts, payments) and 3 upserts.
    assert report["crm_credits"] == 5 + 10 + 10 + 5
    assert credits_row(state_path) == {
        "day": dt.datetime.now(dt.timezone.utc).date().isoformat(),
        "spent": report["crm_credits"],
    }


def test_calls_in_flight_stay_within_the_concurrency_limit(make_zoho_emulator) -> None:
    crm = make_zoho_emulator(latency=0.05)
    client = ZohoClient(make_client(crm).auth, concurrency=3)
    in_flight, peak = 0, 0
    lock = threading.Lock()
    send = client._session.request

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return send(*args, **kwargs)
        finally:
            with lock:
                in_flight -= 1

    client._session.request = counting  # type: ignore[method-assign]
    client.auth.access()
    threads = [
        threading.Thread(target=client.request, args=("GET", "/Accounts/deleted"))
        for _ in range(12)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 3
    assert time.monotonic() - started >= 4 * 0.05  # 12 calls, 3 at a time
    assert client.credits.spent == 12
