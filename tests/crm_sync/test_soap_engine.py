"""The engine over the SOAP connector, against the loopback SOAP CRM: the Zoho guarantees."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import add_customers, sync_config
from pydantic import SecretStr

from crm_sync.cli import main
from crm_sync.config import Config, Secrets
from crm_sync.connector import ErpPosition
from crm_sync.engine import CURSOR_ERP_CUSTOMERS, CUSTOMERS, DL_PAYMENTS, DL_PUSH
from crm_sync.errors import EXIT_LIMIT, AuthError, DailyLimitExceeded, RemoteUnavailable
from crm_sync.runtime import Runtime
from crm_sync.soap_client import default_wsdl
from crm_sync.state_sqlite import SqliteStateStore
from crm_sync.testing import FakeOdoo
from crm_sync.testing.pytest_plugin import make_soap_crm_server, soap_crm_server
from crm_sync.testing.soap_server import RecordFault, SoapCrmServer, SoapFault

__all__ = ["make_soap_crm_server", "soap_crm_server"]


def soap_config(crm: SoapCrmServer, odoo: FakeOdoo, state: Path, **sync: Any) -> Config:
    crm_section = {
        "kind": "soap",
        "login_url": crm.login_url,
        "username": crm.username,
        "query_batch_size": 200,
        "timeout_seconds": 5,
    }
    return sync_config(crm_section, odoo, state, **sync)


@pytest.fixture
def soap_runtime(tmp_path: Path, runtime_builder) -> Callable[..., Runtime]:
    def factory(crm: SoapCrmServer, odoo: FakeOdoo, *, password: str | None = None, **sync):
        secrets = Secrets(
            soap_password=SecretStr(password or crm.password),
            odoo_api_key=SecretStr(odoo.api_key),
        )
        return runtime_builder(soap_config(crm, odoo, tmp_path / "state.sqlite3", **sync), secrets)

    return factory


def test_initial_push_in_batches_of_200_then_a_quiet_pass_sends_nothing(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, soap_runtime
) -> None:
    ids = add_customers(fake_odoo, 450)
    runtime = soap_runtime(soap_crm_server, fake_odoo)
    report = runtime.engine.run()
    assert soap_crm_server.upsert_calls() == math.ceil(450 / 200) == 3
    assert report.counters["crm_created"] == 450
    pushed = soap_crm_server.by_external_id()
    assert sorted(pushed) == sorted(str(i) for i in ids)
    sample = pushed[str(ids[7])]
    assert sample["Name"] == "Customer 00007"
    assert sample["Credit_Limit__c"] == 1007.0
    assert sample["Credit_Hold__c"] is False
    assert sample["VAT_Number__c"] == "BE0000000007"
    assert runtime.state.counts()[CUSTOMERS] == 450
    assert soap_crm_server.logins == 1

    soap_crm_server.calls.clear()
    fake_odoo.calls.clear()
    runtime.engine.run()
    assert soap_crm_server.upsert_calls() == 0  # its own echoes are read back, nothing sent
    assert fake_odoo.calls["res.partner.write"] == 0


def test_one_percent_changed_costs_one_upsert(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, soap_runtime
) -> None:
    ids = add_customers(fake_odoo, 600)
    runtime = soap_runtime(soap_crm_server, fake_odoo)
    runtime.engine.run()
    soap_crm_server.calls.clear()
    changed = ids[::100]  # 6 customers, 1%
    for partner_id in changed:
        fake_odoo.write("res.partner", [partner_id], {"credit_limit": 5.0, "credit_hold": True})
    report = runtime.engine.run()
    assert soap_crm_server.upsert_calls() == 1
    assert report.counters["crm_updated"] == len(changed)
    pushed = soap_crm_server.by_external_id()
    assert {pushed[str(i)]["Credit_Limit__c"] for i in changed} == {5.0}
    assert pushed[str(ids[1])]["Credit_Limit__c"] == 1001.0

    soap_crm_server.calls.clear()
    for partner_id in ids[:250]:
        fake_odoo.write("res.partner", [partner_id], {"credit_grade": "D"})
    runtime.engine.run()
    assert soap_crm_server.upsert_calls() == 2


def test_crm_edits_matching_creation_deletion_and_payments(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, soap_runtime
) -> None:
    crm = soap_crm_server
    ids = add_customers(fake_odoo, 3)
    known = fake_odoo.create(
        "res.partner", {"name": "Known NV", "is_company": True, "vat": "BE0123456789"}
    )
    by_vat = crm.add_record("Account", {"Name": "Known (CRM)", "VAT_Number__c": "BE0123456789"})
    fresh = crm.add_record("Account", {"Name": "Brand New SA", "Phone": "+32 2 000"})
    runtime = soap_runtime(crm, fake_odoo)
    runtime.engine.run()
    links = runtime.state.mappings_by_remote(CUSTOMERS, [by_vat, fresh])
    assert links[by_vat].local_id == str(known)
    created = fake_odoo.data["res.partner"][int(links[fresh].local_id)]
    assert (created["name"], created["phone"]) == ("Brand New SA", "+32 2 000")
    # The push wrote the Odoo ids back onto the accounts matched or created from the CRM.
    assert crm.get("Account", by_vat)["Odoo_Partner_ID__c"] == str(known)
    assert crm.get("Account", fresh)["Odoo_Partner_ID__c"] == links[fresh].local_id
    assert len(crm.records("Account")) == 5

    account = crm.by_external_id()[str(ids[0])]
    crm.update_record("Account", account["Id"], {"Name": "Renamed in CRM", "Phone": "+32 9"})
    crm.delete_record("Account", crm.by_external_id()[str(ids[1])]["Id"])
    crm.add_record(
        "Payment__c",
        {
            "Account__c": account["Id"],
            "Amount__c": 250.5,
            "Payment_Date__c": "2024-06-01",
            "Reference__c": "wire 42",
        },
    )
    crm.add_record(
        "Payment__c",
        {"Account__c": "001999999999999AAA", "Amount__c": 10.0, "Payment_Date__c": "2024-06-02"},
    )
    report = runtime.engine.run()
    partner = fake_odoo.data["res.partner"][ids[0]]
    assert (partner["name"], partner["phone"]) == ("Renamed in CRM", "+32 9")
    assert report.counters["odoo_archived"] == 1
    assert fake_odoo.data["res.partner"][ids[1]]["active"] is False
    [payment] = fake_odoo.data["account.payment"].values()
    assert (
        payment["partner_id"],
        payment["amount"],
        payment["date"],
        payment["memo"],
        payment["state"],
    ) == (ids[0], 250.5, "2024-06-01", "wire 42", "draft")
    [letter] = runtime.state.dead_letters(DL_PAYMENTS)
    assert letter.code == "unknown_customer"
    runtime.engine.run(full=True)
    assert len(fake_odoo.data["account.payment"]) == 1


def test_rejected_records_go_to_dead_letters_and_replay(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, soap_runtime
) -> None:
    ids = add_customers(fake_odoo, 6)
    fake_odoo.write("res.partner", [ids[2]], {"email": "not-an-email"})
    soap_crm_server.inject(RecordFault(count=1, when=lambda r: r.get("Name") == "Customer 00004"))
    runtime = soap_runtime(soap_crm_server, fake_odoo)
    report = runtime.engine.run()
    assert report.partial and report.dead_letters == 2
    assert report.counters["crm_created"] == 4
    letters = {d.record_key: d for d in runtime.state.dead_letters(DL_PUSH)}
    assert letters[str(ids[2])].code == "INVALID_EMAIL_ADDRESS"
    assert "Email__c" in letters[str(ids[2])].error
    assert letters[str(ids[4])].code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert runtime.state.get_value(CURSOR_ERP_CUSTOMERS) is not None  # the pass went on

    fake_odoo.write("res.partner", [ids[2]], {"email": "fixed@example.com"})
    replay = runtime.engine.replay()
    assert replay.counters["crm_created"] == 2
    assert runtime.state.dead_letters() == []
    pushed = soap_crm_server.by_external_id()
    assert pushed[str(ids[2])]["Email__c"] == "fixed@example.com"
    assert len(soap_crm_server.records("Account")) == 6


def test_concurrent_request_limit_is_retried_with_injected_sleep_and_outage_keeps_cursor(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, soap_runtime, sleeps
) -> None:
    add_customers(fake_odoo, 250)
    soap_crm_server.inject(
        SoapFault(
            count=3,
            code="REQUEST_LIMIT_EXCEEDED",
            operation="upsert",
            message="ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
        )
    )
    soap_crm_server.inject(SoapFault(count=2, status=503, bare=True, operation="query"))
    runtime = soap_runtime(soap_crm_server, fake_odoo)
    assert runtime.engine.run().counters["crm_created"] == 250
    assert len(sleeps.calls) == 5 and all(0 <= s <= 60 for s in sleeps.calls)

    add_customers(fake_odoo, 10, start=900)
    cursor = runtime.state.get_value(CURSOR_ERP_CUSTOMERS)
    outage = soap_crm_server.inject(
        SoapFault(count=50, code="SERVER_UNAVAILABLE", operation="upsert")
    )
    with pytest.raises(RemoteUnavailable):
        runtime.engine.run()
    assert runtime.state.get_value(CURSOR_ERP_CUSTOMERS) == cursor
    outage.count = 0
    sleeps.calls.clear()
    soap_crm_server.inject(SoapFault(count=50, code="REQUEST_LIMIT_EXCEEDED", operation="upsert"))
    with pytest.raises(DailyLimitExceeded) as caught:  # the daily allowance: no retry loop
        runtime.engine.run()
    assert caught.value.exit_code == EXIT_LIMIT and sleeps.calls == []
    soap_crm_server.faults.clear()
    assert runtime.engine.run().counters["crm_created"] == 10
    assert len(soap_crm_server.records("Account")) == 260


def test_expired_session_logs_in_again_once(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, soap_runtime
) -> None:
    add_customers(fake_odoo, 450)
    runtime = soap_runtime(soap_crm_server, fake_odoo)
    original = runtime.crm.upsert_customers
    sent: list[int] = []

    def expire_after_first_batch(batch):
        if sent:
            soap_crm_server.expire_sessions()
        sent.append(len(batch))
        return original(batch)

    runtime.crm.upsert_customers = expire_after_first_batch
    assert runtime.engine.run().counters["crm_created"] == 450
    assert soap_crm_server.logins == 3  # the first login, then one per expiry

    # A session refused again right after a fresh login is an authentication error, not a loop.
    soap_crm_server.inject(SoapFault(count=10, code="INVALID_SESSION_ID", operation="query"))
    with pytest.raises(AuthError) as caught:
        runtime.engine.run()
    assert caught.value.exit_code == 3
    assert soap_crm_server.logins == 4


def test_secrets_never_reach_logs_reprs_or_errors(
    soap_crm_server: SoapCrmServer,
    fake_odoo: FakeOdoo,
    soap_runtime,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_customers(fake_odoo, 3)
    caplog.set_level(logging.DEBUG)  # zeep logs whole envelopes at DEBUG
    runtime = soap_runtime(soap_crm_server, fake_odoo)
    runtime.engine.run()
    soap_crm_server.expire_sessions()
    runtime.engine.run(full=True)
    session_id = runtime.crm.client._session_id
    assert session_id and "HTTP Post to" in caplog.text  # the envelopes were logged …
    texts = [caplog.text, repr(runtime.crm), repr(runtime.crm.client), repr(runtime.crm.settings)]
    with pytest.raises(AuthError) as caught:
        soap_runtime(soap_crm_server, fake_odoo, password="wrong-password").crm.check()
    texts += [str(caught.value), repr(caught.value)]
    texts += list(capsys.readouterr())
    for text in texts:  # … without the password or the session id
        assert soap_crm_server.password not in text
        assert session_id not in text
    assert caught.value.code == "INVALID_LOGIN"


def test_cli_init_kind_soap_then_check_and_run(
    soap_crm_server: SoapCrmServer,
    fake_odoo: FakeOdoo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "crm-sync.toml"
    assert main(["--config", str(config), "init", "--kind", "soap"]) == 0
    text = config.read_text()
    assert 'kind = "soap"' in text and "password_env" in text
    text = text.replace("https://login.example-crm.com/services/Soap/u/59.0",
                        soap_crm_server.login_url)  # fmt: skip
    text = text.replace("integration@example.com", soap_crm_server.username)
    text = text.replace("https://odoo.example.com", fake_odoo.url)
    text = text.replace('"production"', f'"{fake_odoo.database}"')
    text = text.replace("crm-sync@example.com", fake_odoo.login)
    text = text.replace('path = "crm-sync.sqlite3"', f'path = "{tmp_path / "state.sqlite3"}"')
    config.write_text(text)
    add_customers(fake_odoo, 3)
    monkeypatch.setenv("ODOO_API_KEY", fake_odoo.api_key)
    assert main(["--config", str(config), "check"]) == 2  # the password variable is missing
    monkeypatch.setenv("SOAP_CRM_PASSWORD", "not-the-password")
    assert main(["--config", str(config), "check"]) == 3
    monkeypatch.setenv("SOAP_CRM_PASSWORD", soap_crm_server.password)
    assert main(["--config", str(config), "check"]) == 0
    assert main(["--config", str(config), "run", "--no-progress"]) == 0
    assert len(soap_crm_server.by_external_id()) == 3
    assert soap_crm_server.password not in "".join(capsys.readouterr())


def test_packaged_wsdl_is_used_by_default() -> None:
    wsdl = Path(default_wsdl())
    assert wsdl.is_file() and wsdl.parent.name == "wsdl"
    assert "getDeleted" in wsdl.read_text()


def test_get_updated_and_deleted_windows(
    soap_crm_server: SoapCrmServer, fake_odoo: FakeOdoo, soap_runtime
) -> None:
    crm = soap_crm_server
    old = crm.add_record("Account", {"Name": "Old"})
    connector = soap_runtime(crm, fake_odoo).crm
    # The server clamps the window to its own clock; ours may run a little behind it.
    connector._clock = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    since = dt.datetime.now(dt.timezone.utc)
    changed = crm.add_record("Account", {"Name": "Changed"})
    crm.update_record("Account", old, {"Phone": "+32 1"})
    ids, covered = connector.changed_customer_ids(since - dt.timedelta(seconds=1))
    assert set(ids) >= {changed, old} and covered >= since
    crm.delete_record("Account", changed)
    # A cursor older than what the CRM keeps (30 days) is clamped, not an error.
    [page] = connector.iter_deleted_customers(since - dt.timedelta(days=90))
    assert [d.crm_id for d in page.items] == [changed] and page.high_water >= since


@pytest.mark.parametrize(
    "override",
    [
        {"customer_object": "Account WHERE Name != ''"},
        {"modified_field": "LastModifiedDate, Password__c"},
        {"payment_object": "Payment__c; DELETE"},
        {"fields": {"email": "Email__c FROM User --"}},
    ],
)
def test_soql_names_must_be_api_names(override: dict[str, Any]) -> None:
    """Object and field names are written into the SOQL text: a name that is not an API name
    is refused with the configuration, before any query."""
    from crm_sync.config import SoapSettings

    with pytest.raises(ValueError, match="is not an API name"):
        SoapSettings(login_url="https://crm.example/soap", username="sync", **override)
    assert SoapSettings(login_url="https://crm.example/soap", username="sync", payment_object="")


def test_daily_request_limit_stops_the_cli_with_exit_4_and_the_next_run_resumes(
    make_soap_crm_server: Callable[..., SoapCrmServer],
    fake_odoo: FakeOdoo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # two calls of the schema check, query customers, getDeleted, then two upserts of 200: the
    # third upsert is refused.
    crm = make_soap_crm_server(daily_request_limit=6)
    ids = add_customers(fake_odoo, 450)
    state = tmp_path / "state.sqlite3"
    config = tmp_path / "crm-sync.toml"
    config.write_text(
        f'[crm]\nkind = "soap"\nlogin_url = "{crm.login_url}"\nusername = "{crm.username}"\n'
        "timeout_seconds = 5\n"
        f'[odoo]\nurl = "{fake_odoo.url}"\ndatabase = "{fake_odoo.database}"\n'
        f'login = "{fake_odoo.login}"\n'
        f'[state]\npath = "{state}"\n'
    )
    monkeypatch.setenv("ODOO_API_KEY", fake_odoo.api_key)
    monkeypatch.setenv("SOAP_CRM_PASSWORD", crm.password)
    run = ["--config", str(config), "run", "--no-progress"]
    assert main(run) == EXIT_LIMIT
    err = capsys.readouterr().err
    assert "DailyLimitExceeded" in err
    assert (
        "the SOAP CRM's daily API request limit is spent (REQUEST_LIMIT_EXCEEDED): the run "
        "stopped with its cursor saved and resumes after the limit resets; raise the org's "
        "allowance if it recurs"
    ) in err
    assert crm.calls["upsert"] == 3  # the third was refused once and never retried
    assert len(crm.records("Account")) == 400

    def erp_cursor() -> ErpPosition:
        store = SqliteStateStore(state)
        try:
            return ErpPosition.decode(store.get_value(CURSOR_ERP_CUSTOMERS) or "")
        finally:
            store.close()

    assert erp_cursor().record_id == ids[399]  # the last page the CRM accepted

    assert main(run) == EXIT_LIMIT  # the allowance is still spent: stops again, nothing lost
    assert erp_cursor().record_id == ids[399]
    crm.reset_request_limit()
    assert main(run) == 0
    assert sorted(crm.by_external_id()) == sorted(str(i) for i in ids)
    assert erp_cursor().record_id == ids[449]


def test_a_change_by_a_system_process_is_replicated_by_system_modstamp(
    make_soap_crm_server: Callable[..., SoapCrmServer], fake_odoo: FakeOdoo, soap_runtime
) -> None:
    offset = [0.0]  # seconds the CRM's clock runs ahead; SOQL compares whole seconds
    crm = make_soap_crm_server(clock=lambda: time.time() + offset[0])
    ids = add_customers(fake_odoo, 2)
    runtime = soap_runtime(crm, fake_odoo, overlap_seconds=0)
    runtime.engine.run()
    offset[0] = 10.0
    edited = crm.by_external_id()[str(ids[1])]
    crm.update_record("Account", edited["Id"], {"Phone": "+32 2 555 02 02"})  # a user's edit
    runtime.engine.run()  # the CRM cursor moves to that edit
    assert fake_odoo.data["res.partner"][ids[1]]["phone"] == "+32 2 555 02 02"

    offset[0] = 20.0
    account = crm.by_external_id()[str(ids[0])]
    crm.touch_system("Account", account["Id"], {"Phone": "+32 2 555 01 01"})
    touched = crm.get("Account", account["Id"])
    assert touched is not None
    assert touched["LastModifiedDate"] == account["LastModifiedDate"]
    assert touched["SystemModstamp"] > crm.get("Account", edited["Id"])["LastModifiedDate"]
    runtime.engine.run()
    assert fake_odoo.data["res.partner"][ids[0]]["phone"] == "+32 2 555 01 01"
