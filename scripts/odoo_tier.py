"""Tier 2: install the addon in fresh Odoo databases and run its Odoo tests.

Each run copies a cached template database (Odoo's base modules already installed), installs
our addons with demo data and again without, runs their tests, checks that uninstalling leaves
Odoo working, and drops the databases. The scenario without demo data also installs and tests
the addons that exist only for the tests (tests/odoo_addons, not shipped: e.g. a credit-check
rule added the way another addon would add one), and uninstalls them with ours. Prints the
number of tests Odoo really ran. A third, optional scenario runs the CRM sync addon's tests
with OCA queue_job installed beside it (fetched with pip into var/oca; skipped loudly when pip
cannot fetch it), and the dunning SMS tests with Odoo's sms module. Last, the upgrade scenario
(``scripts/upgrade_check.py``): the last release's addons installed with data, upgraded to the
working tree, then uninstalled.

Exit status: 0 all green; 1 a failure; 3 skipped (Odoo not importable). With CI=true a skip,
a run in which Odoo ran zero tests, or a browser test (tour) Odoo skipped for want of a
browser, is a failure.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

# Every addon of the project (bridge addons included), found by its manifest.
ADDONS = tuple(sorted(p.parent.name for p in odoo_env.ADDONS_DIR.glob("*/__manifest__.py")))
# Addons that exist only for the tests, installed and tested in the nodemo scenario. Named
# ar_credit_control* so that the uninstall check removes them with ours.
TEST_ADDONS_DIR = odoo_env.REPO / "tests" / "odoo_addons"
NODEMO_TEST_ADDONS = ("ar_credit_control_rule_example",)
RESULT_RE = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
# Log lines that mean the run is broken even when the process exits 0.
BROKEN_RE = re.compile(r" (ERROR|CRITICAL) |Some modules are not loaded|Failed to load registry")
LOG_DIR = odoo_env.REPO / "var" / "log"
# Odoo skips a browser test (tour) instead of failing it when it cannot drive a browser: no
# Chromium, no websocket-client module, or Chromium not answering.
BROWSER_SKIP_RE = re.compile(
    r"skipped (\S+) : (.*(?:websocket-client|[Cc]hrome|not found|devtools port).*)"
)


def browser_skips(log: str) -> list[str]:
    """The browser tests Odoo skipped in this log, with the reason."""
    return [f"{test}: {reason}" for test, reason in BROWSER_SKIP_RE.findall(log)]


def run_scenario(
    label: str,
    demo: bool,
    check_uninstall: bool,
    test_tags: str | None = None,
    extra_modules: tuple[str, ...] = (),
    test_addons: tuple[str, ...] = (),
) -> tuple[int, int, list[str]]:
    """Returns (tests run, failures+errors, problem lines). `test_addons`: addons of
    tests/odoo_addons, installed and tested beside ours."""
    template = odoo_env.ensure_template(demo=demo)
    db = f"arcc_t2_{os.getpid()}_{label}"
    odoo_env.copy_database(template, db)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"tier2-{label}.log"
    log_path.unlink(missing_ok=True)  # Odoo appends to its log file
    started = time.monotonic()
    paths = (str(TEST_ADDONS_DIR),) if test_addons else ()
    try:
        tags = test_tags or ",".join(f"/{name}" for name in (*ADDONS, *test_addons))
        cmd = odoo_env.odoo_command(
            db,
            odoo_env.free_port(),
            "-i",
            ",".join((*ADDONS, *test_addons, *extra_modules)),
            "--test-tags",
            tags,
            "--stop-after-init",
            "--logfile",
            str(log_path),
            "--log-level",
            "info",
            *([] if demo else ["--without-demo", "all"]),
            extra_paths=paths,
        )
        proc = subprocess.run(cmd, text=True, capture_output=True)
        log = log_path.read_text(encoding="utf-8", errors="replace")
        ran = failed = 0
        for match in RESULT_RE.finditer(log):
            failed += int(match.group(1)) + int(match.group(2))
            ran += int(match.group(3))
        problems = [line for line in log.splitlines() if BROKEN_RE.search(line)]
        if proc.returncode != 0:
            problems.append(f"odoo exited with status {proc.returncode}: {proc.stderr[-2000:]}")
        skipped_tours = browser_skips(log)
        if skipped_tours:
            print("#" * 78)
            print(f"# TIER 2 [{label}]: {len(skipped_tours)} BROWSER TEST(S) SKIPPED BY ODOO:")
            for skipped in skipped_tours:
                print(f"#   {skipped}")
            print("#" * 78, flush=True)
            if os.environ.get("CI", "").lower() == "true":
                problems += [f"browser test skipped: {skipped}" for skipped in skipped_tours]
        if check_uninstall and not problems:
            problems += check_uninstall_leaves_odoo_working(db, paths)
        print(
            f"[tier2] {label}: {ran} tests, {failed} failed/errored, "
            f"{time.monotonic() - started:.0f} s (log: {log_path.relative_to(odoo_env.REPO)})",
            flush=True,
        )
        return ran, failed, problems
    finally:
        odoo_env.drop_database(db)


# OCA queue_job, optional for the CRM sync addon: its job path is tested when pip can fetch it.
# Pinned to the last 18.0 release that runs on Odoo 18.0's first releases (later ones use
# api.private, added to Odoo 18.0 afterwards).
QUEUE_JOB = "odoo-addon-queue_job==18.0.1.6.1"
# The optional scenario also installs Odoo's sms module (named, not left to auto-install) and
# runs the dunning SMS channel's tests beside the CRM sync addon's.
OPTIONAL_SCENARIO_MODULES = ("queue_job", "sms")
OPTIONAL_SCENARIO_TESTS = ("/ar_credit_control_crm_sync", "/ar_credit_control:TestDunningSms")


def fetch_queue_job() -> Path | None:
    """queue_job's addons folder under var/oca (pip --no-deps --target), or None."""
    target = odoo_env.REPO / "var" / "oca" / QUEUE_JOB.rpartition("=")[2]
    addons = target / "odoo" / "addons"
    if (addons / "queue_job" / "__manifest__.py").exists():
        return addons
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    options = ["--disable-pip-version-check", "--root-user-action=ignore"]
    proc = subprocess.run(
        [*pip, *options, "--target", str(target), QUEUE_JOB], capture_output=True, text=True
    )
    if proc.returncode != 0:
        print(f"[tier2] could not fetch {QUEUE_JOB}: {proc.stderr.strip()[-500:]}", flush=True)
        return None
    return addons


def check_uninstall_leaves_odoo_working(db: str, extra_paths: tuple[str, ...] = ()) -> list[str]:
    """Uninstall our addons, then sell and invoice through Odoo's standard flow."""
    script = odoo_env.REPO / "scripts" / "uninstall_check.py"
    cmd = odoo_env.odoo_command(
        db,
        odoo_env.free_port(),
        "--log-level",
        "warn",
        "--no-http",
        subcommand="shell",
        extra_paths=extra_paths,
    )
    proc = subprocess.run(cmd, stdin=script.open(), text=True, capture_output=True)
    if "UNINSTALL-CHECK: OK" in proc.stdout:
        print(
            "[tier2] uninstall check: addon removed, a sale order was confirmed and invoiced",
            flush=True,
        )
        return []
    return [f"uninstall check failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["demo", "nodemo"], help="run one scenario")
    parser.add_argument(
        "--test-tags",
        help="run only these Odoo test tags while developing, e.g. /ar_credit_control:TestAging "
        "(the full run, and CI, run every test of every addon)",
    )
    parser.add_argument(
        "--with-modules",
        default="",
        help="also install these modules (comma separated), e.g. OCA queue_job found through "
        "ODOO_ADDONS_PATH, to run the tests that need them",
    )
    args = parser.parse_args()
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not odoo_env.odoo_importable():
        print("#" * 78)
        print(f"# TIER 2 SKIPPED: 'import odoo' fails in this Python ({sys.executable}).")
        print("# Install Odoo 18.0 (see README, Prerequisites) to run the addon's Odoo tests.")
        print("#" * 78, flush=True)
        return 1 if in_ci else 3
    odoo_env.ensure_postgresql()
    odoo_env.ensure_wkhtmltopdf()
    odoo_env.ensure_browser()
    scenarios = [("demo", True, False, ()), ("nodemo", False, True, NODEMO_TEST_ADDONS)]
    if args.only:
        scenarios = [s for s in scenarios if s[0] == args.only]
    total_ran = total_failed = 0
    all_problems: list[str] = []
    for label, demo, uninstall, test_addons in scenarios:
        extra_modules = tuple(m for m in args.with_modules.split(",") if m)
        ran, failed, problems = run_scenario(
            label,
            demo,
            uninstall and not (args.test_tags or extra_modules),
            args.test_tags,
            extra_modules,
            test_addons,
        )
        total_ran += ran
        total_failed += failed
        all_problems += [f"[{label}] {p}" for p in problems]
        if ran == 0:
            all_problems.append(f"[{label}] Odoo ran zero tests")
    if not args.only and not args.test_tags and not args.with_modules:
        # The CRM sync addon's queue_job path, with OCA queue_job installed beside it.
        queue_job_addons = fetch_queue_job()
        if queue_job_addons is None:
            print("#" * 78)
            print("# TIER 2, OPTIONAL queue_job SCENARIO SKIPPED: OCA queue_job unavailable.")
            print("#" * 78, flush=True)
        else:
            paths = [os.environ.get("ODOO_ADDONS_PATH", ""), str(queue_job_addons)]
            os.environ["ODOO_ADDONS_PATH"] = ",".join(p for p in paths if p)
            ran, failed, problems = run_scenario(
                "queue_job",
                False,
                False,
                ",".join(OPTIONAL_SCENARIO_TESTS),
                OPTIONAL_SCENARIO_MODULES,
            )
            total_ran += ran
            total_failed += failed
            all_problems += [f"[queue_job] {p}" for p in problems]
            if ran == 0:
                all_problems.append("[queue_job] Odoo ran zero tests")
    if not args.only and not args.test_tags and not args.with_modules:
        # The last release with data, upgraded to the working tree, then uninstalled.
        upgrade = subprocess.run([sys.executable, str(Path(__file__).parent / "upgrade_check.py")])
        if upgrade.returncode == 3:
            print("#" * 78)
            print("# TIER 2, UPGRADE SCENARIO SKIPPED: see [upgrade] above.")
            print("#" * 78, flush=True)
        elif upgrade.returncode != 0:
            all_problems.append("[upgrade] the upgrade from the last release failed")
    for problem in all_problems:
        print(f"[tier2] PROBLEM {problem}", flush=True)
    print(f"tier2: {total_ran - total_failed} passed, {total_failed} failed", flush=True)
    return 1 if (all_problems or total_failed) else 0


if __name__ == "__main__":
    sys.exit(main())
