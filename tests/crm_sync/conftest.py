"""Fixtures for the crm_sync tests: the emulators and a runtime wired to them."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from crm_sync.config import Config, Secrets, parse_config
from crm_sync.retry import RetryPolicy
from crm_sync.runtime import Runtime, build_runtime
from crm_sync.testing import FakeOdoo, ZohoEmulator
from crm_sync.testing.pytest_plugin import fake_odoo, make_zoho_emulator, zoho_emulator

__all__ = ["fake_odoo", "make_zoho_emulator", "zoho_emulator"]


class Sleeps:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def config_for(crm: ZohoEmulator, odoo: FakeOdoo, state_path: str | Path, **sync: Any) -> Config:
    return parse_config(
        {
            "crm": {"client_id": crm.client_id, "accounts_url": crm.accounts_url()},
            "odoo": {"url": odoo.url, "database": odoo.database, "login": odoo.login},
            "state": {"path": str(state_path)},
            "sync": {"overlap_seconds": 5, **sync},
        }
    )


def secrets_for(crm: ZohoEmulator, odoo: FakeOdoo) -> Secrets:
    return Secrets(
        zoho_client_secret=SecretStr(crm.client_secret),
        zoho_refresh_token=SecretStr(crm.refresh_token),
        odoo_api_key=SecretStr(odoo.api_key),
    )


def env_for(crm: ZohoEmulator, odoo: FakeOdoo) -> dict[str, str]:
    return {
        "ZOHO_CLIENT_SECRET": crm.client_secret,
        "ZOHO_REFRESH_TOKEN": crm.refresh_token,
        "ODOO_API_KEY": odoo.api_key,
    }


@pytest.fixture
def make_runtime(tmp_path: Path, sleeps: Sleeps) -> Iterator[Callable[..., Runtime]]:
    """``make_runtime(crm, odoo, **sync_options)`` → a runtime with a SQLite state in tmp_path."""
    built: list[Runtime] = []

    def factory(crm: ZohoEmulator, odoo: FakeOdoo, **sync: Any) -> Runtime:
        runtime = build_runtime(
            config_for(crm, odoo, tmp_path / "state.sqlite3", **sync),
            secrets=secrets_for(crm, odoo),
            retry=RetryPolicy(max_attempts=6, base_delay=0.5, sleep=sleeps),
        )
        built.append(runtime)
        return runtime

    yield factory
    for runtime in built:
        runtime.close()


def add_customers(odoo: FakeOdoo, count: int, start: int = 0) -> list[int]:
    return [
        odoo.create(
            "res.partner",
            {
                "name": f"Customer {i:05d}",
                "is_company": True,
                "email": f"customer{i}@example.com",
                "vat": f"BE{i:010d}",
                "credit_limit": 1000.0 + i,
                "credit_grade": "B",
                "credit_hold": False,
            },
        )
        for i in range(start, start + count)
    ]


@pytest.fixture(autouse=True)
def _reset_crm_sync_logging() -> Iterator[None]:
    """The CLI attaches a JSON handler to the captured stderr; detach it after each test."""
    yield
    logger = logging.getLogger("crm_sync")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


def state_rows(path: Path, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of a SQLite state store, read-only, as a killed run left it. A store killed before
    its file or its schema was committed holds nothing yet (the next run creates the tables)."""
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(query, params).fetchall()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise
    finally:
        db.close()


def stored_cursor(path: Path, key: str) -> str | None:
    """The cursor a SQLite state store holds for `key` (e.g. "erp.customers"), if any."""
    rows = state_rows(path, "SELECT value FROM sync_state WHERE key = ?", (f"cursor:{key}",))
    return rows[0][0] if rows else None
