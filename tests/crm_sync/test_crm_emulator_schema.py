"""The Zoho emulator's answers conform to Zoho's published v8 OpenAPI.

Every endpoint the emulator serves is checked against the spec files in the folder (record.json,
common.json, fields.json, modules.json). ``/users`` and ``/org`` are described by users.json and
org.json, which that folder does not hold: their shapes are checked by Zoho's own SDK parsing
them (test_crm_zoho_official_sdk.py) and by the keys asserted here.
"""

from __future__ import annotations

import pytest
import requests
from crm_oas import SPEC_DIR, SchemaViolation, Spec

from crm_sync.testing import Fault, ZohoEmulator

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
              "system_mandatory", "read_only", "visible", "length", "unique", "lookup",
              "field_label", "field_read_only", "virtual_field", "filterable", "sortable",
              "searchable", "mass_update", "webhook", "decimal_place",
              "pick_list_values"]  # fmt: skip


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

    industry = next(item for item in body["fields"] if item["api_name"] == "Industry")
    assert "Retail" in [value["actual_value"] for value in industry["pick_list_values"]]
    # check_subset checks nested schemas whole: each picklist value has every required key.
    assert all(item["pick_list_values"] == [] for item in body["fields"] if item is not industry)

    unknown = api("GET", "/settings/fields", params={"module": "Acounts"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "INVALID_MODULE"
    spec.check(unknown.json(), "fields.json", "InvalidParamError")
    missing = api("GET", "/settings/fields")
    assert missing.status_code == 400
    assert missing.json()["code"] == "REQUIRED_PARAM_MISSING"


RECORD = "/crm/v8/{module_api_name}"
SINGLE = "/crm/v8/{module_api_name}/{id}"


def test_get_single_record(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    record_id = zoho_emulator.add_record("Accounts", {"Account_Name": "One", "Credit_Limit": 5.0})
    response = api("GET", f"/Accounts/{record_id}")
    assert response.status_code == 200
    body = response.json()
    spec.check(body, "record.json", "Response_Wrapper")
    [record] = body["data"]
    # Without ``fields`` the record comes back whole: every field of the module, null if empty.
    assert record["id"] == record_id and record["Account_Name"] == "One"
    assert "Amount_Overdue" in record and record["Amount_Overdue"] is None
    assert {"Created_Time", "Modified_Time", "Created_By", "Modified_By", "Owner"} <= set(record)
    narrowed = api("GET", f"/Accounts/{record_id}", params={"fields": "Credit_Limit,Nope"})
    assert narrowed.json()["data"] == [{"id": record_id, "Credit_Limit": 5.0}]

    zoho_emulator.delete_record("Accounts", record_id)
    assert api("GET", f"/Accounts/{record_id}").status_code == 204
    malformed = api("GET", "/Accounts/not-an-id")
    assert malformed.status_code == 400
    spec.check(malformed.json(), "record.json", "API_Exception")
    spec.check(malformed.json(), "common.json", "InvalidUrlError")
    assert malformed.json()["details"] == {"resource_path_index": 1}


def test_create_records(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    zoho_emulator.add_record("Accounts", {"Account_Name": "Taken", "Odoo_Partner_ID": "9"})
    response = api("POST", "/Accounts", json={"data": [
        {"Account_Name": "Made", "Odoo_Partner_ID": "1", "Credit_Limit": 12.5},
        {"Account_Name": "Twin", "Odoo_Partner_ID": "9"},  # unique value of another record
        {"Odoo_Partner_ID": "2"},  # mandatory Account_Name missing
    ]})  # fmt: skip
    assert response.status_code == 207
    body = response.json()
    spec.check_action_body(body, RECORD, "post")
    made, twin, nameless = body["data"]
    assert made["code"] == "SUCCESS" and made["message"] == "record added"
    assert "action" not in made  # only upsert says whether it inserted or updated
    spec.check(twin, "common.json", "DuplicateError")
    spec.check(nameless, "common.json", "MandatoryError")
    assert zoho_emulator.get("Accounts", made["details"]["id"])["Credit_Limit"] == 12.5

    created = api("POST", "/Accounts", json={"data": [{"Account_Name": "Solo"}]})
    assert created.status_code == 201
    spec.check_action_body(created.json(), RECORD, "post")

    for payload, code in (({"data": []}, "REQUIRED_PARAM_MISSING"),
                          ({"data": [{"Account_Name": "x"}] * 101}, "LIMIT_EXCEEDED")):  # fmt: skip
        refused = api("POST", "/Accounts", json=payload)
        assert refused.status_code == 400 and refused.json()["code"] == code
        spec.check(refused.json(), "record.json", "API_Exception")


def test_update_records(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    record_id = zoho_emulator.add_record("Accounts", {"Account_Name": "Kept", "Credit_Limit": 1.0})
    response = api("PUT", "/Accounts", json={"data": [
        {"id": record_id, "Credit_Limit": 2.0},
        {"Credit_Limit": 3.0},  # no id
        {"id": "4150868000999999999", "Credit_Limit": 4.0},  # no such record
        {"id": record_id, "Credit_Limit": "lots"},
    ]})  # fmt: skip
    assert response.status_code == 207
    body = response.json()
    spec.check_action_body(body, RECORD, "put")
    updated, no_id, unknown, bad_type = body["data"]
    assert updated["code"] == "SUCCESS" and updated["message"] == "record updated"
    assert updated["details"]["id"] == record_id and "action" not in updated
    spec.check(no_id, "common.json", "MandatoryError")
    assert no_id["details"] == {"api_name": "id", "json_path": "$.data[1].id"}
    spec.check(unknown, "common.json", "InvalidIDError")
    # InvalidTypeError's details are oneOf two schemas any type error matches both of (they
    # differ only by an optional ``regex``): check the details against one branch.
    assert bad_type["code"] == "INVALID_DATA"
    spec.check(bad_type["details"], "common.json", "InvalidType")
    stored = zoho_emulator.get("Accounts", record_id)
    assert stored["Credit_Limit"] == 2.0 and stored["Account_Name"] == "Kept"  # absent kept

    single = api("PUT", f"/Accounts/{record_id}", json={"data": [{"Credit_Limit": 6.0}]})
    assert single.status_code == 200
    spec.check_action_body(single.json(), SINGLE, "put")
    assert zoho_emulator.get("Accounts", record_id)["Credit_Limit"] == 6.0
    missing = api("PUT", "/Accounts/4150868000999999999", json={"data": [{"Credit_Limit": 1.0}]})
    assert missing.status_code == 400
    spec.check_action_body(missing.json(), SINGLE, "put")
    spec.check(missing.json()["data"][0], "common.json", "InvalidIDError")
    two = api("PUT", f"/Accounts/{record_id}", json={"data": [{}, {}]})
    assert two.status_code == 400 and two.json()["code"] == "LIMIT_EXCEEDED"
    spec.check(two.json(), "record.json", "API_Exception")


# What a module carries in the emulator's list answer (modules.json marks ~60 as required,
# among them fields, layouts and related lists, which only the single-module answer has).
MODULE_KEYS = ["api_name", "module_name", "singular_label", "plural_label", "id",
               "api_supported", "generated_type", "sequence_number", "visibility", "visible",
               "show_as_tab", "creatable", "editable", "deletable", "viewable", "convertable",
               "quick_create", "modified_time", "modified_by", "profiles"]  # fmt: skip


def test_modules_metadata(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    response = api("GET", "/settings/modules")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"modules"}
    for item in body["modules"]:
        spec.check_subset(item, "modules.json", "modules", MODULE_KEYS)
    by_name = {item["api_name"]: item for item in body["modules"]}
    assert set(by_name) == {"Accounts", "Payments"}
    assert by_name["Accounts"]["api_supported"] is True
    assert by_name["Accounts"]["generated_type"] == "default"
    # The module id is the one field metadata names in a lookup to that module.
    fields = api("GET", "/settings/fields", params={"module": "Payments"}).json()["fields"]
    [account] = [item for item in fields if item["api_name"] == "Account"]
    assert account["lookup"]["module"]["id"] == by_name["Accounts"]["id"]

    unchanged = api(
        "GET", "/settings/modules", headers={"If-Modified-Since": "2030-01-01T00:00:00Z"}
    )
    assert unchanged.status_code == 304

    one = api("GET", "/settings/modules/Accounts")
    assert one.status_code == 200 and [m["api_name"] for m in one.json()["modules"]] == ["Accounts"]
    unknown = api("GET", "/settings/modules/Acounts")
    assert unknown.status_code == 400
    spec.check_response(unknown.json(), "modules.json", "/crm/v8/settings/modules/{api_name}",
                        "get", "400")  # fmt: skip
    spec.check(unknown.json(), "modules.json", "Invalid_Module")


def test_current_user_and_organisation(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    # users.json and org.json are not in the spec folder: the keys Zoho documents and its SDK
    # reads (email for the token's user name, zgid for its organisation) are asserted instead.
    users = api("GET", "/users", params={"type": "CurrentUser"})
    assert users.status_code == 200
    body = users.json()
    assert set(body) == {"users", "info"}
    spec.check(body["info"], "common.json", "info")
    [user] = body["users"]
    assert {"id", "email", "full_name", "status", "role", "profile"} <= set(user)
    assert user["email"] == "admin@example.com" and user["status"] == "active"
    bogus = api("GET", "/users", params={"type": "Everyone"})
    assert bogus.status_code == 400
    spec.check(bogus.json(), "record.json", "API_Exception")
    # InvalidParamError's details are oneOf ``object`` and ParamDetails, which overlap.
    spec.check(bogus.json()["details"], "common.json", "ParamDetails")

    org = api("GET", "/org")
    assert org.status_code == 200
    [company] = org.json()["org"]
    assert {"id", "zgid", "company_name", "primary_email", "currency", "iso_code"} <= set(company)


def test_transport_errors(zoho_emulator: ZohoEmulator, api, spec: Spec) -> None:
    anonymous = requests.get(f"{zoho_emulator.api_domain()}/crm/v8/settings/modules", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "AUTHENTICATION_FAILURE"
    spec.check(anonymous.json(), "record.json", "API_Exception")

    for method, path in (("GET", "/Accounts/upsert"), ("DELETE", "/Accounts/1")):
        wrong = api(method, path)
        assert wrong.status_code == 400 and wrong.json()["code"] == "INVALID_URL_PATTERN"
        spec.check(wrong.json(), "record.json", "API_Exception")
    outside = requests.get(f"{zoho_emulator.base_url}/crm/v9/Accounts", timeout=5)
    assert outside.status_code == 404
    spec.check(outside.json(), "record.json", "API_Exception")

    zoho_emulator.inject(Fault(count=1, status=500))
    failed = api("GET", "/settings/modules")
    assert failed.status_code == 500 and failed.json()["code"] == "INTERNAL_ERROR"
    spec.check(failed.json(), "record.json", "API_Exception")
    zoho_emulator.inject(Fault(count=1, status=429, retry_after=2))
    limited = api("GET", "/settings/modules")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    # record.json's API_Exception enum has no TOO_MANY_REQUESTS (Zoho documents it for 429).
    spec.check(limited.json(), "common.json", "API_Exception")
