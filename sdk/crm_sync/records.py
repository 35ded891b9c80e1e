"""The records that cross the boundary between the engine and its connectors.

Inbound models (what remote systems send) are lenient: unknown keys are ignored, blanks become
``None`` and numbers may arrive as strings. Outbound models (what we send) are strict: unknown
keys are refused, and amounts must be well formed, so that a bug on our side fails loudly here
instead of writing nonsense into a CRM or an accounting system.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError


class Inbound(BaseModel):
    """Base of records read from a remote system."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class Outbound(BaseModel):
    """Base of records we send to a remote system."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactData(Inbound):
    """Customer contact data; the CRM owns it.

    Absent is not empty: a connector passes only the fields the remote answer carries, so a
    field it left out (a misspelt mapping, a field the CRM omits) stays unset and is never
    written, while an explicit empty value (null, ``""``) is set to ``None`` and clears.
    """

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    vat: str | None = None
    street: str | None = None
    city: str | None = None
    zip: str | None = None
    country: str | None = None
    industry: str | None = None
    salesperson: str | None = Field(default=None, description="e-mail of the account owner")

    def present(self) -> dict[str, str | None]:
        """The fields the record carries, by name (``None``: explicitly empty); fields absent
        from the remote answer are not in it."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class CreditData(Inbound):
    """Customer credit data and invoice/payment summaries; Odoo owns it."""

    credit_grade: str | None = None
    credit_limit: Decimal | None = None
    credit_exposure: Decimal | None = None
    credit_available: Decimal | None = None
    amount_overdue: Decimal | None = None
    oldest_overdue_days: int | None = None
    credit_hold: bool | None = None
    last_payment_date: dt.date | None = None
    open_invoice_count: int | None = None
    open_invoice_amount: Decimal | None = None
    paid_last_365_days: Decimal | None = None


class ErpCustomer(Inbound):
    """A customer as read from Odoo."""

    erp_id: int
    active: bool = True
    write_date: dt.datetime
    contact: ContactData
    credit: CreditData = CreditData()


class CrmCustomer(Inbound):
    """A customer account as read from a CRM."""

    crm_id: str
    erp_id: int | None = Field(default=None, description="the external-id field, if set")
    modified_at: dt.datetime
    contact: ContactData


class CrmPayment(Inbound):
    """A customer payment recorded in the CRM."""

    crm_id: str
    crm_customer_id: str | None = None
    amount: Decimal
    date: dt.date
    memo: str | None = None
    modified_at: dt.datetime


class DeletedRecord(Inbound):
    """A record deleted in the CRM."""

    crm_id: str
    deleted_at: dt.datetime


class RejectedRecord(BaseModel):
    """A remote record that could not be parsed; it goes to the dead-letter table."""

    model_config = ConfigDict(frozen=True)

    key: str
    payload: dict[str, Any]
    error: str
    code: str = "malformed"


class CustomerWrite(Outbound):
    """What the engine asks a CRM connector to upsert for one Odoo customer."""

    erp_id: int
    crm_id: str | None = None
    contact: ContactData | None = None
    credit: CreditData | None = None
    archived: bool | None = None


class DraftPayment(Outbound):
    """A payment to create in Odoo as a draft for accounting to review."""

    partner_id: int = Field(gt=0)
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=6)
    date: dt.date
    memo: str | None = Field(default=None, max_length=256)
    external_ref: str = Field(min_length=1, max_length=128)
    payment_type: Literal["inbound"] = "inbound"
    partner_type: Literal["customer"] = "customer"


class WriteResult(BaseModel):
    """The outcome of writing one record, in the order the records were sent."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    crm_id: str | None = None
    created: bool = False
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


def _normalise(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value else "NaN"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    return value


def content_hash(model: BaseModel | None) -> str:
    """Stable digest of a record's content, used to skip unchanged records and echoes."""
    if model is None:
        return ""
    data = _normalise(model.model_dump(exclude_none=False))
    if isinstance(model, ContactData) and model.model_fields_set != set(ContactData.model_fields):
        # Absent and explicitly empty differ: a field the CRM empties after leaving it out
        # is a change. (A contact with every field hashes as it always did.)
        data["(absent)"] = sorted(set(ContactData.model_fields) - model.model_fields_set)
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def parse_remote_datetime(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp as a remote API sends it (``Z`` or an offset; naive means UTC);
    ``None`` for anything else, so a malformed stamp never stops a page."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def describe_error(exc: Exception) -> str:
    """A record's validation errors in one line (field path: message), for dead letters."""
    if isinstance(exc, PydanticValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
    return str(exc)
