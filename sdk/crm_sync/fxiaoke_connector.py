"""FXiaoKe (纷享销客) as a :class:`~crm_sync.connector.CrmConnector`.

Customers are ``AccountObj`` records and payments ``PaymentObj`` (回款) records. The API has no
upsert, so a batch first looks its new customers up by the external-id field (one ``query``
with ``IN``), then updates what exists and creates the rest: a batch replayed after a crash
updates the records the crashed run created instead of creating them twice. Invalidated
(作废, ``life_status = invalid``) accounts are read as deletions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import requests
from pydantic import SecretStr

from .config import FxiaokeSettings
from .connector import CONTACT_FIELDS, FieldMappedCrmConnector, Page, RawRecord, read_pages
from .errors import ConfigError
from .fxiaoke_auth import FxiaokeAuth
from .fxiaoke_client import ID_FIELD, MODIFIED_FIELD, FxiaokeApiError, FxiaokeClient
from .pacing import DailyBudget, Pacer
from .provisioning import FieldSpec
from .records import (
    ContactData,
    CrmCustomer,
    CrmPayment,
    CustomerWrite,
    DeletedRecord,
    WriteResult,
)
from .retry import RetryPolicy
from .schema import RemoteField, remote_field
from .zoho_auth import MemoryTokenStore, TokenStore, token_key

# FXiaoKe field types (object describe) → field families of the schema check (crm_sync.schema).
FXIAOKE_FAMILIES = {
    "text": "text",
    "long_text": "text",
    "url": "text",
    "auto_number": "text",
    "select_one": "picklist",
    "email": "email",
    "phone_number": "phone",
    "number": "number",
    "currency": "number",
    "percentile": "number",
    "true_or_false": "boolean",
    "date": "date",
    "date_time": "datetime",
    "object_reference": "lookup",
    "employee": "user",
}

LIFE_STATUS = "life_status"
INVALID = "invalid"


def from_epoch_ms(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc)


def to_epoch_ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1000)


class FxiaokeConnector(FieldMappedCrmConnector):
    """Reads and writes customers and payments in FXiaoKe through :class:`FxiaokeClient`."""

    name = "fxiaoke"
    # No crm_id_key: a write targets its record through the update call, not the payload.

    settings: FxiaokeSettings
    client: FxiaokeClient

    def __init__(self, settings: FxiaokeSettings, client: FxiaokeClient) -> None:
        super().__init__(settings, client)
        self.zone = dt.timezone(dt.timedelta(hours=settings.date_utc_offset_hours))

    @classmethod
    def from_settings(
        cls,
        settings: FxiaokeSettings,
        *,
        app_secret: SecretStr,
        permanent_code: SecretStr,
        token_store: TokenStore | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> FxiaokeConnector:
        session = session or requests.Session()
        token_store = token_store or MemoryTokenStore()
        retry = retry or RetryPolicy()
        auth = FxiaokeAuth(
            base_url=settings.resolved_base_url,
            app_id=settings.app_id,
            app_secret=app_secret,
            permanent_code=permanent_code,
            scheme=settings.auth,
            store=token_store,
            session=session,
            timeout=settings.timeout_seconds,
        )
        pacer = Pacer(
            settings.rate_limit_calls, settings.rate_limit_window_seconds, sleep=retry.sleep
        )
        budget = DailyBudget(
            settings.daily_call_budget,
            store=token_store,
            # The quota is the tenant's: one count per host and app, whatever the credentials.
            key=token_key("fxiaoke-daily-calls", settings.resolved_base_url, settings.app_id),
            zone=dt.timezone(dt.timedelta(hours=settings.date_utc_offset_hours)),
            label="FXiaoKe",
            setting="crm.daily_call_budget",
        )
        client = FxiaokeClient(
            auth,
            open_user_id=settings.current_open_user_id,
            session=session,
            timeout=settings.timeout_seconds,
            retry=retry,
            token_codes=settings.token_error_codes,
            rate_limit_codes=settings.rate_limit_error_codes,
            quota_codes=settings.quota_error_codes,
            transient_codes=settings.transient_error_codes,
            trigger_approval_flow=settings.trigger_approval_flow,
            skip_data_status_validate=settings.skip_data_status_validate,
            pacer=pacer,
            budget=budget if settings.daily_call_budget else None,
        )
        return cls(settings, client)

    def __repr__(self) -> str:
        return f"FxiaokeConnector(object={self.settings.customer_object!r}, client={self.client!r})"

    system_label = "FXiaoKe"

    def field_creation_refusal(self, spec: FieldSpec | None = None) -> str | None:
        # The open API's object-description calls only read metadata (查询对象描述 /
        # 查询对象列表); custom fields are created in the web admin console.
        return (
            "FXiaoKe's open API has no call that creates fields (its object-description API "
            "only reads them): a CRM administrator adds them in the web admin console "
            "(管理后台, 对象管理: the object, its fields) with the API names below"
        )

    def describe(self, obj: str) -> dict[str, RemoteField]:
        try:
            fields = self.client.describe(obj)
        except FxiaokeApiError as exc:
            setting = self._object_setting(obj)
            raise ConfigError(
                f"FXiaoKe could not describe object {obj!r} ({exc.message}): set {setting} to "
                "the object's API name",
                code=exc.code,
            ) from None
        return {
            str(item["api_name"]): remote_field(FXIAOKE_FAMILIES, item.get("type"))
            for item in fields
            if item.get("api_name")
        }

    def check(self) -> None:
        self.client.auth.verify()
        self.client.query(self.settings.customer_object, fields=[ID_FIELD], limit=1)

    # -- values --------------------------------------------------------------------------
    def _wire(self, value: Any) -> Any:
        """A canonical value as FXiaoKe expects it: currency as text, dates as epoch ms."""
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, dt.datetime):
            return to_epoch_ms(value)
        if isinstance(value, dt.date):
            return to_epoch_ms(dt.datetime.combine(value, dt.time(), self.zone))
        return value

    def _date(self, value: Any) -> Any:
        stamp = from_epoch_ms(value)
        return stamp.astimezone(self.zone).date() if stamp else value

    # -- reads ---------------------------------------------------------------------------
    def _pages(
        self, raw_pages: Iterator[list[RawRecord]], parse: Callable[[RawRecord], Any]
    ) -> Iterator[Page[Any]]:
        return read_pages(
            raw_pages,
            parse,
            stamp=lambda raw: from_epoch_ms(raw.get(MODIFIED_FIELD)),
            key_field=ID_FIELD,
        )

    def _since_ms(self, since: dt.datetime | None) -> int | None:
        return to_epoch_ms(since) if since else None

    def _parse_customer(self, raw: dict[str, Any]) -> CrmCustomer:
        contact = self._mapped_contact(raw)
        external = raw.get(self.fields.external_id)
        modified = from_epoch_ms(raw.get(MODIFIED_FIELD))
        if modified is None:
            raise ValueError(f"{MODIFIED_FIELD}: not an epoch-milliseconds time stamp")
        return CrmCustomer.model_validate(
            {
                "crm_id": raw.get(ID_FIELD),
                "erp_id": external if external not in (None, "") else None,
                "modified_at": modified,
                "contact": ContactData(**contact),
            }
        )

    def iter_customers(self, since: dt.datetime | None) -> Iterator[Page[CrmCustomer]]:
        fields = [self._field(n) for n in CONTACT_FIELDS if self._field(n)]
        raw_pages = self.client.iter_changed(
            self.settings.customer_object,
            since_ms=self._since_ms(since),
            fields=[*fields, self.fields.external_id],
            filters=[{"field_name": LIFE_STATUS, "operator": "N", "field_values": [INVALID]}],
            limit=self.settings.page_size,
        )
        return self._pages(raw_pages, self._parse_customer)

    def iter_deleted_customers(self, since: dt.datetime | None) -> Iterator[Page[DeletedRecord]]:
        if not self.settings.sync_deletions:
            return iter(())
        raw_pages = self.client.iter_changed(
            self.settings.customer_object,
            since_ms=self._since_ms(since),
            fields=[LIFE_STATUS],
            filters=[{"field_name": LIFE_STATUS, "operator": "EQ", "field_values": [INVALID]}],
            limit=self.settings.page_size,
        )

        def parse(raw: dict[str, Any]) -> DeletedRecord:
            return DeletedRecord.model_validate(
                {
                    "crm_id": raw.get(ID_FIELD),
                    "deleted_at": from_epoch_ms(raw.get(MODIFIED_FIELD)),
                }
            )

        return self._pages(raw_pages, parse)

    def _parse_payment(self, raw: dict[str, Any]) -> CrmPayment:
        modified = from_epoch_ms(raw.get(MODIFIED_FIELD))
        if modified is None:
            raise ValueError(f"{MODIFIED_FIELD}: not an epoch-milliseconds time stamp")
        memo = raw.get(self.fields.payment_memo) if self.fields.payment_memo else None
        return CrmPayment.model_validate(
            {
                "crm_id": raw.get(ID_FIELD),
                "crm_customer_id": raw.get(self.fields.payment_account),
                "amount": raw.get(self.fields.payment_amount),
                "date": self._date(raw.get(self.fields.payment_date)),
                "memo": memo,
                "modified_at": modified,
            }
        )

    def iter_payments(self, since: dt.datetime | None) -> Iterator[Page[CrmPayment]]:
        if not self.settings.payment_object:
            return iter(())
        names = self._payment_field_names()
        raw_pages = self.client.iter_changed(
            self.settings.payment_object,
            since_ms=self._since_ms(since),
            fields=[name for name in names if name],
            filters=[{"field_name": LIFE_STATUS, "operator": "N", "field_values": [INVALID]}],
            limit=self.settings.page_size,
        )
        return self._pages(raw_pages, self._parse_payment)

    # -- writes --------------------------------------------------------------------------
    def _existing(self, batch: Sequence[CustomerWrite]) -> dict[str, str]:
        """CRM ids of the batch's unlinked customers that already exist (a crashed run's)."""
        keys = [str(write.erp_id) for write in batch if not write.crm_id]
        if not keys:
            return {}
        rows = self.client.query(
            self.settings.customer_object,
            filters=[
                {"field_name": self.fields.external_id, "operator": "IN", "field_values": keys},
                {"field_name": LIFE_STATUS, "operator": "N", "field_values": [INVALID]},
            ],
            orders=[{"fieldName": "create_time", "isAsc": True}],
            fields=[ID_FIELD, self.fields.external_id],
            limit=min(100, max(len(keys), 1)),
        )
        found: dict[str, str] = {}
        for row in rows:
            found.setdefault(str(row.get(self.fields.external_id)), str(row.get(ID_FIELD)))
        return found

    def upsert_customers(self, batch: Sequence[CustomerWrite]) -> list[WriteResult]:
        existing = self._existing(batch)
        results = []
        for write in batch:
            target = write.crm_id or existing.get(str(write.erp_id))
            payload = self._customer_payload(write)
            try:
                if target:
                    crm_id = self.client.update(self.settings.customer_object, target, payload)
                    results.append(WriteResult(ok=True, crm_id=crm_id or target, created=False))
                else:
                    crm_id = self.client.create(self.settings.customer_object, payload)
                    results.append(WriteResult(ok=True, crm_id=crm_id, created=True))
            except FxiaokeApiError as exc:
                results.append(
                    WriteResult(
                        ok=False, code=exc.code, message=exc.message, details=dict(exc.details)
                    )
                )
        return results
