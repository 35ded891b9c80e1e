"""Zoho OAuth2: the refresh-token flow, token persistence and the refresh budget.

Zoho issues at most 10 access tokens per refresh token in 10 minutes and answers some errors
with HTTP 200 (``{"error": "invalid_code"}``), so the body is always inspected. Tokens are
persisted through a :class:`TokenStore` so that runs started every few minutes reuse the same
access token for its whole hour instead of burning the refresh budget.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests
from pydantic import SecretStr

from .errors import AuthError, LimitReached, RateLimited, RemoteUnavailable
from .redaction import register_secret
from .retry import RetryPolicy, call_with_retry, parse_retry_after
from .state import StateStore
from .zoho_scopes import parse_scopes

REFRESH_LIMIT = 10
REFRESH_WINDOW_SECONDS = 600.0
EXPIRY_MARGIN_SECONDS = 60.0
THROTTLE_MARKER = "too many requests"  # in error_description of the throttle answer


class TokenStore(Protocol):
    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, token: dict[str, Any]) -> None: ...


class MemoryTokenStore:
    def __init__(self) -> None:
        self._tokens: dict[str, dict[str, Any]] = {}

    def load(self, key: str) -> dict[str, Any] | None:
        return self._tokens.get(key)

    def save(self, key: str, token: dict[str, Any]) -> None:
        self._tokens[key] = dict(token)


class StateTokenStore:
    """Keeps the token in the sync state store (key ``token:<hash>``)."""

    def __init__(self, state: StateStore) -> None:
        self._state = state

    def load(self, key: str) -> dict[str, Any] | None:
        raw = self._state.get_value(f"token:{key}")
        return json.loads(raw) if raw else None

    def save(self, key: str, token: dict[str, Any]) -> None:
        with self._state.transaction() as txn:
            txn.set_value(f"token:{key}", json.dumps(token))


def token_key(*parts: str) -> str:
    """A cache key from ``parts`` (secrets among them) that reveals none of them."""
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


class ZohoAuth:
    """Hands out a valid access token and the API domain it belongs to."""

    def __init__(
        self,
        *,
        accounts_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        refresh_token_env: str = "the refresh token variable",  # noqa: S107 (a variable name)
        client_secret_env: str = "the client secret variable",  # noqa: S107 (a variable name)
        store: TokenStore | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.accounts_url = accounts_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._refresh_token_env = refresh_token_env
        self._client_secret_env = client_secret_env
        register_secret(client_secret.get_secret_value())
        register_secret(refresh_token.get_secret_value())
        self._store = store or MemoryTokenStore()
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._lock = threading.Lock()
        # The key ties a cached token to its data centre, client and credentials: a token from
        # another data centre, or issued for another refresh token, is never reused (a changed
        # refresh token is proven at once). Only a digest of the secrets goes into the key.
        self._key = token_key(
            self.accounts_url,
            client_id,
            client_secret.get_secret_value(),
            refresh_token.get_secret_value(),
        )
        self._token: dict[str, Any] | None = None
        #: Whether ``verify`` proved the credentials in this process (``check`` needs it once).
        self.verified = False

    def __repr__(self) -> str:
        return f"ZohoAuth(accounts_url={self.accounts_url!r}, client_id={self.client_id!r})"

    @property
    def refresh_token_env(self) -> str:
        """The variable that holds the refresh token (named in messages, never its value)."""
        return self._refresh_token_env

    def _cached(self) -> dict[str, Any]:
        if self._token is None:
            self._token = self._store.load(self._key) or {"refreshes": []}
        return self._token

    def access(self) -> tuple[str, str]:
        """``(access_token, api_domain)``, refreshing when the cached token is (nearly) expired."""
        with self._lock:
            token = self._cached()
            if token.get("access_token") and token.get("expires_at", 0) > (
                self._clock() + EXPIRY_MARGIN_SECONDS
            ):
                register_secret(token["access_token"])
                return token["access_token"], token["api_domain"]
            return self._refresh(token)

    def verify(self) -> str:
        """Refresh now, proving the client secret and refresh token; returns the API domain.

        Uses one refresh of the budget, so it is meant for ``crm-sync check``, not for runs.
        """
        with self._lock:
            domain = self._refresh(self._cached())[1]
            self.verified = True
            return domain

    def granted_scopes(self, *, fresh: bool = False) -> frozenset[str] | None:
        """The scopes of the current token as the token endpoint listed them; ``None`` when
        the endpoint did not list them. ``fresh`` refreshes first (``verify``), otherwise
        the cached token's answer serves while it is valid."""
        if fresh:
            self.verify()
        else:
            self.access()
        with self._lock:
            return parse_scopes(self._cached().get("scope"))

    def invalidate(self, access_token: str) -> None:
        """Forget ``access_token`` after the API refused it (only if it is still current)."""
        with self._lock:
            token = self._cached()
            if token.get("access_token") == access_token:
                token["expires_at"] = 0

    def _refusal(self, error: Any) -> str:
        """What the token endpoint's ``error`` means and how to fix it."""
        if error == "invalid_code":
            return (
                "Zoho refused the refresh token (invalid_code: wrong, revoked or from another "
                "data centre): generate a new one in the Zoho API console for client "
                f"{self.client_id} and set it in {self._refresh_token_env}"
            )
        if error in ("invalid_client", "invalid_client_secret"):
            return (
                f"Zoho refused the client ({error}): check crm.client_id ({self.client_id}), "
                f"the client secret in {self._client_secret_env} and crm.data_centre"
            )
        return f"Zoho refused the refresh token: {error or 'no access token'}"

    def _refresh(self, token: dict[str, Any]) -> tuple[str, str]:
        """Refresh, waiting out Zoho's throttle answer with the retry policy (then exit 4).

        Other failures are left to the caller's retry loop, so no call is retried twice over.
        """
        try:
            return call_with_retry(
                self._retry,
                lambda: self._refresh_once(token),
                lambda error: error.code == "token_throttled",
                what="zoho token refresh",
            )
        except RateLimited as exc:
            if isinstance(exc, LimitReached):
                raise
            raise LimitReached(exc.message, code=exc.code) from None

    def _refresh_once(self, token: dict[str, Any]) -> tuple[str, str]:
        now = self._clock()
        recent = [
            stamp for stamp in token.get("refreshes", []) if now - stamp < REFRESH_WINDOW_SECONDS
        ]
        if len(recent) >= REFRESH_LIMIT:
            wait = REFRESH_WINDOW_SECONDS - (now - min(recent))
            raise LimitReached(
                "Zoho's token refresh budget is spent (10 per 10 minutes for a refresh token): "
                f"run again in {wait:.0f} s; if it recurs, give each integration its own "
                "refresh token",
                code="token_refresh_budget",
                retry_after=wait,
            )
        recent.append(now)
        token["refreshes"] = recent
        self._store.save(self._key, token)  # count the attempt even if the process dies now
        try:
            response = self._session.post(
                f"{self.accounts_url}/oauth/v2/token",
                data={
                    "refresh_token": self._refresh_token.get_secret_value(),
                    "client_id": self.client_id,
                    "client_secret": self._client_secret.get_secret_value(),
                    "grant_type": "refresh_token",
                },
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise RemoteUnavailable(
                f"Zoho accounts server unreachable ({type(exc).__name__})", code="unreachable"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        error = body.get("error")
        if error or response.status_code >= 400 or "access_token" not in body:
            described = f"{error or ''} {body.get('error_description', '')}".lower()
            if THROTTLE_MARKER in described or response.status_code == 429:
                # Zoho's answer to refreshing too often: HTTP 400, ``error: Access Denied``,
                # "You have made too many requests continuously. Please try again after some
                # time." It names no wait: the policy's backoff spaces the retries.
                raise RateLimited(
                    "Zoho's accounts server kept refusing the token refresh as too many "
                    "requests: run crm-sync less often, and give each integration its own "
                    f"refresh token for client {self.client_id}",
                    code="token_throttled",
                    status=response.status_code,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code >= 500:
                raise RemoteUnavailable(
                    f"Zoho accounts server error (HTTP {response.status_code})",
                    status=response.status_code,
                )
            # Only the error code goes into the message: the body may echo request values.
            raise AuthError(self._refusal(error), code=str(error or "invalid_response"))
        access_token = str(body["access_token"])
        register_secret(access_token)
        token.update(
            access_token=access_token,
            api_domain=str(body.get("api_domain", "")).rstrip("/"),
            expires_at=now + float(body.get("expires_in", 3600)),
            # The scopes the refresh token grants, when the answer says (None otherwise).
            scope=str(body["scope"]) if body.get("scope") else None,
        )
        self._store.save(self._key, token)
        return access_token, token["api_domain"]
