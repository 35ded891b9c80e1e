"""SIGKILL real ``crm-sync run`` processes against the SOAP CRM; restarts converge, no duplicates.

Each run is a separate process (forked from a forkserver with crm_sync preloaded, so a trial
costs milliseconds of start-up, not seconds) killed with SIGKILL at a random point.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import time
from pathlib import Path

from conftest import stored_cursor

from crm_sync.connector import ErpPosition
from crm_sync.odoo_connector import from_odoo_datetime
from crm_sync.testing import FakeOdoo
from crm_sync.testing.processes import CliProcesses
from crm_sync.testing.soap_server import SoapCrmServer

TRIALS = 12
CONFIG = """
[crm]
kind = "soap"
login_url = "{login_url}"
username = "{username}"
query_batch_size = 200
upsert_batch_size = 20
timeout_seconds = 5
[odoo]
url = "{odoo_url}"
database = "{database}"
login = "{login}"
[state]
path = "{state}"
[sync]
overlap_seconds = 2
erp_page_size = 40
[retry]
max_attempts = 3
base_delay = 0.01
max_delay = 0.05
"""


def check_no_duplicates(odoo: FakeOdoo, crm: SoapCrmServer) -> None:
    accounts = crm.records("Account")
    linked = [a["Odoo_Partner_ID__c"] for a in accounts if a.get("Odoo_Partner_ID__c")]
    assert len(linked) == len(set(linked)), "two CRM accounts for one Odoo partner"
    names = [a["Name"] for a in accounts]
    assert len(names) == len(set(names)), "a customer was created twice in the CRM"
    odoo_names = [p["name"] for p in odoo.partners()]
    assert len(odoo_names) == len(set(odoo_names)), "a CRM account was created twice in Odoo"


def check_committed_state(state: Path, odoo: FakeOdoo, crm: SoapCrmServer) -> None:
    """What the Odoo cursor claims as pushed really is in the CRM, with its latest credit."""
    erp = stored_cursor(state, "erp.customers")
    if not erp:
        return
    position = ErpPosition.decode(erp)
    by_partner = crm.by_external_id()
    for partner in odoo.partners():
        if from_odoo_datetime(partner["write_date"]) < position.write_date:
            account = by_partner.get(str(partner["id"]))
            assert account is not None, f"partner {partner['id']} behind the cursor not pushed"
            assert account["Credit_Limit__c"] == partner.get("credit_limit"), "lost update"


def mutate(rng: random.Random, odoo: FakeOdoo, crm: SoapCrmServer, serial: int) -> None:
    partners = odoo.partners()
    for partner in rng.sample(partners, min(10, len(partners))):
        odoo.write("res.partner", [partner["id"]], {"credit_limit": float(rng.randint(1, 99_999))})
    for index in range(3):
        odoo.create("res.partner", {"name": f"Odoo new {serial}-{index}", "is_company": True,
                                    "credit_limit": 10.0})  # fmt: skip
    accounts = crm.records("Account")
    for account in rng.sample(accounts, min(3, len(accounts))):
        crm.update_record("Account", account["Id"], {"Phone": f"+32 {rng.randint(1, 10**8)}"})
    crm.add_record("Account", {"Name": f"CRM new {serial}", "Phone": "+32 1"})


def test_sigkill_at_random_points_then_restart(tmp_path: Path) -> None:
    rng = random.Random(20240612)
    state = tmp_path / "state.sqlite3"
    with SoapCrmServer(latency=0.002) as crm, FakeOdoo(latency=0.001) as odoo:
        for index in range(160):
            odoo.create("res.partner", {"name": f"Odoo seed {index}", "is_company": True,
                                        "credit_limit": float(index)})  # fmt: skip
        for index in range(10):
            crm.add_record("Account", {"Name": f"CRM seed {index}", "Phone": "+32 0"})
        config = tmp_path / "crm-sync.toml"
        config.write_text(
            CONFIG.format(
                login_url=crm.login_url,
                username=crm.username,
                odoo_url=odoo.url,
                database=odoo.database,
                login=odoo.login,
                state=state,
            )  # fmt: skip
        )
        env = {"SOAP_CRM_PASSWORD": crm.password, "ODOO_API_KEY": odoo.api_key}
        argv = ["--config", str(config), "run", "--no-progress"]
        processes = CliProcesses()
        processes.run(["--version"], env)  # starts the forkserver before the clock runs
        killed = 0
        for trial in range(TRIALS):
            if trial:
                mutate(rng, odoo, crm, trial)
            process = processes.start(argv, env)
            process.join(rng.uniform(0.05, 0.45))
            if process.exitcode is None:
                process.kill()  # SIGKILL: no cleanup, no rollback handlers
                process.join()
                killed += 1
            assert process.exitcode in (0, -signal.SIGKILL), process.exitcode
            check_no_duplicates(odoo, crm)
            check_committed_state(state, odoo, crm)
        assert killed >= TRIALS // 3, f"only {killed} runs were killed mid-way"

        started = time.monotonic()
        for _ in range(2):  # converge, then a pass that only reads back its own echoes
            assert processes.run(argv, env) == 0
        crm.calls.clear()
        assert processes.run(argv, env) == 0
        assert crm.upsert_calls() == 0
        assert time.monotonic() - started < 30

        check_no_duplicates(odoo, crm)
        accounts = crm.records("Account")
        by_partner = crm.by_external_id()
        partners = odoo.partners()
        assert len(accounts) == len(partners)  # one CRM account per customer, both ways
        for partner in partners:
            account = by_partner[str(partner["id"])]
            assert account["Credit_Limit__c"] == partner.get("credit_limit")
            assert account["Name"] == partner["name"]
            assert account.get("Phone") == partner.get("phone")
        newest = max(a["LastModifiedDate"] for a in accounts)
        stored = stored_cursor(state, "crm.customers")
        assert stored is not None and dt.datetime.fromisoformat(stored) == newest
