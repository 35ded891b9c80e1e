"""Zoho CRM as a :class:`~crm_sync.connector.CrmConnector`: field mapping and paging."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import requests
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from .config import ZohoSettings
from .connector import Page
from .records import (
    ContactData,
    CreditData,
    CrmCustomer,
    CrmPayment,
    CustomerWrite,
    DeletedRecord,
    RejectedRecord,
    WriteResult,
    describe_error,
    parse_remote_datetime,
)
from .retry import RetryPolicy
from .zoho_auth import TokenStore, ZohoAuth
from .zoho_client import ZohoClient

CONTACT_FIELDS = tuple(ContactData.model_fields)
CREDIT_FIELDS = tuple(CreditData.model_fields)


def _lookup_id(value: Any) -> str | None:
    if isinstance(value, dict):
        raw = value.get("id")
        return str(raw) if raw not in (None, "") else None
    return str(value) if isinstance(value, (str, int)) and str(value) else None


def _wire(value: Any) -> Any:
    """A canonical value as Zoho expects it in JSON."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


class ZohoConnector:
    """Reads and writes customers and payments in Zoho CRM through :class:`ZohoClient`."""

    name = "zoho"

    def __init__(self, settings: ZohoSettings, client: ZohoClient) -> None:
        self.settings = settings
        self.client = client
        self.fields = settings.fields
        self.batch_size = settings.upsert_batch_size

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
    ) -> ZohoConnector:
        session = session or requests.Session()
        auth = ZohoAuth(
            accounts_url=settings.resolved_accounts_url,
            client_id=settings.client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            store=token_store,
            session=session,
            timeout=settings.timeout_seconds,
        )
        client = ZohoClient(auth, session=session, timeout=settings.timeout_seconds, retry=retry)
        return cls(settings, client)

    def __repr__(self) -> str:
        return f"ZohoConnector(module={self.settings.accounts_module!r}, client={self.client!r})"

    def close(self) -> None:
        self.client.close()

    def check(self) -> None:
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
        contact: dict[str, Any] = {}
        for name in CONTACT_FIELDS:
            value = raw.get(getattr(self.fields, name))
            if name == "salesperson" and isinstance(value, dict):
                value = value.get("email")
            contact[name] = value
        external = raw.get(self.fields.external_id)
        return CrmCustomer(
            crm_id=str(raw.get("id", "")) or None,  # type: ignore[arg-type]
            erp_id=external if external not in (None, "") else None,
            modified_at=raw.get("Modified_Time"),  # type: ignore[arg-type]
            contact=ContactData(**contact),
        )

    def _pages(self, raw_pages: Iterator[list[dict[str, Any]]], parse, time_key: str):  # type: ignore[no-untyped-def]
        for raw_page in raw_pages:
            page: Page[Any] = Page(items=[])
            for raw in raw_page:
                stamp = parse_remote_datetime(raw.get(time_key))
                if stamp and (page.high_water is None or stamp > page.high_water):
                    page.high_water = stamp
                try:
                    page.items.append(parse(raw))
                except (PydanticValidationError, ValueError, TypeError) as exc:
                    detail = describe_error(exc)
                    page.rejected.append(
                        RejectedRecord(key=str(raw.get("id", "?")), payload=raw, error=detail)
                    )
            yield page

    def iter_customers(self, since: dt.datetime | None) -> Iterator[Page[CrmCustomer]]:
        raw_pages = self.client.iter_records(
            self.settings.accounts_module,
            self._customer_fields(),
            since=since,
            per_page=self.settings.per_page,
        )
        return self._pages(raw_pages, self._parse_customer, "Modified_Time")

    def iter_deleted_customers(self, since: dt.datetime | None) -> Iterator[Page[DeletedRecord]]:
        raw_pages = self.client.iter_deleted(self.settings.accounts_module, since=since)

        def parse(raw: dict[str, Any]) -> DeletedRecord:
            return DeletedRecord(crm_id=str(raw.get("id", "")), deleted_at=raw.get("deleted_time"))  # type: ignore[arg-type]

        return self._pages(raw_pages, parse, "deleted_time")

    def _customer_payload(self, write: CustomerWrite) -> dict[str, Any]:
        data: dict[str, Any] = {self.fields.external_id: str(write.erp_id)}
        if write.crm_id:
            data["id"] = write.crm_id
        if write.contact is not None:
            for name in CONTACT_FIELDS:
                if name == "salesperson":
                    continue  # the CRM assigns owners; it owns that field
                data[getattr(self.fields, name)] = getattr(write.contact, name)
        if write.credit is not None:
            for name in CREDIT_FIELDS:
                data[getattr(self.fields, name)] = _wire(getattr(write.credit, name))
        if write.archived is not None:
            data[self.fields.archived] = write.archived
        return data

    def upsert_customers(self, batch: Sequence[CustomerWrite]) -> list[WriteResult]:
        raw_results = self.client.upsert(
            self.settings.accounts_module,
            [self._customer_payload(write) for write in batch],
            duplicate_check_fields=[self.fields.external_id],
        )
        results = []
        for raw in raw_results:
            details = raw.get("details") if isinstance(raw.get("details"), dict) else {}
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
        return CrmPayment(
            crm_id=str(raw.get("id", "")) or None,  # type: ignore[arg-type]
            crm_customer_id=_lookup_id(raw.get(self.fields.payment_account)),
            amount=raw.get(self.fields.payment_amount),  # type: ignore[arg-type]
            date=raw.get(self.fields.payment_date),  # type: ignore[arg-type]
            memo=raw.get(self.fields.payment_memo),
            modified_at=raw.get("Modified_Time"),  # type: ignore[arg-type]
        )

    def iter_payments(self, since: dt.datetime | None) -> Iterator[Page[CrmPayment]]:
        if not self.settings.payments_module:
            return iter(())
        fields = [
            self.fields.payment_account,
            self.fields.payment_amount,
            self.fields.payment_date,
            self.fields.payment_memo,
            "Modified_Time",
        ]
        raw_pages = self.client.iter_records(
            self.settings.payments_module, fields, since=since, per_page=self.settings.per_page
        )
        return self._pages(raw_pages, self._parse_payment, "Modified_Time")
