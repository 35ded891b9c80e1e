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
  honours ``Retry-After`` (:func:`crm_sync.retry.call_with_retry`); every other error code
  maps to the exit code and the fix of :mod:`crm_sync.zoho_errors`;
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

from .errors import CrmSyncError, RemoteError, RemoteUnavailable, ValidationError
from .retry import RetryPolicy, call_with_retry, parse_retry_after
from .zoho_auth import ZohoAuth
from .zoho_credits import EDITION_CONCURRENCY, ConcurrencyLimit, CreditLedger, call_cost
from .zoho_errors import TOKEN_CODES, ErrorContext, is_record_level, zoho_error

log = logging.getLogger(__name__)

API_VERSION = "v8"
MAX_FIELDS = 50
MAX_PER_PAGE = 200
MAX_UPSERT = 100
DISCRETE_PAGINATION_LIMIT = 2000
#: Codes of a page token refused past Zoho's cap on page-token paging (e.g. 100,000 records).
PAGE_TOKEN_CAP_CODES = {"PAGINATION_LIMIT_EXCEEDED", "DISCRETE_PAGINATION_LIMIT_EXCEEDED"}


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
        """Send one API call; retries transient failures and refreshes a refused token once.

        Answers below 400 are returned; an error answer raises the error of
        :mod:`crm_sync.zoho_errors`, except a 400 to an upsert, which answers per record."""
        refreshed = False
        # The module the call concerns, for the messages: the first path segment, or the
        # ``module`` parameter of the metadata calls.
        module = str((params or {}).get("module") or path.strip("/").split("/")[0])

        def send() -> requests.Response:
            nonlocal refreshed
            while True:
                access_token, api_domain = self.auth.access()
                all_headers = {
                    "Authorization": f"Zoho-oauthtoken {access_token}",
                    **(headers or {}),
                }
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
                    raise RemoteUnavailable(
                        f"Zoho CRM unreachable ({type(exc).__name__})", code="unreachable"
                    ) from None
                self.calls[f"{method} {path}"] = self.calls.get(f"{method} {path}", 0) + 1
                if response.status_code < 400:
                    return response
                body = _error_body(response)
                code = body.get("code")
                if code in TOKEN_CODES and not refreshed:
                    # A token refresh is not a failed attempt: resend at once, once.
                    log.info("zoho access token refused (%s); refreshing once", code)
                    self.auth.invalidate(access_token)
                    refreshed = True
                    continue
                if response.status_code == 400 and path.endswith("/upsert"):
                    data = body.get("data")
                    if isinstance(data, list) and data:
                        return response  # per-record answers: the caller sorts them
                raise self._as_error(response, body, module)

        return call_with_retry(self.retry, send, what=f"zoho {method} {path}")

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
            try:
                response = self.request("GET", f"/{module}{suffix}", params=params, headers=headers)
            except CrmSyncError as exc:
                if page_token and exc.code in PAGE_TOKEN_CAP_CODES:
                    return True  # page tokens refused past Zoho's cap: continue by time
                raise
            if response.status_code in (204, 304):
                return False
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

    def create_field(self, module: str, definition: dict[str, Any]) -> str:
        """Create one custom field (``POST /settings/fields?module=``, Zoho's "Create Custom
        Fields" API); returns the new field's id. Zoho answers per field under ``fields``."""
        response = self.request(
            "POST", "/settings/fields", params={"module": module}, json={"fields": [definition]}
        )
        body = _error_body(response)
        results = body.get("fields")
        result = results[0] if isinstance(results, list) and results else {}
        if not isinstance(result, dict):
            result = {}
        if response.status_code in (200, 201) and result.get("status") == "success":
            details = result.get("details")
            return str(details.get("id") or "") if isinstance(details, dict) else ""
        if result.get("status") == "error":
            body = result  # the field's own error, not the envelope
        raise self._as_error(response, body, module)

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
            answers = [item if isinstance(item, dict) else {} for item in results]
            for answer in answers:
                code = answer.get("code")
                if answer.get("status") == "error" and not is_record_level(code):
                    # Not this record's problem (a permission, a limit): it stops the run.
                    raise self._as_error(response, answer, module)
            return answers
        raise self._as_error(response, payload, module)

    def _json_or_raise(self, response: requests.Response, module: str) -> dict[str, Any]:
        body = _error_body(response)
        if response.status_code >= 400 or body.get("status") == "error":
            raise self._as_error(response, body, module)
        return body

    def _as_error(
        self, response: requests.Response, body: dict[str, Any], module: str
    ) -> CrmSyncError:
        """The error of :mod:`crm_sync.zoho_errors` for this answer, naming the fix."""
        details = body.get("details")
        return zoho_error(
            str(body["code"]) if body.get("code") else None,
            status=response.status_code,
            message=str(body.get("message") or response.reason or ""),
            details=details if isinstance(details, dict) else None,
            context=ErrorContext(
                module=module,
                setting=self.module_settings.get(module, "the module setting"),
                client_id=self.auth.client_id,
                token_env=self.auth.refresh_token_env,
            ),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


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
