"""SIGKILL real ``crm-sync run`` processes against the FXiaoKe emulator: restarts converge.

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
from crm_sync.fxiaoke_connector import from_epoch_ms
from crm_sync.odoo_connector import from_odoo_datetime
from crm_sync.testing import FakeOdoo
from crm_sync.testing.fxiaoke_emulator import FxiaokeEmulator
from crm_sync.testing.processes import CliProcesses

TRIALS = 12
CONFIG = """
[crm]
kind = "fxiaoke"
base_url = "{base_url}"
app_id = "{app_id}"
current_open_user_id = "{open_user_id}"
page_size = 40
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


def money(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def check_no_duplicates(odoo: FakeOdoo, crm: FxiaokeEmulator) -> None:
    accounts = crm.records("AccountObj")
    linked = [a["odoo_partner_id__c"] for a in accounts if a.get("odoo_partner_id__c")]
    assert len(linked) == len(set(linked)), "two CRM accounts for one Odoo partner"
    names = [a["name"] for a in accounts]
    assert len(names) == len(set(names)), "a customer was created twice in the CRM"
    odoo_names = [p["name"] for p in odoo.partners()]
    assert len(odoo_names) == len(set(odoo_names)), "a CRM account was created twice in Odoo"


def check_committed_state(state: Path, odoo: FakeOdoo, crm: FxiaokeEmulator) -> None:
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
            assert account["credit_limit__c"] == money(partner.get("credit_limit")), "lost update"


def mutate(rng: random.Random, odoo: FakeOdoo, crm: FxiaokeEmulator, serial: int) -> None:
    partners = odoo.partners()
    for partner in rng.sample(partners, min(10, len(partners))):
        odoo.write("res.partner", [partner["id"]], {"credit_limit": float(rng.randint(1, 99_999))})
    for index in range(3):
        odoo.create(
            "res.partner",
            {"name": f"Odoo new {serial}-{index}", "is_company": True, "credit_limit": 10.0},
        )
    accounts = crm.records("AccountObj")
    for account in rng.sample(accounts, min(3, len(accounts))):
        crm.update_record("AccountObj", account["_id"], {"tel": f"+86 {rng.randint(1, 10**8)}"})
    crm.add_record("AccountObj", {"name": f"CRM new {serial}", "tel": "+86 1"})


def test_sigkill_at_random_points_then_restart(tmp_path: Path) -> None:
    rng = random.Random(20240613)
    state = tmp_path / "state.sqlite3"
    with FxiaokeEmulator(latency=0.001) as crm, FakeOdoo(latency=0.001) as odoo:
        for index in range(100):
            odoo.create(
                "res.partner",
                {"name": f"Odoo seed {index}", "is_company": True, "credit_limit": float(index)},
            )
        for index in range(10):
            crm.add_record("AccountObj", {"name": f"CRM seed {index}", "tel": "+86 0"})
        config = tmp_path / "crm-sync.toml"
        config.write_text(
            CONFIG.format(
                base_url=crm.base_url,
                app_id=crm.app_id,
                open_user_id=crm.open_user_id,
                odoo_url=odoo.url,
                database=odoo.database,
                login=odoo.login,
                state=state,
            )
        )
        env = {
            "FXIAOKE_APP_SECRET": crm.app_secret,
            "FXIAOKE_PERMANENT_CODE": crm.permanent_code,
            "ODOO_API_KEY": odoo.api_key,
        }
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
        assert crm.write_calls() == 0
        assert time.monotonic() - started < 30

        check_no_duplicates(odoo, crm)
        accounts = crm.records("AccountObj")
        by_partner = crm.by_external_id()
        partners = odoo.partners()
        assert len(accounts) == len(partners)  # one CRM account per customer, both ways
        for partner in partners:
            account = by_partner[str(partner["id"])]
            assert account["credit_limit__c"] == money(partner.get("credit_limit"))
            assert account["name"] == partner["name"]
            assert account.get("tel") == partner.get("phone")
        newest = from_epoch_ms(max(a["last_modified_time"] for a in accounts))
        stored = stored_cursor(state, "crm.customers")
        assert stored is not None and dt.datetime.fromisoformat(stored) == newest
