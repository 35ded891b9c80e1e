"""Benchmark: initial push of N customers to the Zoho emulator, then a 1%-changed pass.

The emulator runs in a child process so that the peak RSS reported is the sync process's
own (engine, Zoho connector, SQLite state). Odoo is a synthetic in-process connector that
streams customers page by page, as the JSON-RPC connector does.

    python bench/crm_sync_push.py            # 100,000 customers
    python bench/crm_sync_push.py -n 20000   # smaller

Prints rows, upsert calls (expected ceil(n/100)), wall seconds, throughput and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from crm_sync.config import SyncSettings, ZohoSettings
from crm_sync.connector import ErpPosition
from crm_sync.engine import SyncEngine
from crm_sync.records import ContactData, CreditData, ErpCustomer
from crm_sync.retry import RetryPolicy
from crm_sync.state_sqlite import SqliteStateStore
from crm_sync.zoho_auth import StateTokenStore
from crm_sync.zoho_connector import ZohoConnector

EPOCH = dt.datetime(2024, 1, 1)


class SyntheticOdoo:
    """Streams ``n`` customers in (write_date, id) order; ``touch`` changes some of them."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.version = [0] * (n + 1)
        self.stamp = [EPOCH + dt.timedelta(seconds=i // 50) for i in range(n + 1)]

    def touch(self, ids: Sequence[int], when: dt.datetime) -> None:
        for erp_id in ids:
            self.version[erp_id] += 1
            self.stamp[erp_id] = when

    def _customer(self, erp_id: int) -> ErpCustomer:
        return ErpCustomer(
            erp_id=erp_id,
            write_date=self.stamp[erp_id],
            contact=ContactData(
                name=f"Customer {erp_id:06d}",
                email=f"ap{erp_id}@example.com",
                vat=f"BE{erp_id:010d}",
                city="Brussels",
            ),
            credit=CreditData(
                credit_limit=Decimal(1000 + erp_id + self.version[erp_id]),
                credit_grade="B",
                credit_hold=False,
                amount_overdue=Decimal(0),
            ),
        )

    def iter_customers(
        self, after: ErpPosition | None, page_size: int, ids: Sequence[int] | None = None
    ) -> Iterator[list[ErpCustomer]]:
        order = sorted(ids or range(1, self.n + 1), key=lambda i: (self.stamp[i], i))
        if after is not None:
            order = [i for i in order if (self.stamp[i], i) > (after.write_date, after.record_id)]
        for start in range(0, len(order), page_size):
            yield [self._customer(i) for i in order[start : start + page_size]]

    def find_customer(self, *args: object) -> int | None:
        return None

    def update_customers(self, updates: Sequence[object]) -> int:
        return 0

    def check(self) -> None: ...

    def close(self) -> None: ...


def serve_emulator(connection) -> None:  # type: ignore[no-untyped-def]
    from crm_sync.testing import ZohoEmulator

    with ZohoEmulator() as crm:
        connection.send((crm.accounts_url(), crm.client_id, crm.client_secret, crm.refresh_token))
        while True:
            command = connection.recv()
            if command == "stop":
                return
            if command == "calls":
                connection.send(dict(crm.calls))
            if command == "count":
                connection.send(len(crm.records("Accounts")))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    args = parser.parse_args()
    n = args.n
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve_emulator, args=(child,), daemon=True)
    server.start()
    accounts_url, client_id, client_secret, refresh_token = parent.recv()
    workdir = Path(tempfile.mkdtemp(prefix="crm-sync-bench-"))
    state = SqliteStateStore(workdir / "state.sqlite3")
    settings = ZohoSettings(client_id=client_id, accounts_url=accounts_url, payments_module="")
    crm = ZohoConnector.from_settings(
        settings,
        client_secret=SecretStr(client_secret),
        refresh_token=SecretStr(refresh_token),
        token_store=StateTokenStore(state),
        retry=RetryPolicy(),
    )
    odoo = SyntheticOdoo(n)
    engine = SyncEngine(crm, odoo, state, SyncSettings(overlap_seconds=1, sync_payments=False))

    def calls() -> dict[str, int]:
        parent.send("calls")
        return parent.recv()

    def measure(label: str, rows: int) -> dict[str, int]:
        before = calls()
        started = time.perf_counter()
        report = engine.run()
        seconds = time.perf_counter() - started
        after = calls()
        spent = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        upserts = spent.get("POST /Accounts/upsert", 0)
        reads = spent.get("GET /Accounts", 0)
        print(
            f"{label:<28} rows={rows:>7,} upsert_calls={upserts:>5} read_calls={reads:>4} "
            f"seconds={seconds:7.2f} rows/s={rows / seconds:>8,.0f} "
            f"peak_rss_mb={peak_rss_mb():6.1f} dead_letters={report.dead_letters}"
        )
        return spent

    first = measure("initial push", n)
    assert first["POST /Accounts/upsert"] == math.ceil(n / 100), first
    parent.send("count")
    assert parent.recv() == n
    measure("settle (reads echoes)", n)
    time.sleep(2)  # let the 1 s overlap window pass, as it would between scheduled runs
    changed = list(range(1, n + 1, 100))  # 1%
    odoo.touch(changed, dt.datetime(2030, 1, 1))
    incremental = measure("incremental, 1% changed", len(changed))
    assert incremental["POST /Accounts/upsert"] == math.ceil(len(changed) / 100), incremental
    print(
        f"peak RSS {peak_rss_mb():.1f} MB (limit 200 MB)"
        f"{'' if peak_rss_mb() <= 200 else '  OVER LIMIT'}"
    )
    parent.send("stop")
    server.join(10)
    state.close()
    sys.exit(0 if peak_rss_mb() <= 200 else 1)


if __name__ == "__main__":
    main()
