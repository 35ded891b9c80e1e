"""mypy over both SDK packages (``ar_engine`` and ``crm_sync``, emulators included), with the
configuration of pyproject.toml: it backs the ``py.typed`` promise they ship."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_sdk_type_checks() -> None:
    pytest.importorskip("mypy", reason="mypy not installed (pip install -e .[test])")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues found" in proc.stdout


def test_no_type_ignore_without_a_code_and_a_reason() -> None:
    """Every ``type: ignore`` left names the error it silences and says why."""
    bare = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted((REPO / "sdk").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "type: ignore" in line
        and not (
            "type: ignore[" in line and "#" in line.split("type: ignore[", 1)[1].split("]", 1)[1]
        )
    ]
    assert not bare, bare
