"""The engine end to end: both directions, ownership, matching, payments, deletions, costs."""

from __future__ import annotations

import math

import pytest
from conftest import add_customers

from crm_sync.engine import CURSOR_ERP_CUSTOMERS, CUSTOMERS, DL_PAYMENTS
from crm_sync.testing import FakeOdoo, ZohoEmulator


def crm_by_partner(crm: ZohoEmulator) -> dict[str, dict]:
    return {r["Odoo_Partner_ID"]: r for r in crm.records("Accounts") if r.get("Odoo_Partner_ID")}


def test_initial_push_creates_each_customer_once_in_batches_of_100(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    ids = add_customers(fake_odoo, 1050)
    runtime = make_runtime(zoho_emulator, fake_odoo)
    report = runtime.engine.run()
    assert zoho_emulator.upsert_calls() == math.ceil(1050 / 100) == 11
    assert report.counters["crm_created"] == 1050
    pushed = crm_by_partner(zoho_emulator)
    assert sorted(pushed) == sorted(str(i) for i in ids)
    sample = pushed[str(ids[7])]
    assert sample["Account_Name"] == "Customer 00007"
    assert sample["Credit_Limit"] == 1007.0
    assert sample["Credit_Grade"] == "B"
    assert sample["Credit_Hold"] is False
    assert runtime.state.counts()[CUSTOMERS] == 1050

    # Nothing changed: the next pass sends nothing, although it re-reads its own echoes.
    zoho_emulator.calls.clear()
    fake_odoo.calls.clear()
    runtime.engine.run()
    assert zoho_emulator.upsert_calls() == 0
    assert fake_odoo.calls["res.partner.write"] == 0


def test_incremental_pass_costs_calls_in_proportion_to_changes(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    ids = add_customers(fake_odoo, 1050)
    runtime = make_runtime(zoho_emulator, fake_odoo)
    runtime.engine.run()
    zoho_emulator.calls.clear()
    changed = ids[::100]  # 11 customers, about 1%
    for partner_id in changed:
        fake_odoo.write("res.partner", [partner_id], {"credit_limit": 5.0})
    report = runtime.engine.run()
    assert zoho_emulator.upsert_calls() == 1
    assert report.counters["crm_updated"] == len(changed)
    assert {crm_by_partner(zoho_emulator)[str(i)]["Credit_Limit"] for i in changed} == {5.0}

    zoho_emulator.calls.clear()
    for partner_id in ids[:250]:
        fake_odoo.write("res.partner", [partner_id], {"credit_grade": "D"})
    runtime.engine.run()
    assert zoho_emulator.upsert_calls() == 3


def test_field_ownership(zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime) -> None:
    [partner_id] = add_customers(fake_odoo, 1)
    runtime = make_runtime(zoho_emulator, fake_odoo)
    runtime.engine.run()
    crm_id = crm_by_partner(zoho_emulator)[str(partner_id)]["id"]

    # The CRM owns contact data: its edit reaches Odoo …
    zoho_emulator.update_record(
        "Accounts", crm_id, {"Account_Name": "Renamed in CRM", "Phone": "+32 2 555 0101"}
    )
    # … while an Odoo edit of contact data does not overwrite the CRM,
    # and an Odoo edit of credit data does reach the CRM.
    fake_odoo.write("res.partner", [partner_id], {"city": "Odoo City", "credit_hold": True})
    # A CRM edit of a credit field is overwritten on the next credit change.
    zoho_emulator.update_record("Accounts", crm_id, {"Credit_Grade": "A+"})
    runtime.engine.run()

    partner = fake_odoo.data["res.partner"][partner_id]
    account = zoho_emulator.get("Accounts", crm_id)
    assert partner["name"] == "Renamed in CRM"
    assert partner["phone"] == "+32 2 555 0101"
    assert account["Billing_City"] is None
    assert account["Credit_Hold"] is True
    assert account["Credit_Grade"] == "B"


def test_new_crm_accounts_are_created_or_matched_in_odoo(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    existing = fake_odoo.create(
        "res.partner", {"name": "Known NV", "is_company": True, "vat": "BE0123456789"}
    )
    by_email = fake_odoo.create(
        "res.partner", {"name": "Mail BV", "is_company": True, "email": "ap@mail.example"}
    )
    belgium = fake_odoo.create("res.country", {"name": "Belgium", "code": "BE"})
    matched_vat = zoho_emulator.add_record(
        "Accounts", {"Account_Name": "Known (CRM spelling)", "VAT_Number": "BE0123456789"}
    )
    matched_email = zoho_emulator.add_record(
        "Accounts", {"Account_Name": "Mail", "Email": "AP@mail.example"}
    )
    by_external_id = zoho_emulator.add_record(
        "Accounts", {"Account_Name": "Linked", "Odoo_Partner_ID": str(existing)}
    )
    fresh = zoho_emulator.add_record(
        "Accounts", {"Account_Name": "Brand New SA", "Billing_Country": "Belgium"}
    )
    runtime = make_runtime(zoho_emulator, fake_odoo)
    report = runtime.engine.run()
    # Two CRM records claim partner `existing`: the second is quarantined on the way in, and
    # the CRM refuses to give the first the Odoo id the second already holds.
    assert report.dead_letters == 2
    links = runtime.state.mappings_by_remote(
        CUSTOMERS, [matched_vat, matched_email, fresh, by_external_id]
    )
    assert links[matched_vat].local_id == str(existing)
    assert links[matched_email].local_id == str(by_email)
    assert by_external_id not in links
    created = fake_odoo.data["res.partner"][int(links[fresh].local_id)]
    assert created["name"] == "Brand New SA"
    assert created["country_id"] == belgium
    assert len(fake_odoo.partners()) == 3
    # The CRM accounts now carry the Odoo id (written back by the push).
    assert zoho_emulator.get("Accounts", fresh)["Odoo_Partner_ID"] == links[fresh].local_id
    codes = sorted(dl.code for dl in runtime.state.dead_letters())
    assert codes == ["DUPLICATE_DATA", "duplicate_in_crm"]


def test_crm_payments_arrive_as_drafts_once(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    [partner_id] = add_customers(fake_odoo, 1)
    runtime = make_runtime(zoho_emulator, fake_odoo)
    runtime.engine.run()
    crm_id = crm_by_partner(zoho_emulator)[str(partner_id)]["id"]
    zoho_emulator.add_record(
        "Payments",
        {
            "Account": {"id": crm_id, "name": "x"},
            "Amount": 250.5,
            "Payment_Date": "2024-06-01",
            "Reference": "wire 42",
        },
    )
    zoho_emulator.add_record(
        "Payments", {"Account": {"id": "999"}, "Amount": 10, "Payment_Date": "2024-06-02"}
    )
    zoho_emulator.add_record(
        "Payments", {"Account": {"id": crm_id}, "Amount": -5, "Payment_Date": "2024-06-02"}
    )
    report = runtime.engine.run()
    payments = list(fake_odoo.data["account.payment"].values())
    assert len(payments) == 1
    [payment] = payments
    assert payment["state"] == "draft"
    assert (payment["partner_id"], payment["amount"], payment["date"], payment["memo"]) == (
        partner_id,
        250.5,
        "2024-06-01",
        "wire 42",
    )
    assert payment["payment_type"] == "inbound" and payment["partner_type"] == "customer"
    assert report.dead_letters == 2
    assert sorted(d.code for d in runtime.state.dead_letters(DL_PAYMENTS)) == [
        "invalid",
        "unknown_customer",
    ]
    runtime.engine.run(full=True)
    assert len(fake_odoo.data["account.payment"]) == 1


def test_deletions_in_the_crm_archive_in_odoo(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    ids = add_customers(fake_odoo, 2)
    runtime = make_runtime(zoho_emulator, fake_odoo)
    runtime.engine.run()
    gone = crm_by_partner(zoho_emulator)[str(ids[0])]["id"]
    zoho_emulator.delete_record("Accounts", gone)
    report = runtime.engine.run()
    assert report.counters["odoo_archived"] == 1
    assert fake_odoo.data["res.partner"][ids[0]]["active"] is False
    assert fake_odoo.data["res.partner"][ids[1]]["active"] is True
    assert ids[0] in fake_odoo.data["res.partner"]  # archived, never deleted


def test_ignore_policy_keeps_odoo_partner_active(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    [partner_id] = add_customers(fake_odoo, 1)
    runtime = make_runtime(zoho_emulator, fake_odoo, deletions_from_crm="ignore")
    runtime.engine.run()
    zoho_emulator.delete_record("Accounts", crm_by_partner(zoho_emulator)[str(partner_id)]["id"])
    runtime.engine.run()
    assert fake_odoo.data["res.partner"][partner_id]["active"] is True


def test_dry_run_writes_nothing(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    add_customers(fake_odoo, 150)
    zoho_emulator.add_record("Accounts", {"Account_Name": "Only in CRM"})
    runtime = make_runtime(zoho_emulator, fake_odoo)
    report = runtime.engine.run(dry_run=True)
    assert report.counters["push_would_send"] == 150
    assert report.counters["push_calls"] == 2
    assert report.counters["odoo_created"] == 1
    assert zoho_emulator.upsert_calls() == 0
    assert len(zoho_emulator.records("Accounts")) == 1
    assert len(fake_odoo.partners()) == 150
    assert runtime.state.get_value(CURSOR_ERP_CUSTOMERS) is None
    assert runtime.state.counts() == {"dead_letters": 0}


def test_chunked_push_for_job_queues(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    ids = add_customers(fake_odoo, 450)
    runtime = make_runtime(zoho_emulator, fake_odoo)
    chunks = runtime.engine.plan_push_chunks(chunk_size=200)
    assert [len(chunk) for chunk in chunks] == [200, 200, 50]
    assert sorted(i for chunk in chunks for i in chunk) == ids
    for chunk in reversed(chunks):  # independent: any order
        runtime.engine.push_chunk(chunk)
    assert len(crm_by_partner(zoho_emulator)) == 450
    assert zoho_emulator.upsert_calls() == 5
    assert runtime.engine.plan_push_chunks(chunk_size=200) == []


def test_chunked_push_moves_the_cursor_once_every_chunk_is_done(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    ids = add_customers(fake_odoo, 450)
    runtime = make_runtime(zoho_emulator, fake_odoo)
    engine = runtime.engine
    plan = engine.plan_push(chunk_size=200)
    assert plan.scanned is not None and plan.scanned.record_id == max(ids)
    first, *rest = plan.chunks
    engine.push_chunk(first)
    # A chunk still to push: the cursor stays, the next plan still holds the rest.
    assert runtime.state.get_value(CURSOR_ERP_CUSTOMERS) is None
    assert sorted(i for chunk in engine.plan_push_chunks(200) for i in chunk) == sorted(
        i for chunk in rest for i in chunk
    )
    for chunk in rest:
        engine.push_chunk(chunk)
    # A customer changed while the chunks were pushed: after the plan's position.
    fake_odoo.write("res.partner", [ids[0]], {"credit_limit": 12_345.0})
    assert engine.complete_push(plan.scanned) is True
    assert runtime.state.get_value(CURSOR_ERP_CUSTOMERS) == plan.scanned.encode()
    assert engine.complete_push(plan.scanned) is False  # never backwards, never twice
    # The next plan starts from the cursor (minus the overlap) and finds only the change.
    assert engine.plan_push(chunk_size=200).chunks == [[ids[0]]]


def test_plan_push_rejects_a_chunk_size_below_one(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, make_runtime
) -> None:
    runtime = make_runtime(zoho_emulator, fake_odoo)
    with pytest.raises(ValueError, match="chunk_size"):
        runtime.engine.plan_push(chunk_size=0)
