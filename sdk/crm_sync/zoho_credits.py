"""Zoho CRM API credits and concurrency: what a call costs, the daily budget, calls in flight.

Zoho meters API use in credits, not requests, and caps the calls an app may have in flight at
once per edition. Both follow Zoho's published limits,
https://www.zoho.com/crm/developer/docs/api/v8/api-limits.html (and the Kaizen #203 post
"Handling API Limits and Error Responses" for the concurrency figures):

- every call costs 1 credit (a GET of records costs 1 per call, i.e. per page of up to 200);
- insert, update and upsert of records cost 1 credit per 10 records (rounded up, so an upsert
  of 100 records costs 10);
- concurrent calls per app: Free 5, Standard/Starter 10, Professional 15, Enterprise/Zoho One 20,
  Ultimate/CRM Plus 25.

:class:`CreditLedger` charges each call *before* it is sent, so a configured daily budget stops
a run cleanly (``DailyLimitExceeded``, exit 4) between two calls, with every committed page's
cursor in place. The day's total lives in the state store, so runs of the same UTC day share
one budget. A retried attempt is charged again: the ledger may count a refused call Zoho did
not bill, never the reverse.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from .errors import DailyLimitExceeded
from .state import StateStore

ZohoEdition = Literal["free", "standard", "professional", "enterprise", "ultimate"]

#: Concurrent calls Zoho allows an app per edition (see the module docstring for the source).
EDITION_CONCURRENCY: dict[str, int] = {
    "free": 5,
    "standard": 10,
    "professional": 15,
    "enterprise": 20,
    "ultimate": 25,
}
RECORDS_PER_WRITE_CREDIT = 10
#: State-store key of the credits spent on the current UTC day.
CREDITS_KEY = "zoho.credits"


def call_cost(method: str, path: str, body: Any = None) -> int:
    """Credits one call costs: 1, or 1 per 10 records for an insert, update or upsert."""
    records = body.get("data") if isinstance(body, dict) else None
    is_record_write = method in ("POST", "PUT") and (
        path.count("/") == 1 or path.endswith("/upsert")  # /{module} or /{module}/upsert
    )
    if is_record_write and isinstance(records, list) and records:
        return math.ceil(len(records) / RECORDS_PER_WRITE_CREDIT)
    return 1


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


class CreditLedger:
    """Counts the credits spent by this process (``spent``) and today's total across runs.

    With a ``state`` store the day's total is read from and written to it at every call, so a
    run started later the same UTC day continues the count; without one it is kept in memory.
    """

    def __init__(
        self,
        state: StateStore | None = None,
        *,
        daily_budget: int | None = None,
        today: Callable[[], dt.date] = _utc_today,
    ) -> None:
        self.state = state
        self.daily_budget = daily_budget
        self._today = today
        self._lock = threading.Lock()
        self._memory: tuple[str, int] = ("", 0)
        self.spent = 0

    def __repr__(self) -> str:
        return f"CreditLedger(spent={self.spent}, daily_budget={self.daily_budget})"

    def spent_today(self) -> int:
        """Credits counted so far on the current UTC day (all runs sharing the state store)."""
        with self._lock:
            return self._load(self._today().isoformat())

    def _load(self, day: str) -> int:
        if self.state is None:
            stored_day, spent = self._memory
        else:
            raw = self.state.get_value(CREDITS_KEY)
            stored = json.loads(raw) if raw else {}
            stored_day, spent = stored.get("day", ""), int(stored.get("spent", 0))
        return spent if stored_day == day else 0

    def _save(self, day: str, spent: int) -> None:
        if self.state is None:
            self._memory = (day, spent)
            return
        with self.state.transaction() as txn:
            txn.set_value(CREDITS_KEY, json.dumps({"day": day, "spent": spent}))

    def charge(self, cost: int) -> None:
        """Count ``cost`` credits for a call about to be sent; ``DailyLimitExceeded`` instead
        when it would take today's total past the budget (nothing is counted then)."""
        with self._lock:
            day = self._today().isoformat()
            today = self._load(day)
            if self.daily_budget is not None and today + cost > self.daily_budget:
                raise DailyLimitExceeded(
                    f"Zoho CRM credit budget reached: {today} of {self.daily_budget} credits "
                    f"spent today (UTC {day}); the next call needs {cost}. The cursors of the "
                    "pages read so far are saved; the next run after midnight UTC resumes "
                    "from them (crm.daily_credit_budget)",
                    code="CREDIT_BUDGET_EXCEEDED",
                )
            self._save(day, today + cost)
            self.spent += cost


_limits: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_limits_lock = threading.Lock()


class ConcurrencyLimit:
    """At most ``limit`` calls in flight at once for ``key`` (one Zoho app), across every
    client of this process: the engine itself is sequential, but several runs or background
    jobs may share a process (Odoo's threaded workers)."""

    def __init__(self, key: str, limit: int) -> None:
        if limit < 1:
            raise ValueError("a concurrency limit is at least 1")
        self.limit = limit
        with _limits_lock:
            self._semaphore = _limits.setdefault((key, limit), threading.BoundedSemaphore(limit))

    def __repr__(self) -> str:
        return f"ConcurrencyLimit(limit={self.limit})"

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._semaphore:
            yield
