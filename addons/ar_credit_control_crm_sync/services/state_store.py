"""crm_sync's ``StateStore`` on the addon's tables, inside Odoo's own cursor.

Contract (``crm_sync.state``): reads outside transactions; ``transaction()`` commits on normal
exit and rolls back on an exception; ``lock()`` raises ``LockHeld`` at once when another run
holds it and is released if the process dies.

Inside Odoo a "transaction" is a savepoint of the current cursor: an exception rolls back the
page's state writes only. When ``commit`` is set (the cron, outside tests) each page is also
committed, so a long run keeps what it has done. The lock is a PostgreSQL transaction-level
advisory lock on the backend: it cannot outlive the transaction (nor the connection), and it is
taken again right after each commit.

Writes are set-based SQL upserts on the unique keys; the ORM caches of the tables are
invalidated after each transaction so that views and tests see the new rows.
"""

import json
import zlib
from contextlib import contextmanager

from odoo.tools import SQL

from crm_sync.errors import LockHeld
from crm_sync.redaction import redact
from crm_sync.state import DeadLetter, MapEntry, unique

# First key of the two-key advisory lock; the second is the backend id.
LOCK_CLASS = zlib.crc32(b"ar_crm_backend.sync") & 0x7FFFFFFF
STATE_MODELS = ("ar.crm.sync.state", "ar.crm.id.map", "ar.crm.dead.letter")


class _OdooStateTransaction:
    def __init__(self, store):
        self._store = store

    def _execute(self, query):
        self._store.cr.execute(query)

    def set_value(self, key, value):
        store = self._store
        self._execute(
            SQL(
                """INSERT INTO ar_crm_sync_state
                       (backend_id, company_id, key, value,
                        create_uid, create_date, write_uid, write_date)
                   VALUES (%(backend)s, %(company)s, %(key)s, %(value)s,
                           %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
                   ON CONFLICT (backend_id, key) DO UPDATE
                      SET value = EXCLUDED.value, write_uid = EXCLUDED.write_uid,
                          write_date = EXCLUDED.write_date""",
                backend=store.backend_id,
                company=store.company_id,
                key=key,
                value=value,
                uid=store.uid,
            )
        )

    def save_mapping(self, entry):
        store = self._store
        self._execute(
            SQL(
                """INSERT INTO ar_crm_id_map
                       (backend_id, company_id, stream, local_id, remote_id, push_hash,
                        pull_hash, create_uid, create_date, write_uid, write_date)
                   VALUES (%(backend)s, %(company)s, %(stream)s, %(local)s, %(remote)s,
                           %(push)s, %(pull)s, %(uid)s, now() at time zone 'UTC', %(uid)s,
                           now() at time zone 'UTC')
                   ON CONFLICT (backend_id, stream, local_id) DO UPDATE
                      SET remote_id = EXCLUDED.remote_id, push_hash = EXCLUDED.push_hash,
                          pull_hash = EXCLUDED.pull_hash, write_uid = EXCLUDED.write_uid,
                          write_date = EXCLUDED.write_date""",
                backend=store.backend_id,
                company=store.company_id,
                stream=entry.stream,
                local=entry.local_id,
                remote=entry.remote_id,
                push=entry.push_hash or "",
                pull=entry.pull_hash or "",
                uid=store.uid,
            )
        )

    def add_dead_letter(self, stream, record_key, payload, error, code):
        store = self._store
        self._execute(
            SQL(
                """INSERT INTO ar_crm_dead_letter
                       (backend_id, company_id, stream, record_key, payload, error, code,
                        attempts, create_uid, create_date, write_uid, write_date)
                   VALUES (%(backend)s, %(company)s, %(stream)s, %(key)s, %(payload)s::jsonb,
                           %(error)s, %(code)s, 1, %(uid)s, now() at time zone 'UTC', %(uid)s,
                           now() at time zone 'UTC')
                   ON CONFLICT (backend_id, stream, record_key) DO UPDATE
                      SET payload = EXCLUDED.payload, error = EXCLUDED.error,
                          code = EXCLUDED.code, attempts = ar_crm_dead_letter.attempts + 1,
                          write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date""",
                backend=store.backend_id,
                company=store.company_id,
                stream=stream,
                key=record_key,
                payload=json.dumps(payload, sort_keys=True, default=str),
                # Error texts come from remote systems: mask any secret that slipped in.
                error=redact(error),
                code=code,
                uid=store.uid,
            )
        )

    def resolve_dead_letter(self, stream, record_key):
        self._execute(
            SQL(
                "DELETE FROM ar_crm_dead_letter "
                "WHERE backend_id = %s AND stream = %s AND record_key = %s",
                self._store.backend_id,
                stream,
                record_key,
            )
        )


class OdooStateStore:
    """The sync state of one ``ar.crm.backend`` (implements ``crm_sync.state.StateStore``)."""

    def __init__(self, backend, *, commit=False):
        backend.ensure_one()
        self.env = backend.env
        self.cr = backend.env.cr
        self.backend_id = backend.id
        self.company_id = backend.company_id.id
        self.uid = backend.env.uid
        self.commit = commit
        self._locked = False

    def __repr__(self):
        return f"OdooStateStore(backend={self.backend_id})"

    # -- reads ---------------------------------------------------------------------------
    def _rows(self, query):
        for model in STATE_MODELS:
            self.env[model].flush_model()
        self.cr.execute(query)
        return self.cr.fetchall()

    def get_value(self, key):
        rows = self._rows(
            SQL(
                "SELECT value FROM ar_crm_sync_state WHERE backend_id = %s AND key = %s",
                self.backend_id,
                key,
            )
        )
        return rows[0][0] if rows else None

    def _mappings(self, stream, column, ids):
        rows = self._rows(
            SQL(
                "SELECT local_id, remote_id, push_hash, pull_hash FROM ar_crm_id_map "
                "WHERE backend_id = %s AND stream = %s AND %s = ANY(%s)",
                self.backend_id,
                stream,
                SQL.identifier(column),
                unique(ids),
            )
        )
        entries = [
            MapEntry(stream, local, remote or None, push or "", pull or "")
            for local, remote, push, pull in rows
        ]
        if column == "local_id":
            return {entry.local_id: entry for entry in entries}
        return {entry.remote_id or "": entry for entry in entries}

    def mappings_by_local(self, stream, local_ids):
        return self._mappings(stream, "local_id", local_ids) if local_ids else {}

    def mappings_by_remote(self, stream, remote_ids):
        return self._mappings(stream, "remote_id", remote_ids) if remote_ids else {}

    def dead_letters(self, stream=None):
        rows = self._rows(
            SQL(
                """SELECT id, stream, record_key, payload, error, code, attempts,
                          create_date::text, write_date::text
                     FROM ar_crm_dead_letter
                    WHERE backend_id = %s AND (%s IS NULL OR stream = %s)
                    ORDER BY id""",
                self.backend_id,
                stream,
                stream,
            )
        )
        return [
            DeadLetter(
                row[0],
                row[1],
                row[2],
                row[3] if isinstance(row[3], dict) else json.loads(row[3] or "{}"),
                *row[4:],
            )
            for row in rows
        ]

    def counts(self):
        result = dict(
            self._rows(
                SQL(
                    "SELECT stream, COUNT(*) FROM ar_crm_id_map WHERE backend_id = %s "
                    "GROUP BY stream",
                    self.backend_id,
                )
            )
        )
        result["dead_letters"] = self._rows(
            SQL("SELECT COUNT(*) FROM ar_crm_dead_letter WHERE backend_id = %s", self.backend_id)
        )[0][0]
        return result

    # -- writes --------------------------------------------------------------------------
    @contextmanager
    def transaction(self):
        with self.cr.savepoint():
            yield _OdooStateTransaction(self)
        for model in STATE_MODELS:
            self.env[model].invalidate_model()
        if self.commit:
            self._commit()

    def _commit(self):
        # The cron keeps each finished page: the engine's writes are idempotent, so a crash
        # replays at most the page in progress.
        self.cr.commit()  # pylint: disable=invalid-commit
        if self._locked and not self._try_lock():
            raise LockHeld("another run took the sync lock of this backend")

    def _try_lock(self):
        self.cr.execute(
            SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", LOCK_CLASS, self.backend_id)
        )
        return bool(self.cr.fetchone()[0])

    @contextmanager
    def lock(self):
        if not self._try_lock():
            raise LockHeld("another run holds the sync lock of this backend")
        self._locked = True
        try:
            yield
        finally:
            # The advisory lock ends with the transaction; nothing to release by hand.
            self._locked = False

    def close(self):
        """The cursor belongs to Odoo."""
