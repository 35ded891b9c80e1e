"""Zoho paging at any size: 2,000 by page number, page tokens, then windows by time."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import requests
from test_crm_zoho_client import make_client

from crm_sync.errors import RemoteError
from crm_sync.testing import ZohoEmulator

EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def stamp(seconds: int) -> str:
    return (EPOCH + dt.timedelta(seconds=seconds)).isoformat()


def fill_records(crm: ZohoEmulator, count: int, per_second: int = 7) -> None:
    """``count`` accounts, ``per_second`` of them sharing each Modified_Time second."""
    for index in range(count):
        crm.put_raw(
            "Accounts",
            {"id": str(10_000 + index), "Account_Name": f"A{index}",
             "Modified_Time": stamp(index // per_second)},
        )  # fmt: skip


def fill_deleted(crm: ZohoEmulator, count: int, per_second: int = 7) -> None:
    for index in range(count):
        crm.put_deleted(
            "Accounts",
            {"id": str(90_000 + index), "display_name": f"D{index}", "type": "recycle",
             "deleted_time": stamp(index // per_second)},
        )  # fmt: skip


def api_get(crm: ZohoEmulator, path: str, **params: object) -> requests.Response:
    headers = {"Authorization": f"Zoho-oauthtoken {crm.issue_token()}"}
    return requests.get(f"{crm.api_domain()}/crm/v8{path}", params=params, headers=headers)


def test_emulator_refuses_pages_past_2000_and_tokens_past_the_cap(
    make_zoho_emulator,
) -> None:
    crm = make_zoho_emulator(page_token_limit=2200)
    fill_records(crm, 2600)
    fill_deleted(crm, 2600)
    for path, params in (("/Accounts", {"fields": "Account_Name"}), ("/Accounts/deleted", {})):
        refused = api_get(crm, path, page=11, per_page=200, **params)
        assert refused.status_code == 400
        assert refused.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
        info = api_get(crm, path, page=10, per_page=200, **params).json()["info"]
        assert info["more_records"] and info["next_page_token"]
        token = info["next_page_token"]
        page_11 = api_get(crm, path, page_token=token, per_page=200, **params)
        assert page_11.status_code == 200 and len(page_11.json()["data"]) == 200
        capped = api_get(crm, path, page_token=page_11.json()["info"]["next_page_token"],
                         per_page=200, **params)  # fmt: skip
        assert capped.status_code == 400
        assert capped.json() == {
            "code": "PAGINATION_LIMIT_EXCEEDED",
            "details": {"limit": 2200},
            "message": "Only 2200 records can be fetched with page_token",
            "status": "error",
        }


def test_deleted_records_beyond_2000_are_read_by_page_token(zoho_emulator: ZohoEmulator) -> None:
    fill_deleted(zoho_emulator, 2450)
    client = make_client(zoho_emulator)
    pages = list(client.iter_deleted("Accounts"))
    ids = [row["id"] for page in pages for row in page]
    assert len(ids) == len(set(ids)) == 2450
    assert [len(page) for page in pages] == [200] * 12 + [50]


@pytest.mark.parametrize("listing", ["records", "deleted"])
def test_past_the_page_token_cap_reading_continues_by_time_without_loss_or_repeat(
    make_zoho_emulator, listing: str
) -> None:
    # Cap 3,000: with 7 records per second, a window ends inside a second, so the next
    # window re-reads that second and must drop what it already read.
    crm = make_zoho_emulator(page_token_limit=3000)
    count = 7_777
    (fill_records if listing == "records" else fill_deleted)(crm, count)
    client = make_client(crm)
    if listing == "records":
        pages = client.iter_records("Accounts", ["Account_Name", "Modified_Time"])
        key = "Modified_Time"
    else:
        pages = client.iter_deleted("Accounts")
        key = "deleted_time"
    records = [record for page in pages for record in page]
    seen = Counter(record["id"] for record in records)
    assert len(seen) == count and set(seen.values()) == {1}
    stamps = [record[key] for record in records]
    assert stamps == sorted(stamps) and stamps[-1] == stamp((count - 1) // 7)
    path = "GET /Accounts" + ("" if listing == "records" else "/deleted")
    # Windows of 3,000 records (15 pages, then the refused token): the second starts at the
    # second of record 2,999 (records 2,996..), the third at that of record 5,995 (5,992..).
    assert client.calls[path] == (15 + 1) + (15 + 1) + 9


def test_more_records_in_one_second_than_the_cap_stop_with_a_clear_error(
    make_zoho_emulator,
) -> None:
    crm = make_zoho_emulator(page_token_limit=2200)
    fill_records(crm, 2500, per_second=10_000)  # all in the same second
    client = make_client(crm)
    with pytest.raises(RemoteError) as caught:
        list(client.iter_records("Accounts", ["Account_Name"]))
    assert caught.value.code == "PAGINATION_STALLED"
    assert "Modified_Time" in caught.value.message


def test_a_read_not_in_time_order_does_not_continue_by_time(make_zoho_emulator) -> None:
    crm = make_zoho_emulator(page_token_limit=2200)
    fill_records(crm, 2500)
    client = make_client(crm)
    with pytest.raises(RemoteError) as caught:
        list(client.iter_records("Accounts", ["Account_Name"], sort_by="id"))
    assert caught.value.code == "PAGINATION_LIMIT_EXCEEDED"
