"""A loopback SOAP CRM implementing ``crm_sync/wsdl/crm_replication.wsdl``.

Stdlib ``http.server`` plus lxml, so it runs wherever crm_sync runs. It behaves like the
Salesforce Partner API in the parts crm_sync uses:
- ``login`` checks the credentials and returns a session id and the server URL for later
  calls; calls without a valid session fault with ``INVALID_SESSION_ID``;
- ``query`` understands the SOQL subset crm_sync sends (``SELECT … FROM … WHERE a > b AND …
  ORDER BY … LIMIT n``), pages by ``QueryOptions.batchSize`` (200..2000) and ``queryMore`` pages
  through the result set as it was when the query ran;
- ``upsert`` takes at most 200 records, matches on ``Id`` or an external-id field, validates
  field types and answers per record (``DUPLICATE_VALUE``, ``INVALID_EMAIL_ADDRESS``,
  ``REQUIRED_FIELD_MISSING`` …);
- ``getUpdated`` / ``getDeleted`` replicate a time window of at most 30 days back;
- ``daily_request_limit`` models the org's daily API allowance: once that many calls (login
  excepted) were answered, every call faults ``REQUEST_LIMIT_EXCEEDED`` ("TotalRequests Limit
  exceeded.") until ``reset_request_limit()``;
- every write stamps ``LastModifiedDate`` and ``SystemModstamp``; ``touch_system()`` models a
  system process (a roll-up, a recalculation) that moves only ``SystemModstamp``;
- ``describeSObject`` lists an object's fields with their types (the Partner API's ``Field``);
- faults are injectable: ``INVALID_SESSION_ID`` (session expiry), ``REQUEST_LIMIT_EXCEEDED``,
  ``SERVER_UNAVAILABLE``, bare HTTP 5xx, and per-record errors.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler
from typing import Any

from lxml import etree

from .http_server import LoopbackEmulator, ThreadedServer

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
TNS = "urn:partner.soap.sforce.com"
ENS = "urn:sobject.partner.soap.sforce.com"
FNS = "urn:fault.partner.soap.sforce.com"
API_PATH = "/services/Soap/u/59.0"
METADATA_PATH = "/services/Soap/m/59.0"
MDNS = "http://soap.sforce.com/2006/04/metadata"
MAX_METADATA = 10
# createMetadata CustomField types → the field type describeSObject then reports, with the
# elements each type requires (as the metadata API refuses a component without them).
CUSTOM_FIELD_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Text": ("string", ("length",)),
    "Email": ("email", ()),
    "Phone": ("phone", ()),
    "Currency": ("currency", ("precision", "scale")),
    "Number": ("double", ("precision", "scale")),
    "Checkbox": ("boolean", ("defaultValue",)),
    "Date": ("date", ()),
    "Lookup": ("reference", ("referenceTo", "relationshipName")),
}
MAX_UPSERT = 200
MIN_BATCH, MAX_BATCH, DEFAULT_BATCH = 200, 2000, 500
REPLICATION_DAYS = 30
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SYSTEM_FIELDS = {"Id": "id", "CreatedDate": "datetime", "LastModifiedDate": "datetime",
                 "SystemModstamp": "datetime", "IsDeleted": "boolean"}  # fmt: skip

ACCOUNT_FIELDS: dict[str, str] = {
    "Name": "string", "Odoo_Partner_ID__c": "string", "Email__c": "email", "Phone": "string",
    "VAT_Number__c": "string", "BillingStreet": "string", "BillingCity": "string",
    "BillingPostalCode": "string", "BillingCountry": "string", "Industry": "string",
    "Credit_Grade__c": "string", "Credit_Limit__c": "double", "Credit_Exposure__c": "double",
    "Credit_Available__c": "double", "Amount_Overdue__c": "double",
    "Oldest_Overdue_Days__c": "double", "Credit_Hold__c": "boolean",
    "Last_Payment_Date__c": "date", "Open_Invoice_Count__c": "double",
    "Open_Invoice_Amount__c": "double", "Paid_Last_365_Days__c": "double",
    "Odoo_Archived__c": "boolean",
}  # fmt: skip
PAYMENT_FIELDS: dict[str, str] = {
    "Name": "string", "Account__c": "reference", "Amount__c": "double",
    "Payment_Date__c": "date", "Reference__c": "string",
}  # fmt: skip


@dataclass
class ObjectSchema:
    fields: dict[str, str]
    required: tuple[str, ...] = ()
    external_ids: tuple[str, ...] = ()
    prefix: str = "001"


def default_objects() -> dict[str, ObjectSchema]:
    return {
        "Account": ObjectSchema(ACCOUNT_FIELDS, ("Name",), ("Odoo_Partner_ID__c",), "001"),
        "Payment__c": ObjectSchema(PAYMENT_FIELDS, ("Amount__c",), (), "a01"),
    }


@dataclass
class SoapFault:
    """Answer the next ``count`` matching calls with a SOAP fault (or a bare HTTP error).

    ``code`` is the API's exception code (``INVALID_SESSION_ID``, ``REQUEST_LIMIT_EXCEEDED``,
    ``SERVER_UNAVAILABLE`` …); with ``bare=True`` the server answers ``status`` with an HTML body,
    as a proxy in front of the CRM would.
    """

    count: int
    code: str = "SERVER_UNAVAILABLE"
    status: int = 500
    operation: str | None = None
    bare: bool = False
    message: str | None = None  # default: the API's usual text for ``code``

    def matches(self, operation: str) -> bool:
        return self.count > 0 and self.operation in (None, operation)


@dataclass
class RecordFault:
    """Fail the next ``count`` upserted records (optionally only those ``when`` accepts)."""

    count: int
    status_code: str = "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    message: str = "rejected by a validation rule"
    fields: tuple[str, ...] = ()
    when: Callable[[dict[str, Any]], bool] | None = None


class ApiFault(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Cursor:
    object_name: str
    fields: list[str]
    ids: list[str]
    position: int
    batch_size: int
    expires_at: float


@dataclass
class _Query:
    fields: list[str]
    object_name: str
    conditions: list[tuple[str, str, Any]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    limit: int | None = None


# -- SOQL subset -----------------------------------------------------------------------------
_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*(\w+)\s*(=|!=|>=|<=|>|<|\bIN\b)\s*(.+?)\s*$", re.IGNORECASE)
_DATETIME_LITERAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("\\'", "'")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.lower() == "null":
        return None
    if _DATETIME_LITERAL.match(text):
        return _parse_datetime(text)
    if DATE_RE.match(text):
        return text
    try:
        return float(text)
    except ValueError:
        raise ApiFault("MALFORMED_QUERY", f"unexpected token: {text}") from None


def parse_soql(soql: str) -> _Query:
    match = _SOQL.match(soql)
    if not match:
        raise ApiFault("MALFORMED_QUERY", "unexpected token in query")
    query = _Query(
        fields=[name.strip() for name in match["fields"].split(",") if name.strip()],
        object_name=match["object"],
    )
    if match["where"]:
        for part in re.split(r"\s+AND\s+", match["where"], flags=re.IGNORECASE):
            condition = _CONDITION.match(part)
            if not condition:
                raise ApiFault("MALFORMED_QUERY", f"unexpected token: {part.strip()}")
            name, operator, raw = condition.groups()
            if operator.upper() == "IN":
                if not (raw.startswith("(") and raw.endswith(")")):
                    raise ApiFault("MALFORMED_QUERY", "IN needs a parenthesised list")
                value: Any = [_literal(item) for item in raw[1:-1].split(",") if item.strip()]
            else:
                value = _literal(raw)
            query.conditions.append((name, operator.upper(), value))
    if match["order"]:
        for part in match["order"].split(","):
            words = part.split()
            if not words or len(words) > 2:
                raise ApiFault("MALFORMED_QUERY", "unexpected ORDER BY clause")
            query.order.append((words[0], len(words) == 1 or words[1].upper() != "DESC"))
    if match["limit"]:
        query.limit = int(match["limit"])
    return query


def _parse_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _format_datetime(value: dt.datetime) -> str:
    return (
        value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _compare(value: Any, operator: str, target: Any) -> bool:
    if operator == "IN":
        return value in target
    if operator == "=":
        return value == target
    if operator == "!=":
        return value != target
    if value is None or target is None:
        return False
    try:
        if operator == ">":
            return value > target
        if operator == ">=":
            return value >= target
        if operator == "<":
            return value < target
        return value <= target
    except TypeError:
        raise ApiFault("MALFORMED_QUERY", "value of incompatible type in condition") from None


# -- the server ------------------------------------------------------------------------------
class SoapCrmServer(LoopbackEmulator):
    """Start with ``with SoapCrmServer() as crm:`` or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        username: str = "integration@example.com",
        password: str = "soap-crm-password-and-token",
        objects: dict[str, ObjectSchema] | None = None,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        daily_request_limit: int | None = None,
    ) -> None:
        self.username = username
        self.daily_request_limit = daily_request_limit
        self.requests_today = 0
        self.password = password
        self.objects = objects or default_objects()
        self.latency = latency
        self.clock = clock
        self.org_id = "00D" + secrets.token_hex(6)[:12].upper() + "AAA"
        self.user_id = "005" + secrets.token_hex(6)[:12].upper() + "AAA"
        self._lock = threading.RLock()
        self._serial = itertools.count(1)
        self._records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.objects}
        self._deleted: dict[str, list[tuple[str, dt.datetime]]] = {n: [] for n in self.objects}
        self._external_index: dict[tuple[str, str], dict[Any, str]] = {
            (name, ext): {} for name, schema in self.objects.items() for ext in schema.external_ids
        }
        self._sessions: set[str] = set()
        self._cursors: dict[str, _Cursor] = {}
        self.faults: list[SoapFault] = []
        self.record_faults: list[RecordFault] = []
        self.calls: Counter[str] = Counter()
        self.logins = 0
        self.created_fields: list[tuple[str, str, str]] = []
        self.metadata_api = True  # False: login names no metadata server
        self.requests_seen: list[bytes] = []
        self.keep_requests = False
        self._last_stamp = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        self._server = ThreadedServer(_soap_handler(self._handle))

    # -- addresses (lifecycle: LoopbackEmulator) ----------------------------------------
    @property
    def login_url(self) -> str:
        return f"{self.base_url}{API_PATH}"

    @property
    def server_url(self) -> str:
        return f"{self.base_url}{API_PATH}/{self.org_id}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}{METADATA_PATH}/{self.org_id}"

    # -- data helpers for tests ----------------------------------------------------------
    def _now(self) -> dt.datetime:
        """A strictly increasing modification stamp, millisecond resolution."""
        now = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last_stamp:
            now = self._last_stamp + dt.timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def _new_id(self, object_name: str) -> str:
        serial = next(self._serial)
        return f"{self.objects[object_name].prefix}{serial:012d}AAA"

    def _store(self, object_name: str, record_id: str, record: dict[str, Any]) -> None:
        old = self._records[object_name].get(record_id, {})
        for (name, ext), index in self._external_index.items():
            if name != object_name:
                continue
            if old.get(ext) not in (None, "") and index.get(old[ext]) == record_id:
                del index[old[ext]]
            if record.get(ext) not in (None, ""):
                index[record[ext]] = record_id
        self._records[object_name][record_id] = record

    def add_record(self, object_name: str, values: dict[str, Any]) -> str:
        with self._lock:
            record_id = self._new_id(object_name)
            now = self._now()
            self._store(
                object_name,
                record_id,
                {
                    "Id": record_id,
                    "CreatedDate": now,
                    "LastModifiedDate": now,
                    "SystemModstamp": now,
                    **values,
                },
            )
            return record_id

    def update_record(self, object_name: str, record_id: str, values: dict[str, Any]) -> None:
        with self._lock:
            now = self._now()
            record = {**self._records[object_name][record_id], **values,
                      "LastModifiedDate": now, "SystemModstamp": now}  # fmt: skip
            self._store(object_name, record_id, record)

    def touch_system(
        self, object_name: str, record_id: str, values: dict[str, Any] | None = None
    ) -> None:
        """A change by a system process: ``SystemModstamp`` moves, ``LastModifiedDate`` not."""
        with self._lock:
            record = {**self._records[object_name][record_id], **(values or {}),
                      "SystemModstamp": self._now()}  # fmt: skip
            self._store(object_name, record_id, record)

    def reset_request_limit(self) -> None:
        """The daily allowance renews (midnight in the org's reckoning)."""
        with self._lock:
            self.requests_today = 0

    def delete_record(self, object_name: str, record_id: str) -> None:
        with self._lock:
            self._store(object_name, record_id, {})
            del self._records[object_name][record_id]
            self._deleted[object_name].append((record_id, self._now()))

    def records(self, object_name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._records[object_name].values()]

    def get(self, object_name: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._records[object_name].get(record_id)
            return dict(record) if record else None

    def by_external_id(self, object_name: str = "Account", ext: str = "Odoo_Partner_ID__c"):
        with self._lock:
            return {r[ext]: dict(r) for r in self._records[object_name].values() if r.get(ext)}

    # -- faults --------------------------------------------------------------------------
    def inject(self, fault: SoapFault | RecordFault) -> SoapFault | RecordFault:
        with self._lock:
            if isinstance(fault, RecordFault):
                self.record_faults.append(fault)
            else:
                self.faults.append(fault)
        return fault

    def expire_sessions(self) -> None:
        """Every session id becomes invalid (a session timing out in the middle of a run)."""
        with self._lock:
            self._sessions.clear()

    def upsert_calls(self) -> int:
        return self.calls["upsert"]

    # -- HTTP/SOAP -----------------------------------------------------------------------
    def _handle(self, path: str, body: bytes) -> tuple[int, bytes, str]:
        if self.latency:
            time.sleep(self.latency)
        if self.keep_requests:
            self.requests_seen.append(body)
        if path.startswith(METADATA_PATH):
            return self._metadata(path, body)
        if not path.startswith(API_PATH):
            return 404, b"<html><body>Not Found</body></html>", "text/html"
        try:
            envelope = etree.fromstring(body, etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError:
            return self._fault("soapenv:Client", "INVALID_XML", "request is not well-formed XML")
        body_element = envelope.find(f"{{{SOAP_ENV}}}Body")
        if body_element is None or len(body_element) == 0:
            return self._fault("soapenv:Client", "INVALID_XML", "no SOAP body")
        request = body_element[0]
        operation = etree.QName(request).localname
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        with self._lock:
            self.calls[operation] += 1
            for fault in self.faults:
                if fault.matches(operation):
                    fault.count -= 1
                    if fault.bare:
                        page = f"<html><body>HTTP {fault.status}</body></html>".encode()
                        return fault.status, page, "text/html"
                    return self._fault(
                        f"sf:{fault.code}",
                        fault.code,
                        fault.message or _FAULT_TEXT.get(fault.code, "injected fault"),
                        fault.status,
                    )
            if operation != "login" and self.daily_request_limit is not None:
                if self.requests_today >= self.daily_request_limit:
                    code = "REQUEST_LIMIT_EXCEEDED"
                    return self._fault(f"sf:{code}", code, _FAULT_TEXT[code])
                self.requests_today += 1
            try:
                if operation == "login":
                    result = self._login(request)
                else:
                    if path != f"{API_PATH}/{self.org_id}":
                        raise ApiFault("INVALID_SESSION_ID", "wrong server URL for this session")
                    self._check_session(header)
                    handler = {
                        "query": self._query,
                        "queryMore": self._query_more,
                        "upsert": self._upsert,
                        "getUpdated": self._get_updated,
                        "getDeleted": self._get_deleted,
                        "describeSObject": self._describe,
                    }.get(operation)
                    if handler is None:
                        raise ApiFault("INVALID_OPERATION", f"unknown operation {operation}")
                    result = handler(request, header)
            except ApiFault as fault:
                return self._fault(f"sf:{fault.code}", fault.code, fault.message)
        envelope_out = etree.Element(
            f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, None: TNS, "sf": ENS, "xsi": XSI}
        )
        out_body = etree.SubElement(envelope_out, f"{{{SOAP_ENV}}}Body")
        response = etree.SubElement(out_body, f"{{{TNS}}}{operation}Response")
        for element in result if isinstance(result, list) else [result]:
            response.append(element)
        return 200, etree.tostring(envelope_out, xml_declaration=True, encoding="UTF-8"), "text/xml"

    def _fault(
        self, faultcode: str, code: str, message: str, status: int = 500
    ) -> tuple[int, bytes, str]:
        envelope = etree.Element(
            f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "sf": FNS, "xsi": XSI}
        )
        body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
        fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = faultcode
        etree.SubElement(fault, "faultstring").text = f"{code}: {message}"
        detail = etree.SubElement(fault, "detail")
        api_fault = etree.SubElement(detail, f"{{{FNS}}}fault")
        etree.SubElement(api_fault, f"{{{FNS}}}exceptionCode").text = code
        etree.SubElement(api_fault, f"{{{FNS}}}exceptionMessage").text = message
        return status, etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"), "text/xml"

    # -- operations ----------------------------------------------------------------------
    def _login(self, request: etree._Element) -> etree._Element:
        self.logins += 1
        username = request.findtext(f"{{{TNS}}}username")
        password = request.findtext(f"{{{TNS}}}password")
        if (username, password) != (self.username, self.password):
            raise ApiFault(
                "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
            )
        session_id = f"{self.org_id}!{secrets.token_urlsafe(48)}"
        self._sessions.add(session_id)
        result = etree.Element(f"{{{TNS}}}result")
        if self.metadata_api:
            etree.SubElement(result, f"{{{TNS}}}metadataServerUrl").text = self.metadata_url
        for name, value in (
            ("passwordExpired", "false"),
            ("sandbox", "true"),
            ("serverUrl", self.server_url),
            ("sessionId", session_id),
            ("userId", self.user_id),
        ):
            etree.SubElement(result, f"{{{TNS}}}{name}").text = value
        return result

    # -- metadata API (createMetadata of CustomField components) ------------------------------
    def _metadata(self, path: str, body: bytes) -> tuple[int, bytes, str]:
        """The metadata endpoint: ``createMetadata`` with up to 10 ``CustomField``s, each
        answered with ``fullName``, ``success`` and ``errors`` (``DUPLICATE_DEVELOPER_NAME``,
        ``FIELD_INTEGRITY_EXCEPTION`` …), the session header in the metadata namespace."""
        if not self.metadata_api:
            return 404, b"<html><body>Not Found</body></html>", "text/html"
        try:
            envelope = etree.fromstring(body, etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError:
            return self._fault("soapenv:Client", "INVALID_XML", "request is not well-formed XML")
        request = envelope.find(f"{{{SOAP_ENV}}}Body/{{{MDNS}}}createMetadata")
        with self._lock:
            self.calls["createMetadata"] += 1
            session_id = envelope.findtext(
                f"{{{SOAP_ENV}}}Header/{{{MDNS}}}SessionHeader/{{{MDNS}}}sessionId"
            )
            if path != f"{METADATA_PATH}/{self.org_id}" or session_id not in self._sessions:
                return self._fault("sf:INVALID_SESSION_ID", "INVALID_SESSION_ID",
                                   "Invalid Session ID found in SessionHeader")  # fmt: skip
            if request is None:
                return self._fault("soapenv:Client", "INVALID_OPERATION", "unknown operation")
            components = request.findall(f"{{{MDNS}}}metadata")
            if len(components) > MAX_METADATA:
                return self._fault("sf:LIMIT_EXCEEDED", "LIMIT_EXCEEDED",
                                   f"Too many components: limit {MAX_METADATA}")  # fmt: skip
            results = [self._create_custom_field(component) for component in components]
        out = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, None: MDNS})
        response = etree.SubElement(
            etree.SubElement(out, f"{{{SOAP_ENV}}}Body"), f"{{{MDNS}}}createMetadataResponse"
        )
        for full_name, error in results:
            result = etree.SubElement(response, f"{{{MDNS}}}result")
            if error:
                errors = etree.SubElement(result, f"{{{MDNS}}}errors")
                etree.SubElement(errors, f"{{{MDNS}}}message").text = error[1]
                etree.SubElement(errors, f"{{{MDNS}}}statusCode").text = error[0]
            etree.SubElement(result, f"{{{MDNS}}}fullName").text = full_name
            etree.SubElement(result, f"{{{MDNS}}}success").text = "false" if error else "true"
        return 200, etree.tostring(out, xml_declaration=True, encoding="UTF-8"), "text/xml"

    def _create_custom_field(self, component: etree._Element) -> tuple[str, tuple[str, str] | None]:
        values = {etree.QName(child).localname: child.text or "" for child in component}
        full_name = values.get("fullName", "")
        object_name, _, field_name = full_name.partition(".")
        if component.get(f"{{{XSI}}}type", "").rpartition(":")[2] != "CustomField":
            return full_name, ("INVALID_TYPE", "only CustomField components are supported")
        schema = self.objects.get(object_name)
        if schema is None:
            return full_name, ("INVALID_CROSS_REFERENCE_KEY", f"no object {object_name}")
        if not field_name.endswith("__c") or not values.get("label"):
            return full_name, ("FIELD_INTEGRITY_EXCEPTION", "a custom field needs a label and "
                               "an API name ending in __c")  # fmt: skip
        if field_name in schema.fields:
            return full_name, ("DUPLICATE_DEVELOPER_NAME", "This field name is already in use")
        kind, required = CUSTOM_FIELD_TYPES.get(values.get("type", ""), ("", ()))
        if not kind:
            return full_name, ("FIELD_INTEGRITY_EXCEPTION", f"bad type {values.get('type')}")
        for name in required:
            if not values.get(name):
                return full_name, ("FIELD_INTEGRITY_EXCEPTION", f"{name}: required")
        if kind == "reference" and values["referenceTo"] not in self.objects:
            return full_name, ("FIELD_INTEGRITY_EXCEPTION", "referenceTo: unknown object")
        # A copy: the default schemas are module-level dicts shared by every server.
        schema.fields = {**schema.fields, field_name: kind}
        if values.get("externalId") == "true":
            schema.external_ids = (*schema.external_ids, field_name)
            self._external_index[(object_name, field_name)] = {}
        self.created_fields.append((object_name, field_name, kind))
        return full_name, None

    def _check_session(self, header: etree._Element | None) -> None:
        session_id = None
        if header is not None:
            session_id = header.findtext(f"{{{TNS}}}SessionHeader/{{{TNS}}}sessionId")
        if not session_id or session_id not in self._sessions:
            raise ApiFault(
                "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session"
            )

    def _schema(self, object_name: str | None) -> ObjectSchema:
        schema = self.objects.get(object_name or "")
        if schema is None:
            raise ApiFault("INVALID_TYPE", f"sObject type '{object_name}' is not supported.")
        return schema

    def _describe(self, request: etree._Element, header: etree._Element | None):
        object_name = request.findtext(f"{{{TNS}}}sObjectType")
        schema = self._schema(object_name)
        result = etree.Element(f"{{{TNS}}}result")
        etree.SubElement(result, f"{{{TNS}}}custom").text = _wire(object_name.endswith("__c"))
        for name, kind in [*SYSTEM_FIELDS.items(), *schema.fields.items()]:
            item = etree.SubElement(result, f"{{{TNS}}}fields")
            system = name in SYSTEM_FIELDS
            values: list[tuple[str, Any]] = [
                ("createable", not system),
                ("custom", name.endswith("__c")),
                ("externalId", name in schema.external_ids),
                ("label", name.removesuffix("__c").replace("_", " ")),
                ("length", 255 if kind in ("string", "email") else 0),
                ("name", name),
                ("nillable", not system and name not in schema.required),
            ]
            if kind == "reference":
                values.append(("referenceTo", "Account"))
            values += [("type", kind), ("updateable", not system)]
            for key, value in values:
                etree.SubElement(item, f"{{{TNS}}}{key}").text = _wire(value)
        etree.SubElement(result, f"{{{TNS}}}label").text = object_name.removesuffix("__c")
        etree.SubElement(result, f"{{{TNS}}}name").text = object_name
        return result

    def _field_kind(self, schema: ObjectSchema, name: str) -> str:
        kind = SYSTEM_FIELDS.get(name) or schema.fields.get(name)
        if kind is None:
            raise ApiFault("INVALID_FIELD", f"No such column '{name}' on entity")
        return kind

    def _query(self, request: etree._Element, header: etree._Element | None) -> etree._Element:
        batch_size = DEFAULT_BATCH
        if header is not None:
            raw = header.findtext(f"{{{TNS}}}QueryOptions/{{{TNS}}}batchSize")
            if raw:
                batch_size = min(MAX_BATCH, max(MIN_BATCH, int(raw)))
        query = parse_soql(request.findtext(f"{{{TNS}}}queryString") or "")
        schema = self._schema(query.object_name)
        for name in query.fields + [c[0] for c in query.conditions] + [o[0] for o in query.order]:
            self._field_kind(schema, name)
        rows = [
            r
            for r in self._records[query.object_name].values()
            if all(_compare(r.get(n), op, v) for n, op, v in query.conditions)
        ]
        for name, ascending in reversed(query.order):
            rows.sort(key=partial(_nulls_last, name), reverse=not ascending)
        if query.limit is not None:
            rows = rows[: query.limit]
        cursor = _Cursor(
            query.object_name,
            query.fields,
            [r["Id"] for r in rows],
            0,
            batch_size,
            self.clock() + 900,
        )
        return self._page(cursor)

    def _query_more(self, request: etree._Element, header: etree._Element | None):
        locator = request.findtext(f"{{{TNS}}}queryLocator") or ""
        cursor = self._cursors.pop(locator, None)
        if cursor is None or cursor.expires_at < self.clock():
            raise ApiFault("INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor)

    def _page(self, cursor: _Cursor) -> etree._Element:
        records = self._records[cursor.object_name]
        chunk = cursor.ids[cursor.position : cursor.position + cursor.batch_size]
        cursor.position += len(chunk)
        done = cursor.position >= len(cursor.ids)
        result = etree.Element(f"{{{TNS}}}result")
        etree.SubElement(result, f"{{{TNS}}}done").text = "true" if done else "false"
        locator = etree.SubElement(result, f"{{{TNS}}}queryLocator")
        if done:
            locator.set(f"{{{XSI}}}nil", "true")
        else:
            token = f"01g{secrets.token_hex(8)}-{cursor.position}"
            self._cursors[token] = cursor
            locator.text = token
        for record_id in chunk:
            record = records.get(record_id)
            if record is None:  # deleted since the query ran
                continue
            element = etree.SubElement(result, f"{{{TNS}}}records")
            element.set(f"{{{XSI}}}type", "sf:sObject")
            etree.SubElement(element, f"{{{ENS}}}type").text = cursor.object_name
            etree.SubElement(element, f"{{{ENS}}}Id").text = record_id
            for name in cursor.fields:
                value_element = etree.SubElement(element, f"{{{ENS}}}{name}")
                value = record.get(name)
                if value is None:
                    value_element.set(f"{{{XSI}}}nil", "true")
                else:
                    value_element.text = _wire(value)
        etree.SubElement(result, f"{{{TNS}}}size").text = str(len(cursor.ids))
        return result

    def _window(
        self, request: etree._Element
    ) -> tuple[ObjectSchema, str, dt.datetime, dt.datetime]:
        object_name = request.findtext(f"{{{TNS}}}sObjectType")
        schema = self._schema(object_name)
        try:
            start = _parse_datetime(request.findtext(f"{{{TNS}}}startDate") or "")
            end = _parse_datetime(request.findtext(f"{{{TNS}}}endDate") or "")
        except ValueError:
            raise ApiFault("INVALID_REPLICATION_DATE", "malformed replication date") from None
        # Stamps are kept strictly increasing, so "now" is never before the newest one.
        now = max(
            dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc),
            self._last_stamp + dt.timedelta(milliseconds=1),
        )
        earliest = now - dt.timedelta(days=REPLICATION_DAYS)
        if start < earliest:
            raise ApiFault("INVALID_REPLICATION_DATE", "startDate before earliestDateAvailable")
        if end <= start:
            raise ApiFault("INVALID_REPLICATION_DATE", "endDate must be after startDate")
        return schema, str(object_name), start, min(end, now)

    def _get_updated(self, request: etree._Element, header: etree._Element | None):
        _schema, name, start, end = self._window(request)
        result = etree.Element(f"{{{TNS}}}result")
        for record in sorted(self._records[name].values(), key=lambda r: r["SystemModstamp"]):
            if start <= record["SystemModstamp"] < end:
                etree.SubElement(result, f"{{{TNS}}}ids").text = record["Id"]
        etree.SubElement(result, f"{{{TNS}}}latestDateCovered").text = _format_datetime(end)
        return result

    def _get_deleted(self, request: etree._Element, header: etree._Element | None):
        _schema, name, start, end = self._window(request)
        now = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)
        result = etree.Element(f"{{{TNS}}}result")
        for record_id, deleted_at in self._deleted[name]:
            if start <= deleted_at < end:
                row = etree.SubElement(result, f"{{{TNS}}}deletedRecords")
                etree.SubElement(row, f"{{{TNS}}}deletedDate").text = _format_datetime(deleted_at)
                etree.SubElement(row, f"{{{TNS}}}id").text = record_id
        earliest = now - dt.timedelta(days=REPLICATION_DAYS)
        etree.SubElement(result, f"{{{TNS}}}earliestDateAvailable").text = _format_datetime(
            earliest
        )
        etree.SubElement(result, f"{{{TNS}}}latestDateCovered").text = _format_datetime(end)
        return result

    def _upsert(self, request: etree._Element, header: etree._Element | None) -> list:
        external = request.findtext(f"{{{TNS}}}externalIDFieldName") or ""
        objects = request.findall(f"{{{TNS}}}sObjects")
        if len(objects) > MAX_UPSERT:
            raise ApiFault("EXCEEDED_ID_LIMIT", f"upsert accepts at most {MAX_UPSERT} records")
        return [self._upsert_one(element, external) for element in objects]

    def _upsert_one(self, element: etree._Element, external: str) -> etree._Element:
        values: dict[str, Any] = {}
        to_null: list[str] = []
        object_name = None
        record_id = None
        for child in element:
            name = etree.QName(child).localname
            if name == "type":
                object_name = child.text
            elif name == "fieldsToNull":
                to_null.append(child.text or "")
            elif name == "Id":
                record_id = child.text or None
            else:
                nil = child.get(f"{{{XSI}}}nil") == "true"
                values[name] = None if nil else (child.text or "")
        schema = self._schema(object_name)
        assert object_name is not None
        if external != "Id" and external not in schema.external_ids:
            raise ApiFault(
                "INVALID_FIELD",
                f"Field name provided, {external} is not an External ID or indexed field",
            )
        try:
            typed = self._validated(schema, values, to_null)
            for fault in self.record_faults:
                if fault.count > 0 and (fault.when is None or fault.when(typed)):
                    fault.count -= 1
                    raise _RecordError(fault.status_code, fault.message, list(fault.fields))
            if external == "Id":
                if not record_id:
                    existing = None
                elif record_id in self._records[object_name]:
                    existing = record_id
                else:
                    raise _RecordError(
                        "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["Id"]
                    )
            else:
                key = typed.get(external)
                if key in (None, ""):
                    raise _RecordError("MISSING_ARGUMENT", f"{external} not specified", [external])
                existing = self._external_index[(object_name, external)].get(key)
            for ext in schema.external_ids:
                key = typed.get(ext)
                owner = self._external_index[(object_name, ext)].get(key) if key else None
                if owner is not None and owner != existing:
                    raise _RecordError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {ext} duplicates value on record with id: {owner}",
                        [ext],
                    )
            if existing is None:
                for name in schema.required:
                    if typed.get(name) in (None, ""):
                        raise _RecordError(
                            "REQUIRED_FIELD_MISSING",
                            f"Required fields are missing: [{name}]",
                            [name],
                        )
                new_id = self.add_record(object_name, typed)
                return _upsert_result(new_id, created=True)
            self.update_record(object_name, existing, typed)
            return _upsert_result(existing, created=False)
        except _RecordError as error:
            return _upsert_result(None, created=False, error=error)

    def _validated(
        self, schema: ObjectSchema, values: dict[str, Any], to_null: list[str]
    ) -> dict[str, Any]:
        typed: dict[str, Any] = {}
        for name, raw in values.items():
            kind = schema.fields.get(name)
            if kind is None:
                raise _RecordError("INVALID_FIELD", f"No such column '{name}' on entity", [name])
            typed[name] = _coerce(kind, name, raw, self)
        for name in to_null:
            if name not in schema.fields:
                raise _RecordError("INVALID_FIELD", f"No such column '{name}' on entity", [name])
            if name in schema.required:
                raise _RecordError(
                    "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", [name]
                )
            typed[name] = None
        return typed


class _RecordError(Exception):
    def __init__(self, status_code: str, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.fields = fields


_FAULT_TEXT = {
    "INVALID_SESSION_ID": "Invalid Session ID found in SessionHeader: Illegal Session",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "SERVER_UNAVAILABLE": "server temporarily unavailable",
}


def _coerce(kind: str, name: str, raw: Any, server: SoapCrmServer) -> Any:
    if raw is None:
        return None
    text = str(raw)
    if kind == "email":
        if not EMAIL_RE.match(text):
            raise _RecordError(
                "INVALID_EMAIL_ADDRESS", f"{name}: invalid email address: {text}", [name]
            )
        return text
    if kind in ("double", "currency"):
        try:
            return float(text)
        except ValueError:
            raise _RecordError(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{name}: value not of required type: {text}",
                [name],
            ) from None
    if kind == "boolean":
        if text not in ("true", "false", "1", "0"):
            raise _RecordError(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{name}: value not of required type: {text}",
                [name],
            )
        return text in ("true", "1")
    if kind == "date":
        if not DATE_RE.match(text):
            raise _RecordError(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{name}: value not of required type: {text}",
                [name],
            )
        return text
    if kind == "string" and len(text) > 255:
        raise _RecordError("STRING_TOO_LONG", f"{name}: data value too large", [name])
    return text


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return _format_datetime(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _upsert_result(
    record_id: str | None, *, created: bool, error: _RecordError | None = None
) -> etree._Element:
    result = etree.Element(f"{{{TNS}}}result")
    etree.SubElement(result, f"{{{TNS}}}created").text = "true" if created else "false"
    if error is not None:
        errors = etree.SubElement(result, f"{{{TNS}}}errors")
        for name in error.fields:
            etree.SubElement(errors, f"{{{TNS}}}fields").text = name
        etree.SubElement(errors, f"{{{TNS}}}message").text = error.message
        etree.SubElement(errors, f"{{{TNS}}}statusCode").text = error.status_code
    id_element = etree.SubElement(result, f"{{{TNS}}}id")
    if record_id is None:
        id_element.set(f"{{{XSI}}}nil", "true")
    else:
        id_element.text = record_id
    etree.SubElement(result, f"{{{TNS}}}success").text = "false" if error else "true"
    return result


def _soap_handler(
    app: Callable[[str, bytes], tuple[int, bytes, str]],
) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload, content_type = app(self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep test output clean

    return _Handler


def _nulls_last(name: str, record: dict[str, Any]) -> tuple[bool, Any]:
    """Sort key of ``record`` by ``name``, empty values last."""
    return record.get(name) is None, record.get(name) or 0
