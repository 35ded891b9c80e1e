"""Schema check: the configured field mapping against the CRM's own field metadata.

A mapping naming a field the CRM does not have used to be read back as a missing value; a
field of the wrong type made every write fail record by record. Both are configuration errors,
found before a run reads or writes anything: every problem is listed in one
:class:`~crm_sync.errors.ConfigError` (exit 2), each unknown field with its closest match.

Connectors describe their objects as ``{api_name: family}``, the family being one of the
small set of kinds below (each connector maps its CRM's own data types onto them); this
module alone decides which family may hold which canonical value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import ConfigError

# What each canonical field carries from (or to) Odoo.
CANONICAL_KINDS: dict[str, str] = {
    "external_id": "text",
    "name": "text",
    "email": "email",
    "phone": "phone",
    "vat": "text",
    "street": "text",
    "city": "text",
    "zip": "text",
    "country": "text",
    "industry": "text",
    "salesperson": "user",
    "credit_grade": "text",
    "credit_limit": "amount",
    "credit_exposure": "amount",
    "credit_available": "amount",
    "amount_overdue": "amount",
    "oldest_overdue_days": "count",
    "credit_hold": "boolean",
    "last_payment_date": "date",
    "open_invoice_count": "count",
    "open_invoice_amount": "amount",
    "paid_last_365_days": "amount",
    "archived": "boolean",
    "payment_account": "reference",
    "payment_amount": "amount",
    "payment_date": "date",
    "payment_memo": "text",
    "modified": "datetime",
}

# The field families (see each connector's type table) that can hold each kind of value.
# Kept small on purpose: an amount never goes to a text or an integer field, an e-mail
# address only to an e-mail or text field.
COMPATIBLE: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "picklist"}),
    "email": frozenset({"email", "text"}),
    "phone": frozenset({"phone", "text"}),
    "user": frozenset({"user", "lookup", "email", "text"}),
    "amount": frozenset({"number"}),
    "count": frozenset({"integer", "number"}),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date", "datetime"}),
    "datetime": frozenset({"datetime"}),
    "reference": frozenset({"lookup"}),
}

KIND_LABELS = {
    "text": "text",
    "email": "an e-mail address",
    "phone": "a phone number",
    "user": "a user",
    "amount": "an amount",
    "count": "a whole number",
    "boolean": "a yes/no value",
    "date": "a date",
    "datetime": "a date and time",
    "reference": "a link to the customer record",
}


@dataclass(frozen=True)
class RemoteField:
    """A CRM field as the schema check sees it: its family and the CRM's own type name."""

    family: str
    data_type: str


def remote_field(table: Mapping[str, str], data_type: object) -> RemoteField:
    """A field of a CRM ``data_type``; a type missing from ``table`` is compatible with nothing."""
    name = str(data_type or "unknown")
    return RemoteField(table.get(name, "unsupported"), name)


@dataclass(frozen=True)
class MappedField:
    """One configured field: the setting that names it, the remote name, the canonical field."""

    setting: str
    api_name: str
    canonical: str


def closest(name: str, available: Iterable[str]) -> str | None:
    """The remote field name closest to ``name`` (case-insensitive), if any is close enough."""
    by_lower: dict[str, str] = {}
    for candidate in available:
        by_lower.setdefault(candidate.lower(), candidate)
    match = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None


def mapping_problems(
    where: str, remote: Mapping[str, RemoteField], mapped: Iterable[MappedField]
) -> list[str]:
    """Problems of ``mapped`` against the ``remote`` fields of one object; ``where`` names it
    in messages (``Zoho CRM module Accounts``)."""
    problems = []
    for item in mapped:
        if not item.api_name:
            continue  # not synchronised
        field = remote.get(item.api_name)
        if field is None:
            message = f'{item.setting}: {where} has no field "{item.api_name}"'
            suggestion = closest(item.api_name, remote)
            if suggestion:
                message += f' (did you mean "{suggestion}"?)'
            problems.append(message)
            continue
        kind = CANONICAL_KINDS[item.canonical]
        if field.family not in COMPATIBLE[kind]:
            accepted = " / ".join(sorted(COMPATIBLE[kind]))
            problems.append(
                f'{item.setting}: field "{item.api_name}" of {where} is of type '
                f"{field.data_type}; {item.canonical} is {KIND_LABELS[kind]} and needs a "
                f"{accepted} field"
            )
    return problems


def raise_problems(system: str, problems: list[str]) -> None:
    """One configuration error listing every problem, or nothing."""
    if problems:
        listed = "\n  ".join(problems)
        raise ConfigError(
            f"the field mapping does not match {system} ({len(problems)} problem"
            f"{'s' if len(problems) > 1 else ''}):\n  {listed}",
            code="schema",
        )
