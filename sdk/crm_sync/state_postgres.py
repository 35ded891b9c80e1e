"""PostgreSQL state store (optional; ``pip install ar-credit-control-sdk[postgres]``)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .errors import ConfigError, LockHeld, StateError
from .state import DeadLetter, MapEntry, dump_payload, unique

SCHEMA = """
CREATE TABLE IF NOT EXISTS {p}sync_state (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {p}id_map (
    stream TEXT NOT NULL, local_id TEXT NOT NULL, remote_id TEXT,
    push_hash TEXT NOT NULL DEFAULT '', pull_hash TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (stream, local_id));
CREATE INDEX IF NOT EXISTS {p}id_map_remote ON {p}id_map (stream, remote_id);
CREATE TABLE IF NOT EXISTS {p}dead_letters (
    id BIGSERIAL PRIMARY KEY, stream TEXT NOT NULL, record_key TEXT NOT NULL,
    payload JSONB NOT NULL, error TEXT NOT NULL, code TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1, created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), UNIQUE (stream, record_key));
"""


class _PgTransaction:
    def __init__(self, cursor: Any, prefix: str) -> None:
        self._cr = cursor
        self._p = prefix

    def set_value(self, key: str, value: str) -> None:
        self._cr.execute(
            f"INSERT INTO {self._p}sync_state (key, value) VALUES (%s, %s) ON CONFLICT (key) "
            "DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            (key, value),
        )

    def save_mapping(self, entry: MapEntry) -> None:
        self._cr.execute(
            f"INSERT INTO {self._p}id_map (stream, local_id, remote_id, push_hash, pull_hash) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (stream, local_id) DO UPDATE SET "
            "remote_id = EXCLUDED.remote_id, push_hash = EXCLUDED.push_hash, "
            "pull_hash = EXCLUDED.pull_hash, updated_at = now()",
            (entry.stream, entry.local_id, entry.remote_id, entry.push_hash, entry.pull_hash),
        )

    def add_dead_letter(
        self, stream: str, record_key: str, payload: dict[str, Any], error: str, code: str
    ) -> None:
        self._cr.execute(
            f"INSERT INTO {self._p}dead_letters (stream, record_key, payload, error, code) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (stream, record_key) DO UPDATE SET "
            "payload = EXCLUDED.payload, error = EXCLUDED.error, code = EXCLUDED.code, "
            f"attempts = {self._p}dead_letters.attempts + 1, updated_at = now()",
            (stream, record_key, dump_payload(payload), error, code),
        )

    def resolve_dead_letter(self, stream: str, record_key: str) -> None:
        self._cr.execute(
            f"DELETE FROM {self._p}dead_letters WHERE stream = %s AND record_key = %s",
            (stream, record_key),
        )


class PostgresStateStore:
    """State in PostgreSQL tables named ``<prefix>sync_state`` etc.; the lock is advisory."""

    def __init__(self, dsn: str, *, table_prefix: str = "crm_sync_") -> None:
        try:
            import psycopg2  # imported lazily: PostgreSQL support is optional
        except ImportError:
            raise ConfigError(
                "state backend 'postgresql' needs psycopg2 (pip install psycopg2)",
                code="missing_driver",
            ) from None
        if not table_prefix.replace("_", "").isalnum():
            raise ConfigError(f"invalid table prefix {table_prefix!r}", code="invalid")
        self._p = table_prefix
        try:
            self._db = psycopg2.connect(dsn)
        except psycopg2.Error as exc:
            # The DSN may hold a password: report the driver's class, never the DSN.
            raise StateError(
                f"cannot connect to the PostgreSQL state store ({type(exc).__name__})"
            ) from None
        self._db.autocommit = False
        with self._db, self._db.cursor() as cr:
            cr.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key("schema"),))
            cr.execute(SCHEMA.format(p=self._p))

    def _lock_key(self, name: str) -> int:
        return zlib.crc32(f"{self._p}{name}".encode())

    def _fetch(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._db, self._db.cursor() as cr:
            cr.execute(query, tuple(args))
            return list(cr.fetchall())

    def get_value(self, key: str) -> str | None:
        rows = self._fetch(f"SELECT value FROM {self._p}sync_state WHERE key = %s", (key,))
        return rows[0][0] if rows else None

    def _mappings(self, stream: str, column: str, ids: Sequence[str]) -> dict[str, MapEntry]:
        rows = self._fetch(
            f"SELECT local_id, remote_id, push_hash, pull_hash FROM {self._p}id_map "
            f"WHERE stream = %s AND {column} = ANY(%s)",
            (stream, unique(ids)),
        )
        entries = [MapEntry(stream, *row) for row in rows]
        if column == "local_id":
            return {entry.local_id: entry for entry in entries}
        return {entry.remote_id or "": entry for entry in entries}

    def mappings_by_local(self, stream: str, local_ids: Sequence[str]) -> dict[str, MapEntry]:
        return self._mappings(stream, "local_id", local_ids)

    def mappings_by_remote(self, stream: str, remote_ids: Sequence[str]) -> dict[str, MapEntry]:
        return self._mappings(stream, "remote_id", remote_ids)

    def dead_letters(self, stream: str | None = None) -> list[DeadLetter]:
        query = (
            f"SELECT id, stream, record_key, payload, error, code, attempts, created_at::text, "
            f"updated_at::text FROM {self._p}dead_letters"
        )
        args: tuple[str, ...] = ()
        if stream is not None:
            query += " WHERE stream = %s"
            args = (stream,)
        rows = self._fetch(query + " ORDER BY id", args)
        return [
            DeadLetter(
                row[0],
                row[1],
                row[2],
                row[3] if isinstance(row[3], dict) else json.loads(row[3]),
                *row[4:],
            )
            for row in rows
        ]

    def counts(self) -> dict[str, int]:
        result = dict(self._fetch(f"SELECT stream, COUNT(*) FROM {self._p}id_map GROUP BY stream"))
        result["dead_letters"] = self._fetch(f"SELECT COUNT(*) FROM {self._p}dead_letters")[0][0]
        return result

    @contextmanager
    def transaction(self) -> Iterator[_PgTransaction]:
        with self._db, self._db.cursor() as cr:  # commits on exit, rolls back on error
            yield _PgTransaction(cr, self._p)

    @contextmanager
    def lock(self) -> Iterator[None]:
        key = self._lock_key("run")
        got = self._fetch("SELECT pg_try_advisory_lock(%s)", (key,))[0][0]
        if not got:
            raise LockHeld("another run holds the PostgreSQL advisory lock")
        try:
            yield
        finally:
            self._fetch("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        self._db.close()
