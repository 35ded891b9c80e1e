"""FXiaoKe (纷享销客) app tokens: appId + appSecret + permanentCode → token + tenant id.

Two documented schemes (developer.fxiaoke.com/openapi_v2, pages 客户端凭证模式 and
旧版传参方式说明):

- ``oauth`` (the current one): ``POST /oauth2.0/token`` with ``grantType: app_secret`` answers
  ``accessToken``, ``ea`` (the enterprise account) and ``expiresIn``; calls then carry the
  headers ``authorization: Bearer <accessToken>``, ``x-fs-ea`` and ``x-fs-userid``;
- ``corp_access_token`` (the older one, still served): ``POST /cgi/corpAccessToken/get/V2``
  answers ``corpAccessToken`` and ``corpId``, which calls carry at the top level of the body.

Both: a token lives 7,200 s; asking again within 6,600 s of issue returns the same token, later
a new one; the endpoint takes at most 10 calls a minute and no concurrent ones. So the token is
cached (in the state store, across runs, keyed by scheme, host and a digest of the credentials)
and renewed 600 s before it expires, under a lock, with a client-side budget of 10 requests a
minute.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

import requests
from pydantic import SecretStr

from .errors import AuthError, RateLimited, RemoteUnavailable
from .redaction import register_secret
from .zoho_auth import MemoryTokenStore, TokenStore, token_key

TOKEN_PATHS = {
    "oauth": "/oauth2.0/token",
    "corp_access_token": "/cgi/corpAccessToken/get/V2",
}
# The answer's token and tenant keys, per scheme.
ANSWER_KEYS = {"oauth": ("accessToken", "ea"), "corp_access_token": ("corpAccessToken", "corpId")}
TokenScheme = Literal["oauth", "corp_access_token"]
RENEW_BEFORE_EXPIRY_SECONDS = 600.0
REQUEST_LIMIT = 10
REQUEST_WINDOW_SECONDS = 60.0
TRANSIENT_CODES = {-1, 50009}


class FxiaokeAuth:
    """Hands out a valid ``(token, tenant)``: ``(accessToken, ea)`` for the ``oauth`` scheme,
    ``(corpAccessToken, corpId)`` for ``corp_access_token``."""

    def __init__(
        self,
        *,
        base_url: str,
        app_id: str,
        app_secret: SecretStr,
        permanent_code: SecretStr,
        scheme: TokenScheme = "oauth",
        store: TokenStore | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.scheme = scheme
        self._app_secret = app_secret
        self._permanent_code = permanent_code
        register_secret(app_secret.get_secret_value())
        register_secret(permanent_code.get_secret_value())
        self._store = store or MemoryTokenStore()
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        # Keyed by the credentials too (as a digest): changed credentials are proven at once.
        self._key = token_key(
            "fxiaoke",
            scheme,
            self.base_url,
            app_id,
            app_secret.get_secret_value(),
            permanent_code.get_secret_value(),
        )
        self._token: dict[str, Any] | None = None
        self.requests = 0

    def __repr__(self) -> str:
        return (
            f"FxiaokeAuth(base_url={self.base_url!r}, app_id={self.app_id!r}, "
            f"scheme={self.scheme!r})"
        )

    def _cached(self) -> dict[str, Any]:
        if self._token is None:
            self._token = self._store.load(self._key) or {"requests": []}
        return self._token

    def access(self) -> tuple[str, str]:
        """``(token, tenant)``, renewed when less than 600 s of validity remain."""
        with self._lock:
            token = self._cached()
            if token.get("access_token") and token.get("renew_at", 0) > self._clock():
                register_secret(token["access_token"])
                return token["access_token"], token["tenant"]
            return self._request(token)

    def verify(self) -> str:
        """Request a token now, proving the credentials; returns the tenant (ea or corpId)."""
        with self._lock:
            return self._request(self._cached())[1]

    def invalidate(self, access_token: str) -> None:
        """Forget a token the API refused (only if it is still the current one)."""
        with self._lock:
            token = self._cached()
            if token.get("access_token") == access_token:
                token["renew_at"] = 0

    def _request(self, token: dict[str, Any]) -> tuple[str, str]:
        now = self._clock()
        recent = [s for s in token.get("requests", []) if now - s < REQUEST_WINDOW_SECONDS]
        if len(recent) >= REQUEST_LIMIT:
            raise RateLimited(
                "FXiaoKe token budget exhausted (10 requests a minute)",
                code="token_request_budget",
                status=None,
                retry_after=REQUEST_WINDOW_SECONDS - (now - min(recent)),
            )
        token["requests"] = [*recent, now]
        self._store.save(self._key, token)  # count the attempt even if the process dies now
        self.requests += 1
        credentials = {
            "appId": self.app_id,
            "appSecret": self._app_secret.get_secret_value(),
            "permanentCode": self._permanent_code.get_secret_value(),
        }
        if self.scheme == "oauth":
            credentials["grantType"] = "app_secret"
        try:
            response = self._session.post(
                f"{self.base_url}{TOKEN_PATHS[self.scheme]}",
                params={"thirdTraceId": str(uuid.uuid4())},
                json=credentials,
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise RemoteUnavailable(
                f"FXiaoKe unreachable ({type(exc).__name__})", code="unreachable"
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise RemoteUnavailable(
                f"FXiaoKe token endpoint error (HTTP {response.status_code})",
                status=response.status_code,
            )
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        code = body.get("errorCode")
        token_key_name, tenant_key_name = ANSWER_KEYS[self.scheme]
        if code != 0 or not body.get(token_key_name) or not body.get(tenant_key_name):
            if code in TRANSIENT_CODES:
                raise RemoteUnavailable(f"FXiaoKe token endpoint busy ({code})", code=str(code))
            # Only the code goes into the message: the body may echo request values.
            raise AuthError(
                f"FXiaoKe refused the app credentials (errorCode {code})",
                code=f"FXIAOKE_{code}",
            )
        access_token = str(body[token_key_name])
        register_secret(access_token)
        expires_in = float(body.get("expiresIn") or 7200)
        token.update(
            access_token=access_token,
            tenant=str(body[tenant_key_name]),
            expires_at=now + expires_in,
            renew_at=now + max(0.0, expires_in - RENEW_BEFORE_EXPIRY_SECONDS),
        )
        self._store.save(self._key, token)
        return access_token, token["tenant"]
