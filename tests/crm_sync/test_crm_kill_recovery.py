"""SIGKILL a real ``crm-sync run`` at random points; restarts must converge without harm.

Between trials the test changes data on both sides (while no run is active). After every kill
it checks that the committed state never claims more than was really written; at the end one
clean run converges and the test checks for duplicates, lost updates and exact cursors.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import env_for, state_rows, stored_cursor

from crm_sync.connector import ErpPosition
from crm_sync.odoo_connector import from_odoo_datetime
from crm_sync.testing import FakeOdoo, ZohoEmulator

TRIALS = 50
CONFIG = """
[crm]
client_id = "{client_id}"
accounts_url = "{accounts_url}"
per_page = 40
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


def command() -> list[str]:
    script = shutil.which("crm-sync")
    return [script] if script else [sys.executable, "-m", "crm_sync.cli"]


def mutate(rng: random.Random, odoo: FakeOdoo, crm: ZohoEmulator, serial: int) -> None:
    partners = [p for p in odoo.partners() if p.get("is_company")]
    for partner in rng.sample(partners, min(15, len(partners))):
        odoo.write("res.partner", [partner["id"]], {"credit_limit": float(rng.randint(1, 99_999))})
    for index in range(3):
        odoo.create(
            "res.partner",
            {"name": f"Odoo new {serial}-{index}", "is_company": True, "credit_limit": 10.0},
        )
    accounts = crm.records("Accounts")
    for account in rng.sample(accounts, min(3, len(accounts))):
        crm.update_record("Accounts", account["id"], {"Phone": f"+32 {rng.randint(1, 10**8)}"})
    crm.add_record("Accounts", {"Account_Name": f"CRM new {serial}", "Phone": "+32 1"})


def check_no_duplicates(odoo: FakeOdoo, crm: ZohoEmulator) -> None:
    external = [a.get("Odoo_Partner_ID") for a in crm.records("Accounts")]
    linked = [value for value in external if value]
    assert len(linked) == len(set(linked)), "two CRM accounts for one Odoo partner"
    names = [a["Account_Name"] for a in crm.records("Accounts")]
    assert len(names) == len(set(names)), "a customer was created twice in the CRM"
    odoo_names = [p["name"] for p in odoo.partners()]
    assert len(odoo_names) == len(set(odoo_names)), "a CRM account was created twice in Odoo"


def check_committed_state(state: Path, odoo: FakeOdoo, crm: ZohoEmulator) -> None:
    """Whatever the cursors claim as done is really done (no lost update)."""
    by_partner = {a.get("Odoo_Partner_ID"): a for a in crm.records("Accounts")}
    erp = stored_cursor(state, "erp.customers")
    if erp:
        position = ErpPosition.decode(erp)
        for partner in odoo.partners():
            if from_odoo_datetime(partner["write_date"]) < position.write_date:
                account = by_partner.get(str(partner["id"]))
                assert account is not None, f"partner {partner['id']} behind the cursor not pushed"
                assert account["Credit_Limit"] == partner.get("credit_limit"), "lost credit update"
    pulled = stored_cursor(state, "crm.customers")
    if pulled:
        links = dict(state_rows(state, "SELECT remote_id, local_id FROM id_map"))
        for account in crm.records("Accounts"):
            if account["Modified_Time"] < pulled:  # same ISO format and offset: comparable
                partner = odoo.data["res.partner"][int(links[account["id"]])]
                assert partner.get("phone") == account.get("Phone"), "lost CRM contact update"


@pytest.mark.slow
def test_sigkill_at_random_points_then_restart(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    state = tmp_path / "state.sqlite3"
    with ZohoEmulator(latency=0.002) as crm, FakeOdoo(latency=0.001) as odoo:
        for index in range(250):
            odoo.create(
                "res.partner",
                {"name": f"Odoo seed {index}", "is_company": True, "credit_limit": float(index)},
            )
        for index in range(20):
            crm.add_record("Accounts", {"Account_Name": f"CRM seed {index}", "Phone": "+32 0"})
        config = tmp_path / "crm-sync.toml"
        config.write_text(
            CONFIG.format(
                client_id=crm.client_id,
                accounts_url=crm.accounts_url(),
                odoo_url=odoo.url,
                database=odoo.database,
                login=odoo.login,
                state=state,
            )
        )
        env = {**os.environ, **env_for(crm, odoo), "CRM_SYNC_CONFIG": str(config)}
        killed = completed = 0
        started = time.monotonic()
        for trial in range(TRIALS):
            if trial:
                mutate(rng, odoo, crm, trial)
            process = subprocess.Popen(
                [*command(), "run", "--no-progress"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                process.wait(timeout=rng.uniform(0.15, 0.55))
                completed += 1
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                killed += 1
            assert process.returncode in (0, -signal.SIGKILL), process.returncode
            check_no_duplicates(odoo, crm)
            check_committed_state(state, odoo, crm)
        assert killed >= TRIALS // 3, f"only {killed} runs were killed mid-way"

        for _ in range(2):  # converge, then a pass that only reads back its own echoes
            result = subprocess.run([*command(), "run"], env=env, capture_output=True, timeout=120)
            assert result.returncode == 0, result.stderr.decode()[-2000:]
        crm.calls.clear()
        assert subprocess.run([*command(), "run"], env=env, timeout=120).returncode == 0
        assert crm.upsert_calls() == 0  # converged: nothing left to send
        elapsed = time.monotonic() - started

        check_no_duplicates(odoo, crm)
        accounts = crm.records("Accounts")
        by_partner = {a.get("Odoo_Partner_ID"): a for a in accounts}
        partners = odoo.partners()
        assert len(accounts) == len(partners)  # one CRM account per customer, both ways
        for partner in partners:
            account = by_partner[str(partner["id"])]
            assert account["Credit_Limit"] == partner.get("credit_limit")
            assert account["Account_Name"] == partner["name"]
            assert account.get("Phone") == partner.get("phone")
        last = max(partners, key=lambda p: (p["write_date"], p["id"]))
        expected = ErpPosition(from_odoo_datetime(last["write_date"]), last["id"])
        assert stored_cursor(state, "erp.customers") == expected.encode()
        assert stored_cursor(state, "crm.customers") == max(a["Modified_Time"] for a in accounts)
        print(f"{killed} killed, {completed} completed, {elapsed:.1f}s")
