"""Odoo's own test suites with and without our addons: installing must break nothing.

For each suite (``/sale``, ``/account`` by default) the script runs Odoo's tests twice, each in a
fresh copy of the template database without demo data (a production database, where our demo
data does not switch the credit block on):

- plain: Odoo as it is (``account,sale_management``);
- addons: the same copy with our addons installed first (``-i``, no tests), then the same test
  run.

Both runs load the database without ``-i``/``-u``, so Odoo runs every test of the suite's module
(at-install and post-install alike) with the same count both ways. It prints the tests run and
the failed tests of each run and the failures new with our addons. Exit status 1 when the
addons add a failure, a test-count difference or a broken run.

Slow (``/sale`` about 2 minutes a run, ``/account`` about 9 on 2 cores): run it by hand before a
release or after touching how the addon overrides Odoo, not in every CI run. The plain run of a
suite does not depend on our code: ``--reuse-plain`` takes it from the last run's results
(``var/core_suites/``) when Odoo's version is the same.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

# Our addons that need no Odoo module beyond the template's (the stock bridge would bring stock
# and sale_stock, which change the suites by themselves).
DEFAULT_ADDONS = ("ar_credit_control", "ar_credit_control_crm_sync")
RESULT_RE = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
# "... ERROR db odoo.addons.sale.tests.test_x: FAIL: TestClass.test_method"
FAILED_RE = re.compile(r" ERROR \S+ (odoo\.addons\.\S+): (?:FAIL|ERROR): (.+)$")
BROKEN_RE = re.compile(r"Some modules are not loaded|Failed to load registry|Failed to initialize")
RESULTS_DIR = odoo_env.REPO / "var" / "core_suites"
LOG_DIR = odoo_env.REPO / "var" / "log"


def run_suite(suite: str, side: str, addons: tuple[str, ...]) -> dict:
    """One run of Odoo's `suite` tests; `side` is 'plain' or 'addons'."""
    template = odoo_env.ensure_template(demo=False)
    db = f"arcc_core_{suite}_{side}"
    odoo_env.copy_database(template, db)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"core-{suite}-{side}.log"
    log_path.unlink(missing_ok=True)
    started = time.monotonic()
    problems = []
    install_seconds = 0
    try:
        if side == "addons":
            install = odoo_env.odoo_command(
                db,
                odoo_env.free_port(),
                "-i",
                ",".join(addons),
                "--without-demo",
                "all",
                "--stop-after-init",
                "--no-http",
                "--log-level",
                "warn",
            )
            proc = subprocess.run(install, text=True, capture_output=True)
            if proc.returncode != 0:
                problems.append(f"install failed: {proc.stderr[-2000:]}")
            install_seconds = round(time.monotonic() - started)
        cmd = odoo_env.odoo_command(
            db,
            odoo_env.free_port(),
            "--test-tags",
            f"/{suite}",
            "--stop-after-init",
            "--logfile",
            str(log_path),
            "--log-level",
            "info",
        )
        proc = subprocess.run(cmd, text=True, capture_output=True)
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        ran = failed = 0
        for match in RESULT_RE.finditer(log):
            failed += int(match.group(1)) + int(match.group(2))
            ran += int(match.group(3))
        names = sorted(
            {
                f"{m.group(1)}: {m.group(2).strip()}"
                for m in map(FAILED_RE.search, log.splitlines())
                if m
            }
        )
        problems += [line for line in log.splitlines() if BROKEN_RE.search(line)]
        if ran == 0:
            problems.append(f"no test ran (odoo exit {proc.returncode}: {proc.stderr[-1000:]})")
    finally:
        odoo_env.drop_database(db)
    result = {
        "suite": suite,
        "side": side,
        "odoo": odoo_env.odoo_version(),
        "addons": list(addons) if side == "addons" else [],
        "ran": ran,
        "failed": failed,
        "failed_tests": names,
        "problems": problems,
        "seconds": round(time.monotonic() - started),
        "install_seconds": install_seconds,
        "log": str(log_path.relative_to(odoo_env.REPO)),
    }
    print(
        f"[core] /{suite} {side}: {ran} tests, {failed} failed/errored, {result['seconds']} s "
        + (f"(our addons installed in {install_seconds} s) " if install_seconds else "")
        + f"(log: {result['log']})",
        flush=True,
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{suite}-{side}.json").write_text(json.dumps(result, indent=1))
    return result


def saved_plain(suite: str) -> dict | None:
    path = RESULTS_DIR / f"{suite}-plain.json"
    if not path.exists():
        return None
    result = json.loads(path.read_text())
    if result.get("odoo") != odoo_env.odoo_version() or result.get("problems"):
        return None
    print(f"[core] /{suite} plain: reused {path.relative_to(odoo_env.REPO)}", flush=True)
    return result


def compare(plain: dict, ours: dict) -> list[str]:
    """Print the comparison of one suite; return what is wrong."""
    suite = plain["suite"]
    new = sorted(set(ours["failed_tests"]) - set(plain["failed_tests"]))
    gone = sorted(set(plain["failed_tests"]) - set(ours["failed_tests"]))
    print()
    for label, result in (("plain Odoo", plain), (f"with {', '.join(ours['addons'])}", ours)):
        print(
            f"/{suite}: {label}: {result['ran']} tests, {result['failed']} failed "
            f"({result['seconds']} s)"
        )
        for name in result["failed_tests"]:
            print(f"    {name}")
    print(f"/{suite}: new failures with our addons: {len(new)}")
    for name in new:
        print(f"    NEW {name}")
    for name in gone:
        print(f"    (fails only without our addons: {name})")
    wrong = [f"/{suite}: new failure {name}" for name in new]
    if plain["ran"] != ours["ran"]:
        wrong.append(f"/{suite}: {plain['ran']} tests plain, {ours['ran']} with our addons")
    if ours["failed"] > plain["failed"] and not new:
        wrong.append(
            f"/{suite}: more failures with our addons ({ours['failed']} vs {plain['failed']})"
        )
    wrong += [f"/{suite} {r['side']}: {p}" for r in (plain, ours) for p in r["problems"]]
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", default="sale,account", help="Odoo modules whose tests run")
    parser.add_argument("--addons", default=",".join(DEFAULT_ADDONS), help="our addons installed")
    parser.add_argument(
        "--reuse-plain",
        action="store_true",
        help="take the plain Odoo runs from var/core_suites/ when there (same Odoo version)",
    )
    parser.add_argument(
        "--only", choices=["plain", "addons"], help="run one side (saved for a later comparison)"
    )
    args = parser.parse_args()
    if not odoo_env.odoo_importable():
        print(f"'import odoo' fails in this Python ({sys.executable}): nothing to compare.")
        return 3
    odoo_env.ensure_postgresql()
    addons = tuple(a for a in args.addons.split(",") if a)
    started = time.monotonic()
    wrong = []
    for suite in [s for s in args.suites.split(",") if s]:
        if args.only:
            result = run_suite(suite, args.only, addons)
            wrong += [f"/{suite} {args.only}: {p}" for p in result["problems"]]
            continue
        plain = (args.reuse_plain and saved_plain(suite)) or run_suite(suite, "plain", addons)
        ours = run_suite(suite, "addons", addons)
        wrong += compare(plain, ours)
    print(f"\n[core] done in {time.monotonic() - started:.0f} s")
    for line in wrong:
        print(f"[core] PROBLEM {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
