"""The Zoho emulator's answers conform to Zoho's published v8 OpenAPI (record.json, common.json)."""

from __future__ import annotations

import pytest
import requests
from crm_oas import SPEC_DIR, SchemaViolation, Spec

from crm_sync.testing import ZohoEmulator

pytestmark = pytest.mark.skipif(
    not (SPEC_DIR / "record.json").exists(),
    reason=f"Zoho's OpenAPI spec is not available at {SPEC_DIR}",
)


@pytest.fixture
def spec() -> Spec:
    return Spec()


@pytest.fixture
def api(zoho_emulator: ZohoEmulator):
    token = zoho_emulator.issue_token()
    session = requests.Session()
    session.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    base = f"{zoho_emulator.api_domain()}/crm/v8"

    def call(method: str, path: str, **kwargs):
        return session.request(method, base + path, timeout=5, **kwargs)

    return call


def test_validator_rejects_what_the_spec_forbids(spec: Spec) -> None:
    # The check itself must be able to fail, or the tests below prove nothing.
    with pytest.raises(SchemaViolation):
        spec.check({"code": "NOT_A_ZOHO_CODE", "status": "error"}, "record.json", "API_Exception")
    with pytest.raises(SchemaViolation):
        spec.check({"per_page": 200, "page": 1, "count": 1}, "common.json", "info")
    with pytest.raises(SchemaViolation):
        spec.check({"data": [{"id": 5}]}, "record.json", "Response_Wrapper")


def test_get_records_page(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    for index in range(3):
        zoho_emulator.add_record("Accounts", {"Account_Name": f"A{index}", "Credit_Limit": 10.5})
    response = api(
        "GET", "/Accounts", params={"fields": "Account_Name,Credit_Limit", "per_page": 2}
    )
    assert response.status_code == 200
    body = response.json()
    spec.check(body, "record.json", "Response_Wrapper")
    spec.check(body["info"], "common.json", "info")
    assert body["info"]["more_records"] is True
    assert body["info"]["next_page_token"]
    assert [set(record) for record in body["data"]] == [{"id", "Account_Name", "Credit_Limit"}] * 2


def test_error_answers(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    missing = api("GET", "/Accounts")
    assert missing.status_code == 400
    spec.check(missing.json(), "record.json", "API_Exception")
    spec.check(missing.json(), "common.json", "MandatoryParamError")

    too_many = api("GET", "/Accounts", params={"fields": ",".join(f"F{i}" for i in range(51))})
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "LIMIT_EXCEEDED"
    spec.check(too_many.json(), "record.json", "API_Exception")

    beyond = api("GET", "/Accounts", params={"fields": "Account_Name", "page": 11})
    assert beyond.status_code == 400
    assert beyond.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    spec.check(beyond.json(), "common.json", "API_Exception")  # code not in record.json's enum

    expired = requests.get(
        f"{zoho_emulator.api_domain()}/crm/v8/Accounts",
        params={"fields": "Account_Name"},
        headers={"Authorization": "Zoho-oauthtoken 1000.nope"},
        timeout=5,
    )
    assert expired.status_code == 401
    spec.check(expired.json(), "record.json", "API_Exception")
    assert expired.json()["code"] == "INVALID_TOKEN"

    for method, path in (("GET", "/Acounts"), ("GET", "/Acounts/deleted"),
                         ("POST", "/Acounts/upsert")):  # fmt: skip
        unknown = api(method, path, params={"fields": "Account_Name"}, json={"data": [{}]})
        assert unknown.status_code == 400
        assert unknown.json()["code"] == "INVALID_MODULE"
        spec.check(unknown.json(), "common.json", "InvalidUrlError")


def test_upsert_per_record_results(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    zoho_emulator.add_record("Accounts", {"Account_Name": "Taken", "Odoo_Partner_ID": "7"})
    existing = zoho_emulator.add_record("Accounts", {"Account_Name": "Other"})
    response = api(
        "POST",
        "/Accounts/upsert",
        json={
            "data": [
                {"Account_Name": "New", "Odoo_Partner_ID": "1"},
                {"Odoo_Partner_ID": "2"},  # mandatory Account_Name missing on insert
                {"Account_Name": "Bad", "Odoo_Partner_ID": "3", "Credit_Limit": "lots"},
                {"id": existing, "Odoo_Partner_ID": "7"},  # unique value of another record
                {"Account_Name": "Renamed", "Odoo_Partner_ID": "7"},
            ],
            "duplicate_check_fields": ["Odoo_Partner_ID"],
        },
    )
    assert response.status_code == 207
    body = response.json()
    spec.check_upsert_body(body)
    codes = [item["code"] for item in body["data"]]
    assert codes == ["SUCCESS", "MANDATORY_NOT_FOUND", "INVALID_DATA", "DUPLICATE_DATA", "SUCCESS"]
    assert [item.get("action") for item in body["data"]] == ["insert", None, None, None, "update"]
    spec.check(body["data"][1], "common.json", "MandatoryError")
    spec.check(body["data"][3], "common.json", "DuplicateError")
    assert body["data"][2]["details"]["json_path"] == "$.data[2].Credit_Limit"
    spec.check(body["data"][2]["details"], "common.json", "BodyErrorDetails")

    too_many = api("POST", "/Accounts/upsert", json={"data": [{"Account_Name": "x"}] * 101})
    assert too_many.status_code == 400
    spec.check(too_many.json(), "record.json", "API_Exception")


def test_deleted_records(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    record_id = zoho_emulator.add_record("Accounts", {"Account_Name": "Gone"})
    zoho_emulator.delete_record("Accounts", record_id)
    response = api("GET", "/Accounts/deleted", params={"type": "all"})
    assert response.status_code == 200
    spec.check(response.json(), "record.json", "Deleted_Records_Wrapper")
    spec.check(response.json()["info"], "common.json", "info")
    assert response.json()["data"][0]["id"] == record_id


# What a field carries in the emulator's answer (fields.json marks all ~75 as required).
FIELD_KEYS = ["api_name", "id", "display_label", "data_type", "json_type", "custom_field",
              "system_mandatory", "read_only", "visible", "length", "unique", "lookup"]  # fmt: skip


def test_field_metadata(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    response = api("GET", "/settings/fields", params={"module": "Accounts"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"fields"} and body["fields"]
    for item in body["fields"]:
        spec.check_subset(item, "fields.json", "fields", FIELD_KEYS)
    types = {item["api_name"]: item["data_type"] for item in body["fields"]}
    assert types["Credit_Limit"] == "currency" and types["Email"] == "email"
    assert types["Owner"] == "ownerlookup" and types["Modified_Time"] == "datetime"
    payments = api("GET", "/settings/fields", params={"module": "Payments"}).json()
    [account] = [item for item in payments["fields"] if item["api_name"] == "Account"]
    assert account["data_type"] == "lookup"
    assert account["lookup"]["module"]["api_name"] == "Accounts"

    unknown = api("GET", "/settings/fields", params={"module": "Acounts"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "INVALID_MODULE"
    spec.check(unknown.json(), "fields.json", "InvalidParamError")
    missing = api("GET", "/settings/fields")
    assert missing.status_code == 400
    assert missing.json()["code"] == "REQUIRED_PARAM_MISSING"
