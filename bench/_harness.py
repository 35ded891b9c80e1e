"""Benchmark conventions shared by the scripts of ``bench/``.

A benchmark: get a generated receivables database (``ensure_template`` builds it once per set of
parameters and reuses it), take a fresh copy per run (``fresh_copy``: ``createdb -T`` + filestore,
about a second), optionally install addons on the copy (``install_addons``), open an Odoo
environment in-process (``odoo_env``), time the capability (``measure`` / ``repeat``) and print
the figures (``print_table``). See bench/README.md.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "data"))

from arcc_datagen import dbtools  # noqa: E402
from arcc_datagen.generator import GenerationParams  # noqa: E402

ODOO_ADDONS_PATHS = ("/opt/odoo18/addons", "/opt/odoo18/odoo/addons")
PROJECT_ADDONS_PATH = str(REPO / "addons")
DEFAULT_HTTP_PORT = int(os.environ.get("ARCC_BENCH_HTTP_PORT", "8191"))


# -- databases ---------------------------------------------------------------------------------


def template_name(params: GenerationParams) -> str:
    """Name of the template for these parameters, e.g. ``arcc_gen_tpl_1000000l_2000c_s1``."""
    return f"arcc_gen_tpl_{params.lines}l_{params.customers}c_s{params.seed}"


def ensure_template(
    lines: int = 20_000,
    customers: int = 500,
    seed: int = 1,
    *,
    today: str = "",
    rebuild: bool = False,
    max_age_days: int = 30,
    http_port: int = DEFAULT_HTTP_PORT,
) -> str:
    """Return the template database for these parameters, generating it if missing or stale.

    A template is reused when its comment records the same parameters. The data is relative to
    the day it was built: with ``today`` given, that day must match too; without it, a template
    of any day up to ``max_age_days`` old is reused (a large one takes minutes to rebuild).
    """
    params = GenerationParams(lines=lines, customers=customers, seed=seed, today=today)
    name = template_name(params)
    if not rebuild and dbtools.exists(name):
        stored = json.loads(dbtools.get_comment(name) or "{}")
        wanted = json.loads(params.key())
        built_on = stored.get("today", "")
        if not today and built_on:
            age = (date.today() - date.fromisoformat(built_on)).days
            if 0 <= age <= max_age_days:
                wanted["today"] = built_on
        if stored == wanted:
            return name
    command = [
        sys.executable,
        str(REPO / "data/generate_receivables.py"),
        "--db",
        name,
        "--replace",
        "--lines",
        str(lines),
        "--customers",
        str(customers),
        "--seed",
        str(seed),
        "--http-port",
        str(http_port),
    ]
    if today:
        command += ["--today", today]
    subprocess.run(command, check=True)
    dbtools.terminate(name)
    return name


def fresh_copy(template: str, name: str | None = None) -> str:
    """A new database copied from ``template`` (with its filestore); returns its name."""
    name = name or f"{template.replace('_tpl_', '_run_')}_{uuid.uuid4().hex[:6]}"
    if dbtools.exists(name):
        dbtools.drop(name)
    dbtools.copy(template, name)
    return name


def drop_database(name: str) -> None:
    dbtools.drop(name)


def addons_path(extra: Sequence[str | Path] = ()) -> str:
    return ",".join([*ODOO_ADDONS_PATHS, *(str(path) for path in extra)])


def install_addons(
    db: str,
    modules: Sequence[str],
    *,
    extra_paths: Sequence[str | Path] = (),
    update: bool = False,
    http_port: int = DEFAULT_HTTP_PORT,
) -> None:
    """Install (``update=False``) or update ``modules`` on ``db`` with the ``odoo`` command."""
    dbtools.install_modules(
        db,
        ",".join(modules),
        http_port=http_port,
        addons_path=addons_path(extra_paths),
        update=update,
        log_file=Path(f"/tmp/{db}.install.log"),
    )


def pip_addons(packages: Sequence[str], target: str | Path) -> Path:
    """``pip install --no-deps --target`` OCA addon packages; return the folder to add to the
    addons path (``target/odoo/addons``). Kept out of the Odoo environment on purpose: there,
    their ``odoo/addons`` folder would shadow the editable Odoo."""
    target = Path(target)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            # Replace what an earlier call put there: pip does not merge into an existing
            # target's `odoo` folder, it would silently leave new addons out.
            "--upgrade",
            "--target",
            str(target),
            *packages,
        ],
        check=True,
    )
    return target / "odoo" / "addons"


@contextmanager
def odoo_env(
    db: str,
    *,
    extra_paths: Sequence[str | Path] = (),
    uid: int | None = None,
    context: dict | None = None,
    commit: bool = False,
) -> Iterator[object]:
    """An ``odoo.api.Environment`` on ``db``, in-process; rolled back unless ``commit``."""
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    wanted = addons_path(extra_paths)
    if odoo.tools.config.get("addons_path") != wanted:
        odoo.tools.config.parse_config([f"--addons-path={wanted}"])
    registry = Registry(db)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, uid or SUPERUSER_ID, context or {})
            try:
                yield env
                if commit:
                    cr.commit()
            finally:
                if not commit:
                    cr.rollback()
    finally:
        Registry.delete(db)


# -- measuring ---------------------------------------------------------------------------------


def sql_query_count() -> int:
    """Queries run through Odoo's cursors in this process so far (0 if Odoo is not loaded)."""
    sql_db = sys.modules.get("odoo.sql_db")
    return int(getattr(sql_db, "sql_counter", 0)) if sql_db else 0


def rss_peak_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Measurement:
    """Figures of one run. ``peak_mb`` is the Python allocation peak (tracemalloc) during the
    run; ``rss_mb`` the process's resident peak so far (includes Odoo's registry)."""

    label: str
    rows: int = 0
    seconds: float = 0.0
    queries: int = 0
    peak_mb: float = 0.0
    rss_mb: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


@contextmanager
def measure(label: str, rows: int = 0, *, trace_memory: bool = True) -> Iterator[Measurement]:
    """Time the block; set ``result.rows`` inside it when the count is known only at the end.

    tracemalloc slows allocation-heavy code by ~1.5-2x: pass ``trace_memory=False`` when the
    wall time matters more than the Python peak.
    """
    result = Measurement(label, rows)
    queries_before = sql_query_count()
    if trace_memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started
        result.queries = sql_query_count() - queries_before
        if trace_memory:
            result.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        result.rss_mb = rss_peak_mb()


@dataclass
class Summary:
    label: str
    rows: int
    runs: int
    median_seconds: float
    p95_seconds: float
    median_queries: float
    peak_mb: float
    rss_mb: float


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 5 runs is the slowest run)."""
    if not values:
        raise ValueError("no value")
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 100) * len(ordered) // 100))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(label: str, runs: Sequence[Measurement]) -> Summary:
    seconds = [run.seconds for run in runs]
    return Summary(
        label=label,
        rows=runs[-1].rows,
        runs=len(runs),
        median_seconds=statistics.median(seconds),
        p95_seconds=percentile(seconds, 0.95),
        median_queries=statistics.median(run.queries for run in runs),
        peak_mb=max(run.peak_mb for run in runs),
        rss_mb=max(run.rss_mb for run in runs),
    )


def repeat(
    label: str,
    run: Callable[[Measurement], None],
    *,
    runs: int = 5,
    warmup: int = 1,
    rows: int = 0,
    trace_memory: bool = True,
) -> Summary:
    """Call ``run(measurement)`` ``warmup + runs`` times; summarise the timed runs.

    ``run`` may set ``measurement.rows``. Warm-up runs fill caches and are not counted.
    """
    for _ in range(warmup):
        with measure(label, rows, trace_memory=False) as measurement:
            run(measurement)
    results = []
    for _ in range(runs):
        with measure(label, rows, trace_memory=trace_memory) as measurement:
            run(measurement)
        results.append(measurement)
    return summarize(label, results)


def print_table(results: Sequence[Measurement | Summary]) -> None:
    """One line per result: rows, seconds (median/p95 for summaries), queries, memory."""
    header = (
        f"{'benchmark':<36} {'rows':>10} {'runs':>4} {'median s':>9} {'p95 s':>8}"
        f" {'queries':>8} {'rows/s':>10} {'peak MB':>8} {'RSS MB':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        if isinstance(result, Summary):
            runs, median, p95, queries = (
                result.runs,
                result.median_seconds,
                result.p95_seconds,
                result.median_queries,
            )
        else:
            runs, median, p95, queries = 1, result.seconds, result.seconds, result.queries
        rate = result.rows / median if median and result.rows else 0
        print(
            f"{result.label:<36} {result.rows:>10} {runs:>4} {median:>9.3f} {p95:>8.3f}"
            f" {queries:>8.0f} {rate:>10.0f} {result.peak_mb:>8.1f} {result.rss_mb:>7.0f}"
        )
