"""A first pull of a large Zoho account, for the paging test and benchmark.

The Zoho emulator runs in a child process holding ``count`` accounts and as many deleted
records, so that the memory measured is the sync's own: connector, engine and SQLite state.
Odoo is :class:`CountingOdoo`, an in-process stand-in that creates and archives partners by
counting them (the Odoo side is not what is measured here).

    figures = pull_large_account(250_000, page_token_limit=100_000, workdir=Path("/tmp/x"))
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from ..config import SyncSettings, ZohoSettings
from ..connector import ErpPosition, Page
from ..engine import CURSOR_CRM_CUSTOMERS, CURSOR_CRM_DELETED, RunReport, SyncEngine
from ..records import ContactData, DeletedRecord, DraftPayment, ErpCustomer
from ..retry import RetryPolicy
from ..state_sqlite import SqliteStateStore
from ..zoho_auth import StateTokenStore
from ..zoho_connector import ZohoConnector

EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
RECORDS_PER_SECOND = 3  # several records share each Modified_Time second, as in bulk imports


def record_time(index: int) -> dt.datetime:
    """Modified_Time of account number ``index``; deletions follow, one per record, later."""
    return EPOCH + dt.timedelta(seconds=index // RECORDS_PER_SECOND)


def deletion_time(index: int, count: int) -> dt.datetime:
    return record_time(count) + dt.timedelta(days=1, seconds=index // RECORDS_PER_SECOND)


def record_id(index: int) -> str:
    return str(4150868000001000000 + index)


def _serve(connection: Connection, count: int, page_token_limit: int | None) -> None:
    from .zoho_emulator import ZohoEmulator

    crm = ZohoEmulator(page_token_limit=page_token_limit)
    for index in range(count):
        crm.put_raw(
            "Accounts",
            {
                "id": record_id(index),
                "Account_Name": f"Account {index:06d}",
                "Email": f"ap{index}@example.com",
                "Modified_Time": record_time(index).isoformat(),
            },
        )
        crm.put_deleted(
            "Accounts",
            {
                "id": record_id(index),
                "display_name": f"Account {index:06d}",
                "type": "recycle",
                "deleted_time": deletion_time(index, count).isoformat(),
            },
        )
    with crm:
        connection.send((crm.accounts_url(), crm.client_id, crm.client_secret, crm.refresh_token))
        while (command := connection.recv()) != "stop":
            if command == "calls":
                connection.send(dict(crm.calls))


@dataclass
class CountingOdoo:
    """The Odoo side of a first pull: every CRM account is new, created then archived."""

    created: int = 0
    archived: int = 0

    def check(self) -> None: ...

    def iter_customers(
        self, after: ErpPosition | None, page_size: int, ids: Sequence[int] | None = None
    ) -> Iterator[list[ErpCustomer]]:
        return iter(())

    def count_customers(self, after: ErpPosition | None) -> int:
        return 0

    def find_customer(
        self, crm_id: str, erp_id: int | None, contact: ContactData, rules: Sequence[str]
    ) -> int | None:
        return None

    def create_customer(self, contact: ContactData, crm_id: str) -> int:
        self.created += 1
        return self.created

    def update_customers(self, updates: Sequence[tuple[int, ContactData]]) -> int:
        return 0

    def archive_customer(self, erp_id: int) -> None:
        self.archived += 1

    def find_draft_payment(self, external_ref: str) -> int | None:
        return None

    def create_draft_payment(self, payment: DraftPayment) -> int:
        raise AssertionError("payments are not synchronised here")

    def close(self) -> None: ...


class CountingZoho(ZohoConnector):
    """The Zoho connector, counting the deleted records it hands to the engine."""

    deleted_read = 0

    def iter_deleted_customers(self, since: dt.datetime | None) -> Iterator[Page[DeletedRecord]]:
        for page in super().iter_deleted_customers(since):
            self.deleted_read += len(page.items) + len(page.rejected)
            yield page


def _vm_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field_name}")


@dataclass
class PullFigures:
    count: int
    seconds: float
    calls: dict[str, int]
    report: RunReport
    cursors: dict[str, str | None]
    odoo: CountingOdoo
    deleted_read: int
    peak_rss_growth_mb: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return sum(n for call, n in self.calls.items() if call.startswith("GET /Accounts"))


def pull_large_account(count: int, *, page_token_limit: int | None, workdir: Path) -> PullFigures:
    """One engine run pulling ``count`` accounts, then their ``count`` deletions, from an
    emulator capping page tokens at ``page_token_limit`` records."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(child, count, page_token_limit), daemon=True)
    server.start()
    try:
        accounts_url, client_id, client_secret, refresh_token = parent.recv()
        state = SqliteStateStore(workdir / "state.sqlite3")
        settings = ZohoSettings(client_id=client_id, accounts_url=accounts_url, payments_module="")
        crm = CountingZoho.from_settings(
            settings,
            client_secret=SecretStr(client_secret),
            refresh_token=SecretStr(refresh_token),
            token_store=StateTokenStore(state),
            retry=RetryPolicy(max_attempts=3, base_delay=0.1),
            state=state,
        )
        assert isinstance(crm, CountingZoho)
        odoo = CountingOdoo()
        options = SyncSettings(overlap_seconds=0, sync_payments=False, create_in_crm=False)
        engine = SyncEngine(crm, odoo, state, options)
        # Peak RSS growth: reset the high-water mark to the current RSS (Linux), run, compare.
        Path("/proc/self/clear_refs").write_text("5")
        baseline_kb = _vm_kb("VmRSS")
        started = time.perf_counter()
        report = engine.run()
        seconds = time.perf_counter() - started
        growth_mb = (_vm_kb("VmHWM") - baseline_kb) / 1024
        parent.send("calls")
        calls: dict[str, int] = parent.recv()
        cursors = {key: state.get_value(key) for key in (CURSOR_CRM_CUSTOMERS, CURSOR_CRM_DELETED)}
        crm.close()
        state.close()
        return PullFigures(
            count, seconds, calls, report, cursors, odoo, crm.deleted_read, growth_mb
        )
    finally:
        parent.send("stop")
        server.join(10)
        if server.is_alive():
            server.kill()
