"""FXiaoKe (纷享销客) open-API client: ``crm/v2/data/{query,get,create,update}`` with retries.

Rules of the API this client keeps (from the published open-API documentation):
- every call is ``POST <base>/cgi/<path>?thirdTraceId=<uuid4>`` with a JSON body carrying the
  call's ``data``; the token travels as the headers ``authorization: Bearer``, ``x-fs-ea`` and
  ``x-fs-userid`` (``oauth`` scheme; an openUserId ``FSUID_…`` is sent with
  ``convertUserId: true``) or, in the older scheme, as ``corpAccessToken``, ``corpId`` and
  ``currentOpenUserId`` at the top level of the body;
- each interface takes at most 100 calls in 20 s (页面「频率限制」): a :class:`Pacer` is asked
  before each send, and a :class:`DailyBudget` caps the calls of a day;
- errors come back with HTTP 200 and a non-zero ``errorCode`` in the body: 20016 (token
  missing or expired) is answered by one token renewal, rate-limit codes by backoff
  (:func:`crm_sync.retry.call_with_retry`), the daily quota code fails the run at once
  (retrying today will not help), all with exit 4;
- ``query`` takes ``search_query_info`` with ``filters`` (``field_name``, ``operator``,
  ``field_values``), ``orders`` and ``limit`` ≤ 100 with ``offset`` a multiple of ``limit``.
  Paging re-filters from the last modification time seen instead of growing the offset, so a
  record changed while a read is under way is read again later, never skipped, and offsets
  stay small;
- preset objects use ``crm/v2/data/*``, custom objects (API name ending in ``__c``) the
  custom-object paths ``crm/custom/v2/data/*``;
- ``create``/``update`` send ``triggerApprovalFlow`` (the API defaults it to true: every write
  would start the object's approval flow and lock the record) and ``triggerWorkFlow`` as false
  (approval flows can be switched back on in the settings); custom-object updates also send
  ``skipDataStatusValidate``.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import requests

from .errors import (
    AuthError,
    CrmSyncError,
    DailyLimitExceeded,
    RateLimited,
    RemoteError,
    RemoteUnavailable,
    ValidationError,
)
from .fxiaoke_auth import FxiaokeAuth
from .pacing import DailyBudget, Pacer
from .redaction import redact
from .retry import RetryPolicy, call_with_retry, parse_retry_after

log = logging.getLogger(__name__)

MAX_LIMIT = 100
ID_FIELD = "_id"
MODIFIED_FIELD = "last_modified_time"
PRESET_DATA_PATH = "crm/v2/data"
CUSTOM_DATA_PATH = "crm/custom/v2/data"
AUTH_CODES = {20005, 20006, 20012, 20015, 20017, 20020, 20021, 20022, 30003}
# Documented per-interface limit: 100 calls in 20 s.
RATE_LIMIT_CALLS = 100
RATE_LIMIT_WINDOW_SECONDS = 20.0


class FxiaokeApiError(RemoteError):
    """The API refused one call (``errorCode`` ≠ 0, not transient, not a token problem)."""


class FxiaokeClient:
    def __init__(
        self,
        auth: FxiaokeAuth,
        *,
        open_user_id: str,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        token_codes: Iterable[int] = (20016,),
        rate_limit_codes: Iterable[int] = (14001, 30004),
        quota_codes: Iterable[int] = (30002,),
        transient_codes: Iterable[int] = (-1, 50009),
        trigger_approval_flow: bool = False,
        skip_data_status_validate: bool = False,
        pacer: Pacer | None = None,
        budget: DailyBudget | None = None,
    ) -> None:
        self.auth = auth
        self.open_user_id = open_user_id
        self._session = session or requests.Session()
        self._timeout = timeout
        self.retry = retry or RetryPolicy()
        self.token_codes = set(token_codes)
        self.rate_limit_codes = set(rate_limit_codes)
        self.quota_codes = set(quota_codes)
        self.transient_codes = set(transient_codes)
        self.trigger_approval_flow = trigger_approval_flow
        self.skip_data_status_validate = skip_data_status_validate
        self.pacer = pacer or Pacer(
            RATE_LIMIT_CALLS, RATE_LIMIT_WINDOW_SECONDS, sleep=self.retry.sleep
        )
        self.budget = budget
        self.calls: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"FxiaokeClient(auth={self.auth!r}, open_user_id={self.open_user_id!r})"

    def close(self) -> None:
        self._session.close()

    # -- transport -----------------------------------------------------------------------
    def call(self, path: str, data: dict[str, Any] | None, **options: Any) -> dict[str, Any]:
        """One API call; returns the body (``errorCode`` 0) or raises. ``data=None`` for the
        calls whose parameters are all top-level (``object/describe``)."""
        renewed = False

        def send() -> dict[str, Any]:
            nonlocal renewed
            while True:
                self.pacer.acquire(path)  # first: a wait must not age the token about to be sent
                access_token, tenant = self.auth.access()
                headers, body = self._envelope(access_token, tenant)
                body.update(options)
                if data is not None:
                    body["data"] = data
                if self.budget is not None:
                    self.budget.spend()
                self.calls[path] += 1
                try:
                    response = self._session.post(
                        f"{self.auth.base_url}/cgi/{path}",
                        params={"thirdTraceId": str(uuid.uuid4())},
                        json=body,
                        headers=headers,
                        timeout=self._timeout,
                    )
                except (requests.ConnectionError, requests.Timeout) as exc:
                    raise RemoteUnavailable(
                        f"FXiaoKe unreachable ({type(exc).__name__})", code="unreachable"
                    ) from None
                payload = _json(response)
                code = payload.get("errorCode")
                if code in self.token_codes and not renewed:
                    # A renewal is not a failed attempt: resend at once, once.
                    log.info("fxiaoke token refused (%s); renewing once", code)
                    self.auth.invalidate(access_token)
                    renewed = True
                    continue
                if code == 0 and response.status_code < 400:
                    return payload
                raise self._error(response, payload)

        return call_with_retry(self.retry, send, what=f"fxiaoke {path}")

    def _envelope(self, access_token: str, tenant: str) -> tuple[dict[str, str], dict[str, Any]]:
        """The headers and top-level body keys that carry the token in the auth scheme."""
        if self.auth.scheme == "oauth":
            headers = {
                "authorization": f"Bearer {access_token}",
                "x-fs-ea": tenant,
                "x-fs-userid": self.open_user_id,
            }
            # An openUserId (FSUID_…) instead of a CRM employee id needs convertUserId.
            body: dict[str, Any] = (
                {"convertUserId": True} if self.open_user_id.startswith("FSUID_") else {}
            )
            return headers, body
        return {}, {
            "corpAccessToken": access_token,
            "corpId": tenant,
            "currentOpenUserId": self.open_user_id,
        }

    def _error(self, response: requests.Response, payload: dict[str, Any]) -> CrmSyncError:
        """The error an answer stands for: token 3, quota and rate limits 4, the rest 5."""
        status = response.status_code
        code = payload.get("errorCode")
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429:
                return RateLimited(
                    "FXiaoKe kept throttling the calls (HTTP 429) after the retries: run "
                    "crm-sync alone or less often",
                    retry_after=retry_after,
                )
            return RemoteUnavailable(
                f"FXiaoKe server error (HTTP {status}) after the retries: run again later",
                status=status,
                retry_after=retry_after,
            )
        if code in self.token_codes or code in AUTH_CODES:
            return AuthError(
                f"FXiaoKe refused the credentials (errorCode {code}): check crm.app_id, the "
                "variables crm.app_secret_env and crm.permanent_code_env name, and that the app "
                "is still authorised for the tenant (FXiaoKe open platform)",
                code=f"{code}",
            )
        if code in self.quota_codes:
            return DailyLimitExceeded(
                f"FXiaoKe's daily API quota is spent (errorCode {code}): the run stopped with its "
                "cursors saved and resumes after the quota resets; ask FXiaoKe for a larger "
                "quota if it recurs",
                code=str(code),
            )
        if code in self.rate_limit_codes:
            return RateLimited(
                f"FXiaoKe kept refusing calls as too frequent (errorCode {code}) after the "
                "retries: run crm-sync alone or less often",
                code=str(code),
                status=None,
            )
        if code in self.transient_codes or status >= 400 and code is None:
            return RemoteUnavailable(
                f"FXiaoKe stayed busy (errorCode {code}) after the retries: run again later",
                code=str(code),
                status=status,
            )
        message = redact(str(payload.get("errorMessage") or ""))[:300]
        return FxiaokeApiError(
            f"FXiaoKe errorCode {code}: {message}",
            code=f"FXIAOKE_{code}",
            status=status,
            details={"errorCode": code, "traceId": payload.get("traceId")},
        )

    # -- data ----------------------------------------------------------------------------
    def query(
        self,
        object_api_name: str,
        *,
        filters: Sequence[dict[str, Any]] = (),
        orders: Sequence[dict[str, Any]] = (),
        fields: Sequence[str] = (),
        limit: int = MAX_LIMIT,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be 1..{MAX_LIMIT}", field="limit")
        if offset % limit:
            raise ValidationError("offset must be a multiple of limit", field="offset")
        data: dict[str, Any] = {
            "dataObjectApiName": object_api_name,
            "find_explicit_total_num": False,
            "search_query_info": {
                "limit": limit,
                "offset": offset,
                "filters": list(filters),
                "orders": list(orders),
            },
        }
        if fields:
            data["search_query_info"]["fieldProjection"] = list(fields)
        body = self.call(data_path(object_api_name, "query"), data)
        result = found if isinstance(found := body.get("data"), dict) else {}
        rows = result.get("dataList") or []
        return [row for row in rows if isinstance(row, dict)]

    def iter_changed(
        self,
        object_api_name: str,
        *,
        since_ms: int | None,
        fields: Sequence[str],
        filters: Sequence[dict[str, Any]] = (),
        limit: int = MAX_LIMIT,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of records modified after ``since_ms``, oldest first.

        Each page re-filters ``last_modified_time >= <newest time seen>`` and drops the records
        already returned at exactly that time; the offset only grows while a whole page shares
        one time stamp.
        """
        lower, inclusive, offset = since_ms, False, 0
        seen_at_lower: set[str] = set()
        orders = [
            {"fieldName": MODIFIED_FIELD, "isAsc": True},
            {"fieldName": ID_FIELD, "isAsc": True},
        ]
        projection = list(dict.fromkeys([ID_FIELD, MODIFIED_FIELD, *fields]))
        while True:
            window = list(filters)
            if lower is not None:
                operator = "GTE" if inclusive else "GT"
                window.append(
                    {
                        "field_name": MODIFIED_FIELD,
                        "operator": operator,
                        "field_values": [str(lower)],
                    }
                )
            rows = self.query(
                object_api_name,
                filters=window,
                orders=orders,
                fields=projection,
                limit=limit,
                offset=offset,
            )
            fresh = [row for row in rows if str(row.get(ID_FIELD)) not in seen_at_lower]
            if fresh:
                yield fresh
            if len(rows) < limit:
                return
            stamps = [s for s in (row.get(MODIFIED_FIELD) for row in rows) if isinstance(s, int)]
            top = max(stamps) if stamps else None
            if top is None or top == lower:
                offset += limit  # a whole page at one time stamp: step over it
                seen_at_lower |= {str(row.get(ID_FIELD)) for row in rows}
                continue
            lower, inclusive, offset = top, True, 0
            seen_at_lower = {str(r.get(ID_FIELD)) for r in rows if r.get(MODIFIED_FIELD) == top}

    def describe(self, object_api_name: str) -> list[dict[str, Any]]:
        """The object's fields, each with ``api_name`` and ``type`` (``text``, ``currency``,
        ``object_reference`` …): one ``crm/v2/object/describe`` call, per FXiaoKe's public docs
        (``apiName`` and ``includeDetail`` at the top level of the body; the answer's
        ``data.describe.fields`` maps each API name to its description)."""
        body = self.call(
            "crm/v2/object/describe", None, apiName=object_api_name, includeDetail=True
        )
        data = found if isinstance(found := body.get("data"), dict) else {}
        describe = found if isinstance(found := data.get("describe"), dict) else {}
        fields = describe.get("fields") or {}
        items = fields.values() if isinstance(fields, dict) else fields
        return [item for item in items if isinstance(item, dict)]

    def get(self, object_api_name: str, object_id: str) -> dict[str, Any]:
        body = self.call(
            data_path(object_api_name, "get"),
            {"dataObjectApiName": object_api_name, "objectDataId": object_id},
        )
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def _write_options(self) -> dict[str, Any]:
        return {
            "triggerApprovalFlow": self.trigger_approval_flow,
            "triggerWorkFlow": False,
        }

    def create(self, object_api_name: str, values: dict[str, Any]) -> str:
        body = self.call(
            data_path(object_api_name, "create"),
            {"object_data": {"dataObjectApiName": object_api_name, **values}},
            **self._write_options(),
        )
        return str(body.get("dataId") or "")

    def update(self, object_api_name: str, object_id: str, values: dict[str, Any]) -> str:
        data: dict[str, Any] = {
            "object_data": {"dataObjectApiName": object_api_name, ID_FIELD: object_id, **values}
        }
        if is_custom_object(object_api_name):
            data["skipDataStatusValidate"] = self.skip_data_status_validate
        body = self.call(data_path(object_api_name, "update"), data, **self._write_options())
        return str(body.get("dataId") or object_id)


def data_path(object_api_name: str, operation: str) -> str:
    """The call path of ``operation`` for an object: custom objects (``…__c``) have their own."""
    base = CUSTOM_DATA_PATH if is_custom_object(object_api_name) else PRESET_DATA_PATH
    return f"{base}/{operation}"


def is_custom_object(object_api_name: str) -> bool:
    return object_api_name.endswith("__c")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
