"""SIGKILL real ``crm-sync run`` processes against the SOAP CRM and the FXiaoKe emulator;
restarts converge, no duplicates.

Each run is a separate process (forked from a forkserver with crm_sync preloaded, so a trial
costs milliseconds of start-up, not seconds) killed with SIGKILL at a random point.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import stored_cursor
from kill_recovery import (
    COMMON_CONFIG,
    FXIAOKE,
    SOAP,
    CrmShape,
    check_converged,
    check_no_duplicates,
    check_pushed_state,
    mutate,
    seed,
)

from crm_sync.fxiaoke_connector import from_epoch_ms
from crm_sync.testing import FakeOdoo
from crm_sync.testing.fxiaoke_emulator import FxiaokeEmulator
from crm_sync.testing.processes import CliProcesses
from crm_sync.testing.soap_server import SoapCrmServer

TRIALS = 12
SOAP_CRM = """
[crm]
kind = "soap"
login_url = "{crm.login_url}"
username = "{crm.username}"
query_batch_size = 200
upsert_batch_size = 20
timeout_seconds = 5
"""
FXIAOKE_CRM = """
[crm]
kind = "fxiaoke"
base_url = "{crm.base_url}"
app_id = "{crm.app_id}"
current_open_user_id = "{crm.open_user_id}"
page_size = 40
upsert_batch_size = 20
timeout_seconds = 5
"""


@dataclass(frozen=True)
class KillTarget:
    """One CRM the trials kill runs against."""

    shape: CrmShape
    emulator: Callable[[], Any]
    crm_config: str
    env: Callable[[Any], dict[str, str]]
    rng_seed: int
    seeded_partners: int
    write_calls: Callable[[Any], int]
    newest_modified: Callable[[list[dict[str, Any]]], dt.datetime | None]


TARGETS = {
    "soap": KillTarget(
        shape=SOAP,
        emulator=lambda: SoapCrmServer(latency=0.002),
        crm_config=SOAP_CRM,
        env=lambda crm: {"SOAP_CRM_PASSWORD": crm.password},
        rng_seed=20240612,
        seeded_partners=160,
        write_calls=lambda crm: crm.upsert_calls(),
        newest_modified=lambda accounts: max(a["SystemModstamp"] for a in accounts),
    ),
    "fxiaoke": KillTarget(
        shape=FXIAOKE,
        emulator=lambda: FxiaokeEmulator(latency=0.001),
        crm_config=FXIAOKE_CRM,
        env=lambda crm: {
            "FXIAOKE_APP_SECRET": crm.app_secret,
            "FXIAOKE_PERMANENT_CODE": crm.permanent_code,
        },
        rng_seed=20240613,
        seeded_partners=100,
        write_calls=lambda crm: crm.write_calls(),
        newest_modified=lambda accounts: from_epoch_ms(
            max(a["last_modified_time"] for a in accounts)
        ),
    ),
}


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_sigkill_at_random_points_then_restart(tmp_path: Path, kind: str) -> None:
    target = TARGETS[kind]
    shape = target.shape
    rng = random.Random(target.rng_seed)
    state = tmp_path / "state.sqlite3"
    with target.emulator() as crm, FakeOdoo(latency=0.001) as odoo:
        seed(odoo, crm, shape, partners=target.seeded_partners, accounts=10)
        config = tmp_path / "crm-sync.toml"
        config.write_text(
            target.crm_config.format(crm=crm)
            + COMMON_CONFIG.format(
                odoo_url=odoo.url, database=odoo.database, login=odoo.login, state=state
            )
        )
        env = {**target.env(crm), "ODOO_API_KEY": odoo.api_key}
        argv = ["--config", str(config), "run", "--no-progress"]
        processes = CliProcesses()
        processes.run(["--version"], env)  # starts the forkserver before the clock runs
        killed = 0
        for trial in range(TRIALS):
            if trial:
                mutate(rng, odoo, crm, shape, trial, partners=odoo.partners(), credit_updates=10)
            process = processes.start(argv, env)
            process.join(rng.uniform(0.05, 0.45))
            if process.exitcode is None:
                process.kill()  # SIGKILL: no cleanup, no rollback handlers
                process.join()
                killed += 1
            assert process.exitcode in (0, -signal.SIGKILL), process.exitcode
            check_no_duplicates(odoo, crm, shape)
            check_pushed_state(state, odoo, crm, shape)
        assert killed >= TRIALS // 3, f"only {killed} runs were killed mid-way"

        started = time.monotonic()
        for _ in range(2):  # converge, then a pass that only reads back its own echoes
            assert processes.run(argv, env) == 0
        crm.calls.clear()
        assert processes.run(argv, env) == 0
        assert target.write_calls(crm) == 0
        assert time.monotonic() - started < 30

        check_converged(odoo, crm, shape)
        newest = target.newest_modified(shape.accounts(crm))
        stored = stored_cursor(state, "crm.customers")
        assert stored is not None and dt.datetime.fromisoformat(stored) == newest
