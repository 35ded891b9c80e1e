"""Client of the SOAP replication pattern (``wsdl/crm_replication.wsdl``), built on zeep.

Rules this client keeps:
- ``login`` once, lazily; later calls go to the returned server URL with a ``SessionHeader``;
  an ``INVALID_SESSION_ID`` fault (the session timed out) logs in again, once per call;
- ``query``/``queryMore`` page with ``QueryOptions.batchSize`` (200..2000);
- ``upsert`` takes at most 200 records and answers one result per record, in order;
- faults map to the exit codes: credentials 3, names in the settings 2, limits 4 (a limit
  is never a dead letter), the rest 5, each message naming the fix;
- ``REQUEST_LIMIT_EXCEEDED`` for the daily allowance (``TotalRequests``) is not retried: it
  raises :class:`DailyLimitExceeded` (exit 4) and the run stops with its committed cursors;
  the same code for the concurrent-request limit (``ConcurrentRequests``,
  ``ConcurrentPerOrgLongTxn``), ``SERVER_UNAVAILABLE``, HTTP 5xx/429 and network errors are
  retried with backoff and jitter; a fault about a field, object or query is a configuration
  problem and stops the run;
- one ``requests.Session`` carries every call, with explicit connect/read timeouts; the
  password and the session id are registered as secrets and never reach a log line, a repr
  or an exception message.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from importlib import resources
from typing import Any, TypeVar

import requests
import zeep
import zeep.exceptions
from lxml import etree
from pydantic import SecretStr
from zeep.transports import Transport

from .errors import (
    AuthError,
    ConfigError,
    CrmSyncError,
    DailyLimitExceeded,
    LimitReached,
    RateLimited,
    RemoteError,
    RemoteUnavailable,
    ValidationError,
)
from .redaction import RedactingFilter, redact, register_secret
from .retry import RetryPolicy, call_with_retry

log = logging.getLogger(__name__)
T = TypeVar("T")

TNS = "urn:partner.soap.sforce.com"
ENS = "urn:sobject.partner.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
BINDING = f"{{{TNS}}}SoapBinding"
# The metadata API (Salesforce's Metadata WSDL): createMetadata takes at most 10 components.
MDNS = "http://soap.sforce.com/2006/04/metadata"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_METADATA = 10
MAX_UPSERT = 200
MIN_BATCH, MAX_BATCH = 200, 2000

SESSION_FAULTS = {"INVALID_SESSION_ID"}
RATE_FAULTS = {"REQUEST_LIMIT_EXCEEDED"}
TRANSIENT_FAULTS = {"SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION", "QUERY_TIMEOUT"}
LOGIN_FAULTS = {"INVALID_LOGIN", "LOGIN_MUST_USE_SECURITY_TOKEN", "PASSWORD_LOCKOUT",
                "INVALID_OPERATION_WITH_EXPIRED_PASSWORD", "API_DISABLED_FOR_ORG"}  # fmt: skip
LIMIT_FAULTS = {"EXCEEDED_ID_LIMIT"}
CONFIG_FAULTS = {"INVALID_FIELD", "INVALID_TYPE", "MALFORMED_QUERY", "INVALID_SOBJECT",
                 "INVALID_QUERY_FILTER_OPERATOR"}  # fmt: skip

_SECRET_ELEMENTS = re.compile(
    r"(<(?:[\w-]+:)?(?:password|sessionId)\b[^>]*>)[^<]*(</)", re.IGNORECASE
)


class _EnvelopeFilter(RedactingFilter):
    """Masks the password and session elements of the envelopes zeep logs at DEBUG.

    The login *response* is logged before its session id can be registered as a secret, so
    the elements are masked by name as well as by value.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        message = record.getMessage()
        masked = _SECRET_ELEMENTS.sub(r"\1***\2", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


for _name in ("zeep.transports", "zeep.wsdl.bindings.soap"):
    logging.getLogger(_name).addFilter(_EnvelopeFilter())


class _Transport(Transport):
    """A zeep transport that reports an HTTP error without a SOAP body as a transport error.

    zeep would otherwise read a proxy's HTML error page as an "unknown fault" and lose the
    status code that tells a transient outage from a permanent refusal.
    """

    def post_xml(self, address: str, envelope: Any, headers: dict[str, str]) -> Any:
        response = super().post_xml(address, envelope, headers)
        content_type = response.headers.get("Content-Type", "")
        if response.status_code >= 400 and "xml" not in content_type:
            raise zeep.exceptions.TransportError(status_code=response.status_code, content=b"")
        return response


def default_wsdl() -> str:
    """Path of the WSDL shipped with crm_sync."""
    return str(resources.files("crm_sync").joinpath("wsdl/crm_replication.wsdl"))


def soap_datetime(value: dt.datetime) -> str:
    """A UTC ``xsd:dateTime``/SOQL literal, to the second (rounded down: never skips)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SoapClient:
    def __init__(
        self,
        *,
        login_url: str,
        username: str,
        password: SecretStr,
        wsdl: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        operation_timeout: float = 120.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.login_url = login_url
        self.username = username
        self._password = password
        register_secret(password.get_secret_value())
        self._http = session or requests.Session()
        self._timeout = (timeout, operation_timeout)  # connect, read: as the transport's
        transport = _Transport(
            session=self._http, timeout=timeout, operation_timeout=operation_timeout
        )
        settings = zeep.Settings(strict=False, xml_huge_tree=True)
        try:
            self._zeep = zeep.Client(wsdl or default_wsdl(), transport=transport, settings=settings)
        except (OSError, etree.XMLSyntaxError, zeep.exceptions.Error) as exc:
            raise ConfigError(f"cannot load the WSDL ({type(exc).__name__})", code="wsdl") from None
        self._sobject = self._zeep.get_type(f"{{{ENS}}}sObject")
        self._service: Any = None
        self._session_id: str | None = None
        self.server_url: str | None = None
        #: Where the metadata API answers (login's ``metadataServerUrl``); None: it has none.
        self.metadata_url: str | None = None
        self.retry = retry or RetryPolicy()
        self.calls: Counter[str] = Counter()
        self.logins = 0

    def __repr__(self) -> str:
        return f"SoapClient(login_url={self.login_url!r}, username={self.username!r})"

    def close(self) -> None:
        self._http.close()

    # -- session -------------------------------------------------------------------------
    def login(self) -> None:
        """Log in, proving the credentials; later calls use the returned server URL."""
        service = self._zeep.create_service(BINDING, self.login_url)
        result = self._with_retries(
            "login",
            lambda: service.login(
                username=self.username, password=self._password.get_secret_value()
            ),
        )
        self.logins += 1
        if result.passwordExpired:
            raise AuthError("the CRM password has expired", code="PASSWORD_EXPIRED")
        if not result.sessionId or not result.serverUrl:
            raise RemoteError("login answered without a session", code="INVALID_LOGIN_RESPONSE")
        register_secret(result.sessionId)
        self._session_id = result.sessionId
        self.server_url = result.serverUrl
        self.metadata_url = getattr(result, "metadataServerUrl", None) or None
        self._service = self._zeep.create_service(BINDING, result.serverUrl)
        log.info("soap crm session opened", extra={"server_url": result.serverUrl})

    def _call(self, operation: str, *, batch_size: int | None = None, **arguments: Any) -> Any:
        """One API call with the session header; logs in again once if the session expired."""
        relogged = False
        while True:
            if self._session_id is None:
                self.login()
                relogged = True
            headers: dict[str, Any] = {"SessionHeader": {"sessionId": self._session_id}}
            if batch_size is not None:
                headers["QueryOptions"] = {"batchSize": batch_size}
            method = getattr(self._service, operation)
            try:
                return self._with_retries(
                    operation, partial(method, **arguments, _soapheaders=headers)
                )
            except AuthError as exc:
                if exc.code in SESSION_FAULTS and not relogged:
                    log.info("soap crm session expired; logging in again")
                    self._session_id = None
                    continue
                raise

    def _with_retries(self, operation: str, send: Callable[[], T]) -> T:
        def attempt() -> T:
            self.calls[operation] += 1
            try:
                return send()
            except zeep.exceptions.Fault as fault:
                raise _fault_error(fault, operation) from None
            except zeep.exceptions.TransportError as exc:
                raise _transport_error(exc.status_code) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise RemoteUnavailable(
                    f"SOAP CRM unreachable ({type(exc).__name__})", code="unreachable"
                ) from None
            except (zeep.exceptions.Error, etree.XMLSyntaxError) as exc:
                raise RemoteError(
                    f"SOAP CRM answered something unreadable ({type(exc).__name__})",
                    code="INVALID_RESPONSE",
                ) from None

        return call_with_retry(self.retry, attempt, what=f"soap {operation}")

    # -- reads ---------------------------------------------------------------------------
    def query(self, soql: str, *, batch_size: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Pages of records (field name → text or None), following ``queryLocator``."""
        if not MIN_BATCH <= batch_size <= MAX_BATCH:
            raise ValidationError(f"batch_size must be {MIN_BATCH}..{MAX_BATCH}", field="batch")
        result = self._call("query", batch_size=batch_size, queryString=soql)
        while True:
            yield [record_values(record) for record in (result.records or [])]
            if result.done or not result.queryLocator:
                return
            result = self._call(
                "queryMore", batch_size=batch_size, queryLocator=result.queryLocator
            )

    def get_updated(
        self, object_name: str, start: dt.datetime, end: dt.datetime
    ) -> tuple[list[str], dt.datetime]:
        """Ids changed in ``[start, end)`` and the latest date the answer covers."""
        result = self._call("getUpdated", sObjectType=object_name, startDate=start, endDate=end)
        return list(result.ids or []), _aware(result.latestDateCovered)

    def get_deleted(
        self, object_name: str, start: dt.datetime, end: dt.datetime
    ) -> tuple[list[tuple[str, dt.datetime]], dt.datetime, dt.datetime]:
        """``([(id, deleted_at)], earliest_date_available, latest_date_covered)``."""
        result = self._call("getDeleted", sObjectType=object_name, startDate=start, endDate=end)
        rows = [(str(row.id), _aware(row.deletedDate)) for row in (result.deletedRecords or [])]
        return rows, _aware(result.earliestDateAvailable), _aware(result.latestDateCovered)

    def describe(self, object_name: str) -> list[dict[str, Any]]:
        """``describeSObject``: the object's fields, each ``{name, type, custom, referenceTo,
        …}`` (one call, the Partner API's Field shape)."""
        result = self._call("describeSObject", sObjectType=object_name)
        return [
            {
                "name": str(item.name),
                "type": str(item.type),
                "custom": bool(item.custom),
                "externalId": bool(item.externalId),
                "createable": bool(item.createable),
                "updateable": bool(item.updateable),
                "referenceTo": list(item.referenceTo or []),
            }
            for item in ((result.fields if result is not None else None) or [])
        ]

    # -- metadata ------------------------------------------------------------------------
    def create_metadata(self, components: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
        """Metadata API ``createMetadata`` of ``CustomField`` components (each a dict of its
        elements, ``fullName`` first): one result ``{fullName, success, errors}`` each.

        The metadata API has its own WSDL, so the envelope is written here rather than
        through the partner WSDL's client; faults and the session are handled as for
        partner calls (an expired session logs in again once)."""
        if not components:
            return []
        if len(components) > MAX_METADATA:
            raise ValidationError(
                f"createMetadata takes at most {MAX_METADATA} components, got {len(components)}",
                field="metadata",
                code="too_many_components",
            )
        relogged = False
        while True:
            if self._session_id is None:
                self.login()
                relogged = True
            if not self.metadata_url:
                raise ConfigError(
                    "the SOAP CRM's login answer names no metadata server (metadataServerUrl): "
                    "it offers no metadata API to create fields with",
                    code="NO_METADATA_API",
                )
            envelope = _metadata_envelope(str(self._session_id), components)  # login() set it
            try:
                answer = self._with_retries(
                    "createMetadata", functools.partial(self._post_metadata, envelope)
                )
            except AuthError as exc:
                if exc.code in SESSION_FAULTS and not relogged:
                    self._session_id = None
                    continue
                raise
            return [_metadata_result(item) for item in answer.iter(f"{{{MDNS}}}result")]

    def _post_metadata(self, envelope: bytes) -> etree._Element:
        """One metadata call; a SOAP fault or a bare HTTP error is raised as zeep does for
        partner calls, so the same retry and fault mapping apply."""
        response = self._http.post(
            str(self.metadata_url),
            data=envelope,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
            timeout=self._timeout,
        )
        try:
            root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError:
            raise zeep.exceptions.TransportError(status_code=response.status_code) from None
        fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
        if fault is not None:
            raise zeep.exceptions.Fault(
                fault.findtext("faultstring") or "fault",
                code=fault.findtext("faultcode"),
                detail=fault.find("detail"),
            )
        if response.status_code >= 400:
            raise zeep.exceptions.TransportError(status_code=response.status_code)
        return root

    # -- writes --------------------------------------------------------------------------
    def upsert(
        self,
        object_name: str,
        external_id_field: str,
        records: Sequence[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Upsert up to 200 records (field → text, None clears); one result dict per record."""
        if not records:
            return []
        if len(records) > MAX_UPSERT:
            raise ValidationError(
                f"upsert takes at most {MAX_UPSERT} records, got {len(records)}",
                field="sObjects",
                code="too_many_records",
            )
        objects = [self._to_sobject(object_name, record) for record in records]
        results = self._call("upsert", externalIDFieldName=external_id_field, sObjects=objects)
        results = list(results or [])
        if len(results) != len(records):
            raise RemoteError(
                f"upsert answered {len(results)} results for {len(records)} records",
                code="RESULT_MISMATCH",
            )
        return [
            {
                "success": bool(item.success),
                "created": bool(item.created),
                "id": item.id,
                "errors": [
                    {
                        "statusCode": error.statusCode,
                        "message": error.message,
                        "fields": list(error.fields or []),
                    }
                    for error in (item.errors or [])
                ],
            }
            for item in results
        ]

    def _to_sobject(self, object_name: str, record: dict[str, Any]) -> Any:
        fields = []
        to_null = []
        record_id = None
        for name, value in record.items():
            if name == "Id":
                record_id = value
            elif value is None:
                to_null.append(name)
            else:
                element = etree.Element(f"{{{ENS}}}{name}")
                element.text = str(value)
                fields.append(element)
        return self._sobject(
            type=object_name,
            fieldsToNull=to_null,
            Id=[record_id] if record_id else [],
            _value_1=fields,
        )


def _metadata_envelope(session_id: str, components: Sequence[dict[str, str]]) -> bytes:
    envelope = etree.Element(
        f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "met": MDNS, "xsi": XSI}
    )
    header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    session = etree.SubElement(header, f"{{{MDNS}}}SessionHeader")
    etree.SubElement(session, f"{{{MDNS}}}sessionId").text = session_id
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    create = etree.SubElement(body, f"{{{MDNS}}}createMetadata")
    for component in components:
        item = etree.SubElement(create, f"{{{MDNS}}}metadata")
        item.set(f"{{{XSI}}}type", "met:CustomField")
        for name, value in component.items():
            etree.SubElement(item, f"{{{MDNS}}}{name}").text = value
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _metadata_result(item: etree._Element) -> dict[str, Any]:
    return {
        "fullName": item.findtext(f"{{{MDNS}}}fullName"),
        "success": item.findtext(f"{{{MDNS}}}success") == "true",
        "errors": [
            {
                "statusCode": error.findtext(f"{{{MDNS}}}statusCode"),
                "message": redact(error.findtext(f"{{{MDNS}}}message") or "")[:300],
            }
            for error in item.iter(f"{{{MDNS}}}errors")
        ],
    }


def record_values(record: Any) -> dict[str, Any]:
    """A returned sObject as ``{field: text or None}`` (``Id`` included once)."""
    values: dict[str, Any] = {}
    ids = record.Id if isinstance(record.Id, list) else [record.Id]
    if ids and ids[0]:
        values["Id"] = ids[0]
    for element in record._value_1 or []:
        if not isinstance(element, etree._Element):
            continue
        name = etree.QName(element).localname
        if element.get(f"{{{XSI}}}nil") == "true":
            values[name] = None
        elif len(element):  # a related record: keep its fields flat as ``Rel.Field``
            for child in element:
                values[f"{name}.{etree.QName(child).localname}"] = child.text
        else:
            values[name] = element.text
    return values


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _fault_code(fault: zeep.exceptions.Fault) -> str:
    detail = fault.detail
    if isinstance(detail, etree._Element):
        for element in detail.iter():
            if isinstance(element.tag, str) and etree.QName(element).localname == "exceptionCode":
                if element.text:
                    return element.text.strip()
    code = str(fault.code or "")
    return code.rsplit(":", 1)[-1].rsplit("}", 1)[-1] or "UNKNOWN_FAULT"


def _fault_error(fault: zeep.exceptions.Fault, operation: str) -> CrmSyncError:
    """The error a fault stands for: credentials 3, configuration 2, limits 4, the rest 5."""
    code = _fault_code(fault)
    # The fault text comes from the server; mask any registered secret it might echo.
    text = redact(str(fault.message or code))[:300]
    if code in SESSION_FAULTS:
        return AuthError(
            f"SOAP CRM refused the session ({code}) even after a new login: check that the "
            "CRM user's profile allows API sessions",
            code=code,
        )
    refused_login = operation == "login" and code not in RATE_FAULTS | TRANSIENT_FAULTS
    if refused_login or code in LOGIN_FAULTS:
        return AuthError(
            f"SOAP CRM refused the login ({code}): check crm.username, the password in the "
            "variable crm.password_env names (for Salesforce: password then security token) "
            "and that the user and org may use the API",
            code=code,
        )
    if code in RATE_FAULTS and "concurrent" not in text.lower():
        return DailyLimitExceeded(
            f"the SOAP CRM's daily API request limit is spent ({code}): the run stopped with "
            "its cursor saved and resumes after the limit resets; raise the org's allowance "
            "if it recurs",
            code=code,
        )
    if code in RATE_FAULTS:
        return RateLimited(
            f"the SOAP CRM kept refusing concurrent requests ({code}) after the retries: run "
            "crm-sync alone or less often",
            code=code,
            status=None,
        )
    if code in TRANSIENT_FAULTS:
        return RemoteUnavailable(
            f"the SOAP CRM stayed unavailable ({code}) after the retries: run again later",
            code=code,
        )
    if code in CONFIG_FAULTS:
        return ConfigError(
            f"SOAP CRM refused {operation} ({code}: {text}): fix the object or field name in "
            "the crm settings",
            code=code,
        )
    if code in LIMIT_FAULTS:
        return LimitReached(
            f"SOAP CRM refused {operation} as over one of its limits ({code}: {text}): lower "
            "crm.query_batch_size or crm.upsert_batch_size",
            code=code,
        )
    return RemoteError(f"SOAP CRM fault {code} in {operation}: {text}", code=code)


def _transport_error(status: int) -> RemoteError:
    if status == 429:
        return RateLimited(
            "the SOAP CRM kept throttling the requests (HTTP 429) after the retries: run "
            "crm-sync alone or less often",
            code="HTTP_429",
        )
    if status >= 500:
        return RemoteUnavailable(
            f"the SOAP CRM kept failing (HTTP {status}) after the retries: run again later",
            status=status,
        )
    return RemoteError(f"SOAP CRM answered HTTP {status}", code=f"HTTP_{status}", status=status)
