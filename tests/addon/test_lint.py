"""ruff over the whole project and pylint-odoo's non-OCA checks over the addons (the tier 2
test addons of tests/odoo_addons included)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True)


@pytest.mark.skipif(not shutil.which("ruff"), reason="ruff not installed (pip install -e .[test])")
def test_ruff_check():
    proc = _run(["ruff", "check", "--no-cache", "."])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(not shutil.which("ruff"), reason="ruff not installed (pip install -e .[test])")
def test_ruff_format():
    proc = _run(["ruff", "format", "--check", "--no-cache", "."])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pylint_odoo():
    pytest.importorskip("pylint_odoo", reason="pylint-odoo not installed (pip install -e .[test])")
    addons = [
        str(p.parent)
        for folder in ("addons", "tests/odoo_addons")
        for p in (REPO / folder).glob("*/__manifest__.py")
    ]
    proc = _run([sys.executable, "-m", "pylint", "--rcfile=.pylintrc-odoo", *addons])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(not shutil.which("ruff"), reason="ruff not installed (pip install -e .[test])")
def test_security_rules_over_shipped_code():
    """flake8-bandit's rules (ruff S) over the addons and the SDK; the exceptions, each with
    its reason, are in pyproject.toml."""
    proc = _run(["ruff", "check", "--no-cache", "--extend-select", "S", "addons", "sdk"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
