"""Retry with exponential backoff, full jitter and respect for ``Retry-After``.

Sleep, clock and randomness are injected so that tests exercise long backoff schedules
without real waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

Sleep = Callable[[float], None]


@dataclass
class RetryPolicy:
    """How often and how long to retry transient failures (429, 5xx, timeouts)."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    # Upper bound for a server-requested wait; longer waits fail the run instead of hanging it.
    max_retry_after: float = 300.0
    sleep: Sleep = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        jittered = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            # The server knows best; the jitter on top spreads synchronised clients apart.
            return min(self.max_retry_after, retry_after) + self.rng.uniform(0, self.base_delay)
        return jittered


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
