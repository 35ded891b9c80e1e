"""SQLite state store, the embedded default."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import LockHeld, StateError
from .state import DeadLetter, MapEntry, chunked, dump_payload, unique, utcnow_text

try:  # POSIX advisory locks are released by the kernel when the process dies.
    import fcntl

    HAS_FLOCK = True
except ImportError:  # pragma: no cover - Windows
    HAS_FLOCK = False

SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS id_map (
    stream TEXT NOT NULL,
    local_id TEXT NOT NULL,
    remote_id TEXT,
    push_hash TEXT NOT NULL DEFAULT '',
    pull_hash TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (stream, local_id)
);
CREATE INDEX IF NOT EXISTS id_map_remote ON id_map (stream, remote_id);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    record_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    error TEXT NOT NULL,
    code TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (stream, record_key)
);
"""


class _SqliteTransaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def set_value(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO sync_state (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (key, value, utcnow_text()),
        )

    def save_mapping(self, entry: MapEntry) -> None:
        self._db.execute(
            "INSERT INTO id_map (stream, local_id, remote_id, push_hash, pull_hash, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream, local_id) DO UPDATE SET "
            "remote_id = excluded.remote_id, push_hash = excluded.push_hash, "
            "pull_hash = excluded.pull_hash, updated_at = excluded.updated_at",
            (
                entry.stream,
                entry.local_id,
                entry.remote_id,
                entry.push_hash,
                entry.pull_hash,
                utcnow_text(),
            ),
        )

    def add_dead_letter(
        self, stream: str, record_key: str, payload: dict[str, Any], error: str, code: str
    ) -> None:
        now = utcnow_text()
        self._db.execute(
            "INSERT INTO dead_letters "
            "(stream, record_key, payload, error, code, attempts, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (stream, record_key) DO UPDATE SET "
            "payload = excluded.payload, error = excluded.error, code = excluded.code, "
            "attempts = dead_letters.attempts + 1, updated_at = excluded.updated_at",
            (stream, record_key, dump_payload(payload), error, code, now, now),
        )

    def resolve_dead_letter(self, stream: str, record_key: str) -> None:
        self._db.execute(
            "DELETE FROM dead_letters WHERE stream = ? AND record_key = ?", (stream, record_key)
        )


class SqliteStateStore:
    """State in one SQLite file (``:memory:`` works for tests); the lock is a sibling file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE … COMMIT).
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 10000")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
                os.chmod(self.path, 0o600)  # it holds the cached access token
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StateError(f"cannot open state store {self.path}: {exc}") from None
        self._lock_file: Any = None

    # -- reads ---------------------------------------------------------------------------
    def get_value(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _mappings(self, stream: str, column: str, ids: Sequence[str]) -> dict[str, MapEntry]:
        found: dict[str, MapEntry] = {}
        for part in chunked(unique(ids)):
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                "SELECT local_id, remote_id, push_hash, pull_hash FROM id_map "
                f"WHERE stream = ? AND {column} IN ({marks})",
                (stream, *part),
            )
            for local_id, remote_id, push_hash, pull_hash in rows:
                entry = MapEntry(stream, local_id, remote_id, push_hash, pull_hash)
                found[local_id if column == "local_id" else remote_id] = entry
        return found

    def mappings_by_local(self, stream: str, local_ids: Sequence[str]) -> dict[str, MapEntry]:
        return self._mappings(stream, "local_id", local_ids)

    def mappings_by_remote(self, stream: str, remote_ids: Sequence[str]) -> dict[str, MapEntry]:
        return self._mappings(stream, "remote_id", remote_ids)

    def dead_letters(self, stream: str | None = None) -> list[DeadLetter]:
        query = (
            "SELECT id, stream, record_key, payload, error, code, attempts, created_at, "
            "updated_at FROM dead_letters"
        )
        args: tuple[str, ...] = ()
        if stream is not None:
            query += " WHERE stream = ?"
            args = (stream,)
        rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [DeadLetter(row[0], row[1], row[2], json.loads(row[3]), *row[4:]) for row in rows]

    def counts(self) -> dict[str, int]:
        result = dict(self._db.execute("SELECT stream, COUNT(*) FROM id_map GROUP BY stream"))
        result["dead_letters"] = self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0]
        return result

    # -- writes --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[_SqliteTransaction]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield _SqliteTransaction(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    @contextmanager
    def lock(self) -> Iterator[None]:
        if not HAS_FLOCK or self.path == ":memory:":
            yield
            return
        handle = open(self.path + ".lock", "a+")  # held for the whole run
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockHeld(f"another run holds the lock on {self.path}") from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.close()  # closing releases the flock

    def close(self) -> None:
        self._db.close()
