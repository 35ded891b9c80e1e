"""A SOAP CRM as a :class:`~crm_sync.connector.CrmConnector`: SOQL reads, upserts, deletions."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import requests
from pydantic import SecretStr

from .config import SoapSettings
from .connector import CONTACT_FIELDS, FieldMappedCrmConnector, Page, RawRecord, read_pages
from .errors import ConfigError, RemoteError
from .provisioning import FieldSpec
from .records import (
    ContactData,
    CrmCustomer,
    CrmPayment,
    CustomerWrite,
    DeletedRecord,
    WriteResult,
    parse_remote_datetime,
)
from .retry import RetryPolicy
from .schema import MappedField, RemoteField, remote_field
from .soap_client import SoapClient, soap_datetime

log = logging.getLogger(__name__)


def soap_text(value: Any) -> str | None:
    """A canonical value as the API's text (``None`` goes to ``fieldsToNull``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


# Partner API field types → field families of the schema check (crm_sync.schema).
SOAP_FAMILIES = {
    "string": "text",
    "textarea": "text",
    "url": "text",
    "combobox": "text",
    "encryptedstring": "text",
    "picklist": "picklist",
    "email": "email",
    "phone": "phone",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "int": "integer",
    "long": "integer",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "reference": "lookup",
}


# Canonical kinds (crm_sync.schema) → the metadata API's CustomField type and its settings.
SOAP_CREATE_TYPES: dict[str, dict[str, str]] = {
    "text": {"length": "255", "type": "Text"},
    "email": {"type": "Email"},
    "phone": {"type": "Phone"},
    "amount": {"precision": "18", "scale": "2", "type": "Currency"},
    "count": {"precision": "18", "scale": "0", "type": "Number"},
    "boolean": {"defaultValue": "false", "type": "Checkbox"},
    "date": {"type": "Date"},
    "reference": {"deleteConstraint": "SetNull", "type": "Lookup"},
}


def soap_custom_field(spec: FieldSpec) -> dict[str, str]:
    """A ``CustomField`` component for ``createMetadata``: ``fullName`` first, the other
    elements in the order of the metadata WSDL's CustomField sequence (alphabetical)."""
    elements = {"label": spec.label, **SOAP_CREATE_TYPES[spec.kind]}
    if spec.unique:
        elements.update(externalId="true", unique="true")
    if spec.reference_to:
        # The related list's API name on the referenced object (unique there).
        relationship = f"{spec.obj.removesuffix('__c')}_{spec.api_name.removesuffix('__c')}"
        elements.update(referenceTo=spec.reference_to, relationshipName=relationship)
    return {"fullName": f"{spec.obj}.{spec.api_name}", **dict(sorted(elements.items()))}


class SoapConnector(FieldMappedCrmConnector):
    """Reads and writes customers and payments through :class:`SoapClient`."""

    name = "soap"
    crm_id_key = "Id"

    settings: SoapSettings
    client: SoapClient

    def __init__(
        self,
        settings: SoapSettings,
        client: SoapClient,
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__(settings, client)
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))

    @classmethod
    def from_settings(
        cls,
        settings: SoapSettings,
        *,
        password: SecretStr,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> SoapConnector:
        client = SoapClient(
            login_url=settings.login_url,
            username=settings.username,
            password=password,
            wsdl=settings.wsdl,
            session=session,
            timeout=settings.timeout_seconds,
            operation_timeout=settings.operation_timeout_seconds,
            retry=retry,
        )
        return cls(settings, client)

    def __repr__(self) -> str:
        return f"SoapConnector(object={self.settings.customer_object!r}, client={self.client!r})"

    system_label = "the SOAP CRM"

    def describe(self, obj: str) -> dict[str, RemoteField]:
        try:
            fields = self.client.describe(obj)
        except ConfigError as exc:
            if exc.code not in ("INVALID_TYPE", "INVALID_SOBJECT"):
                raise
            setting = self._object_setting(obj)
            raise ConfigError(
                f"the SOAP CRM has no object {obj!r} ({exc.code}): set {setting} to the "
                "object's API name",
                code=exc.code,
            ) from None
        return {item["name"]: remote_field(SOAP_FAMILIES, item["type"]) for item in fields}

    def _extra_schema_fields(self) -> list[MappedField]:
        # Every query selects and filters on it: a datetime field of each object read.
        return [MappedField("crm.modified_field", self.settings.modified_field, "modified")]

    # -- setup (metadata API) ----------------------------------------------------------------
    def field_creation_refusal(self, spec: FieldSpec | None = None) -> str | None:
        if spec is None:
            if self.client.server_url is None:
                self.client.login()  # the login answer names the metadata server, if any
            if not self.client.metadata_url:
                return (
                    "the SOAP CRM's login answer names no metadata server "
                    "(metadataServerUrl): it offers no API to create fields with"
                )
            return None
        if not spec.api_name.endswith("__c"):
            return "only custom fields (API names ending in __c) can be created"
        return None

    def create_field(self, spec: FieldSpec) -> None:
        [result] = self.client.create_metadata([soap_custom_field(spec)])
        if not result["success"]:
            errors = "; ".join(
                f"{error['statusCode']}: {error['message']}" for error in result["errors"]
            )
            raise RemoteError(
                f"the SOAP CRM refused to create {spec.obj}.{spec.api_name}: {errors}",
                code=(result["errors"] or [{}])[0].get("statusCode") or "CREATE_FAILED",
            )

    def check(self) -> None:
        self.client.login()
        query = f"SELECT Id FROM {self.settings.customer_object} LIMIT 1"
        for _page in self.client.query(query, batch_size=self.settings.query_batch_size):
            break

    # -- reads ---------------------------------------------------------------------------
    def _wire(self, value: Any) -> Any:
        return soap_text(value)

    def _soql(self, object_name: str, names: Sequence[str], since: dt.datetime | None) -> str:
        modified = self.settings.modified_field
        selected = list(dict.fromkeys(["Id", *(n for n in names if n), modified]))
        where = f" WHERE {modified} > {soap_datetime(since)}" if since else ""
        return f"SELECT {', '.join(selected)} FROM {object_name}{where} ORDER BY {modified}, Id"

    def _pages(
        self, raw_pages: Iterator[list[RawRecord]], parse: Callable[[RawRecord], Any]
    ) -> Iterator[Page[Any]]:
        modified = self.settings.modified_field
        return read_pages(
            raw_pages,
            parse,
            stamp=lambda raw: parse_remote_datetime(raw.get(modified)),
            key_field="Id",
        )

    def _parse_customer(self, raw: dict[str, Any]) -> CrmCustomer:
        contact = self._mapped_contact(raw)
        external = raw.get(self.fields.external_id)
        return CrmCustomer.model_validate(
            {
                "crm_id": raw.get("Id"),
                "erp_id": external if external not in (None, "") else None,
                "modified_at": raw.get(self.settings.modified_field),
                "contact": ContactData(**contact),
            }
        )

    def iter_customers(self, since: dt.datetime | None) -> Iterator[Page[CrmCustomer]]:
        names = [self._field(name) for name in CONTACT_FIELDS] + [self.fields.external_id]
        soql = self._soql(self.settings.customer_object, names, since)
        raw_pages = self.client.query(soql, batch_size=self.settings.query_batch_size)
        return self._pages(raw_pages, self._parse_customer)

    def iter_deleted_customers(self, since: dt.datetime | None) -> Iterator[Page[DeletedRecord]]:
        now = self._clock()
        floor = now - dt.timedelta(days=self.settings.deleted_window_days)
        start = max(since, floor) if since else floor
        # Replication windows span at least a minute; re-reading a minute costs nothing.
        start = min(start, now - dt.timedelta(minutes=1))
        try:
            rows, _earliest, latest = self.client.get_deleted(
                self.settings.customer_object, start, now
            )
        except RemoteError as exc:
            if exc.code != "INVALID_REPLICATION_DATE":
                raise
            # The cursor fell behind what the CRM keeps: read what is still available.
            log.warning(
                "deleted-records window clamped to %s days", self.settings.deleted_window_days
            )
            rows, _earliest, latest = self.client.get_deleted(
                self.settings.customer_object, floor, now
            )
        # ``latestDateCovered`` is where replication may safely resume, deletions or not.
        yield Page(
            items=[DeletedRecord(crm_id=record_id, deleted_at=when) for record_id, when in rows],
            high_water=latest,
        )

    def changed_customer_ids(self, since: dt.datetime) -> tuple[list[str], dt.datetime]:
        """Ids of customers changed since ``since`` (``getUpdated``) and the date covered."""
        return self.client.get_updated(self.settings.customer_object, since, self._clock())

    def _parse_payment(self, raw: dict[str, Any]) -> CrmPayment:
        return CrmPayment.model_validate(
            {
                "crm_id": raw.get("Id"),
                "crm_customer_id": raw.get(self.fields.payment_account),
                "amount": raw.get(self.fields.payment_amount),
                "date": raw.get(self.fields.payment_date),
                "memo": raw.get(self.fields.payment_memo) if self.fields.payment_memo else None,
                "modified_at": raw.get(self.settings.modified_field),
            }
        )

    def iter_payments(self, since: dt.datetime | None) -> Iterator[Page[CrmPayment]]:
        if not self.settings.payment_object:
            return iter(())
        soql = self._soql(self.settings.payment_object, self._payment_field_names(), since)
        raw_pages = self.client.query(soql, batch_size=self.settings.query_batch_size)
        return self._pages(raw_pages, self._parse_payment)

    # -- writes --------------------------------------------------------------------------
    def upsert_customers(self, batch: Sequence[CustomerWrite]) -> list[WriteResult]:
        """Linked records upsert on ``Id`` (they may lack the external id yet), new ones on the
        external-id field, so a replay after a crash updates instead of creating twice."""
        results: list[WriteResult | None] = [None] * len(batch)
        groups: dict[str, list[int]] = {}
        for index, write in enumerate(batch):
            key = "Id" if write.crm_id else self.fields.external_id
            groups.setdefault(key, []).append(index)
        for key, indexes in groups.items():
            payloads = [self._customer_payload(batch[i]) for i in indexes]
            raw = self.client.upsert(self.settings.customer_object, key, payloads)
            for index, item in zip(indexes, raw):
                results[index] = self._result(item)
        return [result for result in results if result is not None]

    @staticmethod
    def _result(item: dict[str, Any]) -> WriteResult:
        if item["success"]:
            return WriteResult(ok=True, crm_id=item["id"], created=item["created"])
        errors = item["errors"] or [{"statusCode": "UNKNOWN", "message": "", "fields": []}]
        first = errors[0]
        return WriteResult(
            ok=False,
            code=str(first.get("statusCode") or "UNKNOWN"),
            message="; ".join(str(error.get("message") or "") for error in errors),
            details={"fields": sorted({f for error in errors for f in error.get("fields", [])})},
        )
