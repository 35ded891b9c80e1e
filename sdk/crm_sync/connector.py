"""The connector protocols the engine works against.

The engine is generic: a CRM connector (Zoho CRM REST today; SOAP or FXiaoKe later) and an ERP
connector (Odoo over JSON-RPC or in-process) translate between their system and the canonical
records of :mod:`crm_sync.records`. Field names, pagination and retries stay inside connectors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import ValidationError as PydanticValidationError

from .records import (
    ContactData,
    CreditData,
    CrmCustomer,
    CrmPayment,
    CustomerWrite,
    DeletedRecord,
    DraftPayment,
    ErpCustomer,
    RejectedRecord,
    WriteResult,
    describe_error,
)
from .schema import MappedField, RemoteField, mapping_problems, raise_problems

if TYPE_CHECKING:
    from .provisioning import FieldSpec

T = TypeVar("T")

CONTACT_FIELDS = tuple(ContactData.model_fields)
CREDIT_FIELDS = tuple(CreditData.model_fields)


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
        """The Odoo partner matching a CRM record: external id first, then duplicate rules.

        Raises ``ValidationError`` when the record names an Odoo id the sync may not write to:
        the engine quarantines it as a dead letter rather than create or match another.
        """

    def count_customers(self, after: ErpPosition | None) -> int:
        """How many customers ``iter_customers(after, …)`` yields (a progress total)."""

    def create_customer(self, contact: ContactData, crm_id: str) -> int: ...

    def update_customers(self, updates: Sequence[tuple[int, ContactData]]) -> int:
        """Apply CRM contact data; writes only partners whose values differ. Returns writes."""

    def archive_customer(self, erp_id: int) -> None:
        """Archive a partner; ``ValidationError`` when the sync may not write to it."""

    def find_draft_payment(self, external_ref: str) -> int | None: ...

    def create_draft_payment(self, payment: DraftPayment) -> int: ...

    def close(self) -> None: ...


RawRecord = dict[str, Any]


def read_pages(
    raw_pages: Iterator[list[RawRecord]],
    parse: Callable[[RawRecord], T],
    *,
    stamp: Callable[[RawRecord], dt.datetime | None],
    key_field: str,
) -> Iterator[Page[T]]:
    """Parse raw CRM pages; a record that does not parse is rejected, not raised.

    ``stamp`` reads a record's modification time; rejected records count towards the page's
    high water too, so the cursor moves past them.
    """
    for raw_page in raw_pages:
        page: Page[T] = Page(items=[])
        for raw in raw_page:
            stamped = stamp(raw)
            if stamped and (page.high_water is None or stamped > page.high_water):
                page.high_water = stamped
            try:
                page.items.append(parse(raw))
            except (PydanticValidationError, ValueError, TypeError) as exc:
                page.rejected.append(
                    RejectedRecord(
                        key=str(raw.get(key_field, "?")), payload=raw, error=describe_error(exc)
                    )
                )
        yield page


class FieldMappedCrmConnector:
    """What the CRM connectors share: a settings-driven field map between canonical records
    and CRM records, and the client's lifetime. Paging, auth and write calls stay their own."""

    name: str
    #: Key under which a customer write carries its CRM id (``None``: the API takes it apart).
    crm_id_key: str | None = None
    #: Whether an empty contact value is sent (clearing the CRM field) or left out.
    sends_empty_contact_values = False

    def __init__(self, settings: Any, client: Any) -> None:
        self.settings = settings
        self.client = client
        self.fields = settings.fields
        self.batch_size: int = settings.upsert_batch_size

    def close(self) -> None:
        self.client.close()

    def authenticate(self) -> None:
        """Obtain an access token now (the cached one while it is valid) so that refused
        credentials stop a run before it reads or writes anything."""
        auth = getattr(self.client, "auth", None)
        if auth is not None:
            auth.access()

    # -- schema check ----------------------------------------------------------------------
    #: How messages name the CRM and one of its objects (``Zoho CRM``, ``module``).
    system_label = "the CRM"
    object_label = "object"
    #: Settings naming the customer and payment objects (``accounts_module`` …).
    customer_object_setting = "customer_object"
    payment_object_setting = "payment_object"

    def _object_setting(self, obj: str) -> str:
        """The setting that names ``obj`` (for messages: ``crm.payment_object`` …)."""
        is_payment = obj == getattr(self.settings, self.payment_object_setting)
        name = self.payment_object_setting if is_payment else self.customer_object_setting
        return f"crm.{name}"

    def describe(self, obj: str) -> dict[str, RemoteField]:
        """The fields of ``obj`` by API name: one metadata call, never cached (fields may
        change between runs)."""
        raise NotImplementedError

    def _extra_schema_fields(self) -> list[MappedField]:
        """Fields of every object read besides the field map (e.g. the cursor field)."""
        return []

    def mapped_objects(
        self, *, payments: bool = True, archived: bool = True
    ) -> list[tuple[str, list[MappedField]]]:
        """Every CRM object the sync reads or writes, with the fields of the map it uses there:
        the one list the schema check and ``crm-sync setup`` both work from."""
        customer_names: tuple[str, ...] = ("external_id", *CONTACT_FIELDS, *CREDIT_FIELDS)
        if archived:
            customer_names += ("archived",)
        customer = [
            MappedField(f"crm.fields.{name}", self._field(name), name) for name in customer_names
        ] + self._extra_schema_fields()
        objects = [(str(getattr(self.settings, self.customer_object_setting)), customer)]
        payment_object = getattr(self.settings, self.payment_object_setting)
        if payments and payment_object:
            payment_names = ("payment_account", "payment_amount", "payment_date", "payment_memo")
            objects.append(
                (
                    str(payment_object),
                    [MappedField(f"crm.fields.{n}", self._field(n), n) for n in payment_names]
                    + self._extra_schema_fields(),
                )
            )
        return objects

    def verify_schema(self, *, payments: bool = True, archived: bool = True) -> None:
        """Refuse (``ConfigError``, exit 2) a field map naming fields the CRM lacks or fields
        of the wrong type: one metadata call per object, all problems in one error."""
        problems: list[str] = []
        for obj, mapped in self.mapped_objects(payments=payments, archived=archived):
            where = f"{self.system_label} {self.object_label} {obj}"
            problems += mapping_problems(where, self.describe(obj), mapped)
        raise_problems(self.system_label, problems)

    # -- setup (crm-sync setup) -------------------------------------------------------------
    def field_creation_refusal(self, spec: FieldSpec | None = None) -> str | None:
        """Why ``crm-sync setup`` cannot create fields in this CRM, or the field ``spec``
        (``None``: it can)."""
        return f"crm-sync cannot create fields through {self.system_label}'s API"

    def create_field(self, spec: FieldSpec) -> None:
        """Create one field through the CRM's metadata API (connectors that can)."""
        raise NotImplementedError

    def _field(self, canonical: str) -> str:
        """The CRM field of a canonical field; empty where the CRM has none."""
        return str(getattr(self.fields, canonical))

    def _wire(self, value: Any) -> Any:
        """A canonical value as the CRM expects it in a write."""
        return value

    def _mapped_contact(self, raw: RawRecord) -> dict[str, Any]:
        """The raw record's contact values, by canonical name, for the mapped fields the record
        carries: a field absent from the answer is left out, never read as empty."""
        return {
            name: raw[self._field(name)]
            for name in CONTACT_FIELDS
            if self._field(name) and self._field(name) in raw
        }

    def _payment_field_names(self) -> list[str]:
        return [
            self.fields.payment_account,
            self.fields.payment_amount,
            self.fields.payment_date,
            self.fields.payment_memo,
        ]

    def _customer_payload(self, write: CustomerWrite) -> dict[str, Any]:
        data: dict[str, Any] = {self.fields.external_id: str(write.erp_id)}
        if write.crm_id and self.crm_id_key:
            data[self.crm_id_key] = write.crm_id
        if write.contact is not None:
            for name in CONTACT_FIELDS:
                if name == "salesperson" or not self._field(name):
                    continue  # the CRM assigns owners; it owns that field
                value = getattr(write.contact, name)
                if value is not None or self.sends_empty_contact_values:
                    data[self._field(name)] = value
        if write.credit is not None:
            for name in CREDIT_FIELDS:
                if self._field(name):
                    data[self._field(name)] = self._wire(getattr(write.credit, name))
        if write.archived is not None and self.fields.archived:
            data[self.fields.archived] = self._wire(write.archived)
        return data
