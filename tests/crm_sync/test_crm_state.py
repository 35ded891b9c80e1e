"""State stores: atomic page commits, dead letters, id map, the run lock (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from crm_sync.errors import LockHeld
from crm_sync.state import MapEntry, StateStore
from crm_sync.state_sqlite import SqliteStateStore

PG_DSN = os.environ.get("CRM_SYNC_TEST_PG_DSN", "dbname=postgres")


def _postgres_store(prefix: str | None = None) -> StateStore:
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        psycopg2.connect(PG_DSN, connect_timeout=2).close()
    except psycopg2.Error:
        pytest.skip(f"no PostgreSQL reachable with DSN {PG_DSN!r} (set CRM_SYNC_TEST_PG_DSN)")
    from crm_sync.state_postgres import PostgresStateStore

    return PostgresStateStore(PG_DSN, table_prefix=prefix or f"crm_sync_t{uuid.uuid4().hex[:8]}_")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        state: StateStore = SqliteStateStore(tmp_path / "state.sqlite3")
        yield state
        state.close()
        return
    state = _postgres_store()
    yield state
    prefix = state._p  # type: ignore[attr-defined]
    with state._db, state._db.cursor() as cr:  # type: ignore[attr-defined]
        cr.execute(f"DROP TABLE {prefix}sync_state, {prefix}id_map, {prefix}dead_letters")
    state.close()


def test_a_failed_page_leaves_no_trace(store: StateStore) -> None:
    with store.transaction() as txn:
        txn.set_value("cursor:x", "1")
        txn.save_mapping(MapEntry("customers", "1", "crm-1", "p1", "q1"))
    with pytest.raises(RuntimeError), store.transaction() as txn:
        txn.set_value("cursor:x", "2")
        txn.save_mapping(MapEntry("customers", "2", "crm-2"))
        txn.add_dead_letter("s", "k", {"a": 1}, "boom", "E")
        raise RuntimeError("crash in the middle of a page")
    assert store.get_value("cursor:x") == "1"
    assert set(store.mappings_by_local("customers", ["1", "2"])) == {"1"}
    assert store.dead_letters() == []


def test_id_map_lookups_both_ways(store: StateStore) -> None:
    with store.transaction() as txn:
        for index in range(1200):
            txn.save_mapping(MapEntry("customers", str(index), f"crm-{index}", f"h{index}"))
        txn.save_mapping(MapEntry("customers", "5", "crm-5", "changed", "pulled"))
    wanted = [str(i) for i in range(0, 1200, 3)] + ["nope"]
    by_local = store.mappings_by_local("customers", wanted)
    assert len(by_local) == 400
    assert by_local["3"] == MapEntry("customers", "3", "crm-3", "h3", "")
    assert store.mappings_by_remote("customers", ["crm-5"])["crm-5"] == MapEntry(
        "customers", "5", "crm-5", "changed", "pulled"
    )
    assert store.counts() == {"customers": 1200, "dead_letters": 0}


def test_dead_letters_count_attempts_and_resolve(store: StateStore) -> None:
    with store.transaction() as txn:
        txn.add_dead_letter(
            "erp.customers", "7", {"email": "x"}, "INVALID_DATA: bad", "INVALID_DATA"
        )
    with store.transaction() as txn:
        txn.add_dead_letter("erp.customers", "7", {"email": "y"}, "still bad", "INVALID_DATA")
        txn.add_dead_letter("crm.customers", "7", {"id": "7"}, "other stream", "malformed")
    [letter] = store.dead_letters("erp.customers")
    assert (letter.attempts, letter.payload, letter.error) == (2, {"email": "y"}, "still bad")
    with store.transaction() as txn:
        txn.resolve_dead_letter("erp.customers", "7")
    assert [d.stream for d in store.dead_letters()] == ["crm.customers"]


def test_second_run_is_refused_while_the_lock_is_held(store: StateStore) -> None:
    with store.lock():
        if isinstance(store, SqliteStateStore):
            # Another process (the lock is per process, as runs are).
            code = (
                "import sys; from crm_sync.state_sqlite import SqliteStateStore\n"
                "from crm_sync.errors import LockHeld\n"
                f"s = SqliteStateStore({store.path!r})\n"
                "try:\n    s.lock().__enter__()\nexcept LockHeld:\n    sys.exit(6)\n"
            )
            assert subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 6
        else:
            other = _postgres_store(store._p)  # type: ignore[attr-defined]
            try:
                with pytest.raises(LockHeld), other.lock():
                    pass
            finally:
                other.close()
    with store.lock():  # released
        pass
