"""The sync engine: incremental passes between one ERP and one CRM connector.

Each pass reads a page, applies it, and commits in one state transaction the id map, the dead
letters and the cursor of that page. A crash therefore replays at most the uncommitted page,
and every write the engine makes is idempotent (upsert by external id, partner matching by
external id then duplicate rules, draft payments found by their external reference), so a
replayed page creates no duplicates.

Cursors never move to the wall clock: they move to the newest modification time actually
committed, and reads start ``overlap_seconds`` behind them to catch late commits; content
hashes make the re-read records free.

For very large runs (the addon's ``queue_job`` integration) :meth:`SyncEngine.plan_push_chunks`
splits the Odoo-to-CRM work into independent chunks of partner ids and
:meth:`SyncEngine.push_chunk` runs one of them; chunks only touch the id map and dead letters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from .config import SyncSettings
from .connector import CrmConnector, ErpConnector, ErpPosition
from .errors import AuthError as _AuthError
from .errors import RateLimited, RemoteUnavailable, ValidationError
from .errors import RemoteError as _RemoteError
from .records import (
    CrmCustomer,
    CrmPayment,
    CustomerWrite,
    DraftPayment,
    ErpCustomer,
    WriteResult,
    content_hash,
    describe_error,
)
from .state import MapEntry, StateStore, StateTransaction

log = logging.getLogger(__name__)

CUSTOMERS = "customers"  # id map: local = Odoo partner id, remote = CRM record id
PAYMENTS = "payments"  # id map: local = Odoo payment id, remote = CRM payment id
CURSOR_CRM_CUSTOMERS = "cursor:crm.customers"
CURSOR_CRM_DELETED = "cursor:crm.deleted"
CURSOR_CRM_PAYMENTS = "cursor:crm.payments"
CURSOR_ERP_CUSTOMERS = "cursor:erp.customers"
LAST_RUN = "last_run"
# Dead-letter streams
DL_PULL = "crm.customers"
DL_PUSH = "erp.customers"
DL_PAYMENTS = "crm.payments"

# ``progress(phase, done)``: records read so far in a phase (0 marks its start). A callback that
# also has ``total(phase, count)`` is told a phase's record count up front where it is cheap.
Progress = Callable[[str, int], None]
StateOp = Callable[[StateTransaction], None]


# State operations bound now and applied when the page commits (``partial`` of these).
def _save_mapping(entry: MapEntry, txn: StateTransaction) -> None:
    txn.save_mapping(entry)


def _resolve_dead_letter(stream: str, key: str, txn: StateTransaction) -> None:
    txn.resolve_dead_letter(stream, key)


def _add_dead_letter(
    stream: str, key: str, payload: dict[str, Any], error: str, code: str, txn: StateTransaction
) -> None:
    txn.add_dead_letter(stream, key, payload, error, code)


@dataclass
class PhaseReport:
    """One phase of a run (``pull``, ``deletions``, ``push``, ``payments``): its duration and
    the dead letters it quarantined."""

    seconds: float = 0.0
    dead_letters: int = 0


@dataclass
class RunReport:
    dry_run: bool = False
    counters: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    seconds: float = 0.0
    phases: dict[str, PhaseReport] = field(default_factory=dict)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase and count the dead letters it adds."""
        started, letters = time.monotonic(), self.dead_letters
        try:
            yield
        finally:
            self.phases[name] = PhaseReport(
                seconds=time.monotonic() - started, dead_letters=self.dead_letters - letters
            )

    def add(self, name: str, amount: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + amount

    @property
    def partial(self) -> bool:
        return self.dead_letters > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "dead_letters": self.dead_letters,
            "seconds": round(self.seconds, 3),
            **dict(sorted(self.counters.items())),
        }


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class PushPlan:
    """A push split into chunks of Odoo customer ids (for background jobs), with the position
    of the last Odoo customer scanned."""

    chunks: list[list[int]]
    scanned: ErpPosition | None


class SyncEngine:
    def __init__(
        self,
        crm: CrmConnector,
        erp: ErpConnector,
        state: StateStore,
        options: SyncSettings | None = None,
        *,
        progress: Progress | None = None,
    ) -> None:
        self.crm = crm
        self.erp = erp
        self.state = state
        self.options = options or SyncSettings()
        self.progress = progress or (lambda phase, done: None)
        self.overlap = dt.timedelta(seconds=self.options.overlap_seconds)
        self._schema_verified = False
        # Credits are reported per run, the field-metadata check before it included.
        self._credits_mark = self._credits_spent()

    def verify_schema(self) -> None:
        """Refuse a field map the CRM's field metadata contradicts (``ConfigError``), before
        anything is read or written. Once per engine, i.e. per run: never cached across runs."""
        if self._schema_verified:
            return
        verify = getattr(self.crm, "verify_schema", None)
        if verify is not None:
            verify(
                payments=self.options.sync_payments,
                archived=self.options.archived_in_odoo == "mark",
            )
        self._schema_verified = True

    # -- entry points --------------------------------------------------------------------
    def run(self, *, dry_run: bool = False, full: bool = False) -> RunReport:
        """One incremental pass in both directions (``full`` rescans Odoo from the start)."""
        self.verify_schema()
        report = RunReport(dry_run=dry_run)
        started = time.monotonic()
        with self.state.lock():
            try:
                with self._phase(report, "pull"):
                    self.pull_customers(report, dry_run=dry_run)
                with self._phase(report, "deletions"):
                    self.pull_deletions(report, dry_run=dry_run)
                with self._phase(report, "push"):
                    self.push_customers(report, dry_run=dry_run, full=full)
                if self.options.sync_payments:
                    with self._phase(report, "payments"):
                        self.pull_payments(report, dry_run=dry_run)
            except RateLimited as exc:
                # A limit (rate, daily allowance, credit budget) stops the run between pages:
                # what was committed stays, and the last-run summary says where it stopped.
                self._finish(report, started, stopped=exc.code or "rate_limited")
                raise
            self._finish(report, started)
        log.info("sync run finished", extra={"report": report.as_dict()})
        return report

    @contextlib.contextmanager
    def _phase(self, report: RunReport, name: str) -> Iterator[None]:
        """A phase of ``run``: timed in the report; ``progress(name, 0)`` marks its start."""
        self.progress(name, 0)
        with report.phase(name):
            yield

    def _credits_spent(self) -> int | None:
        """API credits the CRM connector has spent so far, for CRMs that meter them (Zoho)."""
        spent = getattr(self.crm, "credits_spent", None)
        return spent if isinstance(spent, int) else None

    def _finish(
        self,
        report: RunReport,
        started: float,
        *,
        stopped: str | None = None,
    ) -> None:
        report.seconds = time.monotonic() - started
        spent = self._credits_spent()
        if spent is not None and self._credits_mark is not None:
            report.counters["crm_credits"] = spent - self._credits_mark
            self._credits_mark = spent
        if report.dry_run:
            return
        summary: dict[str, Any] = {
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            **report.as_dict(),
        }
        if stopped:
            summary["stopped"] = stopped
        with self.state.transaction() as txn:
            txn.set_value(LAST_RUN, json.dumps(summary))

    def plan_push(self, chunk_size: int = 1000, *, full: bool = False) -> PushPlan:
        """The Odoo customers the next push would send, split into independent chunks, and
        how far Odoo was scanned (where the cursor moves once every chunk is pushed)."""
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.verify_schema()
        ids: list[int] = []
        scanned: ErpPosition | None = None
        for page in self.erp.iter_customers(self._push_start(full), self.options.erp_page_size):
            entries = self.state.mappings_by_local(CUSTOMERS, [str(c.erp_id) for c in page])
            for customer in page:
                scanned = ErpPosition(customer.write_date, customer.erp_id)
                if self._write_for(customer, entries.get(str(customer.erp_id))):
                    ids.append(customer.erp_id)
        chunks = [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]
        return PushPlan(chunks, scanned)

    def plan_push_chunks(self, chunk_size: int = 1000, *, full: bool = False) -> list[list[int]]:
        """Ids of the Odoo customers the next push would send, split into independent chunks."""
        return self.plan_push(chunk_size, full=full).chunks

    def complete_push(self, scanned: ErpPosition | None) -> bool:
        """Move the Odoo cursor to where a plan scanned, once all of its chunks are pushed.

        Never moves it backwards (a later run may have gone further). Customers changed after
        the plan have a later position and are picked up by the next run. Returns whether the
        cursor moved.
        """
        if scanned is None:
            return False
        with self.state.lock():
            stored = self.state.get_value(CURSOR_ERP_CUSTOMERS)
            if stored and ErpPosition.decode(stored) >= scanned:
                return False
            with self.state.transaction() as txn:
                txn.set_value(CURSOR_ERP_CUSTOMERS, scanned.encode())
        return True

    def push_chunk(self, erp_ids: Sequence[int], *, force: bool = False) -> RunReport:
        """Push the given customers only; touches the id map and dead letters, not the cursor."""
        self.verify_schema()
        report = RunReport()
        self.push_customers(report, ids=erp_ids, force=force)
        return report

    # -- Odoo -> CRM ---------------------------------------------------------------------
    def _push_start(self, full: bool) -> ErpPosition | None:
        stored = self.state.get_value(CURSOR_ERP_CUSTOMERS)
        if full or not stored:
            return None
        cursor = ErpPosition.decode(stored)
        return ErpPosition(cursor.write_date - self.overlap, 0)

    def _write_for(
        self, customer: ErpCustomer, entry: MapEntry | None, *, force: bool = False
    ) -> tuple[CustomerWrite, str] | None:
        """What to send for a customer, with its hash; None when there is nothing to send."""
        mapped = entry.remote_id if entry is not None else None
        mark = self.options.archived_in_odoo == "mark"
        if not customer.active:
            if not (mapped and mark):
                return None
            write = CustomerWrite(erp_id=customer.erp_id, crm_id=mapped, archived=True)
        elif mapped:
            write = CustomerWrite(
                erp_id=customer.erp_id,
                crm_id=mapped,
                credit=customer.credit,
                archived=False if mark else None,
            )
        elif self.options.create_in_crm:
            write = CustomerWrite(
                erp_id=customer.erp_id, contact=customer.contact, credit=customer.credit
            )
        else:
            return None
        digest = self._owned_digest(write)
        if not force and entry is not None and entry.push_hash == digest:
            return None
        return write, digest

    @staticmethod
    def _owned_digest(write: CustomerWrite) -> str:
        """Hash of the Odoo-owned part only, so creating and updating hash alike."""
        return content_hash(write.model_copy(update={"crm_id": None, "contact": None}))

    def push_customers(
        self,
        report: RunReport,
        *,
        dry_run: bool = False,
        full: bool = False,
        ids: Sequence[int] | None = None,
        force: bool = False,
    ) -> None:
        advance_cursor = ids is None and not dry_run
        start = None if ids is not None else self._push_start(full)
        stored = self.state.get_value(CURSOR_ERP_CUSTOMERS)
        committed = ErpPosition.decode(stored) if stored else None
        pending: list[tuple[ErpCustomer, CustomerWrite, str, MapEntry | None]] = []
        scanned: ErpPosition | None = None
        done = 0

        def commit(position: ErpPosition | None, ops: Iterable[StateOp] = ()) -> None:
            nonlocal committed
            if dry_run:
                return
            move = (
                advance_cursor
                and position is not None
                and (committed is None or position > committed)
            )
            with self.state.transaction() as txn:
                for op in ops:
                    op(txn)
                if move and position is not None:
                    txn.set_value(CURSOR_ERP_CUSTOMERS, position.encode())
            if move:
                committed = position

        self._announce_total("push", lambda: self.erp.count_customers(start), ids)
        for page in self.erp.iter_customers(start, self.options.erp_page_size, ids):
            entries = self.state.mappings_by_local(CUSTOMERS, [str(c.erp_id) for c in page])
            for customer in page:
                scanned = ErpPosition(customer.write_date, customer.erp_id)
                entry = entries.get(str(customer.erp_id))
                planned = self._write_for(customer, entry, force=force)
                if planned is None:
                    report.add("push_unchanged")
                    continue
                pending.append((customer, planned[0], planned[1], entry))
                if len(pending) >= self.crm.batch_size:
                    commit(scanned, self._send_batch(pending, report, dry_run))
                    pending = []
            done += len(page)
            self.progress("push", done)
            if not pending:
                commit(scanned)  # a page with nothing left to send still moves the cursor
        if pending:
            commit(scanned, self._send_batch(pending, report, dry_run))

    def _announce_total(
        self, phase: str, count: Callable[[], int], ids: Sequence[int] | None = None
    ) -> None:
        """Tell a progress display that wants totals (``progress.total``) how many records a
        phase reads: one count query, spent only when someone is watching."""
        announce = getattr(self.progress, "total", None)
        if announce is not None:
            announce(phase, len(ids) if ids is not None else count())

    def _send_batch(
        self,
        batch: list[tuple[ErpCustomer, CustomerWrite, str, MapEntry | None]],
        report: RunReport,
        dry_run: bool,
    ) -> list[StateOp]:
        if dry_run:
            report.add("push_would_send", len(batch))
            report.add("push_calls")
            return []
        writes = [write for _, write, _, _ in batch]
        try:
            results = self.crm.upsert_customers(writes)
        except (RemoteUnavailable, _AuthError):
            raise  # transient or fatal for the whole run: stop, the cursor stays put
        except (_RemoteError, ValidationError) as exc:
            # The CRM refused the request as a whole: quarantine it rather than block every run.
            results = [WriteResult(ok=False, code=exc.code or "REJECTED", message=str(exc))] * len(
                batch
            )
        report.add("push_calls")
        ops: list[StateOp] = []
        for (customer, write, digest, entry), result in zip(batch, results):
            key = str(customer.erp_id)
            if result.ok:
                created = write.contact is not None
                report.add("crm_created" if result.created else "crm_updated")
                new_entry = MapEntry(
                    CUSTOMERS,
                    key,
                    result.crm_id or write.crm_id,
                    push_hash=digest,
                    # A record we created carries our contact data: pulling it back is an echo.
                    pull_hash=content_hash(write.contact)
                    if created
                    else (entry.pull_hash if entry else ""),
                )
                ops.append(partial(_save_mapping, new_entry))
                ops.append(partial(_resolve_dead_letter, DL_PUSH, key))
            else:
                report.dead_letters += 1
                error = f"{result.code}: {result.message}"
                if result.details:
                    error += f" {json.dumps(result.details, sort_keys=True, default=str)}"
                log.warning("crm rejected customer %s: %s", key, result.code)
                payload = write.model_dump(mode="json")
                code = result.code or "REJECTED"
                ops.append(partial(_add_dead_letter, DL_PUSH, key, payload, error, code))
        return ops

    # -- CRM -> Odoo ---------------------------------------------------------------------
    def _since(self, key: str) -> dt.datetime | None:
        stored = self.state.get_value(key)
        if not stored:
            return None
        return dt.datetime.fromisoformat(stored) - self.overlap

    def _commit_page(
        self, key: str, high_water: dt.datetime | None, ops: list[StateOp], dry_run: bool
    ) -> None:
        if dry_run:
            return
        stored = self.state.get_value(key)
        current = dt.datetime.fromisoformat(stored) if stored else None
        with self.state.transaction() as txn:
            for op in ops:
                op(txn)
            if high_water is not None and (current is None or _aware(high_water) > current):
                txn.set_value(key, _aware(high_water).isoformat())

    def pull_customers(self, report: RunReport, *, dry_run: bool = False) -> None:
        done = 0
        for page in self.crm.iter_customers(self._since(CURSOR_CRM_CUSTOMERS)):
            ops: list[StateOp] = []
            for rejected in page.rejected:
                report.dead_letters += 1
                log.warning("malformed crm customer %s quarantined", rejected.key)
                ops.append(
                    partial(
                        _add_dead_letter, DL_PULL, rejected.key, rejected.payload,
                        rejected.error, rejected.code,
                    )
                )  # fmt: skip
            entries = self.state.mappings_by_remote(CUSTOMERS, [c.crm_id for c in page.items])
            ops.extend(self._apply_customers(page.items, entries, report, dry_run))
            self._commit_page(CURSOR_CRM_CUSTOMERS, page.high_water, ops, dry_run)
            done += len(page.items) + len(page.rejected)
            self.progress("pull", done)

    def _quarantine_pull(
        self, customer: CrmCustomer, exc: ValidationError, report: RunReport
    ) -> StateOp:
        report.dead_letters += 1
        log.warning("crm customer %s quarantined: %s", customer.crm_id, exc.code)
        # Unset fields stay out, so that a replay does not read an absent field as empty.
        payload = customer.model_dump(mode="json", exclude_unset=True)
        error, code = str(exc), exc.code or "invalid"
        return lambda txn: txn.add_dead_letter(DL_PULL, customer.crm_id, payload, error, code)

    def _apply_customers(
        self,
        customers: Sequence[CrmCustomer],
        entries: dict[str, MapEntry],
        report: RunReport,
        dry_run: bool,
    ) -> list[StateOp]:
        """Match or create each changed CRM customer in Odoo; update the matched in one batch."""
        ops: list[StateOp] = []
        updates: list[tuple[CrmCustomer, int, MapEntry | None, str]] = []
        # Partners claimed earlier in this page, not yet committed to the id map.
        claimed = {int(e.local_id): e.remote_id for e in entries.values()}
        for customer in customers:
            entry = entries.get(customer.crm_id)
            if entry is not None and entry.pull_hash == content_hash(customer.contact):
                report.add("pull_unchanged")
                continue
            if entry is not None:
                updates.append((customer, int(entry.local_id), entry, "pull_applied"))
                continue
            try:
                found = self.erp.find_customer(
                    customer.crm_id, customer.erp_id, customer.contact, self.options.duplicate_rules
                )
                if found is not None:
                    other = self.state.mappings_by_local(CUSTOMERS, [str(found)]).get(str(found))
                    owner = claimed.get(found, other.remote_id if other else None)
                    if owner not in (None, customer.crm_id):
                        raise ValidationError(
                            f"Odoo partner {found} is already linked to CRM record "
                            f"{owner}: duplicate in the CRM",
                            code="duplicate_in_crm",
                        )
                    claimed[found] = customer.crm_id
                    updates.append((customer, found, None, "odoo_matched"))
                elif self.options.create_in_odoo:
                    if not customer.contact.name:
                        raise ValidationError("a customer needs a name", field="name")
                    erp_id = 0
                    if not dry_run:
                        erp_id = self.erp.create_customer(customer.contact, customer.crm_id)
                    report.add("odoo_created")
                    ops.extend(self._linked(customer, erp_id, None))
                else:
                    report.add("pull_skipped")
            except ValidationError as exc:
                ops.append(self._quarantine_pull(customer, exc, report))
        if updates and not dry_run:
            try:
                report.add("odoo_writes", self.erp.update_customers(
                    [(erp_id, customer.contact) for customer, erp_id, _, _ in updates]
                ))  # fmt: skip
                applied = updates
            except ValidationError:
                # Isolate the record Odoo refuses; the others go through one by one.
                applied = []
                for item in updates:
                    try:
                        report.add(
                            "odoo_writes", self.erp.update_customers([(item[1], item[0].contact)])
                        )
                        applied.append(item)
                    except ValidationError as exc:
                        ops.append(self._quarantine_pull(item[0], exc, report))
        else:
            applied = updates
        for customer, erp_id, entry, counter in applied:
            report.add(counter)
            ops.extend(self._linked(customer, erp_id, entry))
        return ops

    def _linked(self, customer: CrmCustomer, erp_id: int, entry: MapEntry | None) -> list[StateOp]:
        new_entry = MapEntry(
            CUSTOMERS,
            str(erp_id),
            customer.crm_id,
            push_hash=entry.push_hash if entry else "",
            pull_hash=content_hash(customer.contact),
        )
        return [
            lambda txn: txn.save_mapping(new_entry),
            lambda txn: txn.resolve_dead_letter(DL_PULL, customer.crm_id),
        ]

    def pull_deletions(self, report: RunReport, *, dry_run: bool = False) -> None:
        done = 0
        for page in self.crm.iter_deleted_customers(self._since(CURSOR_CRM_DELETED)):
            entries = self.state.mappings_by_remote(CUSTOMERS, [d.crm_id for d in page.items])
            ops: list[StateOp] = []
            for deleted in page.items:
                entry = entries.get(deleted.crm_id)
                if entry is None:
                    continue
                if self.options.deletions_from_crm == "archive":
                    try:
                        if not dry_run:
                            self.erp.archive_customer(int(entry.local_id))
                        report.add("odoo_archived")
                    except ValidationError as exc:
                        # A partner the sync may not write to (e.g. it now has a user): left
                        # alone, counted; the CRM record is gone, so there is nothing to replay.
                        report.add("archive_refused")
                        log.warning("crm deletion of %s not applied: %s", deleted.crm_id, exc.code)
                # Unlink: if the partner comes back to life it is created afresh in the CRM.
                unlinked = MapEntry(CUSTOMERS, entry.local_id, None)
                ops.append(partial(_save_mapping, unlinked))
            self._commit_page(CURSOR_CRM_DELETED, page.high_water, ops, dry_run)
            done += len(page.items)
            self.progress("deletions", done)

    def pull_payments(self, report: RunReport, *, dry_run: bool = False) -> None:
        done = 0
        for page in self.crm.iter_payments(self._since(CURSOR_CRM_PAYMENTS)):
            ops: list[StateOp] = []
            for rejected in page.rejected:
                report.dead_letters += 1
                ops.append(
                    partial(
                        _add_dead_letter, DL_PAYMENTS, rejected.key, rejected.payload,
                        rejected.error, rejected.code,
                    )
                )  # fmt: skip
            known = self.state.mappings_by_remote(PAYMENTS, [p.crm_id for p in page.items])
            customers = self.state.mappings_by_remote(
                CUSTOMERS, [p.crm_customer_id for p in page.items if p.crm_customer_id]
            )
            for payment in page.items:
                if payment.crm_id in known:
                    report.add("payments_unchanged")
                    continue
                ops.extend(self._apply_payment(payment, customers, report, dry_run))
            self._commit_page(CURSOR_CRM_PAYMENTS, page.high_water, ops, dry_run)
            done += len(page.items) + len(page.rejected)
            self.progress("payments", done)

    def _apply_payment(
        self,
        payment: CrmPayment,
        customers: dict[str, MapEntry],
        report: RunReport,
        dry_run: bool,
    ) -> list[StateOp]:
        payload = payment.model_dump(mode="json")
        try:
            entry = customers.get(payment.crm_customer_id or "")
            if entry is None:
                raise ValidationError(
                    f"payment's customer {payment.crm_customer_id} is not linked to Odoo",
                    code="unknown_customer",
                    field="crm_customer_id",
                )
            try:
                draft = DraftPayment(
                    partner_id=int(entry.local_id),
                    amount=payment.amount,
                    date=payment.date,
                    memo=payment.memo,
                    external_ref=f"{self.crm.name}:{payment.crm_id}",
                )
            except PydanticValidationError as exc:
                raise ValidationError(describe_error(exc), code="invalid") from None
            if dry_run:
                report.add("payments_would_create")
                return []
            erp_id = self.erp.find_draft_payment(draft.external_ref)
            if erp_id is None:
                erp_id = self.erp.create_draft_payment(draft)
                report.add("payments_created")
        except ValidationError as exc:
            report.dead_letters += 1
            log.warning("crm payment %s quarantined: %s", payment.crm_id, exc.code)
            code = exc.code or "invalid"
            return [partial(_add_dead_letter, DL_PAYMENTS, payment.crm_id, payload, str(exc), code)]
        mapping = MapEntry(PAYMENTS, str(erp_id), payment.crm_id)
        return [
            lambda txn: txn.save_mapping(mapping),
            lambda txn: txn.resolve_dead_letter(DL_PAYMENTS, payment.crm_id),
        ]

    # -- dead letters --------------------------------------------------------------------
    def replay(self) -> RunReport:
        """Re-send every dead letter: pushes re-read the customer from Odoo, pulls re-apply
        the stored record. Records that were malformed at the source are fixed there and come
        back through the normal pass; they stay listed until then."""
        self.verify_schema()
        report = RunReport()
        with self.state.lock():
            push_ids = [int(d.record_key) for d in self.state.dead_letters(DL_PUSH)]
            if push_ids:
                self.push_customers(report, ids=push_ids, force=True)
            for letter in self.state.dead_letters(DL_PULL):
                if letter.code == "malformed":
                    report.add("replay_needs_source_fix")
                    continue
                customer = CrmCustomer.model_validate(letter.payload)
                entries = self.state.mappings_by_remote(CUSTOMERS, [customer.crm_id])
                ops = self._apply_customers([customer], entries, report, dry_run=False)
                self._commit_page(CURSOR_CRM_CUSTOMERS, None, ops, dry_run=False)
            for letter in self.state.dead_letters(DL_PAYMENTS):
                if letter.code == "malformed":
                    report.add("replay_needs_source_fix")
                    continue
                payment = CrmPayment.model_validate(letter.payload)
                customers = self.state.mappings_by_remote(
                    CUSTOMERS, [payment.crm_customer_id] if payment.crm_customer_id else []
                )
                ops = self._apply_payment(payment, customers, report, dry_run=False)
                self._commit_page(CURSOR_CRM_PAYMENTS, None, ops, dry_run=False)
        report.add("dead_letters_left", len(self.state.dead_letters()))
        return report
