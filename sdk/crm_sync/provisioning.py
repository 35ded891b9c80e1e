"""``crm-sync setup``: create the CRM fields the field map needs, through the CRM's metadata API.

The fields come from the same list the schema check reads
(:meth:`~crm_sync.connector.FieldMappedCrmConnector.mapped_objects`), so setup creates exactly
what the sync reads and writes. It is idempotent: a field that exists with a compatible type is
left alone, so a second run creates nothing. A field that exists with the wrong type is reported
and the whole setup refused (``ConfigError``, exit 2) before anything is created: setup never
alters or deletes a field. Fields setup cannot create (the record owner, system timestamps,
a SOAP CRM's standard fields, every field of a CRM whose API creates none) are listed for the
administrator to create by hand, each with the reason (exit 2 while they are missing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import ConfigError
from .schema import (
    CANONICAL_KINDS,
    COMPATIBLE,
    KIND_LABELS,
    MappedField,
    RemoteField,
    mapping_problems,
)

# Canonical kinds setup can create; the others (a user, a system date-time) belong to the CRM.
CREATABLE_KINDS = frozenset(
    {"text", "email", "phone", "amount", "count", "boolean", "date", "reference"}
)


@dataclass(frozen=True)
class FieldSpec:
    """A CRM field the sync needs: where it lives, its API name and what it holds."""

    obj: str
    api_name: str
    canonical: str
    setting: str
    #: The object a ``reference`` field points to (the customer object).
    reference_to: str | None = None

    @property
    def kind(self) -> str:
        return CANONICAL_KINDS[self.canonical]

    @property
    def label(self) -> str:
        """The display label: the API name without the custom-field suffix (``__c``), ``_``
        read as a space (Zoho derives the API name from the label the same way back)."""
        return self.api_name.removesuffix("__c").replace("_", " ").strip()

    @property
    def unique(self) -> bool:
        """The Odoo id field is the upsert key: one CRM record per Odoo partner."""
        return self.canonical == "external_id"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "object": self.obj,
            "field": self.api_name,
            "label": self.label,
            "kind": self.kind,
            "setting": self.setting,
        }
        if self.unique:
            data["unique"] = True
        if self.reference_to:
            data["reference_to"] = self.reference_to
        return data


class ProvisionableCrm(Protocol):
    """What setup needs from a connector (``FieldMappedCrmConnector`` provides it)."""

    system_label: str
    object_label: str

    def mapped_objects(
        self, *, payments: bool = True, archived: bool = True
    ) -> list[tuple[str, list[MappedField]]]: ...

    def describe(self, obj: str) -> dict[str, RemoteField]: ...

    def field_creation_refusal(self, spec: FieldSpec | None = None) -> str | None:
        """Why this CRM's API cannot create fields, or this one (``None``: it can)."""

    def create_field(self, spec: FieldSpec) -> None: ...

    def verify_schema(self, *, payments: bool = True, archived: bool = True) -> None: ...


@dataclass
class SetupPlan:
    """What setup found and what it does about it."""

    system: str
    present: list[FieldSpec] = field(default_factory=list)
    #: Missing fields setup creates.
    creatable: list[FieldSpec] = field(default_factory=list)
    #: Missing fields only an administrator can create, each with the reason.
    manual: list[tuple[FieldSpec, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    created: list[FieldSpec] = field(default_factory=list)

    def as_dict(self, *, dry_run: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "crm": self.system,
            "dry_run": dry_run,
            "present": len(self.present),
            "conflicts": self.conflicts,
            "create_by_hand": [{**spec.as_dict(), "why": reason} for spec, reason in self.manual],
        }
        if dry_run:
            data["would_create"] = [spec.as_dict() for spec in self.creatable]
        else:
            data["created"] = [spec.as_dict() for spec in self.created]
        return data


def plan_setup(crm: ProvisionableCrm, *, payments: bool, archived: bool) -> SetupPlan:
    """Compare the fields the sync needs with the CRM's metadata: one describe per object."""
    plan = SetupPlan(system=crm.system_label)
    refusal = crm.field_creation_refusal()
    objects = crm.mapped_objects(payments=payments, archived=archived)
    customer_object = objects[0][0]
    for obj, mapped in objects:
        remote = crm.describe(obj)
        where = f"{crm.system_label} {crm.object_label} {obj}"
        seen: set[str] = set()
        for item in mapped:
            if not item.api_name or item.api_name in seen:
                continue  # not synchronised, or already planned for this object
            seen.add(item.api_name)
            kind = CANONICAL_KINDS[item.canonical]
            spec = FieldSpec(
                obj,
                item.api_name,
                item.canonical,
                item.setting,
                reference_to=customer_object if kind == "reference" else None,
            )
            existing = remote.get(item.api_name)
            if existing is None:
                reason = refusal or crm.field_creation_refusal(spec)
                if reason is None and kind not in CREATABLE_KINDS:
                    reason = f"{crm.system_label} owns the fields holding {KIND_LABELS[kind]}"
                if reason is None:
                    plan.creatable.append(spec)
                else:
                    plan.manual.append((spec, reason))
            elif existing.family in COMPATIBLE[kind]:
                plan.present.append(spec)
            else:
                plan.conflicts += mapping_problems(where, remote, [item])
    return plan


def conflict_error(plan: SetupPlan) -> ConfigError | None:
    """The refusal when fields exist with a type the sync cannot use (nothing is created)."""
    if not plan.conflicts:
        return None
    count = len(plan.conflicts)
    listed = "\n  ".join(plan.conflicts)
    return ConfigError(
        f"setup refused: {count} field{'s' if count > 1 else ''} of {plan.system} exist with a "
        "type the sync cannot use, and setup never changes an existing field: change it in the "
        f"CRM or map another field in crm.fields, then run setup again:\n  {listed}",
        code="setup_conflict",
    )


def by_hand_error(plan: SetupPlan) -> ConfigError | None:
    """The error while fields that only the administrator can create are missing."""
    if not plan.manual:
        return None
    count = len(plan.manual)
    reasons = "; ".join(dict.fromkeys(reason for _spec, reason in plan.manual))
    listed = "\n  ".join(
        f'{spec.obj}: {spec.api_name} (label "{spec.label}", {KIND_LABELS[spec.kind]}'
        f"{', unique' if spec.unique else ''}; {spec.setting})"
        for spec, _reason in plan.manual
    )
    return ConfigError(
        f"{count} field{'s' if count > 1 else ''} must be created by hand in {plan.system} "
        f"({reasons}); create them, then run setup again:\n  {listed}",
        code="setup_manual",
    )


def create_missing(
    crm: ProvisionableCrm,
    plan: SetupPlan,
    on_created: Callable[[FieldSpec], None] | None = None,
) -> None:
    """Create the missing fields the CRM's API can create, one call each, in map order."""
    for spec in plan.creatable:
        crm.create_field(spec)
        plan.created.append(spec)
        if on_created is not None:
            on_created(spec)
