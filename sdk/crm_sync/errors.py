"""One error hierarchy for the whole SDK.

Every error carries the process exit code the CLI maps it to, so a scheduler can act on the
outcome without parsing text. Messages never contain secrets: callers build them from error
codes and field names only, never from request bodies or headers.
"""

from __future__ import annotations

from typing import Any

# Exit codes of ``crm-sync`` (documented in the README and in ``crm-sync --help``).
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_LIMIT = 4
EXIT_UNAVAILABLE = 5
EXIT_LOCKED = 6
EXIT_PARTIAL = 7


class CrmSyncError(Exception):
    """Base of every error raised on purpose by crm_sync."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class ConfigError(CrmSyncError):
    """The configuration file or the environment is incomplete or invalid."""

    exit_code = EXIT_CONFIG


class AuthError(CrmSyncError):
    """Credentials were refused (invalid client, revoked refresh token, bad API key)."""

    exit_code = EXIT_AUTH


class RemoteError(CrmSyncError):
    """A remote system answered with an error that retrying will not fix."""

    exit_code = EXIT_UNAVAILABLE

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.details = details or {}


class RemoteUnavailable(RemoteError):
    """The remote system stayed unavailable (5xx, timeouts, refused connections) after retries.

    ``retry_after`` is the wait the remote system asked for (``Retry-After``), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class RateLimited(RemoteUnavailable):
    """The remote system throttled us and kept doing so after retries."""

    exit_code = EXIT_LIMIT

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status, retry_after=retry_after)


class LimitReached(RateLimited):
    """A CRM limit that waiting within this run cannot lift: no retry, the run stops at once.

    Pages committed before the refusal keep their cursors; a later run resumes from them.
    Exit 4 like every limit: the scheduler runs it again later.
    """

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code, status=None, retry_after=retry_after)


class DailyLimitExceeded(LimitReached):
    """The CRM's daily API allowance is spent: retrying today cannot help, so the run stops."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)


class ValidationError(CrmSyncError, ValueError):
    """A record failed validation; ``field`` names the offending field when known."""

    exit_code = EXIT_PARTIAL

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message, code=code or "invalid")
        self.field = field


class StateError(CrmSyncError):
    """The state store is unreachable or inconsistent."""


class LockHeld(CrmSyncError):
    """Another run holds the sync lock for this state store."""

    exit_code = EXIT_LOCKED
