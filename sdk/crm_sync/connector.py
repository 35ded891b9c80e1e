"""The connector protocols the engine works against.

The engine is generic: a CRM connector (Zoho CRM REST today; SOAP or FXiaoKe later) and an ERP
connector (Odoo over JSON-RPC or in-process) translate between their system and the canonical
records of :mod:`crm_sync.records`. Field names, pagination and retries stay inside connectors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, runtime_checkable

from .records import (
    ContactData,
    CrmCustomer,
    CrmPayment,
    CustomerWrite,
    DeletedRecord,
    DraftPayment,
    ErpCustomer,
    RejectedRecord,
    WriteResult,
)

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page read from a remote system.

    ``high_water`` is the newest modification time seen on the page, malformed records
    included, so that the cursor can move past records that were quarantined.
    """

    items: list[T]
    rejected: list[RejectedRecord] = field(default_factory=list)
    high_water: dt.datetime | None = None


@dataclass(frozen=True, order=True)
class ErpPosition:
    """Keyset position in Odoo's change order: ``(write_date, id)``."""

    write_date: dt.datetime
    record_id: int

    def encode(self) -> str:
        return f"{self.write_date.isoformat()}|{self.record_id}"

    @classmethod
    def decode(cls, text: str) -> ErpPosition:
        stamp, _, record_id = text.partition("|")
        return cls(dt.datetime.fromisoformat(stamp), int(record_id))


@runtime_checkable
class CrmConnector(Protocol):
    """What the engine needs from a CRM."""

    name: str
    batch_size: int

    def check(self) -> None:
        """Verify credentials and reachability; raise AuthError/RemoteError."""

    def iter_customers(self, since: dt.datetime | None) -> Iterator[Page[CrmCustomer]]:
        """Customers modified after ``since``, oldest first, page by page."""

    def iter_deleted_customers(self, since: dt.datetime | None) -> Iterator[Page[DeletedRecord]]:
        """Customers deleted after ``since``."""

    def iter_payments(self, since: dt.datetime | None) -> Iterator[Page[CrmPayment]]:
        """Payments modified after ``since``, oldest first."""

    def upsert_customers(self, batch: Sequence[CustomerWrite]) -> list[WriteResult]:
        """Insert or update at most ``batch_size`` customers; one result per record, in order."""

    def close(self) -> None: ...


@runtime_checkable
class ErpConnector(Protocol):
    """What the engine needs from Odoo."""

    def check(self) -> None: ...

    def iter_customers(
        self, after: ErpPosition | None, page_size: int, ids: Sequence[int] | None = None
    ) -> Iterator[list[ErpCustomer]]:
        """Customers (archived included) in ``(write_date, id)`` order after ``after``.

        With ``ids``, only those customers (used for chunked runs and replays).
        """

    def find_customer(
        self, crm_id: str, erp_id: int | None, contact: ContactData, rules: Sequence[str]
    ) -> int | None:
        """The Odoo partner matching a CRM record: external id first, then duplicate rules."""

    def create_customer(self, contact: ContactData, crm_id: str) -> int: ...

    def update_customers(self, updates: Sequence[tuple[int, ContactData]]) -> int:
        """Apply CRM contact data; writes only partners whose values differ. Returns writes."""

    def archive_customer(self, erp_id: int) -> None: ...

    def find_draft_payment(self, external_ref: str) -> int | None: ...

    def create_draft_payment(self, payment: DraftPayment) -> int: ...

    def close(self) -> None: ...
