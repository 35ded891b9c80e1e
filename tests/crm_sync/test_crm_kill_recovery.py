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
from kill_recovery import (
    COMMON_CONFIG,
    ZOHO,
    check_converged,
    check_no_duplicates,
    check_pushed_state,
    mutate,
    seed,
)

from crm_sync.connector import ErpPosition
from crm_sync.odoo_connector import from_odoo_datetime
from crm_sync.testing import FakeOdoo, ZohoEmulator

TRIALS = 50
CONFIG = (
    """
[crm]
client_id = "{client_id}"
accounts_url = "{accounts_url}"
per_page = 40
"""
    + COMMON_CONFIG
)


def command() -> list[str]:
    script = shutil.which("crm-sync")
    return [script] if script else [sys.executable, "-m", "crm_sync.cli"]


def check_committed_state(state: Path, odoo: FakeOdoo, crm: ZohoEmulator) -> None:
    """Whatever the cursors claim as done is really done (no lost update), both ways."""
    check_pushed_state(state, odoo, crm, ZOHO)
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
        seed(odoo, crm, ZOHO, partners=250, accounts=20)
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
                companies = [p for p in odoo.partners() if p.get("is_company")]
                mutate(rng, odoo, crm, ZOHO, trial, partners=companies, credit_updates=15)
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
            check_no_duplicates(odoo, crm, ZOHO)
            check_committed_state(state, odoo, crm)
        assert killed >= TRIALS // 3, f"only {killed} runs were killed mid-way"

        for _ in range(2):  # converge, then a pass that only reads back its own echoes
            result = subprocess.run([*command(), "run"], env=env, capture_output=True, timeout=120)
            assert result.returncode == 0, result.stderr.decode()[-2000:]
        crm.calls.clear()
        assert subprocess.run([*command(), "run"], env=env, timeout=120).returncode == 0
        assert crm.upsert_calls() == 0  # converged: nothing left to send
        elapsed = time.monotonic() - started

        check_converged(odoo, crm, ZOHO)
        accounts = crm.records("Accounts")
        partners = odoo.partners()
        last = max(partners, key=lambda p: (p["write_date"], p["id"]))
        expected = ErpPosition(from_odoo_datetime(last["write_date"]), last["id"])
        assert stored_cursor(state, "erp.customers") == expected.encode()
        assert stored_cursor(state, "crm.customers") == max(a["Modified_Time"] for a in accounts)
        print(f"{killed} killed, {completed} completed, {elapsed:.1f}s")
