"""Zoho CRM as a :class:`~crm_sync.connector.CrmConnector`: field mapping and paging."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import requests
from pydantic import SecretStr

from .config import ZohoSettings
from .connector import CONTACT_FIELDS, FieldMappedCrmConnector, Page, RawRecord, read_pages
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
from .schema import RemoteField, remote_field
from .state import StateStore
from .zoho_auth import TokenStore, ZohoAuth
from .zoho_client import ZohoClient
from .zoho_credits import CreditLedger
from .zoho_scopes import command_scopes, missing_scopes

T = TypeVar("T")

# Zoho ``data_type`` values → field families of the schema check (crm_sync.schema).
ZOHO_FAMILIES = {
    "text": "text",
    "textarea": "text",
    "website": "text",
    "autonumber": "text",
    "picklist": "picklist",
    "email": "email",
    "phone": "phone",
    "currency": "number",
    "double": "number",
    "decimal": "number",
    "integer": "integer",
    "bigint": "integer",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "lookup": "lookup",
    "ownerlookup": "user",
    "userlookup": "user",
}

# Canonical kinds (crm_sync.schema) → the Zoho data type setup creates for them.
ZOHO_CREATE_TYPES: dict[str, dict[str, Any]] = {
    "text": {"data_type": "text", "length": 255},
    "email": {"data_type": "email"},
    "phone": {"data_type": "phone"},
    "amount": {
        "data_type": "currency",
        "length": 16,
        "decimal_place": 2,
        "currency": {"rounding_option": "normal", "precision": 2},
    },
    "count": {"data_type": "integer", "length": 9},
    "boolean": {"data_type": "boolean"},
    "date": {"data_type": "date"},
    "reference": {"data_type": "lookup"},
}


def zoho_field_definition(spec: FieldSpec) -> dict[str, Any]:
    """The "Create Custom Fields" input for a field the sync needs.

    Zoho derives the API name from ``field_label`` (spaces become ``_``), so the label is the
    configured API name read with spaces; the schema check after setup proves the result.
    """
    definition: dict[str, Any] = {"field_label": spec.label, **ZOHO_CREATE_TYPES[spec.kind]}
    if spec.unique:
        definition["unique"] = {"casesensitive": "false"}
    if spec.reference_to:
        definition["lookup"] = {"module": {"api_name": spec.reference_to}}
    return definition


def _lookup_id(value: Any) -> str | None:
    if isinstance(value, dict):
        raw = value.get("id")
        return str(raw) if raw not in (None, "") else None
    return str(value) if isinstance(value, (str, int)) and str(value) else None


def _pages(
    raw_pages: Iterator[list[RawRecord]], parse: Callable[[RawRecord], T], time_key: str
) -> Iterator[Page[T]]:
    return read_pages(
        raw_pages,
        parse,
        stamp=lambda raw: parse_remote_datetime(raw.get(time_key)),
        key_field="id",
    )


class ZohoConnector(FieldMappedCrmConnector):
    """Reads and writes customers and payments in Zoho CRM through :class:`ZohoClient`."""

    name = "zoho"
    crm_id_key = "id"
    sends_empty_contact_values = True  # JSON null clears the Zoho field

    settings: ZohoSettings
    client: ZohoClient

    def __init__(self, settings: ZohoSettings, client: ZohoClient) -> None:
        super().__init__(settings, client)
        client.module_settings = {
            settings.payments_module: "crm.payments_module",
            settings.accounts_module: "crm.accounts_module",
        }

    @classmethod
    def from_settings(
        cls,
        settings: ZohoSettings,
        *,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        token_store: TokenStore | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        state: StateStore | None = None,
    ) -> ZohoConnector:
        """A connector from its settings; with ``state`` the day's API credits are counted in
        the state store, so that runs of the same UTC day share ``daily_credit_budget``."""
        session = session or requests.Session()
        auth = ZohoAuth(
            accounts_url=settings.resolved_accounts_url,
            client_id=settings.client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            refresh_token_env=settings.refresh_token_env,
            client_secret_env=settings.client_secret_env,
            store=token_store,
            session=session,
            timeout=settings.timeout_seconds,
            retry=retry,
        )
        client = ZohoClient(
            auth,
            session=session,
            timeout=settings.timeout_seconds,
            retry=retry,
            credits=CreditLedger(state, daily_budget=settings.daily_credit_budget),
            concurrency=settings.concurrency_limit,
        )
        return cls(settings, client)

    def __repr__(self) -> str:
        return f"ZohoConnector(module={self.settings.accounts_module!r}, client={self.client!r})"

    @property
    def credits_spent(self) -> int:
        """API credits this connector's calls have cost so far (Zoho's published costs)."""
        return self.client.credits.spent

    system_label = "Zoho CRM"
    object_label = "module"
    customer_object_setting = "accounts_module"
    payment_object_setting = "payments_module"

    def describe(self, obj: str) -> dict[str, RemoteField]:
        return {
            str(item["api_name"]): remote_field(ZOHO_FAMILIES, item.get("data_type"))
            for item in self.client.fields(obj)
            if item.get("api_name")
        }

    def missing_scopes(
        self, commands: Sequence[str], *, fresh: bool = False
    ) -> dict[str, list[str]] | None:
        """Per command, the scopes it needs that the token lacks (commands lacking none are
        left out); ``None`` when Zoho's token answer did not list the granted scopes.
        ``fresh`` asks the token endpoint now (``check``) instead of the cached token's answer."""
        granted = self.client.auth.granted_scopes(fresh=fresh)
        if granted is None:
            return None
        result = {}
        for command in commands:
            needed = command_scopes(
                command, self.settings.accounts_module, self.settings.payments_module
            )
            lacking = missing_scopes(granted, needed)
            if lacking:
                result[command] = lacking
        return result

    # -- setup ---------------------------------------------------------------------------
    def field_creation_refusal(self, spec: FieldSpec | None = None) -> str | None:
        return None

    def create_field(self, spec: FieldSpec) -> None:
        self.client.create_field(spec.obj, zoho_field_definition(spec))

    def check(self) -> None:
        if not self.client.auth.verified:  # the scope report may have proved them already
            self.client.auth.verify()
        for _page in self.client.iter_records(
            self.settings.accounts_module, ["id"], per_page=1, sort_by="id"
        ):
            break

    # -- customers -----------------------------------------------------------------------
    def _customer_fields(self) -> list[str]:
        names = [getattr(self.fields, name) for name in CONTACT_FIELDS]
        return [*names, self.fields.external_id, "Modified_Time"]

    def _parse_customer(self, raw: dict[str, Any]) -> CrmCustomer:
        contact = self._mapped_contact(raw)
        if isinstance(contact.get("salesperson"), dict):
            contact["salesperson"] = contact["salesperson"].get("email")
        external = raw.get(self.fields.external_id)
        return CrmCustomer.model_validate(
            {
                "crm_id": str(raw.get("id", "")) or None,
                "erp_id": external if external not in (None, "") else None,
                "modified_at": raw.get("Modified_Time"),
                "contact": ContactData(**contact),
            }
        )

    def _wire(self, value: Any) -> Any:
        """A canonical value as Zoho expects it in JSON."""
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return value

    def iter_customers(self, since: dt.datetime | None) -> Iterator[Page[CrmCustomer]]:
        raw_pages = self.client.iter_records(
            self.settings.accounts_module,
            self._customer_fields(),
            since=since,
            per_page=self.settings.per_page,
        )
        return _pages(raw_pages, self._parse_customer, "Modified_Time")

    def iter_deleted_customers(self, since: dt.datetime | None) -> Iterator[Page[DeletedRecord]]:
        raw_pages = self.client.iter_deleted(self.settings.accounts_module, since=since)

        def parse(raw: dict[str, Any]) -> DeletedRecord:
            return DeletedRecord.model_validate(
                {"crm_id": str(raw.get("id", "")), "deleted_at": raw.get("deleted_time")}
            )

        return _pages(raw_pages, parse, "deleted_time")

    def upsert_customers(self, batch: Sequence[CustomerWrite]) -> list[WriteResult]:
        raw_results = self.client.upsert(
            self.settings.accounts_module,
            [self._customer_payload(write) for write in batch],
            duplicate_check_fields=[self.fields.external_id],
        )
        results = []
        for raw in raw_results:
            details = found if isinstance(found := raw.get("details"), dict) else {}
            if raw.get("status") == "success":
                results.append(
                    WriteResult(
                        ok=True,
                        crm_id=str(details.get("id")) if details.get("id") else None,
                        created=raw.get("action") == "insert",
                        code=raw.get("code"),
                    )
                )
            else:
                results.append(
                    WriteResult(
                        ok=False,
                        code=str(raw.get("code") or "UNKNOWN"),
                        message=str(raw.get("message") or ""),
                        details=details or {},
                    )
                )
        return results

    # -- payments ------------------------------------------------------------------------
    def _parse_payment(self, raw: dict[str, Any]) -> CrmPayment:
        return CrmPayment.model_validate(
            {
                "crm_id": str(raw.get("id", "")) or None,
                "crm_customer_id": _lookup_id(raw.get(self.fields.payment_account)),
                "amount": raw.get(self.fields.payment_amount),
                "date": raw.get(self.fields.payment_date),
                "memo": raw.get(self.fields.payment_memo),
                "modified_at": raw.get("Modified_Time"),
            }
        )

    def iter_payments(self, since: dt.datetime | None) -> Iterator[Page[CrmPayment]]:
        if not self.settings.payments_module:
            return iter(())
        fields = [*self._payment_field_names(), "Modified_Time"]
        raw_pages = self.client.iter_records(
            self.settings.payments_module, fields, since=since, per_page=self.settings.per_page
        )
        return _pages(raw_pages, self._parse_payment, "Modified_Time")
