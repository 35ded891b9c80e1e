"""Zoho's official Python SDK (PyPI ``zohocrmsdk8-0``) for the emulator parity test.

It is not in setup.py's ``test`` extra: version 7.0.0 requires ``requests>=2.32.2`` and Odoo 18
pins requests 2.31, so ``pip install zohocrmsdk8-0`` would upgrade Odoo's own requirement. The
SDK works with requests 2.31, so it is installed with ``--no-deps`` into ``var/zohosdk`` of the
repository (outside site-packages, ignored by git) and put on ``sys.path`` for the test run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "zohocrmsdk8-0"
VERSION = "7.0.0"
TARGET = Path(__file__).resolve().parents[2] / "var" / "zohosdk"


class SdkUnavailable(RuntimeError):
    """The package could not be downloaded (no network, no index)."""


def _installed(folder: Path) -> bool:
    return (folder / "zohocrmsdk").is_dir() and (
        folder / f"zohocrmsdk8_0-{VERSION}.dist-info"
    ).is_dir()


def ensure_official_sdk(target: Path = TARGET) -> Path:
    """Install the SDK into ``target`` once (atomically: parallel runs may race) and import it."""
    if not _installed(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="zohosdk-", dir=target.parent))
        try:
            command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile",
                       "--disable-pip-version-check", "--quiet", "--retries", "2",
                       "--timeout", "30", "--target", str(staging),
                       f"{PACKAGE}=={VERSION}"]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, timeout=300)
            if result.returncode != 0 or not _installed(staging):
                raise SdkUnavailable(
                    f"pip could not install {PACKAGE}=={VERSION}: {result.stderr.strip()[-500:]}"
                )
            try:
                os.rename(staging, target)
            except OSError:
                if not _installed(target):  # another run won the race with a good copy
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if str(target) not in sys.path:
        sys.path.append(str(target))
    return target
