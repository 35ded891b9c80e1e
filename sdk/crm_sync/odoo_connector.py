"""Odoo as an :class:`~crm_sync.connector.ErpConnector`, over any :class:`OdooGateway`.

The gateway is the only part that differs between JSON-RPC (outside Odoo) and the in-process
``env`` (inside the addon's cron); the mapping from Odoo's data model to canonical records lives
here once.

Data model assumed: ``res.partner`` (is_company, name, email, phone, vat, street, city, zip,
country_id, industry_id, user_id, active, write_date and, when the addon is installed,
credit_grade, credit_limit, credit_exposure, credit_available, amount_overdue,
oldest_overdue_days, credit_hold, last_payment_date) and ``account.payment`` (drafts).

Trust: an Odoo id that comes from the CRM (the external-id field, or a partner found by it) is
honoured only for a partner the sync owns: inside the customer filter and the company, and the
partner of no user, active or archived (else a CRM record could rewrite the e-mail of the
admin's partner and receive its password reset). Other records are refused with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, Protocol

from .connector import ErpPosition
from .errors import ValidationError
from .records import ContactData, CreditData, DraftPayment, ErpCustomer

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
PARTNER_FIELDS = [
    "name", "email", "phone", "vat", "street", "city", "zip", "country_id", "industry_id",
    "user_id", "active", "write_date", "is_company",
]  # fmt: skip
CREDIT_PARTNER_FIELDS = [
    "credit_grade", "credit_limit", "credit_exposure", "credit_available", "amount_overdue",
    "oldest_overdue_days", "credit_hold", "last_payment_date",
]  # fmt: skip
TEXT_FIELDS = ("name", "email", "phone", "vat", "street", "city", "zip")


class OdooGateway(Protocol):
    """The handful of ORM calls the connector makes; JSON-RPC and ``env`` implement it."""

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        order: str | None = None,
        limit: int | None = None,
        active_test: bool = True,
    ) -> list[dict[str, Any]]: ...

    def search(
        self, model: str, domain: list[Any], *, limit: int | None = None, active_test: bool = True
    ) -> list[int]: ...

    def create(self, model: str, values: dict[str, Any]) -> int: ...

    def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None: ...

    def field_names(self, model: str) -> set[str]: ...

    def read_group(
        self, model: str, domain: list[Any], fields: list[str], groupby: list[str]
    ) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


def to_odoo_datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.strftime(ODOO_DATETIME)


def from_odoo_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    return dt.datetime.strptime(str(value)[:19], ODOO_DATETIME)


def _m2o_name(value: Any) -> str | None:
    # Odoo returns many2one values as [id, display_name], or False.
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return str(value[1])
    return None


def _m2o_id(value: Any) -> int | None:
    if isinstance(value, (list, tuple)) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool) and value:
        return value
    return None


def _falsy_none(value: Any) -> Any:
    return None if value is False else value


class OdooConnector:
    def __init__(
        self,
        gateway: OdooGateway,
        *,
        customer_domain: Sequence[Any] = (("is_company", "=", True),),
        crm_id_field: str | None = None,
        payment_ref_field: str = "payment_reference",
        with_summaries: bool = True,
        company_id: int | None = None,
    ) -> None:
        self.gateway = gateway
        self.customer_domain = [
            list(term) if isinstance(term, (list, tuple)) else term for term in customer_domain
        ]
        self.crm_id_field = crm_id_field
        self.payment_ref_field = payment_ref_field
        self.with_summaries = with_summaries
        self.company_id = company_id
        self._credit_fields: list[str] | None = None
        self._lookup_cache: dict[tuple[str, str], int | None] = {}

    def __repr__(self) -> str:
        return f"OdooConnector(gateway={self.gateway!r})"

    def close(self) -> None:
        self.gateway.close()

    def check(self) -> None:
        self.gateway.search("res.partner", [], limit=1)

    # -- what the sync may read and write ------------------------------------------------
    def _company_terms(self) -> list[Any]:
        return [] if self.company_id is None else [["company_id", "in", [False, self.company_id]]]

    def customers_domain(self) -> list[Any]:
        """The customers synchronised: the filter, in the company (or shared by all)."""
        return [*self.customer_domain, *self._company_terms()]

    def writable_domain(self) -> list[Any]:
        """Customers the CRM may write to: never the partner of a user, internal or portal, nor
        of a company (a company takes its name, VAT, e-mail and address from its partner).

        Searched with ``active_test=False``, which Odoo also applies to the users' subquery:
        archived users count.
        """
        return [*self.customers_domain(), ["user_ids", "=", False], ["ref_company_ids", "=", False]]

    def _writable(self, ids: Sequence[int]) -> set[int]:
        found = self.gateway.search(
            "res.partner", [*self.writable_domain(), ["id", "in", list(ids)]], active_test=False
        )
        return set(found)

    def _refused(self, erp_id: int) -> ValidationError:
        """Why the sync does not write to this partner. Only called on a refusal (rare), so
        the extra queries that name the reason cost nothing on a normal run."""

        def exists(*domain: Any) -> bool:
            found = self.gateway.search(
                "res.partner", [["id", "=", erp_id], *domain], limit=1, active_test=False
            )
            return bool(found)

        if not exists():
            reason = "does not exist or belongs to another company"
        elif exists(["user_ids", "!=", False]):
            reason = "is the partner of a user (internal or portal)"
        elif exists(["ref_company_ids", "!=", False]):
            reason = "is the partner of a company"
        elif not exists(*self._company_terms()):
            reason = "belongs to another company"
        else:
            reason = "is outside the backend's customer filter"
        return ValidationError(
            f"Odoo partner {erp_id} named by this CRM record {reason}: the sync does not write "
            "to it. Clear or correct the Odoo id in the CRM record.",
            code="erp_id_refused",
            field="erp_id",
        )

    # -- reading customers ---------------------------------------------------------------
    def credit_fields(self) -> list[str]:
        if self._credit_fields is None:
            available = self.gateway.field_names("res.partner")
            self._credit_fields = [name for name in CREDIT_PARTNER_FIELDS if name in available]
        return self._credit_fields

    def iter_customers(
        self, after: ErpPosition | None, page_size: int, ids: Sequence[int] | None = None
    ) -> Iterator[list[ErpCustomer]]:
        fields = PARTNER_FIELDS + self.credit_fields()
        position = after
        while True:
            domain: list[Any] = self.customers_domain()
            if ids is not None:
                domain.append(["id", "in", list(ids)])
            domain += _after_terms(position)
            rows = self.gateway.search_read(
                "res.partner",
                domain,
                fields,
                order="write_date asc, id asc",
                limit=page_size,
                active_test=False,
            )
            if not rows:
                return
            yield self._to_customers(rows)
            last = rows[-1]
            position = ErpPosition(from_odoo_datetime(last["write_date"]), int(last["id"]))
            if len(rows) < page_size:
                return

    def count_customers(self, after: ErpPosition | None) -> int:
        """How many customers a pass from ``after`` reads (one ``search``): the total a
        progress display shows; archived ones included, as the pass reads them."""
        domain = [*self.customers_domain(), *_after_terms(after)]
        return len(self.gateway.search("res.partner", domain, active_test=False))

    def _to_customers(self, rows: list[dict[str, Any]]) -> list[ErpCustomer]:
        user_emails = self._user_emails({_m2o_id(row.get("user_id")) for row in rows})
        summaries = self._summaries([int(row["id"]) for row in rows])
        customers = []
        for row in rows:
            user_id = _m2o_id(row.get("user_id"))
            contact = ContactData(
                **{name: _falsy_none(row.get(name)) for name in TEXT_FIELDS},
                country=_m2o_name(row.get("country_id")),
                industry=_m2o_name(row.get("industry_id")),
                salesperson=user_emails.get(user_id) if user_id is not None else None,
            )
            credit_values = {name: _falsy_none(row.get(name)) for name in self.credit_fields()}
            if "credit_hold" in credit_values:
                credit_values["credit_hold"] = bool(row.get("credit_hold"))
            credit_values.update(summaries.get(int(row["id"]), {}))
            customers.append(
                ErpCustomer(
                    erp_id=int(row["id"]),
                    active=bool(row.get("active", True)),
                    write_date=from_odoo_datetime(row["write_date"]),
                    contact=contact,
                    credit=CreditData(**credit_values),
                )
            )
        return customers

    def _user_emails(self, user_ids: set[int | None]) -> dict[int, str]:
        wanted = sorted(uid for uid in user_ids if uid)
        if not wanted:
            return {}
        rows = self.gateway.search_read(
            "res.users", [["id", "in", wanted]], ["login", "email"], active_test=False
        )
        return {int(row["id"]): str(row.get("email") or row.get("login")) for row in rows}

    def _summaries(self, partner_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Open invoices and last-year payments per partner, one grouped query each."""
        if not self.with_summaries or not partner_ids:
            return {}
        result: dict[int, dict[str, Any]] = {
            pid: {
                "open_invoice_count": 0,
                "open_invoice_amount": Decimal(0),
                "paid_last_365_days": Decimal(0),
            }
            for pid in partner_ids
        }
        # The company's own books only: a shared customer has invoices in several companies.
        company = [] if self.company_id is None else [["company_id", "=", self.company_id]]
        invoices = self.gateway.read_group(
            "account.move",
            [["partner_id", "in", partner_ids], ["move_type", "=", "out_invoice"],
             ["state", "=", "posted"], ["payment_state", "in", ["not_paid", "partial"]],
             *company],
            ["amount_residual:sum"],
            ["partner_id"],
        )  # fmt: skip
        for group in invoices:
            pid = _m2o_id(group.get("partner_id"))
            if pid in result:
                result[pid]["open_invoice_count"] = int(group.get("__count", 0))
                result[pid]["open_invoice_amount"] = Decimal(str(group.get("amount_residual") or 0))
        year_ago = (dt.date.today() - dt.timedelta(days=365)).isoformat()
        payments = self.gateway.read_group(
            "account.payment",
            [["partner_id", "in", partner_ids], ["payment_type", "=", "inbound"],
             ["state", "in", ["in_process", "paid"]], ["date", ">=", year_ago], *company],
            ["amount:sum"],
            ["partner_id"],
        )  # fmt: skip
        for group in payments:
            pid = _m2o_id(group.get("partner_id"))
            if pid in result:
                result[pid]["paid_last_365_days"] = Decimal(str(group.get("amount") or 0))
        return result

    # -- matching and writing customers --------------------------------------------------
    def _one(self, domain: list[Any]) -> int | None:
        found = self.gateway.search("res.partner", domain, limit=2, active_test=False)
        return found[0] if len(found) == 1 else None  # ambiguous matches are no match

    def find_customer(
        self, crm_id: str, erp_id: int | None, contact: ContactData, rules: Sequence[str]
    ) -> int | None:
        """The partner a new CRM record is, among those the CRM may write to; a record naming
        an Odoo id the sync does not own is refused (ValidationError), never re-routed."""
        writable = self.writable_domain()
        if self.crm_id_field:
            found = self._one([*writable, [self.crm_id_field, "=", crm_id]])
            if found:
                return found
        if erp_id:
            found = self._one([*writable, ["id", "=", int(erp_id)]])
            if found:
                return found
            raise self._refused(int(erp_id))
        for rule in rules:
            value = getattr(contact, rule, None)
            if not value:
                continue
            operator = "=" if rule == "vat" else "=ilike"
            found = self._one([*writable, [rule, operator, value]])
            if found:
                return found
        return None

    def _lookup(self, model: str, value: str | None, fields: Sequence[str]) -> int | None:
        if not value:
            return None
        key = (model, value.lower())
        if key not in self._lookup_cache:
            found = None
            for name in fields:
                ids = self.gateway.search(model, [[name, "=ilike", value]], limit=1)
                if ids:
                    found = ids[0]
                    break
            self._lookup_cache[key] = found
        return self._lookup_cache[key]

    def _contact_values(self, contact: ContactData) -> dict[str, Any]:
        """Odoo values for the contact fields the CRM record carries: an explicit empty value
        clears, a field absent from the CRM's answer is not written."""
        present = contact.present()
        values: dict[str, Any] = {
            name: present[name] or False
            for name in TEXT_FIELDS
            if name != "name" and name in present
        }
        if contact.name:
            values["name"] = contact.name
        # Lookups that do not resolve leave the Odoo value alone rather than blanking it.
        country = self._lookup("res.country", contact.country, ("name", "code"))
        if country:
            values["country_id"] = country
        industry = self._lookup("res.partner.industry", contact.industry, ("name", "full_name"))
        if industry:
            values["industry_id"] = industry
        user = self._lookup("res.users", contact.salesperson, ("login", "email"))
        if user:
            values["user_id"] = user
        return values

    def create_customer(self, contact: ContactData, crm_id: str) -> int:
        values = self._contact_values(contact)
        values["is_company"] = True
        if self.company_id is not None:
            values["company_id"] = self.company_id  # the backend's company's customer
        if self.crm_id_field:
            values[self.crm_id_field] = crm_id
        return self.gateway.create("res.partner", values)

    def update_customers(self, updates: Sequence[tuple[int, ContactData]]) -> int:
        """Write CRM contact data, one read for the batch and a write only where values differ.

        Echoes (records that come back from the CRM unchanged) thus cost no Odoo write. A
        partner the CRM may not write to (it got a user since it was linked, left the filter…)
        refuses the batch before anything is written; the engine then retries one by one.
        """
        if not updates:
            return 0
        ids = [erp_id for erp_id, _ in updates]
        fields = [*TEXT_FIELDS, "country_id", "industry_id", "user_id"]
        current = {
            int(row["id"]): row
            for row in self.gateway.search_read(
                "res.partner",
                [*self.writable_domain(), ["id", "in", ids]],
                fields,
                active_test=False,
            )
        }
        refused = next((erp_id for erp_id in ids if erp_id not in current), None)
        if refused is not None:
            raise self._refused(refused)
        writes = 0
        for erp_id, contact in updates:
            row = current.get(erp_id, {})
            wanted = self._contact_values(contact)
            changed = {
                name: value
                for name, value in wanted.items()
                if (_m2o_id(row.get(name)) if name.endswith("_id") else row.get(name)) != value
            }
            if changed:
                self.gateway.write("res.partner", [erp_id], changed)
                writes += 1
        return writes

    def archive_customer(self, erp_id: int) -> None:
        if erp_id not in self._writable([erp_id]):
            raise self._refused(erp_id)
        self.gateway.write("res.partner", [erp_id], {"active": False})

    # -- payments ------------------------------------------------------------------------
    def find_draft_payment(self, external_ref: str) -> int | None:
        found = self.gateway.search(
            "account.payment", [[self.payment_ref_field, "=", external_ref]], limit=1
        )
        return found[0] if found else None

    def create_draft_payment(self, payment: DraftPayment) -> int:
        return self.gateway.create(
            "account.payment",
            {
                "partner_id": payment.partner_id,
                "amount": float(payment.amount),
                "date": payment.date.isoformat(),
                "memo": payment.memo or False,
                "payment_type": payment.payment_type,
                "partner_type": payment.partner_type,
                self.payment_ref_field: payment.external_ref,
            },
        )


def _after_terms(position: ErpPosition | None) -> list[Any]:
    """Domain terms for the customers after ``position`` in ``(write_date, id)`` order."""
    if position is None:
        return []
    stamp = to_odoo_datetime(position.write_date)
    return ["|", ["write_date", ">", stamp], "&", ["write_date", "=", stamp],
            ["id", ">", position.record_id]]  # fmt: skip
