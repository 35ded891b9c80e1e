"""The state store: cursors, the id map, the dead-letter table, the run lock.

The interface is deliberately small so that the Odoo addon can implement it on its own tables.
Reads happen outside transactions; every write goes through a :class:`StateTransaction`, and the
engine opens exactly one transaction per committed page, so a crash never leaves half-written
sync state.

To implement a store: provide the methods of :class:`StateStore`; ``transaction()`` must be a
context manager yielding an object with the methods of :class:`StateTransaction` that commits on
normal exit and rolls back on an exception; ``lock()`` must raise :class:`LockHeld` at once when
another run holds it and must be released if the process dies.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class MapEntry:
    """One row of the id map: an Odoo id, its CRM id, and the hashes last exchanged."""

    stream: str
    local_id: str
    remote_id: str | None
    push_hash: str = ""
    pull_hash: str = ""


@dataclass(frozen=True)
class DeadLetter:
    """A rejected record with what was sent and why it failed."""

    id: int
    stream: str
    record_key: str
    payload: dict[str, Any]
    error: str
    code: str
    attempts: int
    created_at: str
    updated_at: str


@runtime_checkable
class StateTransaction(Protocol):
    def set_value(self, key: str, value: str) -> None:
        """Set a cursor or another small piece of state."""

    def save_mapping(self, entry: MapEntry) -> None:
        """Insert or replace the id-map row of ``(entry.stream, entry.local_id)``."""

    def add_dead_letter(
        self, stream: str, record_key: str, payload: dict[str, Any], error: str, code: str
    ) -> None:
        """Record (or refresh, counting attempts) the dead letter of ``(stream, record_key)``."""

    def resolve_dead_letter(self, stream: str, record_key: str) -> None:
        """Forget the dead letter of a record that has now gone through."""


@runtime_checkable
class StateStore(Protocol):
    def get_value(self, key: str) -> str | None: ...

    def mappings_by_local(self, stream: str, local_ids: Sequence[str]) -> dict[str, MapEntry]: ...

    def mappings_by_remote(self, stream: str, remote_ids: Sequence[str]) -> dict[str, MapEntry]: ...

    def dead_letters(self, stream: str | None = None) -> list[DeadLetter]: ...

    def counts(self) -> dict[str, int]:
        """Rows per id-map stream plus ``dead_letters``; used by ``crm-sync status``."""

    def transaction(self) -> AbstractContextManager[StateTransaction]: ...

    def lock(self) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


def utcnow_text() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def dump_payload(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, default=str)


def chunked(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def open_state_store(backend: str, *, path: str = "", dsn: str | None = None) -> StateStore:
    """Open the configured store: ``sqlite`` (a file path) or ``postgresql`` (a DSN)."""
    if backend == "postgresql":
        from .errors import ConfigError
        from .state_postgres import PostgresStateStore

        if not dsn:
            raise ConfigError("state backend 'postgresql' needs a DSN", code="secret")
        return PostgresStateStore(dsn)
    from .state_sqlite import SqliteStateStore

    return SqliteStateStore(path)
