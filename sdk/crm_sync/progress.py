"""What an administrator sees of ``crm-sync run`` on a terminal.

A progress bar per phase with what was read so far, the total when one is known (the Odoo
side is counted up front; the CRMs' paged reads have no total, the bar then only moves), the
rate and the time left; then a summary table, one row per phase. Off a terminal nothing of this
is drawn: schedulers get the JSON log lines and the JSON report, as before.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

PHASE_TITLES = {
    "pull": "CRM → Odoo customers",
    "deletions": "CRM deletions → Odoo",
    "push": "Odoo → CRM customers",
    "payments": "CRM payments → Odoo",
}

# The run report's counters shown in each phase's columns; the rest are listed below the table.
PHASE_COUNTERS: dict[str, dict[str, tuple[str, ...]]] = {
    "pull": {
        "created": ("odoo_created",),
        "updated": ("odoo_writes",),
        "skipped": ("pull_unchanged", "pull_skipped"),
    },
    "deletions": {"updated": ("odoo_archived",), "skipped": ("archive_refused",)},
    "push": {
        "created": ("crm_created",),
        "updated": ("crm_updated",),
        "skipped": ("push_unchanged",),
        "would_write": ("push_would_send",),
        "api_calls": ("push_calls",),
    },
    "payments": {
        "created": ("payments_created",),
        "skipped": ("payments_unchanged",),
        "would_write": ("payments_would_create",),
    },
}
COLUMNS = ("read", "pages", "created", "updated", "skipped", "would_write", "dead_letters",
           "api_calls", "credits", "elapsed")  # fmt: skip


class RateColumn(ProgressColumn):
    """Records per second, over the bar's recent updates."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


@dataclass
class _Phase:
    task: TaskID
    read: int = 0
    pages: int = 0


class RunDisplay:
    """The progress callback of a run (``display(phase, done)``), drawn with rich."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(file=sys.stderr)
        self.enabled = self.console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            RateColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._phases: dict[str, _Phase] = {}
        self._totals: dict[str, int] = {}
        self._started = False
        self._log_streams: list[tuple[logging.StreamHandler[IO[str]], IO[str]]] = []

    # -- the engine's callbacks ------------------------------------------------------------
    def total(self, phase: str, total: int) -> None:
        """A phase's record count, announced before it starts (``SyncEngine`` asks only a
        display that has this method)."""
        if not self.enabled:
            return
        self._totals[phase] = total
        if phase in self._phases:
            self._progress.update(self._phases[phase].task, total=total)

    def __call__(self, phase: str, done: int) -> None:
        if not self.enabled:
            return
        self._start()
        state = self._phases.get(phase)
        if state is None:
            for other in self._phases.values():  # phases run one after another
                self._finish_task(other)
            task = self._progress.add_task(
                PHASE_TITLES.get(phase, phase), total=self._totals.get(phase)
            )
            state = self._phases[phase] = _Phase(task, read=done, pages=1 if done else 0)
        elif done:  # (phase, 0) marks the start of a phase; every later call, a page read
            state.read, state.pages = done, state.pages + 1
        self._progress.update(state.task, completed=done)

    # -- lifecycle ---------------------------------------------------------------------------
    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self._progress.start()
        # JSON log lines go through the live display instead of tearing the bar apart.
        for handler in logging.getLogger("crm_sync").handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.console.file:
                self._log_streams.append((handler, handler.stream))
                handler.setStream(_ConsoleLines(self.console))

    def _finish_task(self, state: _Phase) -> None:
        task = self._progress.tasks[state.task]
        if task.total is None or task.completed < task.total:  # ended short of the count
            self._progress.update(state.task, total=state.read, completed=state.read)
        self._progress.stop_task(state.task)

    def stop(self) -> None:
        """Stop drawing (before an error message, or at the end of the run)."""
        if not self._started:
            return
        for state in self._phases.values():
            self._finish_task(state)
        self._progress.stop()
        for handler, stream in self._log_streams:
            handler.setStream(stream)
        self._log_streams.clear()
        self._started = False

    def finish(self, report: Any) -> None:
        """Stop the bars and print the summary table of ``report`` (a ``RunReport``)."""
        self.stop()
        if self.enabled:
            self.console.print(self.summary(report))

    # -- the summary ---------------------------------------------------------------------------
    def summary(self, report: Any) -> Table:
        """One row per phase: what it read, wrote, skipped, quarantined, its calls and time."""
        counters: Mapping[str, int] = report.counters
        used: set[str] = set()
        rows: list[dict[str, str]] = []
        for name, phase in report.phases.items():
            state = self._phases.get(name)
            values: dict[str, Any] = {
                "read": state.read if state else 0,
                "pages": state.pages if state else 0,
                "dead_letters": phase.dead_letters,
                "elapsed": f"{phase.seconds:.1f} s",
            }
            for column, keys in PHASE_COUNTERS.get(name, {}).items():
                if column != "would_write" or report.dry_run:  # a dry run's own counters
                    values[column] = sum(counters.get(key, 0) for key in keys)
                used.update(keys)
            for key, value in counters.items():  # calls and credits other code counts
                if key.startswith(f"{name}_") and key not in used:
                    if "credit" in key:
                        values["credits"] = values.get("credits", 0) + value
                        used.add(key)
                    elif "call" in key:
                        values["api_calls"] = values.get("api_calls", 0) + value
                        used.add(key)
            rows.append({"phase": PHASE_TITLES.get(name, name), **_formatted(values)})
        shown = [c for c in COLUMNS if any(row.get(c) not in (None, "") for row in rows)]
        title = "crm-sync run" + (" (dry run: nothing written)" if report.dry_run else "")
        table = Table(title=title, title_justify="left")
        table.add_column("phase")
        for column in shown:
            table.add_column(column.replace("_", " "), justify="right")
        for row in rows:
            table.add_row(row["phase"], *(row.get(column, "") for column in shown))
        table.add_section()
        table.add_row(
            "total",
            *(
                f"{report.dead_letters:,}"
                if column == "dead_letters"
                else f"{report.seconds:.1f} s"
                if column == "elapsed"
                else ""
                for column in shown
            ),
        )
        others = {k: v for k, v in sorted(counters.items()) if k not in used}
        if others:
            table.caption = "  ".join(f"{key}: {value:,}" for key, value in others.items())
            table.caption_justify = "left"
        return table


def _formatted(values: Mapping[str, Any]) -> dict[str, str]:
    return {k: f"{v:,}" if isinstance(v, int) else str(v) for k, v in values.items()}


class _ConsoleLines:
    """A text stream that prints each line above the live display."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self.console.print(Text(line), soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        pass
