"""Zoho's own Python SDK (zohocrmsdk8-0 7.0.0) works against the Zoho emulator, with no shim.

The SDK is pointed at the emulator only through its public configuration: a custom
``DataCenter.Environment`` (API and accounts URLs), an OAuth refresh token, a file token store.
It then does what it does against the real Zoho: refreshes the token at the accounts endpoint,
looks up the current user and the organisation (``/users?type=CurrentUser``, ``/org``), reads
``settings/modules`` and ``settings/fields`` to type every record field, and calls the record
APIs. Each call is parsed by the SDK's own model classes, so a shape the emulator gets wrong
fails here.
"""

from __future__ import annotations

import csv
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from official_zoho_sdk import SdkUnavailable, ensure_official_sdk

from crm_sync.testing import ZohoEmulator


@pytest.fixture(scope="module")
def zoho_sdk() -> SimpleNamespace:
    try:
        ensure_official_sdk()
    except SdkUnavailable as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Zoho's official SDK cannot be installed here (no network?): {exc}")
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
    from zohocrmsdk.src.com.zoho.api.logger import Logger
    from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api import record as rec
    from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
    from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
    from zohocrmsdk.src.com.zoho.crm.api.util.choice import Choice
    from zohocrmsdk.src.com.zoho.crm.api.util.utility import Utility

    return SimpleNamespace(
        OAuthToken=OAuthToken,
        FileStore=FileStore,
        Logger=Logger,
        ParameterMap=ParameterMap,
        rec=rec,
        DataCenter=DataCenter,
        Initializer=Initializer,
        SDKConfig=SDKConfig,
        Utility=Utility,
        SDKException=SDKException,
        Choice=Choice,
    )


@pytest.fixture(scope="module")
def crm() -> Iterator[ZohoEmulator]:
    # A 6-second token: the SDK refreshes a token with less than 5 s left, so after a short
    # wait the next call must go through the accounts endpoint again.
    with ZohoEmulator(token_ttl=6, refresh_limit=100) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def session(
    zoho_sdk: SimpleNamespace, crm: ZohoEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimpleNamespace]:
    """``Initializer.initialize`` against the emulator, as an integrator configures the SDK."""
    folder = tmp_path_factory.mktemp("zohosdk")
    environment = zoho_sdk.DataCenter.Environment(
        crm.api_domain(), f"{crm.accounts_url()}/oauth/v2/token", crm.base_url
    )
    token = zoho_sdk.OAuthToken(
        client_id=crm.client_id, client_secret=crm.client_secret, refresh_token=crm.refresh_token
    )
    store_path = folder / "tokens.csv"
    # The SDK caches the module list in class attributes: start from a clean slate.
    zoho_sdk.Utility.api_supported_modules = {}
    zoho_sdk.Initializer.initialize(
        environment=environment,
        token=token,
        store=zoho_sdk.FileStore(str(store_path)),
        sdk_config=zoho_sdk.SDKConfig(auto_refresh_fields=True, pick_list_validation=True),
        resource_path=str(folder),
        logger=zoho_sdk.Logger.get_instance(zoho_sdk.Logger.Levels.INFO, str(folder / "sdk.log")),
    )
    yield SimpleNamespace(store_path=store_path, log_path=folder / "sdk.log")
    sdk_logger = logging.getLogger("SDKLogger")  # the SDK's file handler outlives the session
    for handler in list(sdk_logger.handlers):
        sdk_logger.removeHandler(handler)
        handler.close()


def _value(choice: Any) -> Any:
    """The SDK wraps enumerated answers (status, code, type) in ``Choice``."""
    return choice.get_value() if hasattr(choice, "get_value") else choice


def test_sdk_initialises_against_the_emulator(crm: ZohoEmulator, session: SimpleNamespace) -> None:
    assert crm.token_requests == 1
    # The SDK names a token's user "<email>:<org zgid>" from /users?type=CurrentUser and /org;
    # an answer in the wrong shape leaves it empty.
    with session.store_path.open() as handle:
        [row] = list(csv.DictReader(handle))
    assert row["user_name"] == "admin@example.com:700012345"
    assert row["refresh_token"] == crm.refresh_token
    assert crm.calls["GET /users"] == 1 and crm.calls["GET /org"] == 1


def test_get_records_pages_with_the_page_token(
    zoho_sdk: SimpleNamespace, crm: ZohoEmulator, session: SimpleNamespace
) -> None:
    ids = [
        crm.add_record(
            "Accounts",
            {
                "Account_Name": f"Page {n}",
                "Odoo_Partner_ID": f"p{n}",
                "Credit_Limit": 1000.5 * n,
                "Credit_Hold": n == 2,
                "Industry": "Retail",
            },
        )  # fmt: skip
        for n in range(3)
    ]
    operations = zoho_sdk.rec.RecordOperations("Accounts")
    seen: dict[str, Any] = {}
    token = None
    for _ in range(3):
        params = zoho_sdk.ParameterMap()
        params.add(
            zoho_sdk.rec.GetRecordsParam.fields,
            "Account_Name,Odoo_Partner_ID,Credit_Limit,Credit_Hold,Industry",
        )
        params.add(zoho_sdk.rec.GetRecordsParam.per_page, 2)
        params.add(zoho_sdk.rec.GetRecordsParam.sort_order, "asc")
        if token:
            params.add(zoho_sdk.rec.GetRecordsParam.page_token, token)
        response = operations.get_records(params)
        assert response.get_status_code() == 200
        wrapper = response.get_object()
        assert isinstance(wrapper, zoho_sdk.rec.ResponseWrapper), wrapper
        for record in wrapper.get_data():
            seen[str(record.get_id())] = record
        info = wrapper.get_info()
        token = info.get_next_page_token()
        if not info.get_more_records():
            break
    assert sorted(seen) == sorted(ids)
    second = seen[ids[2]]
    assert second.get_key_value("Account_Name") == "Page 2"
    assert second.get_key_value("Credit_Limit") == pytest.approx(2001.0)
    assert second.get_key_value("Credit_Hold") is True
    assert seen[ids[0]].get_key_value("Credit_Hold") is False
    assert _value(second.get_key_value("Industry")) == "Retail"
    # The SDK typed those values from the emulator's field metadata, read once per module.
    assert crm.calls["GET /settings/modules"] >= 1
    assert crm.calls["GET /settings/fields"] >= 1


def test_get_record(zoho_sdk: SimpleNamespace, crm: ZohoEmulator, session: SimpleNamespace) -> None:
    record_id = crm.add_record(
        "Accounts", {"Account_Name": "Single", "Odoo_Partner_ID": "s1", "Credit_Limit": 250.0}
    )
    operations = zoho_sdk.rec.RecordOperations("Accounts")
    response = operations.get_record(int(record_id))
    assert response.get_status_code() == 200
    [record] = response.get_object().get_data()
    assert str(record.get_id()) == record_id
    assert record.get_key_value("Account_Name") == "Single"
    assert record.get_key_value("Credit_Limit") == pytest.approx(250.0)
    # Without ``fields`` a single record comes back with every field, empty ones as null.
    assert record.get_key_value("Amount_Overdue") is None
    assert "Amount_Overdue" in record.get_key_values()
    assert record.get_created_time() is not None and record.get_modified_by() is not None

    crm.delete_record("Accounts", record_id)
    gone = operations.get_record(int(record_id))
    assert gone.get_status_code() == 204


def _success(zoho_sdk: SimpleNamespace, item: Any) -> dict[str, Any]:
    assert isinstance(item, zoho_sdk.rec.SuccessResponse), (
        _value(item.get_code()), item.get_details(), item.get_message()
    )  # fmt: skip
    assert _value(item.get_status()) == "success" and _value(item.get_code()) == "SUCCESS"
    return item.get_details()


def test_upsert_records(
    zoho_sdk: SimpleNamespace, crm: ZohoEmulator, session: SimpleNamespace
) -> None:
    existing = crm.add_record("Accounts", {"Account_Name": "Before", "Odoo_Partner_ID": "u1"})
    records = []
    for partner, name, limit in (("u1", "After", 300.0), ("u2", "Fresh", 42.5)):
        record = zoho_sdk.rec.Record()
        record.add_key_value("Account_Name", name)
        record.add_key_value("Odoo_Partner_ID", partner)
        record.add_key_value("Credit_Limit", limit)
        record.add_key_value("Credit_Hold", True)
        records.append(record)
    body = zoho_sdk.rec.BodyWrapper()
    body.set_data(records)
    body.set_duplicate_check_fields(["Odoo_Partner_ID"])

    response = zoho_sdk.rec.RecordOperations("Accounts").upsert_records(body)
    assert response.get_status_code() == 200  # one update, one insert
    updated, inserted = (_success(zoho_sdk, item) for item in response.get_object().get_data())
    assert str(updated["id"]) == existing
    stored = crm.get("Accounts", existing)
    assert stored["Account_Name"] == "After" and stored["Credit_Limit"] == 300.0
    assert stored["Credit_Hold"] is True
    fresh = crm.get("Accounts", str(inserted["id"]))
    assert fresh["Odoo_Partner_ID"] == "u2" and fresh["Credit_Limit"] == 42.5

    # A per-record error comes back through the SDK's APIException, field and code intact.
    bad = zoho_sdk.rec.Record()
    bad.add_key_value("Odoo_Partner_ID", "u3")  # Account_Name is mandatory on insert
    body = zoho_sdk.rec.BodyWrapper()
    body.set_data([bad])
    response = zoho_sdk.rec.RecordOperations("Accounts").upsert_records(body)
    assert response.get_status_code() == 400
    [error] = response.get_object().get_data()
    assert isinstance(error, zoho_sdk.rec.APIException)
    assert _value(error.get_code()) == "MANDATORY_NOT_FOUND"
    assert error.get_details()["api_name"] == "Account_Name"


def test_create_and_update_records(
    zoho_sdk: SimpleNamespace, crm: ZohoEmulator, session: SimpleNamespace
) -> None:
    record = zoho_sdk.rec.Record()
    record.add_key_value("Account_Name", "Created")
    record.add_key_value("Odoo_Partner_ID", "c1")
    body = zoho_sdk.rec.BodyWrapper()
    body.set_data([record])
    response = zoho_sdk.rec.RecordOperations("Accounts").create_records(body)
    assert response.get_status_code() == 201
    created_id = str(_success(zoho_sdk, response.get_object().get_data()[0])["id"])
    assert crm.get("Accounts", created_id)["Account_Name"] == "Created"

    change = zoho_sdk.rec.Record()
    change.add_key_value("Credit_Limit", 77.0)
    body = zoho_sdk.rec.BodyWrapper()
    body.set_data([change])
    response = zoho_sdk.rec.RecordOperations("Accounts").update_record(int(created_id), body)
    assert response.get_status_code() == 200
    _success(zoho_sdk, response.get_object().get_data()[0])
    assert crm.get("Accounts", created_id)["Credit_Limit"] == 77.0

    change = zoho_sdk.rec.Record()
    change.set_id(int(created_id))
    change.add_key_value("Credit_Hold", True)
    body = zoho_sdk.rec.BodyWrapper()
    body.set_data([change])
    response = zoho_sdk.rec.RecordOperations("Accounts").update_records(body)
    assert response.get_status_code() == 200
    _success(zoho_sdk, response.get_object().get_data()[0])
    stored = crm.get("Accounts", created_id)
    assert stored["Credit_Hold"] is True and stored["Credit_Limit"] == 77.0  # absent kept


def test_sdk_checks_picklists_against_the_field_metadata(
    zoho_sdk: SimpleNamespace, crm: ZohoEmulator, session: SimpleNamespace
) -> None:
    """The SDK refuses a picklist value that settings/fields does not list, before sending."""
    calls = crm.calls["POST /Accounts"]
    for value, accepted in (("Retail", True), ("Shipbuilding", False)):
        record = zoho_sdk.rec.Record()
        record.add_key_value("Account_Name", f"Picklist {value}")
        record.add_key_value("Industry", zoho_sdk.Choice(value))
        body = zoho_sdk.rec.BodyWrapper()
        body.set_data([record])
        if accepted:
            response = zoho_sdk.rec.RecordOperations("Accounts").create_records(body)
            details = _success(zoho_sdk, response.get_object().get_data()[0])
            assert crm.get("Accounts", str(details["id"]))["Industry"] == "Retail"
        else:
            with pytest.raises(zoho_sdk.SDKException, match="Shipbuilding"):
                zoho_sdk.rec.RecordOperations("Accounts").create_records(body)
    assert crm.calls["POST /Accounts"] == calls + 1


def test_get_deleted_records(
    zoho_sdk: SimpleNamespace, crm: ZohoEmulator, session: SimpleNamespace
) -> None:
    record_id = crm.add_record("Accounts", {"Account_Name": "Doomed", "Odoo_Partner_ID": "d1"})
    crm.delete_record("Accounts", record_id)
    params = zoho_sdk.ParameterMap()
    params.add(zoho_sdk.rec.GetDeletedRecordsParam.type, "all")
    response = zoho_sdk.rec.RecordOperations("Accounts").get_deleted_records(params)
    assert response.get_status_code() == 200
    wrapper = response.get_object()
    assert isinstance(wrapper, zoho_sdk.rec.DeletedRecordsWrapper), wrapper
    rows = {str(row.get_id()): row for row in wrapper.get_data()}
    assert rows[record_id].get_display_name() == "Doomed"
    assert rows[record_id].get_type() == "recycle"
    assert rows[record_id].get_deleted_time() is not None


def test_sdk_refreshes_an_expiring_token(
    zoho_sdk: SimpleNamespace, crm: ZohoEmulator, session: SimpleNamespace
) -> None:
    before = crm.token_requests
    time.sleep(1.5)  # the 6-second token now has less than the SDK's 5-second margin left
    crm.expire_tokens()  # and the emulator no longer accepts it: only a fresh token works
    params = zoho_sdk.ParameterMap()
    params.add(zoho_sdk.rec.GetRecordsParam.fields, "Account_Name")
    response = zoho_sdk.rec.RecordOperations("Accounts").get_records(params)
    assert response.get_status_code() == 200
    assert crm.token_requests > before
    with session.store_path.open() as handle:
        [row] = list(csv.DictReader(handle))
    assert row["access_token"] and row["user_name"] == "admin@example.com:700012345"


def test_sdk_log_keeps_tokens_out(crm: ZohoEmulator, session: SimpleNamespace) -> None:
    log = Path(session.log_path).read_text()
    assert "can't disclose" in log  # the SDK's own redaction of the Authorization header
    assert crm.client_secret not in log and crm.refresh_token not in log
