"""A FXiaoKe (纷享销客) open-API emulator on loopback, for the parts crm_sync uses.

Behaviour follows the published open-API documentation:
- ``/oauth2.0/token`` (``grantType: app_secret``) and the older ``/cgi/corpAccessToken/get/V2``
  exchange appId/appSecret/permanentCode for a token (``accessToken`` + ``ea``, or
  ``corpAccessToken`` + ``corpId``); within 6,600 s of issue they return the same token, later a
  new one; a token is valid 7,200 s;
- every business call is a POST carrying the token either as headers (``authorization: Bearer``,
  ``x-fs-ea``, ``x-fs-userid`` = the CRM employee id, or the openUserId with
  ``convertUserId: true`` in the body) or in the body (``corpAccessToken``, ``corpId``,
  ``currentOpenUserId``); errors come back with HTTP 200 and ``errorCode`` ≠ 0 (20016 token
  missing or expired, 20017 no token);
- with ``rate_limit=(100, 20.0)`` each interface takes at most 100 calls in 20 s of the
  emulator's clock and answers the next with ``rate_limit_code`` (30004, 秒频次超限); with
  ``daily_quota=n`` the n+1-th business call of a day (UTC+8) is answered 30002;
- preset objects are served under ``/cgi/crm/v2/data/*``, custom objects (API name ending in
  ``__c``) under ``/cgi/crm/custom/v2/data/*``; an object on the other family's path is refused;
- ``create``/``update`` read ``triggerApprovalFlow`` (default true, as documented): a write
  without ``triggerApprovalFlow: false`` starts the object's approval flow, which here means
  the record is locked (``lock_status`` "1") and under review (``life_status``
  ``under_review`` on create, ``in_change`` on update); a locked record refuses updates
  unless ``skipDataStatusValidate`` (documented for custom objects) is true; the flags of
  every write are recorded in ``writes``;
- ``/cgi/crm/v2/data/query`` filters (EQ, N, GT, GTE, LT, LTE, IN, NIN, IS, ISN, LIKE), orders,
  pages with ``limit`` ≤ 100 and ``offset`` a multiple of ``limit``; ``get``, ``create`` and
  ``update`` work on ``AccountObj`` and ``PaymentObj`` with field validation;
- ``/cgi/crm/v2/object/describe`` (``apiName``) lists an object's fields and their types;
- faults are injectable: error codes (rate limits 30004/14001, quota 30002, busy -1), bare
  HTTP 5xx, token expiry, latency.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from .http_server import LoopbackEmulator, LoopbackServer, Request, Response

MAX_LIMIT = 100
PRESET_PATH = "crm/v2/data"
CUSTOM_PATH = "crm/custom/v2/data"
MAX_OFFSET = 10_000
TOKEN_TTL = 7200.0
SAME_TOKEN_WINDOW = 6600.0
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SYSTEM_FIELDS = {
    "_id",
    "create_time",
    "last_modified_time",
    "life_status",
    "lock_status",
    "is_deleted",
    "name",
    "owner",
    "object_describe_api_name",
}

ACCOUNT_FIELDS: dict[str, str] = {
    "name": "text", "odoo_partner_id__c": "text", "email": "email", "tel": "text",
    "uniform_social_credit_code": "text", "address": "text", "credit_grade__c": "text",
    "credit_limit__c": "currency", "credit_exposure__c": "currency",
    "credit_available__c": "currency", "amount_overdue__c": "currency",
    "oldest_overdue_days__c": "number", "credit_hold__c": "boolean",
    "last_payment_date__c": "date", "open_invoice_count__c": "number",
    "open_invoice_amount__c": "currency", "paid_last_365_days__c": "currency",
    "odoo_archived__c": "boolean",
}  # fmt: skip
PAYMENT_FIELDS: dict[str, str] = {
    "name": "text", "account_id": "object_reference", "payment_amount": "currency",
    "payment_time": "date", "remark": "text",
}  # fmt: skip

# Types as the describe call names them, where the emulator's own kinds differ.
DESCRIBE_TYPES = {"boolean": "true_or_false"}
DESCRIBE_SYSTEM_FIELDS = {
    "_id": "text", "create_time": "date_time", "last_modified_time": "date_time",
    "life_status": "select_one", "is_deleted": "true_or_false", "name": "text",
    "owner": "employee", "object_describe_api_name": "text",
}  # fmt: skip


@dataclass
class ObjectSchema:
    fields: dict[str, str]
    required: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()


def default_objects() -> dict[str, ObjectSchema]:
    return {
        "AccountObj": ObjectSchema(ACCOUNT_FIELDS, ("name",), ("odoo_partner_id__c",)),
        "PaymentObj": ObjectSchema(PAYMENT_FIELDS, ("account_id", "payment_amount"), ()),
    }


@dataclass
class Fault:
    """Answer the next ``count`` matching business calls with ``error_code`` (HTTP 200) or,
    with ``status``, a bare HTTP error."""

    count: int
    error_code: int = -1
    status: int | None = None
    path_contains: str | None = None
    message: str = "系统繁忙"

    def matches(self, path: str) -> bool:
        return self.count > 0 and (self.path_contains is None or self.path_contains in path)


@dataclass(frozen=True)
class WriteCall:
    """The flags one create/update call carried (None: the key was absent)."""

    path: str
    trigger_approval_flow: Any
    trigger_work_flow: Any
    skip_data_status_validate: Any


@dataclass
class _Token:
    issued_at: float


def _error(code: int, message: str) -> Response:
    return Response(
        200,
        {
            "errorCode": code,
            "errorMessage": message,
            "traceId": f"E-O.emulator.{secrets.token_hex(6)}",
        },
    )


class _Invalid(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FxiaokeEmulator(LoopbackEmulator):
    """Start with ``with FxiaokeEmulator() as crm:`` or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        app_id: str = "FSAID_emulator",
        app_secret: str = "fxiaoke-emulator-app-secret",
        permanent_code: str = "FXIAOKE-EMULATOR-PERMANENT-CODE",
        corp_id: str = "FSCID_EMULATOR",
        open_user_id: str = "FSUID_EMULATOR_ADMIN",
        employee_id: str = "1000",
        ea: str = "fs_emulator",
        objects: dict[str, ObjectSchema] | None = None,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        rate_limit: tuple[int, float] | None = None,
        rate_limit_code: int = 30004,
        daily_quota: int | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.permanent_code = permanent_code
        self.corp_id = corp_id
        self.open_user_id = open_user_id
        self.employee_id = employee_id
        self.ea = ea
        self.rate_limit = rate_limit
        self.rate_limit_code = rate_limit_code
        self.daily_quota = daily_quota
        self._window: dict[str, deque[float]] = {}
        self._quota_day = ""
        self.quota_used = 0
        self.rate_limited = 0  # calls answered with rate_limit_code
        self.objects = objects or default_objects()
        self.latency = latency
        self.clock = clock
        self._lock = threading.RLock()
        self._serial = itertools.count(1)
        self._records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.objects}
        self._tokens: dict[str, _Token] = {}
        self._current_token: str | None = None
        self._last_ms = 0
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self.token_requests = 0
        self.token_paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.bodies: list[dict[str, Any]] = []
        self.writes: list[WriteCall] = []
        self.keep_bodies = False
        self._server = LoopbackServer(self._handle)

    # -- data helpers for tests ----------------------------------------------------------
    def _now_ms(self) -> int:
        """A strictly increasing epoch-milliseconds modification stamp."""
        now = int(self.clock() * 1000)
        self._last_ms = max(now, self._last_ms + 1)
        return self._last_ms

    def add_record(self, object_name: str, values: dict[str, Any]) -> str:
        with self._lock:
            record_id = f"{next(self._serial):08x}{secrets.token_hex(8)}"
            now = self._now_ms()
            self._records[object_name][record_id] = {
                "_id": record_id, "create_time": now, "last_modified_time": now,
                "life_status": "normal", "lock_status": "0", "is_deleted": False,
                "owner": [self.open_user_id], "object_describe_api_name": object_name, **values,
            }  # fmt: skip
            return record_id

    def update_record(self, object_name: str, record_id: str, values: dict[str, Any]) -> None:
        with self._lock:
            record = self._records[object_name][record_id]
            record.update(values)
            record["last_modified_time"] = self._now_ms()

    def invalidate_record(self, object_name: str, record_id: str) -> None:
        """作废: the record leaves the normal lists with ``life_status = invalid``."""
        self.update_record(object_name, record_id, {"life_status": "invalid"})

    def put_raw(self, object_name: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._records[object_name][str(record["_id"])] = dict(record)

    def records(self, object_name: str, *, include_invalid: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(r)
                for r in self._records[object_name].values()
                if include_invalid or r.get("life_status") != "invalid"
            ]

    def get(self, object_name: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._records[object_name].get(record_id)
            return dict(record) if record else None

    def by_external_id(self, ext: str = "odoo_partner_id__c") -> dict[str, dict[str, Any]]:
        return {r[ext]: r for r in self.records("AccountObj") if r.get(ext)}

    # -- faults --------------------------------------------------------------------------
    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.issued_at = -TOKEN_TTL

    def write_calls(self) -> int:
        return sum(
            self.calls[f"{base}/{operation}"]
            for base in (PRESET_PATH, CUSTOM_PATH)
            for operation in ("create", "update")
        )

    def locked(self, object_name: str) -> list[dict[str, Any]]:
        """Records an approval flow locked (a write arrived without triggerApprovalFlow false)."""
        return [r for r in self.records(object_name) if r.get("lock_status") == "1"]

    # -- HTTP ----------------------------------------------------------------------------
    def _handle(self, request: Request) -> Response:
        if self.latency:
            time.sleep(self.latency)
        if request.method != "POST":
            return Response(405, None)
        try:
            body = request.json()
        except ValueError:
            return _error(10000, "请求体不是合法的JSON")
        body = body if isinstance(body, dict) else {}
        if self.keep_bodies:
            self.bodies.append(body)
        if request.path in ("/cgi/corpAccessToken/get/V2", "/oauth2.0/token"):
            return self._token(body, request.path)
        if not request.path.startswith("/cgi/"):
            return Response(404, None)
        path = request.path[len("/cgi/") :]
        with self._lock:
            if self.keep_bodies:
                self.headers.append(
                    {
                        name.lower(): value
                        for name, value in request.headers.items()
                        if name.lower().startswith("x-fs-") or name.lower() == "authorization"
                    }
                )
            refused = self._authenticate(request, body)
            if refused is not None:
                return refused
            self.calls[path] += 1
            limited = self._limit(path)
            if limited is not None:
                return limited
            for fault in self.faults:
                if fault.matches(path):
                    fault.count -= 1
                    if fault.status is not None:
                        return Response(fault.status, None)
                    return _error(fault.error_code, fault.message)
            if path == "crm/v2/object/describe":
                try:
                    return self._ok(self._describe(body.get("apiName")))
                except _Invalid as invalid:
                    return _error(invalid.code, invalid.message)
            data = found if isinstance(found := body.get("data"), dict) else {}
            base, _, operation = path.rpartition("/")
            reader = {"query": self._query, "get": self._get}.get(operation)
            writer = {"create": self._create, "update": self._update}.get(operation)
            if (reader is None and writer is None) or base not in (PRESET_PATH, CUSTOM_PATH):
                return _error(15002, "接口不存在")
            try:
                self._check_family(base, data)
                if writer is not None:
                    result = writer(data, body, path)
                elif reader is not None:
                    result = reader(data)
                else:  # pragma: no cover - refused above
                    return _error(15002, "接口不存在")
            except _Invalid as invalid:
                return _error(invalid.code, invalid.message)
        return self._ok(result)

    @staticmethod
    def _ok(result: dict[str, Any]) -> Response:
        return Response(
            200,
            {
                "errorCode": 0,
                "errorMessage": "OK",
                "errorDescription": "success",
                "traceId": f"E-O.emulator.{secrets.token_hex(6)}",
                **result,
            },
        )

    def _authenticate(self, request: Request, body: dict[str, Any]) -> Response | None:
        """None when the call carries a live token and a known user, in either scheme."""
        bearer = str(request.headers.get("authorization") or "")
        if bearer:
            token_value = bearer.removeprefix("Bearer ")
            tenant_ok = request.headers.get("x-fs-ea") == self.ea
            user = request.headers.get("x-fs-userid")
            expected = self.open_user_id if body.get("convertUserId") is True else self.employee_id
        else:
            if not body.get("corpAccessToken"):
                return _error(20017, "corpAccessToken为必填项，不能为空")
            token_value = str(body["corpAccessToken"])
            tenant_ok = body.get("corpId") == self.corp_id
            user, expected = body.get("currentOpenUserId"), self.open_user_id
        token = self._tokens.get(token_value)
        if token is None or self.clock() - token.issued_at >= TOKEN_TTL or not tenant_ok:
            return _error(20016, "the cropId,cropAccessToken or authorization is error")
        if user != expected:
            return _error(20012, "openUserId未找到")
        return None

    def _limit(self, path: str) -> Response | None:
        """The per-interface rate (sliding window) and the daily quota, on the emulator's clock."""
        now = self.clock()
        if self.daily_quota is not None:
            day = dt.datetime.fromtimestamp(now, dt.timezone(dt.timedelta(hours=8))).date()
            if day.isoformat() != self._quota_day:
                self._quota_day, self.quota_used = day.isoformat(), 0
            if self.quota_used >= self.daily_quota:
                return _error(30002, "当天访问频次超限（0点重新统计）")
            self.quota_used += 1
        if self.rate_limit is not None:
            limit, window = self.rate_limit
            sent = self._window.setdefault(path, deque())
            while sent and sent[0] <= now - window:
                sent.popleft()
            if len(sent) >= limit:
                self.rate_limited += 1
                return _error(self.rate_limit_code, "秒频次超限")
            sent.append(now)
        return None

    def _token(self, body: dict[str, Any], path: str) -> Response:
        with self._lock:
            self.token_requests += 1
            self.token_paths.append(path)
            oauth = path == "/oauth2.0/token"
            if body.get("appId") != self.app_id or body.get("appSecret") != self.app_secret:
                return _error(10006, "the parameter appSecret is missing or illegal")
            if oauth and body.get("grantType") != "app_secret":
                return _error(10006, "grantType is missing or illegal")
            if body.get("permanentCode") != self.permanent_code:
                return _error(20015, "永久授权码错误")
            now = self.clock()
            current = self._tokens.get(self._current_token or "")
            if current is None or now - current.issued_at >= SAME_TOKEN_WINDOW:
                self._current_token = secrets.token_hex(24).upper()
                current = self._tokens[self._current_token] = _Token(now)
            expires_in = int(TOKEN_TTL - (now - current.issued_at))
            if oauth:
                return Response(200, {
                    "errorCode": 0, "errorMessage": "success", "accessToken": self._current_token,
                    "ea": self.ea, "appId": self.app_id, "openUserId": self.corp_id,
                    "expiresIn": expires_in,
                })  # fmt: skip
            return Response(200, {
                "errorCode": 0, "errorMessage": "OK", "corpAccessToken": self._current_token,
                "corpId": self.corp_id, "expiresIn": expires_in,
            })  # fmt: skip

    # -- operations ----------------------------------------------------------------------
    def _schema(self, name: Any) -> ObjectSchema:
        schema = self.objects.get(str(name))
        if schema is None:
            raise _Invalid(32000, f"对象不存在: {name}")
        return schema

    def _check_family(self, base: str, data: dict[str, Any]) -> None:
        """Custom objects (``…__c``) only on the custom-object paths, preset ones elsewhere."""
        values = data.get("object_data")
        name = str((values if isinstance(values, dict) else data).get("dataObjectApiName"))
        if name.endswith("__c") != (base == CUSTOM_PATH):
            family = "自定义对象" if base == CUSTOM_PATH else "预设对象"
            raise _Invalid(32000, f"该接口只适用于{family}: {name}")

    def _describe(self, name: Any) -> dict[str, Any]:
        """``crm/v2/object/describe`` (``apiName`` at the top level of the body), in the shape
        of FXiaoKe's public docs: ``data.describe.fields`` maps API names to descriptions."""
        schema = self._schema(name)
        fields = {**DESCRIBE_SYSTEM_FIELDS, **schema.fields}
        return {
            "data": {
                "describe": {
                    "api_name": name,
                    "display_name": str(name),
                    "fields": {
                        field_name: {
                            "api_name": field_name,
                            "label": field_name,
                            "type": DESCRIBE_TYPES.get(kind, kind),
                            "define_type": "custom" if field_name.endswith("__c") else "package",
                            "is_required": field_name in schema.required,
                            "is_unique": field_name in schema.unique,
                            "is_active": True,
                        }
                        for field_name, kind in fields.items()
                    },
                }
            }
        }

    def _query(self, data: dict[str, Any]) -> dict[str, Any]:
        name = data.get("dataObjectApiName")
        schema = self._schema(name)
        info = data.get("search_query_info")
        if not isinstance(info, dict):
            raise _Invalid(32000, "search_query_info为必填项")
        limit, offset = info.get("limit"), info.get("offset", 0)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise _Invalid(32000, f"limit必须在1到{MAX_LIMIT}之间")
        if not isinstance(offset, int) or offset % limit or offset > MAX_OFFSET:
            raise _Invalid(32000, "offset必须是limit的整数倍")
        rows = list(self._records[str(name)].values())
        filters = info.get("filters") or []
        if not any(f.get("field_name") == "life_status" for f in filters):
            rows = [r for r in rows if r.get("life_status") != "invalid"]
        for flt in filters:
            field_name, operator = flt.get("field_name"), flt.get("operator")
            if field_name not in schema.fields and field_name not in SYSTEM_FIELDS:
                raise _Invalid(32000, f"字段不存在: {field_name}")
            values = flt.get("field_values") or []
            rows = [r for r in rows if _matches(r.get(field_name), operator, values)]
        for order in reversed(info.get("orders") or []):
            key = order.get("fieldName")
            rows.sort(key=partial(_order_key, key), reverse=not order.get("isAsc", True))
        total = len(rows)
        chunk = rows[offset : offset + limit]
        projection = info.get("fieldProjection")
        if projection:
            chunk = [{k: r.get(k) for k in ["_id", *projection] if k in r} for r in chunk]
        return {
            "data": {
                "dataList": [dict(r) for r in chunk],
                "total": total,
                "offset": offset,
                "limit": limit,
            }
        }

    def _get(self, data: dict[str, Any]) -> dict[str, Any]:
        name = data.get("dataObjectApiName")
        self._schema(name)
        record = self._records[str(name)].get(str(data.get("objectDataId")))
        if record is None:
            raise _Invalid(32000, "数据不存在或已删除")
        return {"data": dict(record)}

    def _validated(self, schema: ObjectSchema, values: dict[str, Any]) -> dict[str, Any]:
        typed: dict[str, Any] = {}
        for name, value in values.items():
            if name in ("dataObjectApiName", "_id"):
                continue
            kind = schema.fields.get(name)
            if kind is None:
                raise _Invalid(32000, f"字段不存在: {name}")
            typed[name] = _coerce(kind, name, value)
        return typed

    def _check_unique(
        self, name: str, schema: ObjectSchema, typed: dict[str, Any], own: str | None
    ):
        for field_name in schema.unique:
            value = typed.get(field_name)
            if value in (None, ""):
                continue
            for record in self._records[name].values():
                if (
                    record.get(field_name) == value
                    and record["_id"] != own
                    and record.get("life_status") != "invalid"
                ):
                    raise _Invalid(32000, f"{field_name}: 数据重复 (与 {record['_id']})")

    def _record_write(self, body: dict[str, Any], data: dict[str, Any], path: str) -> bool:
        """Record the write's flags; True when it starts the approval flow (the default)."""
        call = WriteCall(
            path=path,
            trigger_approval_flow=body.get("triggerApprovalFlow"),
            trigger_work_flow=body.get("triggerWorkFlow"),
            skip_data_status_validate=data.get("skipDataStatusValidate"),
        )
        self.writes.append(call)
        return call.trigger_approval_flow is not False

    def _create(self, data: dict[str, Any], body: dict[str, Any], path: str) -> dict[str, Any]:
        values = data.get("object_data")
        if not isinstance(values, dict):
            raise _Invalid(32000, "object_data为必填项")
        name = str(values.get("dataObjectApiName"))
        schema = self._schema(name)
        typed = self._validated(schema, values)
        for field_name in schema.required:
            if typed.get(field_name) in (None, ""):
                raise _Invalid(32000, f"{field_name}: 必填字段不能为空")
        self._check_unique(name, schema, typed, None)
        approval = self._record_write(body, data, path)
        record_id = self.add_record(name, typed)
        if approval:
            self._records[name][record_id].update(life_status="under_review", lock_status="1")
        return {"dataId": record_id}

    def _update(self, data: dict[str, Any], body: dict[str, Any], path: str) -> dict[str, Any]:
        values = data.get("object_data")
        if not isinstance(values, dict):
            raise _Invalid(32000, "object_data为必填项")
        name = str(values.get("dataObjectApiName"))
        schema = self._schema(name)
        record_id = str(values.get("_id") or "")
        record = self._records[name].get(record_id)
        if record is None or record.get("life_status") == "invalid":
            raise _Invalid(32000, "数据不存在或已作废")
        typed = self._validated(schema, values)
        for field_name in schema.required:
            if field_name in typed and typed[field_name] in (None, ""):
                raise _Invalid(32000, f"{field_name}: 必填字段不能为空")
        self._check_unique(name, schema, typed, record_id)
        if record.get("lock_status") == "1" and data.get("skipDataStatusValidate") is not True:
            raise _Invalid(32000, "数据已锁定，不能编辑")
        approval = self._record_write(body, data, path)
        self.update_record(name, record_id, typed)
        if approval:
            record.update(life_status="in_change", lock_status="1")
        return {"dataId": record_id}


def _comparable(stored: Any, value: Any) -> Any:
    """A filter value (sent as text) in the type of the stored value."""
    if isinstance(stored, bool):
        return str(value).lower() == "true"
    if isinstance(stored, (int, float)):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return None if value is None else str(value)


def _matches(stored: Any, operator: Any, values: list[Any]) -> bool:
    if operator == "IS":
        return stored in (None, "", [])
    if operator == "ISN":
        return stored not in (None, "", [])
    first = _comparable(stored, values[0]) if values else None
    if operator == "EQ":
        return stored == first
    if operator == "N":
        return stored != first
    if operator in ("IN", "NIN"):
        found = stored in [_comparable(stored, v) for v in values]
        return found if operator == "IN" else not found
    if operator == "LIKE":
        return stored is not None and str(values[0]) in str(stored)
    if stored is None or first is None:
        return False
    if operator == "GT":
        return stored > first
    if operator == "GTE":
        return stored >= first
    if operator == "LT":
        return stored < first
    if operator == "LTE":
        return stored <= first
    raise _Invalid(32000, f"不支持的operator: {operator}")


def _coerce(kind: str, name: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "email":
        if not isinstance(value, str) or not EMAIL_RE.match(value):
            raise _Invalid(32000, f"{name}: 邮箱格式不正确")
        return value
    if kind == "currency":
        try:
            return f"{float(value):.2f}"  # currency comes back as text with two decimals
        except (TypeError, ValueError):
            raise _Invalid(32000, f"{name}: 金额格式不正确") from None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid(32000, f"{name}: 数字格式不正确")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _Invalid(32000, f"{name}: 布尔值格式不正确")
        return value
    if kind == "date":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(32000, f"{name}: 日期须为毫秒时间戳")
        return value
    if kind == "text":
        if not isinstance(value, str) or len(value) > 1000:
            raise _Invalid(32000, f"{name}: 文本格式不正确")
        return value
    return value


def _order_key(name: str, row: dict[str, Any]) -> tuple[bool, Any]:
    """Sort key of ``row`` by ``name``: numbers as numbers, the rest as text, empty last."""
    value = row.get(name)
    return value is None, value if isinstance(value, (int, float)) else str(value)
