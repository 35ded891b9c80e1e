"""The engine over the FXiaoKe connector, against the emulator: the Zoho guarantees."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import add_customers, sync_config
from pydantic import SecretStr

from crm_sync.cli import main
from crm_sync.config import Config, Secrets
from crm_sync.engine import CURSOR_ERP_CUSTOMERS, CUSTOMERS, DL_PAYMENTS, DL_PULL, DL_PUSH
from crm_sync.errors import EXIT_LIMIT, AuthError, RateLimited, RemoteUnavailable
from crm_sync.fxiaoke_connector import to_epoch_ms
from crm_sync.runtime import Runtime
from crm_sync.testing import FakeOdoo
from crm_sync.testing.fxiaoke_emulator import (
    ACCOUNT_FIELDS,
    Fault,
    FxiaokeEmulator,
    ObjectSchema,
    default_objects,
)
from crm_sync.testing.pytest_plugin import fxiaoke_emulator, make_fxiaoke_emulator

__all__ = ["fxiaoke_emulator", "make_fxiaoke_emulator"]


def fxiaoke_config(
    crm: FxiaokeEmulator,
    odoo: FakeOdoo,
    state: Path,
    crm_options: dict[str, Any] | None = None,
    **sync: Any,
) -> Config:
    crm_section = {
        "kind": "fxiaoke",
        "base_url": crm.base_url,
        "app_id": crm.app_id,
        "current_open_user_id": crm.open_user_id,
        "timeout_seconds": 5,
        **(crm_options or {}),
    }
    return sync_config(crm_section, odoo, state, **sync)


@pytest.fixture
def fxiaoke_runtime(tmp_path: Path, runtime_builder) -> Callable[..., Runtime]:
    def factory(
        crm: FxiaokeEmulator,
        odoo: FakeOdoo,
        *,
        app_secret: str | None = None,
        crm_options: dict[str, Any] | None = None,
        **sync: Any,
    ):
        secrets = Secrets(
            fxiaoke_app_secret=SecretStr(app_secret or crm.app_secret),
            fxiaoke_permanent_code=SecretStr(crm.permanent_code),
            odoo_api_key=SecretStr(odoo.api_key),
        )
        config = fxiaoke_config(crm, odoo, tmp_path / "state.sqlite3", crm_options, **sync)
        return runtime_builder(config, secrets)

    return factory


def test_initial_push_then_quiet_pass_then_one_percent_costs_in_proportion(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, fxiaoke_runtime
) -> None:
    crm = fxiaoke_emulator
    ids = add_customers(fake_odoo, 300)
    runtime = fxiaoke_runtime(crm, fake_odoo)
    report = runtime.engine.run()
    assert report.counters["crm_created"] == 300
    assert crm.calls["crm/v2/data/create"] == 300  # the API creates one record per call
    pushed = crm.by_external_id()
    assert sorted(pushed) == sorted(str(i) for i in ids)
    sample = pushed[str(ids[7])]
    assert (sample["name"], sample["email"], sample["uniform_social_credit_code"]) == (
        "Customer 00007",
        "customer7@example.com",
        "BE0000000007",
    )
    assert (sample["credit_limit__c"], sample["credit_hold__c"]) == ("1007.00", False)
    assert runtime.state.counts()[CUSTOMERS] == 300
    assert crm.token_requests == 1

    crm.calls.clear()
    fake_odoo.calls.clear()
    runtime.engine.run()
    assert crm.write_calls() == 0  # reads back its own echoes, sends nothing
    assert fake_odoo.calls["res.partner.write"] == 0

    crm.calls.clear()
    changed = ids[::100]  # 3 customers, 1%
    for partner_id in changed:
        fake_odoo.write("res.partner", [partner_id], {"credit_limit": 5.0})
    report = runtime.engine.run()
    assert report.counters["crm_updated"] == 3
    assert (crm.calls["crm/v2/data/update"], crm.calls["crm/v2/data/create"]) == (3, 0)
    assert crm.calls["crm/v2/data/query"] <= 6  # reads stay small too
    assert {crm.by_external_id()[str(i)]["credit_limit__c"] for i in changed} == {"5.00"}


def test_crm_edits_matching_invalidation_and_payments(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, fxiaoke_runtime
) -> None:
    crm = fxiaoke_emulator
    ids = add_customers(fake_odoo, 3)
    known = fake_odoo.create(
        "res.partner", {"name": "Known NV", "is_company": True, "vat": "91310000MA1FL0000X"}
    )
    by_vat = crm.add_record(
        "AccountObj", {"name": "已知公司", "uniform_social_credit_code": "91310000MA1FL0000X"}
    )
    fresh = crm.add_record("AccountObj", {"name": "新客户有限公司", "tel": "021-5555"})
    runtime = fxiaoke_runtime(crm, fake_odoo)
    runtime.engine.run()
    links = runtime.state.mappings_by_remote(CUSTOMERS, [by_vat, fresh])
    assert links[by_vat].local_id == str(known)
    created = fake_odoo.data["res.partner"][int(links[fresh].local_id)]
    assert (created["name"], created["phone"]) == ("新客户有限公司", "021-5555")
    assert crm.get("AccountObj", fresh)["odoo_partner_id__c"] == links[fresh].local_id
    assert len(crm.records("AccountObj")) == 5

    account = crm.by_external_id()[str(ids[0])]
    crm.update_record("AccountObj", account["_id"], {"name": "CRM 改名", "tel": "+86 10 1"})
    crm.invalidate_record("AccountObj", crm.by_external_id()[str(ids[1])]["_id"])
    paid_on = dt.datetime(2024, 6, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    crm.add_record(
        "PaymentObj",
        {
            "account_id": account["_id"],
            "payment_amount": "250.50",
            "payment_time": to_epoch_ms(paid_on),
            "remark": "电汇 42",
        },
    )
    crm.add_record(
        "PaymentObj",
        {"account_id": "nobody", "payment_amount": "10.00", "payment_time": to_epoch_ms(paid_on)},
    )
    report = runtime.engine.run()
    partner = fake_odoo.data["res.partner"][ids[0]]
    assert (partner["name"], partner["phone"]) == ("CRM 改名", "+86 10 1")
    assert report.counters["odoo_archived"] == 1
    assert fake_odoo.data["res.partner"][ids[1]]["active"] is False
    [payment] = fake_odoo.data["account.payment"].values()
    assert (payment["partner_id"], payment["amount"], payment["date"], payment["memo"]) == (
        ids[0],
        250.5,
        "2024-06-01",
        "电汇 42",
    )
    assert [d.code for d in runtime.state.dead_letters(DL_PAYMENTS)] == ["unknown_customer"]
    runtime.engine.run(full=True)
    assert len(fake_odoo.data["account.payment"]) == 1


def test_rejected_and_malformed_records_are_dead_lettered_and_replayed(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, fxiaoke_runtime
) -> None:
    crm = fxiaoke_emulator
    ids = add_customers(fake_odoo, 5)
    fake_odoo.write("res.partner", [ids[2]], {"email": "not-an-email"})
    crm.put_raw(
        "AccountObj",
        {
            "_id": "broken",
            "name": "Broken clock",
            "last_modified_time": "yesterday",
            "life_status": "normal",
        },
    )
    runtime = fxiaoke_runtime(crm, fake_odoo)
    report = runtime.engine.run()
    assert report.partial and report.counters["crm_created"] == 4
    [push] = runtime.state.dead_letters(DL_PUSH)
    assert (push.record_key, push.code) == (str(ids[2]), "FXIAOKE_32000")
    assert "email" in push.error
    [pull] = runtime.state.dead_letters(DL_PULL)
    assert (pull.record_key, pull.code) == ("broken", "malformed")
    assert runtime.state.get_value(CURSOR_ERP_CUSTOMERS) is not None

    fake_odoo.write("res.partner", [ids[2]], {"email": "fixed@example.com"})
    replay = runtime.engine.replay()
    assert replay.counters["crm_created"] == 1
    assert crm.by_external_id()[str(ids[2])]["email"] == "fixed@example.com"
    assert {d.record_key for d in runtime.state.dead_letters()} == {"broken"}


def test_rate_limits_and_busy_codes_are_retried_outage_keeps_cursor_quota_stops(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, fxiaoke_runtime, sleeps
) -> None:
    crm = fxiaoke_emulator
    add_customers(fake_odoo, 20)
    crm.inject(Fault(count=3, error_code=30004, path_contains="create"))
    crm.inject(Fault(count=1, error_code=-1, path_contains="query"))
    crm.inject(Fault(count=1, status=502, path_contains="query"))
    runtime = fxiaoke_runtime(crm, fake_odoo)
    assert runtime.engine.run().counters["crm_created"] == 20
    assert len(sleeps.calls) == 5
    assert len(crm.records("AccountObj")) == 20

    add_customers(fake_odoo, 5, start=900)
    cursor = runtime.state.get_value(CURSOR_ERP_CUSTOMERS)
    outage = crm.inject(Fault(count=50, error_code=50009, path_contains="create"))
    with pytest.raises(RemoteUnavailable):
        runtime.engine.run()
    assert runtime.state.get_value(CURSOR_ERP_CUSTOMERS) == cursor
    outage.count = 0
    sleeps.calls.clear()
    crm.inject(Fault(count=1, error_code=30002, path_contains="create"))
    with pytest.raises(RateLimited) as caught:
        runtime.engine.run()
    assert caught.value.exit_code == EXIT_LIMIT and sleeps.calls == []  # daily quota: no retry loop
    assert runtime.engine.run().counters["crm_created"] == 5
    assert len(crm.records("AccountObj")) == 25


def test_expired_token_is_renewed_once_and_ahead_of_expiry(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, fxiaoke_runtime
) -> None:
    crm = fxiaoke_emulator
    add_customers(fake_odoo, 30)
    runtime = fxiaoke_runtime(crm, fake_odoo)
    original = runtime.crm.upsert_customers
    sent: list[int] = []

    def expire_between_batches(batch):
        crm.expire_tokens()
        sent.append(len(batch))
        return original(batch)

    runtime.crm.batch_size = 10
    runtime.crm.upsert_customers = expire_between_batches
    assert runtime.engine.run().counters["crm_created"] == 30
    assert crm.token_requests == 1 + len(sent) == 4  # the first, then one per expiry

    # A token refused again right after renewal is an authentication error, not a loop.
    crm.inject(Fault(count=5, error_code=20016, path_contains="query"))
    with pytest.raises(AuthError) as caught:
        runtime.engine.run()
    assert caught.value.exit_code == 3

    # Renewal ahead of expiry: 6,600 s into the token's life a new one is fetched unasked.
    now = [1_000_000.0]
    auth = runtime.crm.client.auth
    auth._clock = crm.clock = lambda: now[0]
    crm.expire_tokens()
    auth.invalidate(auth._cached()["access_token"])
    first = auth.access()[0]
    now[0] += 6_500
    assert auth.access()[0] == first
    now[0] += 200
    assert auth.access()[0] != first


def test_secrets_never_reach_logs_reprs_or_errors(
    fxiaoke_emulator: FxiaokeEmulator,
    fake_odoo: FakeOdoo,
    fxiaoke_runtime,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    crm = fxiaoke_emulator
    add_customers(fake_odoo, 3)
    caplog.set_level(logging.DEBUG)
    crm.inject(Fault(count=1, error_code=20016))
    runtime = fxiaoke_runtime(crm, fake_odoo)
    runtime.engine.run()
    token = runtime.crm.client.auth.access()[0]
    texts = [caplog.text, repr(runtime.crm), repr(runtime.crm.client), repr(runtime.crm.settings)]
    with pytest.raises(AuthError) as caught:
        fxiaoke_runtime(crm, fake_odoo, app_secret="wrong-secret").crm.check()
    assert caught.value.code == "FXIAOKE_10006"
    texts += [str(caught.value), repr(caught.value), *capsys.readouterr()]
    for text in texts:
        for secret in (crm.app_secret, crm.permanent_code, token):
            assert secret not in text


def test_cli_init_kind_fxiaoke_then_check_and_run(
    fxiaoke_emulator: FxiaokeEmulator,
    fake_odoo: FakeOdoo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    crm = fxiaoke_emulator
    config = tmp_path / "crm-sync.toml"
    assert main(["--config", str(config), "init", "--kind", "fxiaoke"]) == 0
    text = config.read_text()
    assert 'kind = "fxiaoke"' in text and "permanent_code_env" in text
    for old, new in (
        ("https://open.fxiaoke.com", crm.base_url),
        ("FSAID_REPLACE_ME", crm.app_id),
        ("FSUID_REPLACE_ME", crm.open_user_id),
        ("https://odoo.example.com", fake_odoo.url),
        ('"production"', f'"{fake_odoo.database}"'),
        ("crm-sync@example.com", fake_odoo.login),
        ('path = "crm-sync.sqlite3"', f'path = "{tmp_path / "state.sqlite3"}"'),
    ):
        text = text.replace(old, new)
    config.write_text(text)
    add_customers(fake_odoo, 3)
    monkeypatch.setenv("ODOO_API_KEY", fake_odoo.api_key)
    monkeypatch.setenv("FXIAOKE_APP_SECRET", crm.app_secret)
    assert main(["--config", str(config), "check"]) == 2  # permanentCode variable missing
    monkeypatch.setenv("FXIAOKE_PERMANENT_CODE", "WRONG-CODE")
    assert main(["--config", str(config), "check"]) == 3
    monkeypatch.setenv("FXIAOKE_PERMANENT_CODE", crm.permanent_code)
    assert main(["--config", str(config), "check"]) == 0
    assert main(["--config", str(config), "run", "--no-progress"]) == 0
    assert len(crm.by_external_id()) == 3
    output = "".join(capsys.readouterr())
    assert crm.app_secret not in output and crm.permanent_code not in output


def test_writes_send_trigger_approval_flow_false_and_leave_records_unlocked(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, fxiaoke_runtime
) -> None:
    crm = fxiaoke_emulator
    ids = add_customers(fake_odoo, 3)
    runtime = fxiaoke_runtime(crm, fake_odoo)
    runtime.engine.run()
    fake_odoo.write("res.partner", [ids[0]], {"credit_limit": 5.0})
    runtime.engine.run()
    assert [w.path for w in crm.writes] == ["crm/v2/data/create"] * 3 + ["crm/v2/data/update"]
    assert all(w.trigger_approval_flow is False for w in crm.writes)
    assert all(w.trigger_work_flow is False for w in crm.writes)
    assert crm.locked("AccountObj") == []
    assert {r["life_status"] for r in crm.records("AccountObj")} == {"normal"}
    assert crm.by_external_id()[str(ids[0])]["credit_limit__c"] == "5.00"


def test_trigger_approval_flow_option_true_is_sent_and_starts_the_flow(
    fxiaoke_emulator: FxiaokeEmulator, fake_odoo: FakeOdoo, fxiaoke_runtime
) -> None:
    crm = fxiaoke_emulator
    add_customers(fake_odoo, 2)
    runtime = fxiaoke_runtime(crm, fake_odoo, crm_options={"trigger_approval_flow": True})
    assert runtime.engine.run().counters["crm_created"] == 2
    assert [w.trigger_approval_flow for w in crm.writes] == [True, True]
    assert len(crm.locked("AccountObj")) == 2  # the emulator's model of the approval lock


def test_custom_accounts_object_syncs_through_the_custom_object_paths(
    make_fxiaoke_emulator: Callable[..., FxiaokeEmulator], fake_odoo: FakeOdoo, fxiaoke_runtime
) -> None:
    custom = "credit_account__c"
    objects = {
        **default_objects(),
        custom: ObjectSchema(ACCOUNT_FIELDS, ("name",), ("odoo_partner_id__c",)),
    }
    crm = make_fxiaoke_emulator(objects=objects)
    ids = add_customers(fake_odoo, 3)
    runtime = fxiaoke_runtime(
        crm, fake_odoo, crm_options={"customer_object": custom, "payment_object": ""}
    )
    assert runtime.engine.run().counters["crm_created"] == 3
    assert sorted(r["odoo_partner_id__c"] for r in crm.records(custom)) == sorted(
        str(i) for i in ids
    )
    assert crm.records("AccountObj") == []
    fresh = crm.add_record(custom, {"name": "自定义客户", "tel": "021-7777"})
    fake_odoo.write("res.partner", [ids[1]], {"credit_limit": 9.0})
    runtime.engine.run()
    links = runtime.state.mappings_by_remote(CUSTOMERS, [fresh])
    assert fake_odoo.data["res.partner"][int(links[fresh].local_id)]["name"] == "自定义客户"
    used = {path for path, count in crm.calls.items() if count and "/data/" in path}
    assert used <= {f"crm/custom/v2/data/{op}" for op in ("query", "create", "update")}
    assert {"crm/custom/v2/data/query", "crm/custom/v2/data/update"} <= used
    updates = [w for w in crm.writes if w.path.endswith("update")]
    assert updates and all(w.skip_data_status_validate is False for w in updates)
    assert all(w.trigger_approval_flow is False for w in crm.writes)
    assert crm.locked(custom) == []
