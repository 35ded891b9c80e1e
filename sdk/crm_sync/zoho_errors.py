"""Zoho CRM's error codes: what each means for a run, its exit code, and the fix to name.

One table for the whole SDK (used by :class:`~crm_sync.zoho_client.ZohoClient`). The codes are
those of Zoho's v8 API ("Status codes" page and the ``code`` enums of the published OpenAPI
spec) that the calls of this SDK can meet: records, deleted records, upsert and field
metadata. Each row says

- the exit code of a run it stops: configuration 2, authentication 3, a limit 4, remote 5;
- whether it is transient (retried with backoff, ``Retry-After`` honoured, before failing);
- ONE message naming what the administrator must do. Placeholders: ``{module}`` (the Zoho
  module), ``{setting}`` (the configuration key naming it), ``{client_id}``, ``{token_env}``
  (the variable holding the refresh token), ``{detail}`` (what Zoho's ``details`` name).

Record-level codes (:data:`RECORD_CODES`: ``INVALID_DATA``, ``MANDATORY_NOT_FOUND``,
``DUPLICATE_DATA`` …) reported for one record of an upsert concern that record only: it goes to
the dead letters (exit 7 at the end of the run) and the run goes on. A code the table does not
know stops the run with exit 5 and Zoho's own message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_LIMIT,
    EXIT_UNAVAILABLE,
    AuthError,
    ConfigError,
    CrmSyncError,
    LimitReached,
    RateLimited,
    RemoteError,
    RemoteUnavailable,
)

#: The OAuth scopes crm-sync needs (records of the modules, and their field metadata).
_REPORT = "no setting fixes it: report this line to crm-sync's maintainers"


@dataclass(frozen=True)
class ZohoErrorRule:
    code: str
    exit_code: int
    fix: str
    transient: bool = False


_RULES = [
    # -- authentication (3): after the one refresh a refused token gets ----------------------
    ZohoErrorRule(
        "INVALID_TOKEN",
        EXIT_AUTH,
        "Zoho CRM refused a freshly refreshed access token (INVALID_TOKEN): set "
        "crm.data_centre to the data centre of the Zoho org, then generate a new refresh "
        "token for client {client_id} and set it in {token_env}",
    ),
    ZohoErrorRule(
        "INVALID_OAUTHTOKEN",
        EXIT_AUTH,
        "Zoho CRM refused a freshly refreshed access token (INVALID_OAUTHTOKEN): set "
        "crm.data_centre to the data centre of the Zoho org, then generate a new refresh "
        "token for client {client_id} and set it in {token_env}",
    ),
    ZohoErrorRule(
        "AUTHENTICATION_FAILURE",
        EXIT_AUTH,
        "Zoho CRM could not authenticate the call (AUTHENTICATION_FAILURE): generate a new "
        "refresh token for client {client_id} in the Zoho API console and set it in "
        "{token_env}",
    ),
    ZohoErrorRule(
        "OAUTH_SCOPE_MISMATCH",
        EXIT_AUTH,
        "the refresh token lacks a scope crm-sync needs (OAUTH_SCOPE_MISMATCH): generate a "
        "new one for client {client_id} with the scopes the README lists for this command "
        "(crm-sync check names the missing ones) and set it in {token_env}",
    ),
    ZohoErrorRule(
        "NO_PERMISSION",
        EXIT_AUTH,
        "the Zoho user who granted the refresh token has no permission on module {module} "
        "(NO_PERMISSION{detail}): give that user's profile view, create and edit on the "
        "module (Zoho: Setup > Users and Control > Security Control > Profiles), or grant the "
        "token as a user who has them",
    ),
    ZohoErrorRule(
        "AUTHORIZATION_FAILED",
        EXIT_AUTH,
        "the Zoho user who granted the refresh token lacks a privilege the call needs "
        "(AUTHORIZATION_FAILED): grant the token as a user whose profile has API access and "
        "the module permissions (Zoho: Setup > Security Control > Profiles)",
    ),
    # -- configuration (2) ------------------------------------------------------------------
    ZohoErrorRule(
        "INVALID_MODULE",
        EXIT_CONFIG,
        "Zoho CRM has no module {module!r} (INVALID_MODULE): set {setting} to the module's "
        "API name (Zoho: Setup > Developer Hub > APIs > API names)",
    ),
    ZohoErrorRule(
        "INVALID_URL_PATTERN",
        EXIT_CONFIG,
        "Zoho CRM does not know the URL called (INVALID_URL_PATTERN): check that "
        "crm.data_centre (or crm.accounts_url) is the Zoho org's data centre and that "
        "{setting} is a module's API name",
    ),
    ZohoErrorRule(
        "FEATURE_NOT_SUPPORTED",
        EXIT_CONFIG,
        "the Zoho CRM edition of the org does not offer this API on module {module} "
        "(FEATURE_NOT_SUPPORTED): upgrade the edition, or set {setting} to a module the "
        "edition offers through the API",
    ),
    ZohoErrorRule(
        "FEATURE_NOT_ENABLED",
        EXIT_CONFIG,
        "a Zoho CRM feature the call needs is switched off in the org "
        "(FEATURE_NOT_ENABLED{detail}): switch it on in Zoho CRM's Setup, or set {setting} to "
        "a module that does not need it",
    ),
    # -- limits (4) -------------------------------------------------------------------------
    ZohoErrorRule(
        "TOO_MANY_REQUESTS",
        EXIT_LIMIT,
        "Zoho CRM kept refusing calls as too many at once (TOO_MANY_REQUESTS, the org's "
        "concurrency limit) after the retries: run crm-sync alone or less often (the org's "
        "other integrations share that limit)",
        transient=True,
    ),
    ZohoErrorRule(
        "LIMIT_REACHED",
        EXIT_LIMIT,
        "the Zoho CRM org's API credits for the rolling 24 hours are spent (LIMIT_REACHED): "
        "the run stopped with its cursors saved and resumes once credits free up; buy add-on "
        "credits or spread the org's integrations (Zoho: Setup > Developer Hub > APIs > "
        "Dashboard) if it recurs",
    ),
    ZohoErrorRule(
        "LIMIT_EXCEEDED",
        EXIT_LIMIT,
        "a call went over a Zoho CRM limit of the org's edition (LIMIT_EXCEEDED{detail}): the "
        "run stopped with its cursors saved; raise the limit in Zoho (edition or add-on, "
        "Setup > Developer Hub > APIs > Dashboard) or run crm-sync less often",
    ),
    ZohoErrorRule(
        "PAGINATION_LIMIT_EXCEEDED",
        EXIT_LIMIT,
        "Zoho CRM refused to page further in one read (PAGINATION_LIMIT_EXCEEDED{detail}): the "
        "run stopped with its cursors saved; run it again to go on from them",
    ),
    ZohoErrorRule(
        "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
        EXIT_LIMIT,
        "Zoho CRM refused to page beyond 2,000 records of module {module} "
        "(DISCRETE_PAGINATION_LIMIT_EXCEEDED): the run stopped with its cursors saved; run it "
        "again to go on from them",
    ),
    ZohoErrorRule(
        "STORAGE_SPACE_EXCEEDED",
        EXIT_LIMIT,
        "the Zoho CRM org's data storage is full (STORAGE_SPACE_EXCEEDED): free space or buy "
        "more storage (Zoho: Setup > Data Administration > Storage), then run again",
    ),
    # -- remote (5) -------------------------------------------------------------------------
    ZohoErrorRule(
        "INTERNAL_ERROR",
        EXIT_UNAVAILABLE,
        "Zoho CRM kept failing with an internal error (INTERNAL_ERROR) after the retries: "
        "run again later; if it persists, give Zoho support the time of the run",
        transient=True,
    ),
    ZohoErrorRule(
        "REQUIRED_PARAM_MISSING",
        EXIT_UNAVAILABLE,
        f"Zoho CRM refused the request (REQUIRED_PARAM_MISSING{{detail}}): {_REPORT}",
    ),
    ZohoErrorRule(
        "INVALID_REQUEST_METHOD",
        EXIT_UNAVAILABLE,
        f"Zoho CRM refused the request (INVALID_REQUEST_METHOD): {_REPORT}",
    ),
    ZohoErrorRule(
        "INVALID_REQUEST",
        EXIT_UNAVAILABLE,
        f"Zoho CRM refused the request (INVALID_REQUEST{{detail}}): {_REPORT}",
    ),
    ZohoErrorRule(
        "INVALID_QUERY",
        EXIT_UNAVAILABLE,
        f"Zoho CRM refused the query (INVALID_QUERY{{detail}}): {_REPORT}",
    ),
]

#: Codes that, reported for one record of an upsert, concern that record only.
RECORD_CODES = frozenset({
    "INVALID_DATA", "MANDATORY_NOT_FOUND", "DUPLICATE_DATA", "PATTERN_NOT_MATCHED",
    "DEPENDENT_FIELD_MISSING", "DEPENDENT_MISMATCH", "EXPECTED_FIELD_MISSING", "DATA_MISMATCH",
    "MAPPING_MISMATCH", "RECORD_LOCKED", "RECORD_IN_BLUEPRINT", "NOT_APPROVED", "CANNOT_PROCESS",
    "CONVERTED_RECORD", "ID_ALREADY_CONVERTED", "ALREADY_USED", "NOT_ALLOWED",
})  # fmt: skip
_RECORD_FIX = (
    "Zoho CRM refused the whole call as invalid ({code}{detail}) instead of answering per "
    "record: {report}"
)

ZOHO_ERRORS: Mapping[str, ZohoErrorRule] = {rule.code: rule for rule in _RULES}
#: The codes Zoho answers when a limit is hit (spent API credits among them).
LIMIT_CODES = frozenset({"TOO_MANY_REQUESTS", "LIMIT_REACHED", "LIMIT_EXCEEDED"})
#: Codes whose refusal of an access token is answered by one refresh before it counts.
TOKEN_CODES = frozenset({"INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE"})


@dataclass(frozen=True)
class ErrorContext:
    """What the messages name: the module called and the settings an administrator edits."""

    module: str = ""
    setting: str = "the module setting"
    client_id: str = ""
    token_env: str = "the refresh token variable"  # noqa: S105 (a variable name)


def is_record_level(code: str | None) -> bool:
    """Whether ``code``, on one record of an upsert, is a dead letter rather than a stop."""
    return code is None or code in RECORD_CODES or code not in ZOHO_ERRORS


def zoho_error(
    code: str | None,
    *,
    status: int | None = None,
    message: str = "",
    details: Mapping[str, Any] | None = None,
    context: ErrorContext | None = None,
    retry_after: float | None = None,
) -> CrmSyncError:
    """The error a Zoho answer stands for, carrying its exit code and the fix to name."""
    context = context or ErrorContext()
    details = dict(details or {})
    detail = _detail(details)
    rule = ZOHO_ERRORS.get(code or "")
    if "credit" in message.lower() and code in (None, *LIMIT_CODES):
        # Spent API credits come back as a limit or throttle code whose message names them:
        # waiting for the next retry cannot help.
        rule = ZOHO_ERRORS["LIMIT_REACHED"]
    if rule is None and code in RECORD_CODES:
        text = _RECORD_FIX.format(code=code, detail=detail, report=_REPORT)
        return RemoteError(text, code=code, status=status, details=details)
    if rule is None:
        if status is not None and status >= 500 or status == 429:
            rule = ZOHO_ERRORS["INTERNAL_ERROR" if status != 429 else "TOO_MANY_REQUESTS"]
        else:
            name = code or f"HTTP_{status}"
            return RemoteError(
                f"Zoho CRM error {name}: {message or 'error'}",
                code=name, status=status, details=details,
            )  # fmt: skip
    text = rule.fix.format(
        module=context.module,
        setting=context.setting,
        client_id=context.client_id,
        token_env=context.token_env,
        detail=detail,
    )
    code = code or rule.code
    if rule.exit_code == EXIT_AUTH:
        return AuthError(text, code=code)
    if rule.exit_code == EXIT_CONFIG:
        return ConfigError(text, code=code)
    if rule.exit_code == EXIT_LIMIT:
        if rule.transient:
            return RateLimited(text, code=code, status=status, retry_after=retry_after)
        return LimitReached(text, code=code, retry_after=retry_after)
    if rule.transient:
        return RemoteUnavailable(text, code=code, status=status, retry_after=retry_after)
    return RemoteError(text, code=code, status=status, details=details)


def _detail(details: Mapping[str, Any]) -> str:
    """``: name`` of what Zoho's ``details`` point at (a parameter, a limit, a permission)."""
    for key in ("api_name", "param_name", "limit", "permissions", "feature"):
        value = details.get(key)
        if value not in (None, "", [], {}):
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            return f": {key} {shown[:80]}"
    return ""
