"""One retry path for every remote call: exponential backoff, full jitter, ``Retry-After``.

Each client turns one attempt into ``send()``: it returns the answer or raises a
:class:`~crm_sync.errors.CrmSyncError` that says what went wrong. :func:`call_with_retry` sends
again while ``classify`` calls the error transient (by default: unavailable or throttled, but
not a spent daily allowance), waits as :class:`RetryPolicy` says, and raises the last error when
the attempts are used up. Token renewals stay inside ``send`` (they are not failed attempts).

Sleep and randomness are injected so that tests exercise long backoff schedules without real
waiting.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from .errors import CrmSyncError, LimitReached, RemoteUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]
Classify = Callable[[CrmSyncError], bool]


@dataclass
class RetryPolicy:
    """How often and how long to retry transient failures (429, 5xx, timeouts)."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    # Upper bound for a server-requested wait; a longer one fails the run at once instead of
    # hanging it (the next scheduled run resumes from the committed cursors).
    max_retry_after: float = 300.0
    sleep: Sleep = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            # The server knows best; the jitter on top spreads synchronised clients apart.
            return min(self.max_retry_after, retry_after) + self.rng.uniform(0, self.base_delay)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling)


def is_transient(error: CrmSyncError) -> bool:
    """The default ``classify``: unavailable or throttled, but not a limit waiting cannot lift
    (a spent daily allowance, exhausted API credits)."""
    return isinstance(error, RemoteUnavailable) and not isinstance(error, LimitReached)


def never(error: CrmSyncError) -> bool:
    """A ``classify`` for calls that must not be sent twice (a create whose answer was lost)."""
    return False


def call_with_retry(
    policy: RetryPolicy,
    send: Callable[[], T],
    classify: Classify = is_transient,
    *,
    what: str = "call",
) -> T:
    """``send()`` until it answers, retrying the errors ``classify`` calls transient.

    The wait honours the error's ``retry_after`` (from a ``Retry-After`` header or an API's
    documented wait); a requested wait longer than ``policy.max_retry_after`` is not waited out.
    """

    def should_retry(exc: BaseException) -> bool:
        if not isinstance(exc, CrmSyncError) or not classify(exc):
            return False
        retry_after = _retry_after(exc)
        return retry_after is None or retry_after <= policy.max_retry_after

    def wait(state: RetryCallState) -> float:
        return policy.delay(state.attempt_number, _retry_after(_error_of(state)))

    def before_sleep(state: RetryCallState) -> None:
        error = _error_of(state)
        log.warning(
            "%s failed (%s); retry %d/%d in %.2fs",
            what,
            (error.code or getattr(error, "status", None)) if error else None,
            state.attempt_number,
            policy.max_attempts - 1,
            state.next_action.sleep if state.next_action else 0.0,
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception(should_retry),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(send)


def _error_of(state: RetryCallState) -> CrmSyncError | None:
    exc = state.outcome.exception() if state.outcome is not None else None
    return exc if isinstance(exc, CrmSyncError) else None


def _retry_after(error: CrmSyncError | None) -> float | None:
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header given in seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)
