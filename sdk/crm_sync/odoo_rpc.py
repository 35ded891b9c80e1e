"""Odoo over JSON-RPC (``/jsonrpc``, ``execute_kw`` with an API key), for runs outside Odoo."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import requests
from pydantic import SecretStr

from .errors import AuthError, CrmSyncError, RemoteError, RemoteUnavailable, ValidationError
from .redaction import redact, register_secret
from .retry import RetryPolicy, call_with_retry, is_transient, never, parse_retry_after

log = logging.getLogger(__name__)

AUTH_ERRORS = {"odoo.exceptions.AccessDenied", "odoo.exceptions.AccessError"}
RECORD_ERRORS = {
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.MissingError",
}


class OdooJsonRpcGateway:
    """The :class:`~crm_sync.odoo_connector.OdooGateway` over HTTP JSON-RPC."""

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        api_key: SecretStr,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.login = login
        self._api_key = api_key
        register_secret(api_key.get_secret_value())
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._session = session or requests.Session()
        self._ids = itertools.count(1)
        self._uid: int | None = None

    def __repr__(self) -> str:
        return f"OdooJsonRpcGateway(url={self.url!r}, database={self.database!r})"

    def close(self) -> None:
        self._session.close()

    def _call(self, service: str, method: str, args: list[Any], *, idempotent: bool) -> Any:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(self._ids),
        }

        def send() -> Any:
            try:
                response = self._session.post(
                    f"{self.url}/jsonrpc", json=payload, timeout=self._timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise RemoteUnavailable(
                    f"Odoo unreachable ({type(exc).__name__})", code="unreachable"
                ) from None
            if response.status_code >= 500 or response.status_code == 429:
                raise RemoteUnavailable(
                    f"Odoo answered HTTP {response.status_code}",
                    status=response.status_code,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code >= 400:
                raise RemoteError(
                    f"Odoo answered HTTP {response.status_code}", status=response.status_code
                )
            try:
                body = response.json()
            except ValueError:
                raise RemoteError("Odoo answered something that is not JSON") from None
            if "error" in body:
                raise self._error(body["error"])
            return body.get("result")

        # A write whose answer was lost may have happened: never resend it blindly.
        classify = is_transient if idempotent else never
        return call_with_retry(self._retry, send, classify, what=f"odoo {service}.{method}")

    @staticmethod
    def _error(error: dict[str, Any]) -> CrmSyncError:
        data = error.get("data") or {}
        name = str(data.get("name") or "")
        message = redact(str(data.get("message") or error.get("message") or "error"))
        if name in AUTH_ERRORS:
            return AuthError(f"Odoo refused access: {message}", code=name.rsplit(".", 1)[-1])
        if name in RECORD_ERRORS:
            return ValidationError(
                f"Odoo rejected the record: {message}", code=name.rsplit(".", 1)[-1]
            )
        return RemoteError(f"Odoo error {name or error.get('code')}: {message}", code=name or None)

    @property
    def uid(self) -> int:
        if self._uid is None:
            uid = self._call(
                "common",
                "authenticate",
                [self.database, self.login, self._api_key.get_secret_value(), {}],
                idempotent=True,
            )
            if not uid:
                raise AuthError(f"Odoo refused the API key of {self.login!r}", code="AccessDenied")
            self._uid = int(uid)
        return self._uid

    def execute_kw(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        idempotent: bool = True,
    ) -> Any:
        return self._call(
            "object",
            "execute_kw",
            [self.database, self.uid, self._api_key.get_secret_value(), model, method, args,
             kwargs or {}],
            idempotent=idempotent,
        )  # fmt: skip

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        order: str | None = None,
        limit: int | None = None,
        active_test: bool = True,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": fields, "context": {"active_test": active_test}}
        if order:
            kwargs["order"] = order
        if limit:
            kwargs["limit"] = limit
        return list(self.execute_kw(model, "search_read", [domain], kwargs))

    def search(
        self, model: str, domain: list[Any], *, limit: int | None = None, active_test: bool = True
    ) -> list[int]:
        kwargs: dict[str, Any] = {"context": {"active_test": active_test}}
        if limit:
            kwargs["limit"] = limit
        return [int(rid) for rid in self.execute_kw(model, "search", [domain], kwargs)]

    def create(self, model: str, values: dict[str, Any]) -> int:
        result = self.execute_kw(model, "create", [values], idempotent=False)
        return int(result[0] if isinstance(result, list) else result)

    def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None:
        # Writing the same values twice is harmless, so a write may be retried.
        self.execute_kw(model, "write", [ids, values])

    def field_names(self, model: str) -> set[str]:
        return set(self.execute_kw(model, "fields_get", [], {"attributes": ["type"]}))

    def read_group(
        self, model: str, domain: list[Any], fields: list[str], groupby: list[str]
    ) -> list[dict[str, Any]]:
        return list(
            self.execute_kw(model, "read_group", [domain, fields, groupby], {"lazy": False})
        )
