"""What ``crm-sync run`` shows: progress bars and a summary table on a terminal, JSON otherwise."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

from conftest import add_customers, config_for, env_for, secrets_for
from rich.console import Console
from test_crm_cli import write_config

import crm_sync
from crm_sync import cli
from crm_sync.errors import EXIT_OK, EXIT_PARTIAL
from crm_sync.progress import RunDisplay
from crm_sync.runtime import build_runtime
from crm_sync.testing import FakeOdoo, ZohoEmulator

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_off_a_terminal_the_run_writes_json_log_lines_and_a_json_report(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, tmp_path: Path, monkeypatch, capsys
) -> None:
    add_customers(fake_odoo, 30)
    [broken] = add_customers(fake_odoo, 1, start=30)
    fake_odoo.write("res.partner", [broken], {"email": "broken"})  # a dead letter, logged
    config = config_for(zoho_emulator, fake_odoo, tmp_path / "state.sqlite3")
    path = write_config(tmp_path / "crm-sync.toml", config)
    for key, value in env_for(zoho_emulator, fake_odoo).items():
        monkeypatch.setenv(key, value)
    assert cli.main(["--config", str(path), "run"]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["crm_created"] == 30 and report["dead_letters"] == 1
    lines = captured.err.splitlines()
    assert lines and all(json.loads(line)["level"] for line in lines)  # every line is JSON
    assert any(json.loads(line)["message"] == "sync run finished" for line in lines)
    assert "━" not in captured.err and "dead letters" not in captured.err


def test_the_display_draws_a_bar_per_phase_and_a_summary_table(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, tmp_path: Path
) -> None:
    add_customers(fake_odoo, 450)
    zoho_emulator.add_record("Accounts", {"Account_Name": "Only in Zoho"})
    config = config_for(zoho_emulator, fake_odoo, tmp_path / "state.sqlite3", erp_page_size=100)
    screen = io.StringIO()
    display = RunDisplay(Console(file=screen, force_terminal=True, width=150))
    runtime = build_runtime(config, secrets=secrets_for(zoho_emulator, fake_odoo), progress=display)
    try:
        report = runtime.engine.run()
    finally:
        runtime.close()
    display.finish(report)
    text = ANSI.sub("", screen.getvalue())
    assert "CRM → Odoo customers" in text and "Odoo → CRM customers" in text
    assert "451/451" in text  # the push counted its customers up front: a total and a bar
    assert "━" in text and "elapsed" in text and "left" in text
    assert re.search(r"[\d,]+/s", text)  # the rate
    table = text[text.index("crm-sync run") :]
    for header in ("phase", "read", "pages", "created", "updated", "skipped", "dead letters",
                   "api calls", "elapsed"):  # fmt: skip
        assert header in table
    push_row = next(line for line in table.splitlines() if "Odoo → CRM customers" in line)
    cells = [cell.strip() for cell in push_row.strip("│ ").split("│")]
    # phase, read, pages, created, updated, skipped, dead letters, api calls, elapsed
    assert cells[1:7] == ["451", "5", "450", "1", "0", "0"]
    assert cells[7] == str(report.counters["push_calls"]) and cells[8].endswith(" s")
    assert report.phases["push"].seconds > 0


def test_under_a_pseudo_terminal_the_cli_shows_bars_and_the_table_not_json(
    zoho_emulator: ZohoEmulator, fake_odoo: FakeOdoo, tmp_path: Path
) -> None:
    add_customers(fake_odoo, 120)
    config = config_for(zoho_emulator, fake_odoo, tmp_path / "state.sqlite3")
    path = write_config(tmp_path / "crm-sync.toml", config)
    env = {**os.environ, **env_for(zoho_emulator, fake_odoo), "COLUMNS": "150", "TERM": "xterm"}
    env["PYTHONPATH"] = str(Path(crm_sync.__file__).resolve().parents[1])
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "crm_sync.cli", "--config", str(path), "run"],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    output = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    assert process.wait(timeout=60) == EXIT_OK
    text = ANSI.sub("", output.decode("utf-8", "replace"))
    assert "Odoo → CRM customers" in text and "120/120" in text and "━" in text
    assert "dead letters" in text and "crm-sync run" in text
    # A person at a terminal gets the table, not the indented JSON report.
    assert not re.search(r'^\s+"crm_created": ', text, re.MULTILINE)
    assert zoho_emulator.upsert_calls() == 2
