"""FXiaoKe limits and token schemes, through the engine and the CLI against the emulator.

The emulator enforces the documented per-interface rate (100 calls in 20 s) on a clock the test
drives, answers 30004 past it and 30002 past the daily quota.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import add_customers
from test_fxiaoke_engine import fxiaoke_runtime  # noqa: F401 (fixture)

from crm_sync.cli import main
from crm_sync.config import default_config_text
from crm_sync.engine import CURSOR_ERP_CUSTOMERS
from crm_sync.errors import EXIT_LIMIT, DailyLimitExceeded, RateLimited
from crm_sync.pacing import DailyBudget, Pacer
from crm_sync.state import open_state_store
from crm_sync.testing import FakeOdoo
from crm_sync.testing.fxiaoke_emulator import FxiaokeEmulator
from crm_sync.testing.pytest_plugin import fxiaoke_emulator, make_fxiaoke_emulator
from crm_sync.zoho_auth import MemoryTokenStore

__all__ = ["fxiaoke_emulator", "make_fxiaoke_emulator"]


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_keeps_every_window_of_each_endpoint_under_the_limit() -> None:
    time = FakeTime()
    pacer = Pacer(100, 20.0, clock=time.clock, sleep=time.sleep)
    stamps: dict[str, list[float]] = {"create": [], "query": []}
    for i in range(350):
        endpoint = "create" if i % 7 else "query"
        pacer.acquire(endpoint)
        stamps[endpoint].append(time.now)
    creates = stamps["create"]
    assert len(creates) == 300 and len(stamps["query"]) == 50
    # No 20-second window holds more than 100 calls to one endpoint ...
    assert all(creates[i + 100] - creates[i] >= 20.0 for i in range(len(creates) - 100))
    # ... and the pacer waited only for the 200 creates past the first window's 100.
    assert len(time.slept) == 2 and time.now - 1_800_000_000.0 == pytest.approx(40.0)
    assert Pacer(0, 20.0, sleep=time.sleep).acquire("create") is None  # 0 disables pacing


def test_daily_budget_counts_across_instances_and_starts_again_at_midnight() -> None:
    time = FakeTime(start=1_800_000_000.0)  # 2027-01-15 08:00 UTC = 16:00 at UTC+8
    store = MemoryTokenStore()

    def budget() -> DailyBudget:
        return DailyBudget(3, store=store, key="k", clock=time.clock, label="FXiaoKe")

    for _ in range(3):
        budget().spend()  # a new instance per "run": the count lives in the store
    with pytest.raises(DailyLimitExceeded) as caught:
        budget().spend()
    assert caught.value.exit_code == EXIT_LIMIT and "daily_call_budget" in str(caught.value)
    time.now += 16 * 3600  # past midnight UTC
    budget().spend()
    assert budget().used() == 1


def test_push_is_paced_to_the_documented_rate_and_never_throttled(
    make_fxiaoke_emulator: Callable[..., FxiaokeEmulator],
    fake_odoo: FakeOdoo,
    fxiaoke_runtime,  # noqa: F811
    sleeps,
) -> None:
    time = FakeTime()
    crm = make_fxiaoke_emulator(clock=time.clock, rate_limit=(100, 20.0))
    add_customers(fake_odoo, 250)
    runtime = fxiaoke_runtime(crm, fake_odoo)
    runtime.crm.client.pacer = Pacer(100, 20.0, clock=time.clock, sleep=time.sleep)
    runtime.crm.client.auth._clock = time.clock
    report = runtime.engine.run()
    assert report.counters["crm_created"] == 250
    assert crm.calls["crm/v2/data/create"] == 250
    assert crm.rate_limited == 0 and sleeps.calls == []  # paced, so never refused nor retried
    assert time.now - 1_800_000_000.0 >= 40.0  # 250 creates need three 20-second windows
    assert len(crm.by_external_id()) == 250


def test_unpaced_push_is_throttled_stops_with_cursor_and_resumes_without_duplicates(
    make_fxiaoke_emulator: Callable[..., FxiaokeEmulator],
    fake_odoo: FakeOdoo,
    fxiaoke_runtime,  # noqa: F811
    sleeps,
) -> None:
    time = FakeTime()
    crm = make_fxiaoke_emulator(clock=time.clock, rate_limit=(100, 20.0))
    add_customers(fake_odoo, 150)
    runtime = fxiaoke_runtime(crm, fake_odoo, crm_options={"rate_limit_calls": 0})
    runtime.crm.client.auth._clock = time.clock
    with pytest.raises(RateLimited) as caught:
        runtime.engine.run()
    assert caught.value.exit_code == EXIT_LIMIT and caught.value.code == "30004"
    assert crm.rate_limited == 6 and len(sleeps.calls) == 5  # the documented code, retried
    assert runtime.state.get_value(CURSOR_ERP_CUSTOMERS) is not None  # first batch committed
    assert len(crm.records("AccountObj")) == 100

    time.now += 20.0  # the window has passed
    assert runtime.engine.run().counters["crm_created"] == 50
    assert len(crm.records("AccountObj")) == len(crm.by_external_id()) == 150


def test_quota_code_30002_is_a_daily_limit_without_retries(
    make_fxiaoke_emulator: Callable[..., FxiaokeEmulator],
    fake_odoo: FakeOdoo,
    fxiaoke_runtime,  # noqa: F811
    sleeps,
) -> None:
    crm = make_fxiaoke_emulator(daily_quota=20)
    add_customers(fake_odoo, 40)
    runtime = fxiaoke_runtime(crm, fake_odoo)
    with pytest.raises(DailyLimitExceeded) as caught:
        runtime.engine.run()
    assert caught.value.exit_code == EXIT_LIMIT and caught.value.code == "30002"
    assert sleeps.calls == []
    assert 0 < len(crm.records("AccountObj")) < 40
    crm.daily_quota = None  # the next day
    runtime.engine.run()
    assert len(crm.records("AccountObj")) == len(crm.by_external_id()) == 40


def _cli_config(crm: FxiaokeEmulator, odoo: FakeOdoo, tmp_path: Path, **crm_lines: str) -> Path:
    text = default_config_text("fxiaoke")
    for old, new in (
        ("https://open.fxiaoke.com", crm.base_url),
        ("FSAID_REPLACE_ME", crm.app_id),
        ("FSUID_REPLACE_ME", crm.open_user_id),
        ("https://odoo.example.com", odoo.url),
        ('"production"', f'"{odoo.database}"'),
        ("crm-sync@example.com", odoo.login),
        ('path = "crm-sync.sqlite3"', f'path = "{tmp_path / "state.sqlite3"}"'),
    ):
        text = text.replace(old, new)
    for key, value in crm_lines.items():
        if f"\n{key} = " in text:
            start = text.index(f"\n{key} = ") + 1
            text = text[:start] + f"{key} = {value}" + text[text.index("\n", start) :]
        else:
            text = text.replace('kind = "fxiaoke"\n', f'kind = "fxiaoke"\n{key} = {value}\n')
    config = tmp_path / "crm-sync.toml"
    config.write_text(text)
    return config


def test_cli_daily_budget_stops_with_exit_4_and_cursor_then_resumes(
    fxiaoke_emulator: FxiaokeEmulator,
    fake_odoo: FakeOdoo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    crm = fxiaoke_emulator
    add_customers(fake_odoo, 40)
    monkeypatch.setenv("ODOO_API_KEY", fake_odoo.api_key)
    monkeypatch.setenv("FXIAOKE_APP_SECRET", crm.app_secret)
    monkeypatch.setenv("FXIAOKE_PERMANENT_CODE", crm.permanent_code)
    config = _cli_config(crm, fake_odoo, tmp_path, daily_call_budget="30", upsert_batch_size="10")
    assert main(["--config", str(config), "run", "--no-progress"]) == EXIT_LIMIT
    assert "crm.daily_call_budget" in "".join(capsys.readouterr())
    assert sum(crm.calls.values()) == 30  # the budget, not one call more
    pushed = len(crm.records("AccountObj"))
    assert 0 < pushed < 40
    state = open_state_store("sqlite", path=str(tmp_path / "state.sqlite3"))
    try:
        assert state.get_value(CURSOR_ERP_CUSTOMERS) is not None  # whole batches committed
    finally:
        state.close()

    # The count is shared by every run of the day: a second run sends nothing.
    assert main(["--config", str(config), "run", "--no-progress"]) == EXIT_LIMIT
    assert sum(crm.calls.values()) == 30

    config = _cli_config(crm, fake_odoo, tmp_path, daily_call_budget="500", upsert_batch_size="10")
    assert main(["--config", str(config), "run", "--no-progress"]) == 0
    assert len(crm.records("AccountObj")) == len(crm.by_external_id()) == 40  # no duplicates


def _calls(crm: FxiaokeEmulator) -> list[dict[str, Any]]:
    """Bodies of the business calls (not of the token requests)."""
    return [body for body in crm.bodies if "appSecret" not in body]


def test_oauth_scheme_sends_bearer_headers_and_caches_the_token_in_the_state(
    make_fxiaoke_emulator: Callable[..., FxiaokeEmulator],
    fake_odoo: FakeOdoo,
    fxiaoke_runtime,  # noqa: F811
) -> None:
    crm = make_fxiaoke_emulator()
    crm.keep_bodies = True
    ids = add_customers(fake_odoo, 3)
    runtime = fxiaoke_runtime(crm, fake_odoo)  # auth defaults to "oauth"
    runtime.engine.run()
    assert crm.token_paths == ["/oauth2.0/token"]
    assert all("corpAccessToken" not in body for body in _calls(crm))
    assert all(body.get("convertUserId") is True for body in _calls(crm))  # FSUID_… configured
    assert all(
        h.get("x-fs-ea") == crm.ea and h.get("x-fs-userid") == crm.open_user_id for h in crm.headers
    )
    assert len(crm.by_external_id()) == 3

    # Another run (a new process) reuses the cached token; new credentials do not.
    fxiaoke_runtime(crm, fake_odoo).engine.run()
    assert crm.token_requests == 1
    crm.app_secret = "rotated-app-secret"
    fxiaoke_runtime(crm, fake_odoo, app_secret="rotated-app-secret").crm.check()
    assert crm.token_requests == 2

    # The CRM employee id, as the current docs name the user, goes without convertUserId.
    crm.bodies.clear()
    crm.headers.clear()
    fake_odoo.write("res.partner", [ids[0]], {"credit_limit": 7.0})
    by_employee = fxiaoke_runtime(
        crm,
        fake_odoo,
        app_secret="rotated-app-secret",
        crm_options={"current_open_user_id": crm.employee_id},
    )
    by_employee.engine.run()
    assert _calls(crm) and all("convertUserId" not in body for body in _calls(crm))
    assert {h.get("x-fs-userid") for h in crm.headers} == {crm.employee_id}


def test_corp_access_token_scheme_is_kept_behind_the_setting(
    make_fxiaoke_emulator: Callable[..., FxiaokeEmulator],
    fake_odoo: FakeOdoo,
    fxiaoke_runtime,  # noqa: F811
) -> None:
    crm = make_fxiaoke_emulator()
    crm.keep_bodies = True
    add_customers(fake_odoo, 3)
    runtime = fxiaoke_runtime(crm, fake_odoo, crm_options={"auth": "corp_access_token"})
    assert runtime.engine.run().counters["crm_created"] == 3
    assert crm.token_paths == ["/cgi/corpAccessToken/get/V2"]
    assert all(
        body.get("corpId") == crm.corp_id and body.get("currentOpenUserId") == crm.open_user_id
        for body in _calls(crm)
    )
    assert all("authorization" not in h and "x-fs-ea" not in h for h in crm.headers)
