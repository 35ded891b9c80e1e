"""The Zoho connector against the emulator: OAuth, paging, upsert, retries (no real sleeping)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import SecretStr

from crm_sync.errors import AuthError, RateLimited, RemoteUnavailable, ValidationError
from crm_sync.retry import RetryPolicy, parse_retry_after
from crm_sync.testing import Fault, ZohoEmulator
from crm_sync.zoho_auth import MemoryTokenStore, ZohoAuth
from crm_sync.zoho_client import ZohoClient


def make_client(crm: ZohoEmulator, sleeps=None, store=None, **auth_options) -> ZohoClient:
    options = {
        "accounts_url": crm.accounts_url(),
        "client_id": crm.client_id,
        "client_secret": SecretStr(crm.client_secret),
        "refresh_token": SecretStr(crm.refresh_token),
        "store": store or MemoryTokenStore(),
        **auth_options,
    }
    retry = RetryPolicy(max_attempts=4, base_delay=1.0, sleep=sleeps or (lambda s: None))
    return ZohoClient(ZohoAuth(**options), retry=retry, timeout=5)


def test_uses_the_api_domain_of_the_token_and_persists_the_token(
    make_zoho_emulator,
) -> None:
    crm = make_zoho_emulator(data_centre="eu")
    crm.add_record("Accounts", {"Account_Name": "Acme"})
    store = MemoryTokenStore()
    first = make_client(crm, store=store)
    assert [
        r["Account_Name"] for page in first.iter_records("Accounts", ["Account_Name"]) for r in page
    ] == ["Acme"]
    assert first.auth.access()[1] == crm.api_domain("eu")
    # A second process with the same store reuses the token: no second refresh.
    second = make_client(crm, store=store)
    list(second.iter_records("Accounts", ["Account_Name"]))
    assert crm.token_requests == 1


def test_refresh_token_errors_answered_with_http_200(zoho_emulator: ZohoEmulator) -> None:
    client = make_client(zoho_emulator, refresh_token=SecretStr("1000.revoked"))
    with pytest.raises(AuthError) as caught:
        list(client.iter_records("Accounts", ["Account_Name"]))
    assert caught.value.code == "invalid_code"
    wrong_dc = make_client(zoho_emulator, accounts_url=zoho_emulator.accounts_url("eu"))
    with pytest.raises(AuthError):
        list(wrong_dc.iter_records("Accounts", ["Account_Name"]))


def test_cached_token_is_not_reused_with_another_refresh_token(
    zoho_emulator: ZohoEmulator,
) -> None:
    store = MemoryTokenStore()
    assert make_client(zoho_emulator, store=store).auth.access()[0]
    other = make_client(zoho_emulator, store=store, refresh_token=SecretStr("1000.wrong"))
    with pytest.raises(AuthError) as caught:
        other.auth.access()
    assert caught.value.code == "invalid_code"
    assert zoho_emulator.token_requests == 2
    stored = repr(store._tokens)
    assert zoho_emulator.refresh_token not in stored and "1000.wrong" not in stored
    assert zoho_emulator.client_secret not in stored


def test_token_from_another_data_centre_is_refused(zoho_emulator: ZohoEmulator) -> None:
    import requests

    token = zoho_emulator.issue_token("eu")
    response = requests.get(
        f"{zoho_emulator.api_domain('com')}/crm/v8/Accounts",
        params={"fields": "Account_Name"},
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"


def test_refresh_budget_is_kept_client_side(make_zoho_emulator) -> None:
    crm = make_zoho_emulator(token_ttl=1)  # every token is "nearly expired" at once
    client = make_client(crm)
    for _ in range(10):
        client.auth.access()
    assert crm.token_requests == 10
    with pytest.raises(RateLimited) as caught:
        client.auth.access()
    assert crm.token_requests == 10  # the 11th refresh never left the process
    assert 0 < caught.value.retry_after <= 600


def test_server_side_refresh_throttling(make_zoho_emulator) -> None:
    crm = make_zoho_emulator(refresh_limit=2, token_ttl=1)
    stores = [MemoryTokenStore() for _ in range(3)]
    make_client(crm, store=stores[0]).auth.access()
    make_client(crm, store=stores[1]).auth.access()
    with pytest.raises(RateLimited) as caught:
        make_client(crm, store=stores[2]).auth.access()
    assert caught.value.code == "token_throttled"


def test_pages_switch_to_page_token_beyond_2000_records(zoho_emulator: ZohoEmulator) -> None:
    for index in range(2450):
        zoho_emulator.put_raw(
            "Accounts",
            {
                "id": str(10_000 + index),
                "Account_Name": f"A{index}",
                "Modified_Time": "2024-05-01T10:00:00+00:00",
            },
        )
    client = make_client(zoho_emulator)
    pages = list(client.iter_records("Accounts", ["Account_Name"], sort_by="id"))
    assert [len(page) for page in pages] == [200] * 12 + [50]
    ids = [record["id"] for page in pages for record in page]
    assert len(set(ids)) == 2450
    assert client.calls["GET /Accounts"] == 13


def test_if_modified_since_and_304(zoho_emulator: ZohoEmulator) -> None:
    zoho_emulator.put_raw(
        "Accounts", {"id": "1", "Account_Name": "Old", "Modified_Time": "2024-01-01T00:00:00+00:00"}
    )
    zoho_emulator.put_raw(
        "Accounts", {"id": "2", "Account_Name": "New", "Modified_Time": "2024-03-01T00:00:00+00:00"}
    )
    client = make_client(zoho_emulator)
    since = dt.datetime(2024, 2, 1, tzinfo=dt.timezone.utc)
    pages = list(client.iter_records("Accounts", ["Account_Name"], since=since))
    assert [r["Account_Name"] for page in pages for r in page] == ["New"]
    later = dt.datetime(2024, 4, 1, tzinfo=dt.timezone.utc)
    assert list(client.iter_records("Accounts", ["Account_Name"], since=later)) == []


def test_field_and_batch_limits_are_enforced_before_calling(zoho_emulator: ZohoEmulator) -> None:
    client = make_client(zoho_emulator)
    with pytest.raises(ValidationError) as caught:
        list(client.iter_records("Accounts", [f"F{i}" for i in range(51)]))
    assert caught.value.field == "fields"
    with pytest.raises(ValidationError):
        client.upsert("Accounts", [{"Account_Name": "x"}] * 101, duplicate_check_fields=["id"])
    assert sum(zoho_emulator.calls.values()) == 0


def test_invalid_token_mid_run_refreshes_once(zoho_emulator: ZohoEmulator) -> None:
    zoho_emulator.add_record("Accounts", {"Account_Name": "Acme"})
    client = make_client(zoho_emulator)
    list(client.iter_records("Accounts", ["Account_Name"]))
    zoho_emulator.expire_tokens()
    assert len(list(client.iter_records("Accounts", ["Account_Name"]))) == 1
    assert zoho_emulator.token_requests == 2


def test_429_honours_retry_after_without_sleeping(zoho_emulator: ZohoEmulator, sleeps) -> None:
    zoho_emulator.add_record("Accounts", {"Account_Name": "Acme"})
    zoho_emulator.inject(Fault(count=2, status=429, retry_after=7))
    client = make_client(zoho_emulator, sleeps=sleeps)
    assert len(list(client.iter_records("Accounts", ["Account_Name"]))) == 1
    assert len(sleeps.calls) == 2
    assert all(7 <= delay <= 8 for delay in sleeps.calls)  # Retry-After plus jitter


def test_5xx_burst_backs_off_then_gives_up(zoho_emulator: ZohoEmulator, sleeps) -> None:
    zoho_emulator.add_record("Accounts", {"Account_Name": "Acme"})
    zoho_emulator.inject(Fault(count=3, status=503))
    client = make_client(zoho_emulator, sleeps=sleeps)
    assert len(list(client.iter_records("Accounts", ["Account_Name"]))) == 1
    assert len(sleeps.calls) == 3
    zoho_emulator.inject(Fault(count=10, status=500))
    with pytest.raises(RemoteUnavailable):
        list(client.iter_records("Accounts", ["Account_Name"]))


def test_backoff_grows_and_is_jittered() -> None:
    import random

    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(3))
    ceilings = [1, 2, 4, 8, 8]
    delays = [policy.delay(attempt) for attempt in range(1, 6)]
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings))
    assert len(set(delays)) == len(delays)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10.0
    assert parse_retry_after("soon") is None


def test_upsert_returns_per_record_results(zoho_emulator: ZohoEmulator) -> None:
    client = make_client(zoho_emulator)
    results = client.upsert(
        "Accounts",
        [{"Account_Name": "A", "Odoo_Partner_ID": "1"}, {"Odoo_Partner_ID": "2"}],
        duplicate_check_fields=["Odoo_Partner_ID"],
    )
    assert [r["status"] for r in results] == ["success", "error"]
    again = client.upsert(
        "Accounts",
        [{"Account_Name": "A2", "Odoo_Partner_ID": "1"}],
        duplicate_check_fields=["Odoo_Partner_ID"],
    )
    assert again[0]["action"] == "update"
    assert [r["Account_Name"] for r in zoho_emulator.records("Accounts")] == ["A2"]
