"""A Zoho CRM v8 emulator on loopback, faithful to the parts crm_sync uses.

Behaviour follows Zoho's published v8 OpenAPI (record.json, common.json) and API limits:
- accounts server per data centre at ``/accounts/<dc>/oauth/v2/token``; errors come back with
  HTTP 200 (``{"error": "invalid_code"}``), and more than ``refresh_limit`` refreshes in
  ``refresh_window`` seconds are throttled ("You have made too many requests continuously");
- the API of each data centre at ``/api/<dc>/crm/v8/...``; a token is valid only in the data
  centre that issued it and only until it expires (401 ``INVALID_TOKEN``);
- GET records needs ``fields`` (``REQUIRED_PARAM_MISSING``), takes at most 50 of them,
  ``per_page`` ≤ 200, refuses offsets beyond 2,000 without ``page_token``
  (``DISCRETE_PAGINATION_LIMIT_EXCEEDED``), refuses page tokens past ``page_token_limit``
  records (``PAGINATION_LIMIT_EXCEEDED``, HTTP 400), honours ``If-Modified-Since`` (304 when
  nothing changed) and answers 204 when a module is empty;
- upsert takes at most 100 records and answers per record (``DUPLICATE_DATA``,
  ``INVALID_DATA`` with ``details.json_path``, ``MANDATORY_NOT_FOUND``) with HTTP 200/201/207/400;
- ``/deleted`` lists deleted records, oldest deletion first, paged like records (2,000 by page
  number, then ``page_token`` up to ``page_token_limit``);
- single records are read (``GET /{module}/{id}``, 204 when there is none), created
  (``POST /{module}``) and updated (``PUT /{module}`` and ``/{module}/{id}``) per record;
- the metadata Zoho's own SDK reads before it touches records: ``settings/modules``
  (modules.json), ``settings/fields`` (fields.json), ``/users?type=CurrentUser`` and ``/org``;
- faults can be injected: 5xx bursts, 429 storms with ``Retry-After``, any of Zoho's error
  codes (whole call or record by record), the token endpoint's throttle answer, token expiry
  mid-run, malformed records, latency.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .http_server import LoopbackEmulator, LoopbackServer, Request, Response

MAX_FIELDS = 50
MAX_PER_PAGE = 200
MAX_UPSERT = 100
DISCRETE_LIMIT = 2000
PAGE_TOKEN_LIMIT = 100_000  # Zoho's cap on page-token paging of some v8 list endpoints
USER = {"name": "Sync Admin", "id": "4150868000000225013", "email": "admin@example.com"}
SYSTEM_FIELDS = ("Created_Time", "Modified_Time", "Created_By", "Modified_By")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

ACCOUNTS_FIELDS: dict[str, str] = {
    "Account_Name": "text",
    "Odoo_Partner_ID": "text",
    "Email": "email",
    "Phone": "phone",
    "VAT_Number": "text",
    "Billing_Street": "text",
    "Billing_City": "text",
    "Billing_Code": "text",
    "Billing_Country": "text",
    "Industry": "picklist",
    "Owner": "ownerlookup",
    "Credit_Grade": "text",
    "Credit_Limit": "currency",
    "Credit_Exposure": "currency",
    "Credit_Available": "currency",
    "Amount_Overdue": "currency",
    "Oldest_Overdue_Days": "integer",
    "Credit_Hold": "boolean",
    "Last_Payment_Date": "date",
    "Open_Invoice_Count": "integer",
    "Open_Invoice_Amount": "currency",
    "Paid_Last_365_Days": "currency",
    "Odoo_Archived": "boolean",
}
PAYMENTS_FIELDS: dict[str, str] = {
    "Name": "text",
    "Account": "lookup",
    "Amount": "currency",
    "Payment_Date": "date",
    "Reference": "text",
}

# The ids Zoho gives its default modules in the emulated org (custom modules get others).
MODULE_IDS = {"Accounts": "4150868000000002175", "Payments": "4150868000000002181"}
# Path segments after a module that name an operation, not a record id.
RESERVED_PATHS = frozenset({"upsert", "deleted", "search", "actions"})
MODULES_MODIFIED_TIME = "2026-01-05T10:00:00+00:00"
ADMIN_PROFILE_ID = "4150868000000026011"
USER_TYPES = ("AllUsers", "ActiveUsers", "DeactiveUsers", "ConfirmedUsers", "NotConfirmedUsers",
              "DeletedUsers", "ActiveConfirmedUsers", "AdminUsers", "ActiveConfirmedAdmins",
              "CurrentUser")  # fmt: skip
# The API user as ``/users?type=CurrentUser`` lists it, and the organisation ``/org`` answers.
CURRENT_USER: dict[str, Any] = {
    "id": USER["id"],
    "zuid": "60012345678",
    "full_name": USER["name"],
    "first_name": "Sync",
    "last_name": "Admin",
    "email": USER["email"],
    "status": "active",
    "confirm": True,
    "role": {"name": "CEO", "id": "4150868000000026005"},
    "profile": {"name": "Administrator", "id": ADMIN_PROFILE_ID},
    "locale": "en_US",
    "language": "en_US",
    "country_locale": "en_US",
    "time_zone": "Etc/UTC",
    "time_format": "HH:mm",
    "date_format": "yyyy-MM-dd",
    "created_time": "2026-01-05T10:00:00+00:00",
    "Modified_Time": "2026-01-05T10:00:00+00:00",
}
ORG: dict[str, Any] = {
    "id": "4150868000000021001",
    "zgid": "700012345",
    "company_name": "Emulated Org",
    "primary_email": USER["email"],
    "primary_zuid": CURRENT_USER["zuid"],
    "domain_name": "org700012345",
    "country": "United States",
    "country_code": "US",
    "currency": "US Dollar - USD",
    "currency_symbol": "$",
    "currency_locale": "en_US",
    "iso_code": "USD",
    "time_zone": "Etc/UTC",
    "type": "production",
    "mc_status": False,
    "max_per_page": MAX_PER_PAGE,
}

# The values of the picklist fields (Zoho's standard Industry list, shortened).
PICKLISTS: dict[str, tuple[str, ...]] = {
    "Industry": ("-None-", "Communications", "Consulting", "Education", "Government",
                 "Manufacturing", "Retail", "Technology", "Wholesale"),
}  # fmt: skip

# Fields every Zoho CRM org has (the others in the default modules are custom fields).
STANDARD_FIELDS = frozenset(
    {"Account_Name", "Phone", "Billing_Street", "Billing_City", "Billing_Code",
     "Billing_Country", "Industry", "Owner", "Name", "Created_Time", "Modified_Time",
     "Created_By", "Modified_By"}
)  # fmt: skip


# Data types "Create Custom Fields" takes that the sync's fields use.
CREATABLE_TYPES = frozenset(
    {"text", "email", "phone", "currency", "double", "integer", "boolean", "date", "lookup"}
)

# A refresh token generated with every scope crm-sync's commands use.
FULL_SCOPES = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.bulk.READ",
)
STANDARD_MODULES = frozenset(
    {"leads", "contacts", "accounts", "deals", "products", "quotes", "invoices", "vendors",
     "campaigns", "cases", "solutions"}
)  # fmt: skip


def _module_scopes(module: str, operation: str) -> list[tuple[str, ...]]:
    """Scopes that allow ``operation`` on a module's records (Zoho's record API "Scope" lines:
    ZohoCRM.modules.ALL, or the module's own scope, or ZohoCRM.modules.custom for a custom
    module)."""
    name = module.lower() if module.lower() in STANDARD_MODULES else "custom"
    options: list[tuple[str, ...]] = [(f"ZohoCRM.modules.{op}",) for op in ("ALL", operation)]
    return options + [(f"ZohoCRM.modules.{name}.{op}",) for op in ("ALL", operation)]


def required_scopes(route: list[str], method: str) -> list[tuple[str, ...]] | None:
    """The scope combinations that allow a call (any one suffices); ``None``: not checked."""
    if route[:2] == ["settings", "fields"]:
        operation = {"GET": "READ", "POST": "CREATE", "PATCH": "UPDATE"}.get(method, "ALL")
        return [("ZohoCRM.settings.ALL",), ("ZohoCRM.settings.fields.ALL",),
                (f"ZohoCRM.settings.fields.{operation}",)]  # fmt: skip
    if route[0] in ("settings", "users", "org", "bulk", "coql"):
        return None  # other emulated APIs check their own scopes
    if len(route) >= 2 and route[1] == "upsert":
        write = _module_scopes(route[0], "CREATE")
        update = _module_scopes(route[0], "UPDATE")
        return [option for option in write if option[0].endswith(".ALL")] + [
            (a[0], b[0]) for a in write for b in update if not a[0].endswith(".ALL")
        ]
    operation = "READ" if method == "GET" else "ALL"
    return _module_scopes(route[0], operation)


@dataclass
class ModuleSchema:
    fields: dict[str, str]
    mandatory: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()


def default_modules() -> dict[str, ModuleSchema]:
    return {
        "Accounts": ModuleSchema(ACCOUNTS_FIELDS, ("Account_Name",), ("Odoo_Partner_ID",)),
        "Payments": ModuleSchema(PAYMENTS_FIELDS, ("Amount",), ()),
    }


@dataclass
class Fault:
    """Answer the next ``count`` matching calls with an error, in the shape Zoho sends it.

    ``status`` 429 answers ``TOO_MANY_REQUESTS`` and other statuses ``INTERNAL_ERROR``, unless
    ``code`` (with ``message`` and ``details``) names another of Zoho's error codes.
    ``per_record`` answers an upsert record by record (HTTP 400, every record refused with the
    code), as Zoho does for record-level errors. ``endpoint="token"`` makes the accounts
    server's token endpoint answer instead, with Zoho's throttle answer (HTTP 400,
    ``error: Access Denied``). ``retry_after`` becomes the ``Retry-After`` header, in seconds
    or as an HTTP date (a string).
    """

    count: int
    status: int = 503
    retry_after: float | str | None = None
    method: str | None = None
    path_contains: str | None = None
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] | None = None
    per_record: bool = False
    endpoint: str = "api"

    def matches(self, request: Request, endpoint: str = "api") -> bool:
        return (
            self.count > 0
            and self.endpoint == endpoint
            and (self.method is None or self.method == request.method)
            and (self.path_contains is None or self.path_contains in request.path)
        )

    def answer(self, request: Request) -> Response:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        if self.endpoint == "token":
            return _token_throttled(self.status, headers)
        code = self.code or ("TOO_MANY_REQUESTS" if self.status == 429 else "INTERNAL_ERROR")
        message = self.message or _FAULT_MESSAGES.get(code, code.lower().replace("_", " "))
        error = {"code": code, "details": self.details or {}, "message": message,
                 "status": "error"}  # fmt: skip
        if self.per_record:
            try:
                records = request.json().get("data") or []
            except (ValueError, AttributeError):
                records = []
            return Response(self.status, {"data": [dict(error) for _ in records]}, headers)
        return Response(self.status, error, headers)


_FAULT_MESSAGES = {
    "TOO_MANY_REQUESTS": "too many requests",
    "INTERNAL_ERROR": "Internal server error occurred.",
}


def _token_throttled(status: int = 400, headers: dict[str, str] | None = None) -> Response:
    """Zoho's answer to refreshing a token too often (HTTP 400 from accounts.zoho.com)."""
    return Response(
        status,
        {
            "error_description": "You have made too many requests continuously. "
            "Please try again after some time.",
            "error": "Access Denied",
            "status": "failure",
        },
        headers or {},
    )


def _error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    return Response(
        status, {"code": code, "details": details or {}, "message": message, "status": "error"}
    )


@dataclass
class _Token:
    data_centre: str
    expires_at: float
    scopes: frozenset[str] = frozenset()


@dataclass
class _PageToken:
    module: str
    fields: tuple[str, ...]
    since: dt.datetime | None
    sort_by: str
    sort_order: str
    offset: int
    expires_at: float
    ids: list[Any] = field(default_factory=list)
    path: str = ""  # "" for records, "/deleted" for deleted records


@dataclass
class _Client:
    client_id: str
    client_secret: str
    refresh_token: str
    data_centre: str
    refreshes: list[float] = field(default_factory=list)


class ZohoEmulator(LoopbackEmulator):
    """Start with ``with ZohoEmulator() as crm:`` or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        data_centres: tuple[str, ...] = ("com", "eu", "in", "com.au", "com.cn", "jp", "sa", "ca"),
        client_id: str = "1000.EMULATORCLIENT",
        client_secret: str = "emulator-client-secret",
        refresh_token: str = "1000.emulator.refresh.token",
        data_centre: str = "com",
        token_ttl: float = 3600.0,
        refresh_limit: int = 10,
        refresh_window: float = 600.0,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        modules: dict[str, ModuleSchema] | None = None,
        granted_scopes: tuple[str, ...] = FULL_SCOPES,
        token_reports_scope: bool = True,
        page_token_limit: int | None = PAGE_TOKEN_LIMIT,
    ) -> None:
        self.data_centres = data_centres
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.data_centre = data_centre
        self.token_ttl = token_ttl
        self.refresh_limit = refresh_limit
        self.refresh_window = refresh_window
        self.latency = latency
        self.clock = clock
        self.modules = modules or default_modules()
        # The scopes the refresh token was generated with: every token issued carries them,
        # each API call checks them (401 OAUTH_SCOPE_MISMATCH), and the token answer lists
        # them in ``scope`` unless ``token_reports_scope`` is off.
        self.granted_scopes = granted_scopes
        self.token_reports_scope = token_reports_scope
        self.page_token_limit = page_token_limit
        self._clients = {
            refresh_token: _Client(client_id, client_secret, refresh_token, data_centre)
        }
        self._lock = threading.RLock()
        self._ids = itertools.count(4150868000000300001)
        self._records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.modules}
        self._deleted: dict[str, list[dict[str, Any]]] = {name: [] for name in self.modules}
        self._tokens: dict[str, _Token] = {}
        # value -> record id for each unique field, so upserts stay O(1) at 100k records
        self._unique_index: dict[tuple[str, str], dict[Any, str]] = {
            (name, field_name): {}
            for name, schema in self.modules.items()
            for field_name in schema.unique
        }
        self._page_tokens: dict[str, _PageToken] = {}
        # The last sorted selection, reused while no record changes (large-account tests).
        self._changes = 0
        self._selection_cache: tuple[tuple[Any, ...], list[Any]] | None = None
        self.faults: list[Fault] = []
        self.created_fields: list[tuple[str, str, str]] = []
        self.calls: Counter[str] = Counter()
        self.token_requests = 0
        self._server = LoopbackServer(self._handle)

    # -- addresses (lifecycle: LoopbackEmulator) ----------------------------------------
    def accounts_url(self, data_centre: str | None = None) -> str:
        return f"{self.base_url}/accounts/{data_centre or self.data_centre}"

    def api_domain(self, data_centre: str | None = None) -> str:
        return f"{self.base_url}/api/{data_centre or self.data_centre}"

    # -- data helpers for tests ----------------------------------------------------------
    def _store(self, module: str, record_id: str, record: dict[str, Any]) -> None:
        """Insert or replace a record, keeping the unique-field index in step."""
        self._changes += 1
        old = self._records[module].get(record_id, {})
        for (name, field_name), index in self._unique_index.items():
            if name != module:
                continue
            if old.get(field_name) not in (None, "") and index.get(old[field_name]) == record_id:
                del index[old[field_name]]
            if record.get(field_name) not in (None, ""):
                index[record[field_name]] = record_id
        self._records[module][record_id] = record

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).replace(microsecond=0)

    def _stamp(self) -> str:
        return self._now().isoformat()

    def add_record(self, module: str, values: dict[str, Any]) -> str:
        """Create a record as a CRM user would; returns its id."""
        with self._lock:
            record_id = str(next(self._ids))
            now = self._stamp()
            self._store(
                module,
                record_id,
                {
                    "id": record_id,
                    "Owner": dict(USER),
                    "Created_Time": now,
                    "Modified_Time": now,
                    "Created_By": {"name": USER["name"], "id": USER["id"]},
                    "Modified_By": {"name": USER["name"], "id": USER["id"]},
                    **values,
                },
            )
            return record_id

    def update_record(self, module: str, record_id: str, values: dict[str, Any]) -> None:
        with self._lock:
            record = {**self._records[module][record_id], **values, "Modified_Time": self._stamp()}
            self._store(module, record_id, record)

    def put_raw(self, module: str, record: dict[str, Any]) -> None:
        """Store a record exactly as given (malformed records, odd timestamps)."""
        with self._lock:
            self._store(module, str(record["id"]), dict(record))

    def delete_record(self, module: str, record_id: str) -> None:
        with self._lock:
            record = self._records[module][record_id]
            self._store(module, record_id, {})  # drops it from the unique-field index
            del self._records[module][record_id]
            self._deleted[module].append(
                {
                    "deleted_by": {"name": USER["name"], "id": USER["id"]},
                    "id": record_id,
                    "display_name": str(record.get("Account_Name") or record.get("Name") or ""),
                    "type": "recycle",
                    "created_by": {"name": USER["name"], "id": USER["id"]},
                    "deleted_time": self._stamp(),
                }
            )

    def put_deleted(self, module: str, row: dict[str, Any]) -> None:
        """Append a row to the deleted-records list exactly as given (large accounts)."""
        with self._lock:
            self._changes += 1
            self._deleted[module].append(dict(row))

    def records(self, module: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self._records[module].values()]

    def get(self, module: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._records[module].get(record_id)
            return dict(record) if record else None

    # -- faults --------------------------------------------------------------------------
    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def expire_tokens(self) -> None:
        """Expire every access token now (a token expiring in the middle of a run)."""
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = 0

    def issue_token(self, data_centre: str | None = None) -> str:
        """An access token for direct API tests, without the OAuth round trip."""
        token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        with self._lock:
            self._tokens[token] = _Token(
                data_centre or self.data_centre,
                self.clock() + self.token_ttl,
                frozenset(scope.lower() for scope in self.granted_scopes),
            )
        return token

    # -- HTTP ----------------------------------------------------------------------------
    def _handle(self, request: Request) -> Response:
        if self.latency:
            time.sleep(self.latency)
        parts = request.path.strip("/").split("/")
        if len(parts) >= 4 and parts[0] == "accounts" and parts[2:] == ["oauth", "v2", "token"]:
            return self._token_endpoint(parts[1], request)
        if len(parts) >= 5 and parts[0] == "api" and parts[2] == "crm" and parts[3] == "v8":
            return self._api(parts[1], parts[4:], request)
        return _error(
            404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
        )

    def _token_endpoint(self, data_centre: str, request: Request) -> Response:
        params = {**request.query, **request.form()}
        with self._lock:
            self.token_requests += 1
            for fault in self.faults:
                if fault.matches(request, "token"):
                    fault.count -= 1
                    return fault.answer(request)
            if data_centre not in self.data_centres:
                return Response(404, None)
            if params.get("grant_type") != "refresh_token":
                return Response(200, {"error": "unsupported_grant_type"})
            client = self._clients.get(params.get("refresh_token", ""))
            if client is None or client.data_centre != data_centre:
                # Zoho answers a wrong or foreign refresh token with HTTP 200.
                return Response(200, {"error": "invalid_code"})
            if (params.get("client_id"), params.get("client_secret")) != (
                client.client_id,
                client.client_secret,
            ):
                return Response(200, {"error": "invalid_client"})
            now = self.clock()
            client.refreshes = [t for t in client.refreshes if now - t < self.refresh_window]
            if len(client.refreshes) >= self.refresh_limit:
                return _token_throttled()
            client.refreshes.append(now)
            token = self.issue_token(data_centre)
            answer: dict[str, Any] = {
                "access_token": token,
                "api_domain": self.api_domain(data_centre),
                "token_type": "Bearer",
                "expires_in": int(self.token_ttl),
            }
            if self.token_reports_scope:
                answer["scope"] = " ".join(self.granted_scopes)
            return Response(200, answer)

    def _api(self, data_centre: str, route: list[str], request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Zoho-oauthtoken "):
            return _error(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        with self._lock:
            token = self._tokens.get(header.split(" ", 1)[1])
            if (
                token is None
                or token.expires_at <= self.clock()
                or token.data_centre != data_centre
            ):
                return _error(401, "INVALID_TOKEN", "invalid oauth token")
            if not self._scope_allows(token, route, request.method):
                return _error(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
            self.calls[f"{request.method} /{'/'.join(route)}"] += 1
            for fault in self.faults:
                if fault.matches(request):
                    fault.count -= 1
                    return fault.answer(request)
            if route == ["settings", "fields"] and request.method == "GET":
                return self._fields(request)
            if route == ["settings", "fields"] and request.method == "POST":
                return self._create_fields(request)
            metadata = self._metadata_route(route, request)
            if metadata is not None:
                return metadata
            module = route[0]
            if module not in self.modules:
                # Zoho's InvalidUrlError: the module is the first path segment after /crm/v8.
                return _error(400, "INVALID_MODULE", "the module name given seems to be invalid",
                              {"resource_path_index": 0})  # fmt: skip
            if len(route) == 1 and request.method == "GET":
                return self._get_records(module, request)
            if route[1:] == ["upsert"] and request.method == "POST":
                return self._upsert(module, request)
            if route[1:] == ["deleted"] and request.method == "GET":
                return self._deleted_records(module, request)
            single = self._record_route(module, route[1:], request)
            if single is not None:
                return single
            return _error(
                400,
                "INVALID_URL_PATTERN",
                "Please check if the URL trying to access is a correct one",
            )

    # -- OAuth scopes ----------------------------------------------------------------------
    def _scope_allows(self, token: _Token, route: list[str], method: str) -> bool:
        """Whether the token's scopes cover the call (Zoho's per-API "Scope" lines)."""
        needed = required_scopes(route, method)
        return needed is None or any(
            all(scope.lower() in token.scopes for scope in option) for option in needed
        )

    # -- field creation ("Create Custom Fields") -------------------------------------------
    def _create_fields(self, request: Request) -> Response:
        """``POST /settings/fields?module=``: ``{"fields": [{field_label, data_type, …}]}``;
        the API name is the label with ``_`` for spaces. Answers per field under ``fields``."""
        module = request.query.get("module")
        if not module:
            return _error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                          {"param_name": "module", "param": "module"})  # fmt: skip
        if module not in self.modules:
            return _error(400, "INVALID_MODULE", "the module name given seems to be invalid",
                          {"api_name": "module"})  # fmt: skip
        try:
            body = request.json()
        except ValueError:
            return _error(400, "INVALID_DATA", "body", {})
        items = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return _error(400, "MANDATORY_NOT_FOUND", "required field not found",
                          {"api_name": "fields", "json_path": "$.fields"})  # fmt: skip
        schema = self.modules[module]
        results = []
        for index, item in enumerate(items):
            result = self._create_field(module, schema, index, item)
            results.append(result)
        ok = all(result["status"] == "success" for result in results)
        return Response(201 if ok else 400, {"fields": results})

    def _create_field(
        self, module: str, schema: ModuleSchema, index: int, item: Any
    ) -> dict[str, Any]:
        def fail(code: str, message: str, key: str) -> dict[str, Any]:
            details = {"api_name": key, "json_path": f"$.fields[{index}].{key}"}
            return {"code": code, "details": details, "message": message, "status": "error"}

        if not isinstance(item, dict):
            return fail("INVALID_DATA", "invalid data", "fields")
        for key in ("field_label", "data_type"):
            if not item.get(key):
                return fail("MANDATORY_NOT_FOUND", "required field not found", key)
        data_type = str(item["data_type"])
        if data_type not in CREATABLE_TYPES:
            return fail("INVALID_DATA", "invalid data", "data_type")
        if data_type == "lookup":
            target = (item.get("lookup") or {}).get("module") or {}
            if target.get("api_name") not in self.modules:
                return fail("MANDATORY_NOT_FOUND", "required field not found", "lookup")
        api_name = re.sub(r"[^0-9A-Za-z_]", "", str(item["field_label"]).strip().replace(" ", "_"))
        if api_name in schema.fields or api_name in SYSTEM_FIELDS:
            return fail("DUPLICATE_DATA", "duplicate data", "field_label")
        # A copy: the default schemas are module-level dicts shared by every emulator.
        schema.fields = {**schema.fields, api_name: data_type}
        if item.get("unique"):
            schema.unique = (*schema.unique, api_name)
            self._unique_index[(module, api_name)] = {}
        self.created_fields.append((module, api_name, data_type))
        field_id = str(4150868000000500001 + len(self.created_fields))
        return {"code": "SUCCESS", "details": {"id": field_id}, "message": "field created",
                "status": "success"}  # fmt: skip

    # -- field metadata ------------------------------------------------------------------
    def _fields(self, request: Request) -> Response:
        """``GET /settings/fields?module=``, in the shape of Zoho's fields.json."""
        module = request.query.get("module")
        if not module:
            return _error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                          {"param_name": "module", "param": "module"})  # fmt: skip
        if module not in self.modules:
            return _error(400, "INVALID_MODULE", "the module name given seems to be invalid",
                          {"api_name": "module"})  # fmt: skip
        schema = self.modules[module]
        system = {"Created_Time": "datetime", "Modified_Time": "datetime",
                  "Created_By": "ownerlookup", "Modified_By": "ownerlookup"}  # fmt: skip
        if "Owner" not in schema.fields:
            system["Owner"] = "ownerlookup"
        items = [*schema.fields.items(), *system.items()]
        fields = [
            self._field_meta(module, index, name, kind, schema, custom=name not in system)
            for index, (name, kind) in enumerate(items)
        ]
        return Response(200, {"fields": fields})

    def _field_meta(
        self, module: str, index: int, name: str, kind: str, schema: ModuleSchema, *, custom: bool
    ) -> dict[str, Any]:
        json_types = {"currency": "double", "double": "double", "integer": "integer",
                      "boolean": "boolean", "lookup": "jsonobject",
                      "ownerlookup": "jsonobject"}  # fmt: skip
        meta: dict[str, Any] = {
            "api_name": name,
            "id": str(4150868000000400001 + index),
            "display_label": name.replace("_", " "),
            "data_type": kind,
            "json_type": json_types.get(kind, "string"),
            "custom_field": custom and name not in STANDARD_FIELDS,
            "system_mandatory": name in schema.mandatory,
            "read_only": name in SYSTEM_FIELDS,
            "visible": True,
            "length": 255 if json_types.get(kind, "string") == "string" else 16,
            "unique": {"casesensitive": "false"} if name in schema.unique else None,
            "lookup": None,
            "sequence_number": index + 1,
            # Further keys every field of Zoho's answer carries (fields.json); the SDK reads them.
            "field_label": name.replace("_", " "),
            "field_read_only": name in SYSTEM_FIELDS,
            "virtual_field": False,
            "filterable": True,
            "sortable": True,
            "searchable": kind not in ("lookup", "ownerlookup", "boolean"),
            "mass_update": name not in SYSTEM_FIELDS and name not in schema.unique,
            "webhook": True,
            "decimal_place": 2 if kind == "currency" else None,
            "pick_list_values": [
                {
                    "display_value": value,
                    "actual_value": value,
                    "sequence_number": position,
                    "id": str(4150868000000500001 + position),
                    "type": "used",
                    "colour_code": None,
                }
                for position, value in enumerate(PICKLISTS.get(name, ()), start=1)
            ],  # fmt: skip
        }
        if kind == "lookup":
            target = "Accounts" if module != "Accounts" else module
            meta["lookup"] = {"module": {"api_name": target, "id": MODULE_IDS[target]}}
        return meta

    # -- GET records ---------------------------------------------------------------------
    @staticmethod
    def _parse_since(request: Request) -> dt.datetime | None | Response:
        raw = request.headers.get("If-Modified-Since")
        if not raw:
            return None
        try:
            since = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            header = "If-Modified-Since"
            return _error(
                400, "INVALID_DATA", "invalid data", {"param_name": header, "param": header}
            )
        return since if since.tzinfo else since.replace(tzinfo=dt.timezone.utc)

    @staticmethod
    def _modified(record: dict[str, Any], key: str = "Modified_Time") -> dt.datetime | None:
        try:
            stamp = dt.datetime.fromisoformat(str(record.get(key)).replace("Z", "+00:00"))
        except ValueError:
            return None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)

    def _selection(
        self, module: str, since: dt.datetime | None, sort_by: str, sort_order: str
    ) -> list[dict[str, Any]]:
        records = list(self._records[module].values())
        if since is not None:
            records = [r for r in records if (self._modified(r) or since) > since]

        def key(record: dict[str, Any]) -> tuple[Any, ...]:
            if sort_by == "id":
                return (int(record["id"]),)
            stamp = self._modified(record, sort_by)
            return (stamp.timestamp() if stamp else 0.0, int(record["id"]))

        return sorted(records, key=key, reverse=sort_order == "desc")

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], list[Any]]) -> list[Any]:
        cache_key = (self._changes, *key)
        if self._selection_cache is None or self._selection_cache[0] != cache_key:
            self._selection_cache = (cache_key, compute())
        return self._selection_cache[1]

    def _paging(
        self, module: str, path: str, request: Request, per_page: int, page: int
    ) -> _PageToken | Response:
        """Where a list read starts: a page number (at most 2,000 records deep) or a page
        token (at most ``page_token_limit`` records deep), with Zoho's errors past either."""
        token_value = request.query.get("page_token")
        if token_value:
            if "page" in request.query:
                return _error(400, "INVALID_DATA", "invalid data",
                              {"param_name": "page", "param": "page"})  # fmt: skip
            state = self._page_tokens.get(token_value)
            if (
                state is None
                or state.expires_at < self.clock()
                or (state.module, state.path) != (module, path)
            ):
                return _error(400, "INVALID_DATA", "invalid data",
                              {"param_name": "page_token", "param": "page_token"})  # fmt: skip
            if self.page_token_limit is not None and state.offset >= self.page_token_limit:
                limit = self.page_token_limit
                return _error(400, "PAGINATION_LIMIT_EXCEEDED",
                              f"Only {limit} records can be fetched with page_token",
                              {"limit": limit})  # fmt: skip
            return state
        parsed = self._parse_since(request)
        if isinstance(parsed, Response):
            return parsed
        offset = (page - 1) * per_page
        if offset >= DISCRETE_LIMIT:
            return _error(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                          "The requested page can not be fetched. Use page_token to fetch "
                          "records beyond 2000.", {"limit": DISCRETE_LIMIT})  # fmt: skip
        return _PageToken(
            module,
            (),
            parsed,
            request.query.get("sort_by", "id"),
            request.query.get("sort_order", "desc"),
            offset,
            0.0,
            path=path,
        )

    def _page_info(
        self, state: _PageToken, per_page: int, count: int, snapshot: list[Any]
    ) -> dict[str, Any]:
        """``info`` of a page, with a ``next_page_token`` over the same snapshot when more."""
        more = state.offset + per_page < len(snapshot)
        info: dict[str, Any] = {
            "per_page": per_page,
            "count": count,
            "page": state.offset // per_page + 1,
            "more_records": more,
        }
        if more:
            token = base64.urlsafe_b64encode(secrets.token_bytes(18)).decode()
            expires = self.clock() + 86400
            self._page_tokens[token] = _PageToken(
                state.module, state.fields, state.since, state.sort_by, state.sort_order,
                state.offset + per_page, expires, snapshot, state.path,
            )  # fmt: skip
            info["next_page_token"] = token
            info["page_token_expiry"] = dt.datetime.fromtimestamp(
                expires, dt.timezone.utc
            ).isoformat(timespec="seconds")
        return info

    def _get_records(self, module: str, request: Request) -> Response:
        query = request.query
        fields_param = query.get("fields")
        if not fields_param:
            return _error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                          {"param_name": "fields", "param": "fields"})  # fmt: skip
        fields = tuple(name for name in fields_param.split(",") if name)
        if len(fields) > MAX_FIELDS:
            return _error(400, "LIMIT_EXCEEDED", "Max field limit exceeded",
                          {"param": "fields", "limit": MAX_FIELDS})  # fmt: skip
        try:
            per_page = int(query.get("per_page", MAX_PER_PAGE))
            page = int(query.get("page", 1))
        except ValueError:
            return _error(
                400, "INVALID_DATA", "invalid data", {"param_name": "page", "param": "page"}
            )
        if not 1 <= per_page <= MAX_PER_PAGE:
            details = {"param_name": "per_page", "param": "per_page", "limit": MAX_PER_PAGE}
            return _error(400, "INVALID_DATA", "invalid data", details)
        state = self._paging(module, "", request, per_page, page)
        if isinstance(state, Response):
            return state
        if state.ids:
            # A page token pages through the result set as it was when the token was issued.
            snapshot = state.ids
        else:
            state.fields = fields
            since, sort_by, sort_order = state.since, state.sort_by, state.sort_order
            snapshot = self._cached(
                (module, since, sort_by, sort_order),
                lambda: [r["id"] for r in self._selection(module, since, sort_by, sort_order)],
            )
        if not snapshot:
            return Response(304 if state.since is not None else 204, None)
        records = self._records[module]
        offset = state.offset
        chunk = [records[i] for i in snapshot[offset : offset + per_page] if i in records]
        # Every field the module has comes back, null when empty; a name it lacks does not.
        schema = self.modules[module].fields
        known = [n for n in fields if n != "id" and (n in schema or n in SYSTEM_FIELDS)]
        data = [{"id": r["id"], **{name: r.get(name) for name in known}} for r in chunk]
        info = self._page_info(state, per_page, len(data), snapshot)
        info.update(sort_by=state.sort_by, sort_order=state.sort_order)
        return Response(200, {"data": data, "info": info})

    def _deleted_records(self, module: str, request: Request) -> Response:
        per_page = min(int(request.query.get("per_page", MAX_PER_PAGE)), MAX_PER_PAGE)
        page = int(request.query.get("page", 1))
        kind = request.query.get("type", "all")
        state = self._paging(module, "/deleted", request, per_page, page)
        if isinstance(state, Response):
            return state
        if state.ids:
            rows = state.ids
        else:
            since = state.since

            def select() -> list[Any]:
                return [
                    row
                    for row in self._deleted[module]
                    if (kind in ("all", row["type"]))
                    and (since is None or (self._modified(row, "deleted_time") or since) > since)
                ]

            rows = self._cached((module, "/deleted", since, kind), select)
        if not rows:
            return Response(304 if state.since is not None else 204, None)
        chunk = rows[state.offset : state.offset + per_page]
        info = self._page_info(state, per_page, len(chunk), rows)
        return Response(200, {"data": chunk, "info": info})

    # -- upsert --------------------------------------------------------------------------
    def _type_error(self, kind: str, value: Any) -> str | None:
        """The expected data type when ``value`` does not fit a field of ``kind``."""
        if value is None:
            return None
        if kind in ("text", "picklist", "phone"):
            return None if isinstance(value, str) and len(value) <= 255 else "text"
        if kind == "email":
            return None if isinstance(value, str) and "@" in value else "email"
        if kind in ("currency", "double"):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return None if ok else "double"
        if kind == "integer":
            return None if isinstance(value, int) and not isinstance(value, bool) else "integer"
        if kind == "boolean":
            return None if isinstance(value, bool) else "boolean"
        if kind == "date":
            return None if isinstance(value, str) and DATE_RE.match(value) else "date"
        if kind in ("lookup", "ownerlookup"):
            ok = isinstance(value, dict) and "id" in value or isinstance(value, str)
            return None if ok else "jsonobject"
        return None

    def _find_existing(
        self, module: str, record: dict[str, Any], check_fields: list[str]
    ) -> tuple[str | None, str | None]:
        for name in check_fields:
            value = record.get(name)
            if value in (None, ""):
                continue
            index = self._unique_index.get((module, name))
            if index is not None:
                if value in index:
                    return index[value], name
                continue
            for existing in self._records[module].values():
                if existing.get(name) == value:
                    return existing["id"], name
        return None, None

    def _upsert(self, module: str, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "INVALID_DATA", "body", {})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            return _error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                          {"param_name": "data", "param": "data"})  # fmt: skip
        if len(data) > MAX_UPSERT:
            return _error(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_UPSERT})
        schema = self.modules[module]
        check_fields = list(body.get("duplicate_check_fields") or schema.unique)
        results = [self._upsert_one(module, schema, index, record, check_fields)
                   for index, record in enumerate(data)]  # fmt: skip
        ok = [r for r in results if r["status"] == "success"]
        if len(ok) == len(results):
            status = 201 if all(r["action"] == "insert" for r in ok) else 200
        else:
            status = 207 if ok else 400
        return Response(status, {"data": results})

    def _upsert_one(
        self,
        module: str,
        schema: ModuleSchema,
        index: int,
        record: Any,
        check_fields: list[str],
    ) -> dict[str, Any]:
        def fail(code: str, message: str, api_name: str, **extra: Any) -> dict[str, Any]:
            details = {"api_name": api_name, "json_path": f"$.data[{index}].{api_name}", **extra}
            return {"code": code, "details": details, "message": message, "status": "error"}

        if not isinstance(record, dict):
            return fail("INVALID_DATA", "invalid data", "data", expected_data_type="jsonobject")
        existing_id: str | None
        matched_on: str | None
        if "id" in record:
            existing_id, matched_on = str(record["id"]), "id"
            if existing_id not in self._records[module]:
                return fail("INVALID_DATA", "the id given seems to be invalid", "id")
        else:
            existing_id, matched_on = self._find_existing(module, record, check_fields)
        values = {key: value for key, value in record.items() if key in schema.fields}
        for name, value in values.items():
            expected = self._type_error(schema.fields[name], value)
            if expected:
                return fail("INVALID_DATA", "invalid data", name, expected_data_type=expected)
        if existing_id is None:
            for name in schema.mandatory:
                if values.get(name) in (None, ""):
                    return fail("MANDATORY_NOT_FOUND", "required field not found", name)
        for name in schema.unique:
            value = values.get(name)
            if value in (None, ""):
                continue
            other_id = self._unique_index[(module, name)].get(value)
            if other_id is not None and other_id != existing_id:
                return fail(
                    "DUPLICATE_DATA",
                    "duplicate data",
                    name,
                    duplicate_record={
                        "id": other_id,
                        "module": {"api_name": module, "id": "4150868000000002175"},
                        "Owner": {"name": USER["name"], "id": USER["id"]},
                    },
                )
        now = self._stamp()
        user = {"name": USER["name"], "id": USER["id"]}
        if existing_id is None:
            existing_id = self.add_record(module, values)
            action, message = "insert", "record added"
        else:
            record = {**self._records[module][existing_id], **values, "Modified_Time": now}
            self._store(module, existing_id, record)
            action, message = "update", "record updated"
        stored = self._records[module][existing_id]
        result: dict[str, Any] = {
            "code": "SUCCESS",
            "action": action,
            "details": {
                "Modified_Time": stored["Modified_Time"],
                "Modified_By": user,
                "Created_Time": stored.get("Created_Time", now),
                "id": existing_id,
                "Created_By": user,
            },
            "message": message,
            "status": "success",
        }
        if action == "update" and matched_on:
            result["duplicate_field"] = matched_on
        return result

    # -- metadata: modules, current user, organisation ----------------------------------
    def _metadata_route(self, route: list[str], request: Request) -> Response | None:
        """``settings/modules``, ``users`` and ``org``: what Zoho's SDK reads before records."""
        if request.method != "GET":
            return None
        if route == ["settings", "modules"]:
            return self._modules(request)
        if route[:2] == ["settings", "modules"] and len(route) == 3:
            return self._module(route[2])
        if route == ["users"]:
            return self._users(request)
        if route == ["org"]:
            return Response(200, {"org": [dict(ORG)]})
        return None

    def _module_meta(self, index: int, name: str) -> dict[str, Any]:
        """One module in the shape of modules.json's ``modules`` (the keys a list answer has)."""
        user = {"name": USER["name"], "id": USER["id"]}
        singular = name[:-1] if name.endswith("s") else name
        return {
            "api_name": name,
            "module_name": name,
            "singular_label": singular,
            "plural_label": name,
            "id": MODULE_IDS.get(name, str(4150868000000002190 + index)),
            "api_supported": True,
            "generated_type": "default" if name in MODULE_IDS else "custom",
            "sequence_number": index + 1,
            "visibility": 1,
            "visible": True,
            "show_as_tab": True,
            "creatable": True,
            "editable": True,
            "deletable": True,
            "viewable": True,
            "convertable": False,
            "quick_create": True,
            "global_search_supported": True,
            "isBlueprintSupported": True,
            "triggers_supported": True,
            "feeds_required": False,
            "scoring_supported": True,
            "webform_supported": True,
            "filter_supported": True,
            "kanban_view_supported": True,
            "kanban_view": False,
            "inventory_template_supported": False,
            "emailTemplate_support": True,
            "email_parser_supported": False,
            "presence_sub_menu": False,
            "chart_view_supported": True,
            "chart_view": False,
            "recycle_bin_on_delete": True,
            "track_current_data": True,
            "business_card_field_limit": 5,
            "profile_count": 1,
            "activity_badge": "Enabled",
            "web_link": None,
            "description": None,
            "parent_module": {},
            "modified_time": MODULES_MODIFIED_TIME,
            "modified_by": user,
            "arguments": [],
            "$properties": [],
            "$field_states": [],
            "$on_demand_properties": [],
            "profiles": [{"name": "Administrator", "id": ADMIN_PROFILE_ID}],
        }

    def _modules(self, request: Request) -> Response:
        """``GET settings/modules`` (304 when nothing changed since ``If-Modified-Since``)."""
        since = self._parse_since(request)
        if isinstance(since, Response):
            return since
        if since is not None and since >= dt.datetime.fromisoformat(MODULES_MODIFIED_TIME):
            return Response(304, None)
        return Response(
            200, {"modules": [self._module_meta(i, n) for i, n in enumerate(self.modules)]}
        )

    def _module(self, name: str) -> Response:
        if name not in self.modules:
            return _error(400, "INVALID_MODULE", "the module name given seems to be invalid",
                          {"resource_path_index": 2})  # fmt: skip
        return Response(200, {"modules": [self._module_meta(list(self.modules).index(name), name)]})

    def _users(self, request: Request) -> Response:
        """``GET /users?type=CurrentUser``: the API user, as Zoho's Users API lists one."""
        kind = request.query.get("type", "AllUsers")
        if kind not in USER_TYPES:
            return _error(
                400, "INVALID_DATA", "invalid data", {"param_name": "type", "param": "type"}
            )
        info = {"per_page": 200, "count": 1, "page": 1, "more_records": False}
        return Response(200, {"users": [dict(CURRENT_USER)], "info": info})

    # -- single records: read, create, update --------------------------------------------
    def _record_route(self, module: str, rest: list[str], request: Request) -> Response | None:
        if not rest and request.method == "POST":
            return self._write_records(module, request, create=True)
        if not rest and request.method == "PUT":
            return self._write_records(module, request, create=False)
        if len(rest) != 1 or request.method not in ("GET", "PUT") or rest[0] in RESERVED_PATHS:
            return None
        if not rest[0].isdigit():
            # Zoho's InvalidUrlError: the id is the second path segment after /crm/v8.
            return _error(400, "INVALID_DATA", "the id given seems to be invalid",
                          {"resource_path_index": 1})  # fmt: skip
        if request.method == "GET":
            return self._get_record(module, rest[0], request)
        if request.method == "PUT":
            return self._write_records(module, request, create=False, record_id=rest[0])
        return None

    def _get_record(self, module: str, record_id: str, request: Request) -> Response:
        """``GET /{module}/{id}``: every field the module has (or those in ``fields``)."""
        record = self._records[module].get(record_id)
        if record is None:
            return Response(204, None)  # no such record, or it was deleted
        schema = self.modules[module].fields
        requested = [name for name in request.query.get("fields", "").split(",") if name]
        if len(requested) > MAX_FIELDS:
            return _error(400, "LIMIT_EXCEEDED", "Max field limit exceeded",
                          {"param": "fields", "limit": MAX_FIELDS})  # fmt: skip
        names = requested or [*schema, *SYSTEM_FIELDS, "Owner"]
        known = [n for n in names if n != "id" and (n in schema or n in (*SYSTEM_FIELDS, "Owner"))]
        return Response(200, {"data": [{"id": record_id, **{n: record.get(n) for n in known}}]})

    def _write_records(
        self, module: str, request: Request, *, create: bool, record_id: str | None = None
    ) -> Response:
        """``POST /{module}`` (create) and ``PUT /{module}[/{id}]`` (update), per record.

        Both answer like upsert (201 all created, 200 all updated, 207 mixed, 400 none), but
        without ``action``/``duplicate_field``; an update needs the id of an existing record."""
        try:
            body = request.json()
        except ValueError:
            return _error(400, "INVALID_DATA", "body", {})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            return _error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                          {"param_name": "data", "param": "data"})  # fmt: skip
        limit = 1 if record_id is not None else MAX_UPSERT
        if len(data) > limit:
            return _error(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": limit})
        schema = self.modules[module]
        results = []
        for index, record in enumerate(data):
            if not isinstance(record, dict):
                results.append(self._upsert_one(module, schema, index, record, []))
            elif create:
                values = {key: value for key, value in record.items() if key != "id"}
                results.append(self._upsert_one(module, schema, index, values, []))
            else:
                results.append(self._update_one(module, schema, index, record, record_id))
        for result in results:
            result.pop("action", None)
            result.pop("duplicate_field", None)
        ok = sum(result["status"] == "success" for result in results)
        status = (201 if create else 200) if ok == len(results) else 207 if ok else 400
        return Response(status, {"data": results})

    def _update_one(
        self,
        module: str,
        schema: ModuleSchema,
        index: int,
        record: dict[str, Any],
        record_id: str | None,
    ) -> dict[str, Any]:
        target = record_id or record.get("id")
        if target in (None, ""):
            details = {"api_name": "id", "json_path": f"$.data[{index}].id"}
            return {"code": "MANDATORY_NOT_FOUND", "details": details,
                    "message": "required field not found", "status": "error"}  # fmt: skip
        if str(target) not in self._records[module]:
            return {"code": "INVALID_DATA", "details": {"id": str(target)},
                    "message": "the id given seems to be invalid", "status": "error"}  # fmt: skip
        return self._upsert_one(module, schema, index, {**record, "id": str(target)}, [])

    # -- introspection -------------------------------------------------------------------
    def upsert_calls(self, module: str = "Accounts") -> int:
        return self.calls[f"POST /{module}/upsert"]

    def dump(self) -> str:
        with self._lock:
            return json.dumps(self._records, indent=1, default=str)
