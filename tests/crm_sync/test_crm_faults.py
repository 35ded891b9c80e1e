"""Runs complete through 429 storms, token expiry, 5xx bursts and malformed records."""

from __future__ import annotations

import pytest
from conftest import add_customers

from crm_sync.engine import CURSOR_CRM_CUSTOMERS, DL_PULL, DL_PUSH
from crm_sync.errors import RemoteUnavailable
from crm_sync.testing import FakeOdoo, Fault, ZohoEmulator


def test_429_storm_is_ridden_out(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime, sleeps
) -> None:
    add_customers(fake_odoo, 300)
    zoho_emulator.inject(Fault(count=4, status=429, retry_after=30, path_contains="upsert"))
    report = make_runtime(zoho_emulator, fake_odoo).engine.run()
    assert report.counters["crm_created"] == 300
    assert len(zoho_emulator.records("Accounts")) == 300
    assert sum(1 for delay in sleeps.calls if delay >= 30) == 4


def test_token_expiring_mid_run_is_refreshed(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    add_customers(fake_odoo, 250)
    runtime = make_runtime(zoho_emulator, fake_odoo)
    original = runtime.crm.upsert_customers
    sent = []

    def expire_after_first_batch(batch):
        if sent:
            zoho_emulator.expire_tokens()
        sent.append(len(batch))
        return original(batch)

    runtime.crm.upsert_customers = expire_after_first_batch
    report = runtime.engine.run()
    assert report.counters["crm_created"] == 250
    assert zoho_emulator.token_requests == 3  # initial + one per expiry


def test_5xx_burst_is_retried_and_a_long_outage_stops_without_moving_cursors(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    add_customers(fake_odoo, 120)
    zoho_emulator.inject(Fault(count=3, status=502))
    runtime = make_runtime(zoho_emulator, fake_odoo)
    assert runtime.engine.run().counters["crm_created"] == 120

    add_customers(fake_odoo, 30, start=500)
    zoho_emulator.add_record("Accounts", {"Account_Name": "Pulled before the outage"})
    cursor_before = runtime.state.get_value("cursor:erp.customers")
    zoho_emulator.inject(Fault(count=100, status=503, path_contains="upsert"))
    with pytest.raises(RemoteUnavailable):
        runtime.engine.run()
    assert runtime.state.get_value("cursor:erp.customers") == cursor_before
    assert runtime.state.get_value(CURSOR_CRM_CUSTOMERS) is not None  # the pull page committed
    zoho_emulator.faults.clear()
    report = runtime.engine.run()
    assert report.counters["crm_created"] == 30
    assert len(zoho_emulator.records("Accounts")) == 151


def test_malformed_and_rejected_records_are_quarantined_and_replayed(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    ids = add_customers(fake_odoo, 5)
    fake_odoo.write("res.partner", [ids[2]], {"email": "not-an-email"})
    zoho_emulator.put_raw(
        "Accounts", {"id": "1", "Account_Name": "Broken clock", "Modified_Time": "yesterday"}
    )
    zoho_emulator.put_raw(
        "Accounts",
        {"id": "2", "Account_Name": "Fine", "Modified_Time": "2024-01-01T00:00:00+00:00"},
    )
    zoho_emulator.put_raw(
        "Accounts",
        {
            "id": "3",
            "Account_Name": None,
            "Email": "x@y.z",
            "Modified_Time": "2024-01-01T00:00:00+00:00",
        },
    )
    runtime = make_runtime(zoho_emulator, fake_odoo)
    report = runtime.engine.run()
    assert report.partial
    assert report.counters["crm_created"] == 4
    assert report.counters["odoo_created"] == 1
    pull = {d.record_key: d for d in runtime.state.dead_letters(DL_PULL)}
    assert set(pull) == {"1", "3"}
    assert pull["1"].code == "malformed" and pull["1"].payload["Modified_Time"] == "yesterday"
    [push] = runtime.state.dead_letters(DL_PUSH)
    assert push.record_key == str(ids[2]) and push.code == "INVALID_DATA"
    assert push.payload["contact"]["email"] == "not-an-email"
    assert "$.data[2].Email" in push.error

    # Fix the sources; replay re-sends the Odoo customer and re-applies the CRM record
    # (which now matches an Odoo partner by e-mail).
    fake_odoo.write("res.partner", [ids[2]], {"email": "fixed@example.com"})
    placeholder = fake_odoo.create(
        "res.partner", {"name": "Placeholder", "is_company": True, "email": "x@y.z"}
    )
    replay = runtime.engine.replay()
    assert replay.counters["crm_created"] == 1
    assert replay.counters["odoo_matched"] == 1
    assert crm_ids_of(zoho_emulator)[str(ids[2])]
    assert runtime.state.mappings_by_remote("customers", ["3"])["3"].local_id == str(placeholder)
    # The malformed record waits for a fix in the CRM, then comes through the normal pass.
    assert {d.record_key for d in runtime.state.dead_letters()} == {"1"}
    zoho_emulator.update_record("Accounts", "1", {"Account_Name": "Clock fixed"})
    runtime.engine.run()
    assert runtime.state.dead_letters() == []


def crm_ids_of(crm: ZohoEmulator) -> dict[str, str]:
    return {
        r["Odoo_Partner_ID"]: r["id"] for r in crm.records("Accounts") if r.get("Odoo_Partner_ID")
    }
