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


def sync_config(
    crm_section: dict[str, Any], odoo: FakeOdoo, state_path: str | Path, **sync: Any
) -> Config:
    """A configuration for any CRM kind against the fake Odoo, with a SQLite state."""
    return parse_config(
        {
            "crm": crm_section,
            "odoo": {"url": odoo.url, "database": odoo.database, "login": odoo.login},
            "state": {"path": str(state_path)},
            "sync": {"overlap_seconds": 5, **sync},
        }
    )


def config_for(crm: ZohoEmulator, odoo: FakeOdoo, state_path: str | Path, **sync: Any) -> Config:
    crm_section = {"client_id": crm.client_id, "accounts_url": crm.accounts_url()}
    return sync_config(crm_section, odoo, state_path, **sync)


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
def runtime_builder(sleeps: Sleeps) -> Iterator[Callable[[Config, Secrets], Runtime]]:
    """``runtime_builder(config, secrets)`` → a runtime retrying with recorded sleeps, closed
    after the test."""
    built: list[Runtime] = []

    def build(config: Config, secrets: Secrets) -> Runtime:
        retry = RetryPolicy(max_attempts=6, base_delay=0.5, sleep=sleeps)
        runtime = build_runtime(config, secrets=secrets, retry=retry)
        built.append(runtime)
        return runtime

    yield build
    for runtime in built:
        runtime.close()


@pytest.fixture
def make_runtime(
    tmp_path: Path, runtime_builder: Callable[[Config, Secrets], Runtime]
) -> Callable[..., Runtime]:
    """``make_runtime(crm, odoo, **sync_options)`` → a runtime with a SQLite state in tmp_path."""

    def factory(crm: ZohoEmulator, odoo: FakeOdoo, **sync: Any) -> Runtime:
        config = config_for(crm, odoo, tmp_path / "state.sqlite3", **sync)
        return runtime_builder(config, secrets_for(crm, odoo))

    return factory


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
