"""Client-side pacing: stay under a CRM's per-endpoint rate and a daily call budget.

A :class:`Pacer` is asked before each send. It keeps, per endpoint, the send times of the last
``limit`` calls (a sliding window): when the window is full it waits until the oldest call leaves
it. A :class:`DailyBudget` counts the calls of the day in a store shared by every run and refuses
the call that would exceed the budget with :class:`~crm_sync.errors.DailyLimitExceeded` (exit 4):
the run stops with the cursors of the pages already committed.

Clock and sleep are injected. Time is tracked as the later of the clock and the slot the pacer
waited for, so a test whose sleep only records the request still sees a paced schedule (and never
waits for real).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from .errors import DailyLimitExceeded

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class Pacer:
    """At most ``limit`` sends per ``window`` seconds on each endpoint (``limit`` 0: no pacing)."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0  # seconds spent waiting, for logs and tests
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Pacer(limit={self.limit}, window={self.window})"

    def acquire(self, endpoint: str) -> None:
        """Wait, if needed, until one more call to ``endpoint`` fits in the window; record it."""
        if self.limit <= 0:
            return
        with self._lock:
            sent = self._sent.setdefault(endpoint, deque(maxlen=self.limit))
            now = self.clock()
            if sent:
                now = max(now, sent[-1])  # never before a slot already taken
            if len(sent) == self.limit:
                free_at = sent[0] + self.window
                if free_at > now:
                    self.sleep(free_at - now)
                    self.waited += free_at - now
                    now = max(self.clock(), free_at)
            sent.append(now)


class CounterStore(Protocol):
    """Where the day's count lives (the token stores of :mod:`crm_sync.zoho_auth` fit)."""

    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, token: dict[str, Any]) -> None: ...


class DailyBudget:
    """At most ``limit`` calls per calendar day in ``zone`` (``limit`` 0: no budget).

    The count is saved before each call is sent, so runs started through the day (and a run
    killed mid-way) share one count; it starts again at midnight in ``zone``.
    """

    def __init__(
        self,
        limit: int,
        *,
        store: CounterStore,
        key: str,
        zone: dt.tzinfo = dt.timezone.utc,
        clock: Clock = time.time,
        label: str = "the CRM",
        setting: str = "daily_call_budget",
    ) -> None:
        self.limit = limit
        self._store = store
        self._key = key
        self._zone = zone
        self._clock = clock
        self._label = label
        self._setting = setting
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DailyBudget(limit={self.limit})"

    def _today(self) -> str:
        return dt.datetime.fromtimestamp(self._clock(), self._zone).date().isoformat()

    def used(self) -> int:
        """Calls counted today."""
        saved = self._store.load(self._key) or {}
        return int(saved.get("calls", 0)) if saved.get("day") == self._today() else 0

    def spend(self) -> None:
        """Count one call, or raise :class:`DailyLimitExceeded` when the budget is spent."""
        if self.limit <= 0:
            return
        with self._lock:
            used = self.used()
            if used >= self.limit:
                raise DailyLimitExceeded(
                    f"the daily budget of {self.limit} {self._label} calls ({self._setting}) "
                    "is spent; the next run after midnight resumes from the saved cursors",
                    code="daily_call_budget",
                )
            self._store.save(self._key, {"day": self._today(), "calls": used + 1})
