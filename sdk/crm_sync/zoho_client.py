"""Zoho CRM v8 REST client: records, deleted records and upsert, with retries.

Rules of the API this client keeps (see Zoho's v8 OpenAPI and API limits):
- ``fields`` is required and takes at most 50 API names;
- ``per_page`` is at most 200, and beyond 2,000 records only ``page_token`` pages further;
  where a ``page_token`` is refused past a cap (``PAGINATION_LIMIT_EXCEEDED``) or none is
  given, reading continues in a new window from the last modification time read (see
  :meth:`ZohoClient._paginate`);
- ``If-Modified-Since`` restricts a read to changed records (HTTP 304 when there are none);
- upsert takes at most 100 records and answers per record (HTTP 200/201/207/400);
- 401 ``INVALID_TOKEN`` is answered by one refresh; 429 and 5xx by backoff with jitter that
  honours ``Retry-After``;
- every call is charged its API credits before it is sent and waits for a free slot under the
  edition's concurrency limit (:mod:`crm_sync.zoho_credits`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from .errors import (
    AuthError,
    ConfigError,
    CrmSyncError,
    RateLimited,
    RemoteError,
    RemoteUnavailable,
    ValidationError,
)
from .retry import RetryPolicy, parse_retry_after
from .zoho_auth import ZohoAuth
from .zoho_credits import EDITION_CONCURRENCY, ConcurrencyLimit, CreditLedger, call_cost

log = logging.getLogger(__name__)

API_VERSION = "v8"
MAX_FIELDS = 50
MAX_PER_PAGE = 200
MAX_UPSERT = 100
DISCRETE_PAGINATION_LIMIT = 2000
#: Codes of a page token refused past Zoho's cap on page-token paging (e.g. 100,000 records).
PAGE_TOKEN_CAP_CODES = {"PAGINATION_LIMIT_EXCEEDED", "DISCRETE_PAGINATION_LIMIT_EXCEEDED"}
TOKEN_ERRORS = {"INVALID_TOKEN", "AUTHENTICATION_FAILURE", "INVALID_OAUTHTOKEN"}


def zoho_time(value: dt.datetime) -> str:
    """Zoho's ISO 8601 form with an explicit offset, to the second."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat(timespec="seconds")


class ZohoClient:
    def __init__(
        self,
        auth: ZohoAuth,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        credits: CreditLedger | None = None,
        concurrency: int = EDITION_CONCURRENCY["standard"],
    ) -> None:
        self.auth = auth
        self._session = session or requests.Session()
        self._timeout = timeout
        self.retry = retry or RetryPolicy()
        self.credits = credits or CreditLedger()
        self.concurrency = ConcurrencyLimit(f"{auth.accounts_url} {auth.client_id}", concurrency)
        self.calls: dict[str, int] = {}
        #: The configuration setting that names each module, for messages (``crm.…_module``).
        self.module_settings: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"ZohoClient(auth={self.auth!r})"

    def close(self) -> None:
        self._session.close()

    # -- transport -----------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Send one API call; retries transient failures and refreshes a refused token once."""
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            access_token, api_domain = self.auth.access()
            all_headers = {"Authorization": f"Zoho-oauthtoken {access_token}", **(headers or {})}
            self.credits.charge(call_cost(method, path, json))  # a spent budget stops here
            try:
                with self.concurrency.slot():
                    response = self._session.request(
                        method,
                        f"{api_domain}/crm/{API_VERSION}{path}",
                        params=params,
                        json=json,
                        headers=all_headers,
                        timeout=self._timeout,
                    )
            except (requests.ConnectionError, requests.Timeout) as exc:
                self._wait_or_raise(
                    attempt,
                    None,
                    RemoteUnavailable(
                        f"Zoho CRM unreachable ({type(exc).__name__})", code="unreachable"
                    ),
                )
                continue
            self.calls[f"{method} {path}"] = self.calls.get(f"{method} {path}", 0) + 1
            status = response.status_code
            if status == 401:
                code = _error_body(response).get("code")
                if code in TOKEN_ERRORS and not refreshed:
                    log.info("zoho access token refused (%s); refreshing once", code)
                    self.auth.invalidate(access_token)
                    refreshed = True
                    attempt -= 1  # a token refresh is not a failed attempt
                    continue
                raise AuthError(f"Zoho CRM refused the access token ({code})", code=code)
            if status == 429 or status >= 500:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                error: RemoteError
                if status == 429:
                    error = RateLimited(
                        "Zoho CRM rate limit persisted",
                        code="TOO_MANY_REQUESTS",
                        retry_after=retry_after,
                    )
                else:
                    error = RemoteUnavailable(
                        f"Zoho CRM server error persisted (HTTP {status})", status=status
                    )
                self._wait_or_raise(attempt, retry_after, error)
                continue
            return response

    def _wait_or_raise(self, attempt: int, retry_after: float | None, error: RemoteError) -> None:
        if attempt >= self.retry.max_attempts:
            raise error
        delay = self.retry.delay(attempt, retry_after)
        log.warning(
            "zoho call failed (%s); retry %d/%d in %.2fs",
            error.code or error.status,
            attempt,
            self.retry.max_attempts - 1,
            delay,
        )
        self.retry.sleep(delay)

    # -- reads ---------------------------------------------------------------------------
    def iter_records(
        self,
        module: str,
        fields: Sequence[str],
        *,
        since: dt.datetime | None = None,
        per_page: int = MAX_PER_PAGE,
        sort_by: str = "Modified_Time",
        sort_order: str = "asc",
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of raw records, however many (see :meth:`_paginate`)."""
        if not fields:
            raise ValidationError("at least one field is required", field="fields")
        if len(fields) > MAX_FIELDS:
            raise ValidationError(
                f"Zoho accepts at most {MAX_FIELDS} fields per call, got {len(fields)}",
                field="fields",
                code="too_many_fields",
            )
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValidationError(f"per_page must be 1..{MAX_PER_PAGE}", field="per_page")
        base = {
            "fields": ",".join(fields),
            "per_page": per_page,
            "sort_by": sort_by,
            "sort_order": sort_order,
        }
        # Windows by modification time are only sound when the answer is in that order.
        windows = sort_by == "Modified_Time" and sort_order == "asc"
        yield from self._paginate(module, "", base, since, "Modified_Time", windows=windows)

    def iter_deleted(
        self, module: str, *, since: dt.datetime | None = None, kind: str = "all"
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of deleted records (oldest deletion first), beyond 2,000 as well."""
        params = {"type": kind, "per_page": MAX_PER_PAGE}
        yield from self._paginate(module, "/deleted", params, since, "deleted_time", windows=True)

    def _paginate(
        self,
        module: str,
        suffix: str,
        base: dict[str, Any],
        since: dt.datetime | None,
        time_key: str,
        *,
        windows: bool,
    ) -> Iterator[list[dict[str, Any]]]:
        """Every record changed after ``since``, page by page, however many there are.

        Zoho serves the first 2,000 records by page number, further ones by ``page_token``,
        and refuses page tokens past a cap (``PAGINATION_LIMIT_EXCEEDED``, 100,000 records on
        some v8 list endpoints). Where paging stops short like that, a new *window* starts:
        the same read with ``If-Modified-Since`` one second before the newest modification
        time read so far (times are to the second, so this reads that second again) and the
        records of that second already read are dropped by id. Only the ids of the newest
        second are kept, so memory stays flat whatever the size of the account.
        """
        boundary = _Boundary()
        window_since = since
        while True:
            newest_before = boundary.stamp
            more = yield from self._window(
                module,
                suffix,
                base,
                window_since,
                time_key,
                boundary,
                again=newest_before is not None,
            )
            if not more:
                return
            if not windows:
                raise RemoteError(
                    f"Zoho CRM stopped paging {module}{suffix} and the read is not in "
                    "modification-time order to continue by time",
                    code="PAGINATION_LIMIT_EXCEEDED",
                )
            if boundary.stamp is None or boundary.stamp == newest_before:
                raise RemoteError(
                    f"Zoho CRM stopped paging {module}{suffix} within records that all carry "
                    f"{time_key} {boundary.stamp}: more of them than one read can page through",
                    code="PAGINATION_STALLED",
                )
            log.info(
                "zoho paging of %s%s continues from %s %s", module, suffix, time_key, boundary.stamp
            )
            window_since = boundary.stamp - dt.timedelta(seconds=1)

    def _window(
        self,
        module: str,
        suffix: str,
        base: dict[str, Any],
        since: dt.datetime | None,
        time_key: str,
        boundary: _Boundary,
        *,
        again: bool,
    ) -> Generator[list[dict[str, Any]], None, bool]:
        """One read from ``since``: page numbers, then page tokens. Returns whether Zoho has
        more records than it let this read page through. ``again``: a window after the first,
        whose records up to ``boundary`` were read before and are dropped."""
        headers = {"If-Modified-Since": zoho_time(since)} if since else None
        per_page = int(base["per_page"])
        page = 1
        page_token: str | None = None
        while True:
            params = dict(base)
            if page_token:
                params["page_token"] = page_token
            else:
                params["page"] = page
            response = self.request("GET", f"/{module}{suffix}", params=params, headers=headers)
            if response.status_code in (204, 304):
                return False
            refused = page_token and response.status_code == 400
            if refused and _error_body(response).get("code") in PAGE_TOKEN_CAP_CODES:
                return True
            body = self._json_or_raise(response, module)
            data = [record for record in body.get("data") or [] if isinstance(record, dict)]
            yield [record for record in data if boundary.admit(record, time_key, again=again)]
            info = body.get("info") or {}
            if not info.get("more_records"):
                return False
            if page_token or page * per_page >= DISCRETE_PAGINATION_LIMIT:
                page_token = info.get("next_page_token")
                if not page_token:
                    return True  # no token to page past 2,000: continue by time
            else:
                page += 1

    def fields(self, module: str) -> list[dict[str, Any]]:
        """The module's field metadata (``GET /settings/fields?module=``): one call, each
        field with ``api_name``, ``data_type`` … as Zoho documents them."""
        response = self.request("GET", "/settings/fields", params={"module": module})
        if response.status_code == 204:
            return []
        body = self._json_or_raise(response, module)
        return [item for item in body.get("fields") or [] if isinstance(item, dict)]

    # -- writes --------------------------------------------------------------------------
    def upsert(
        self,
        module: str,
        records: Sequence[dict[str, Any]],
        *,
        duplicate_check_fields: Sequence[str],
        trigger: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Upsert up to 100 records; returns Zoho's per-record result list, in order."""
        if not records:
            return []
        if len(records) > MAX_UPSERT:
            raise ValidationError(
                f"Zoho upserts at most {MAX_UPSERT} records per call, got {len(records)}",
                field="data",
                code="too_many_records",
            )
        body = {
            "data": list(records),
            "duplicate_check_fields": list(duplicate_check_fields),
            "trigger": list(trigger),
        }
        response = self.request("POST", f"/{module}/upsert", json=body)
        payload = _error_body(response)
        results = payload.get("data")
        if response.status_code in (200, 201, 207, 400) and isinstance(results, list):
            if len(results) != len(records):
                raise RemoteError(
                    f"upsert answered {len(results)} results for {len(records)} records",
                    code="RESULT_MISMATCH",
                    status=response.status_code,
                )
            return [item if isinstance(item, dict) else {} for item in results]
        raise self._as_error(response, payload, module)

    def _json_or_raise(self, response: requests.Response, module: str) -> dict[str, Any]:
        body = _error_body(response)
        if response.status_code >= 400 or body.get("status") == "error":
            raise self._as_error(response, body, module)
        return body

    def _as_error(
        self, response: requests.Response, body: dict[str, Any], module: str
    ) -> CrmSyncError:
        if body.get("code") == "INVALID_MODULE":
            # Zoho's answer to a module name it does not know: a setting to fix, not a retry.
            setting = self.module_settings.get(module, "the module setting")
            return ConfigError(
                f"Zoho CRM has no module {module!r} (INVALID_MODULE): set {setting} to the "
                "module's API name (Zoho: Setup > Developer Hub > APIs > API names)",
                code="INVALID_MODULE",
            )
        return _as_error(response, body)


@dataclass
class _Boundary:
    """The newest modification time read so far and the ids read with exactly that time."""

    stamp: dt.datetime | None = None
    ids: set[str] = field(default_factory=set)

    def admit(self, record: dict[str, Any], time_key: str, *, again: bool) -> bool:
        """Whether ``record`` is new to this read; moves the boundary past it."""
        stamp = _stamp(record.get(time_key))
        if stamp is None:
            return True  # cannot be placed in time: passed on (the engine quarantines it)
        record_id = str(record.get("id", ""))
        if again and self.stamp is not None:
            if stamp < self.stamp or (stamp == self.stamp and record_id in self.ids):
                return False  # read in an earlier window
        if self.stamp is None or stamp > self.stamp:
            self.stamp, self.ids = stamp, {record_id}
        elif stamp == self.stamp:
            self.ids.add(record_id)
        return True


def _stamp(value: Any) -> dt.datetime | None:
    try:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)


def _error_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _as_error(response: requests.Response, body: dict[str, Any]) -> RemoteError:
    code = str(body.get("code") or f"HTTP_{response.status_code}")
    message = str(body.get("message") or response.reason or "error")
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    return RemoteError(
        f"Zoho CRM error {code}: {message}", code=code, status=response.status_code, details=details
    )
