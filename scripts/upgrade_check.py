"""Upgrade test: the addons of the last release, with data, upgraded to the working tree.

1. The last release of ``releases.txt`` is built from the history (``git archive <commit>
   addons sdk``) into ``var/releases/<version>``.
2. A copy of the no-demo template gets that release's addons installed, with its own SDK;
   ``scripts/upgrade_seed.py`` (in ``odoo shell``, the release's code) gives it customers,
   invoices and payments (open balances), credit profiles, a dunning run, a credit approval,
   and other signatures of the addon's SQL functions, as an older release may have left them.
3. ``-u`` to the working tree's addons; ``scripts/upgrade_verify.py`` checks that the data is
   kept, that the credit check, the aging and a dunning run work, and that every database object
   of the addon is the new one.
4. Uninstall (``scripts/uninstall_check.py``): nothing of the addon is left, Odoo still sells.

Run: python3 scripts/upgrade_check.py. Exit status 0 passed, 1 failed, 3 skipped (Odoo not
importable, or a clone without the release's commit; with CI=true a skip fails).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402
from odoo_tier import ADDONS, BROKEN_RE  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent
RELEASES = odoo_env.REPO / "releases.txt"
LOG_DIR = odoo_env.REPO / "var" / "log"


class Skip(Exception):
    pass


def last_release() -> tuple[str, str]:
    lines = [
        line.split()
        for line in RELEASES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    version, commit = lines[-1][:2]
    return version, commit


def build_release(version: str, commit: str) -> Path:
    """The release's addons and SDK under var/releases/<version>, from git."""
    target = odoo_env.REPO / "var" / "releases" / version
    if (target / "addons" / "ar_credit_control" / "__manifest__.py").exists():
        return target
    known = subprocess.run(
        ["git", "-C", str(odoo_env.REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
    )
    if known.returncode != 0:
        raise Skip(f"commit {commit} of release {version} is not in this clone's history")
    building = target.with_name(f"{version}.building")
    subprocess.run(["rm", "-rf", str(building)], check=True)
    building.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(odoo_env.REPO), "archive", "--format=tar", commit, "addons", "sdk"],
        capture_output=True,
        check=True,
    )
    tar_path = building / "release.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(building, filter="data")
    tar_path.unlink()
    building.rename(target)
    return target


def run_odoo(db: str, release: Path | None, *args: str, log: str, stdin: Path | None = None):
    """Odoo on `db` with the release's addons and SDK (release given) or the working tree's."""
    env = dict(os.environ)
    addons_dir = odoo_env.ADDONS_DIR
    if release is not None:
        addons_dir = release / "addons"
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(release / "sdk"), env.get("PYTHONPATH", "")) if p
        )
    subcommand = "shell" if stdin else "server"
    log_path = LOG_DIR / f"upgrade-{log}.log"
    log_path.unlink(missing_ok=True)
    cmd = odoo_env.odoo_command(
        db,
        odoo_env.free_port(),
        *args,
        "--logfile",
        str(log_path),
        subcommand=subcommand,
        addons_dir=addons_dir,
    )
    with stdin.open() if stdin else open(os.devnull) as source:
        proc = subprocess.run(cmd, stdin=source, env=env, text=True, capture_output=True)
    log_text = log_path.read_text(encoding="utf-8", errors="replace")
    problems = [line for line in log_text.splitlines() if BROKEN_RE.search(line)]
    if proc.returncode != 0 or problems:
        raise RuntimeError(
            f"{log}: odoo exited {proc.returncode}\n"
            + "\n".join(problems[:20])
            + f"\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


def main() -> int:
    in_ci = os.environ.get("CI", "").lower() == "true"
    started = time.monotonic()
    if not odoo_env.odoo_importable():
        print("[upgrade] SKIPPED: Odoo is not importable", flush=True)
        return 1 if in_ci else 3
    version, commit = last_release()
    try:
        release = build_release(version, commit)
    except Skip as skip:
        print(f"[upgrade] SKIPPED: {skip}", flush=True)
        return 1 if in_ci else 3
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    odoo_env.ensure_postgresql()
    template = odoo_env.ensure_template(demo=False)
    db = f"arcc_upgrade_{os.getpid()}"
    odoo_env.copy_database(template, db)
    quiet = ("--stop-after-init", "--log-level", "warn", "--without-demo", "all")
    try:
        run_odoo(db, release, "-i", ",".join(ADDONS), *quiet, log="install")
        out = run_odoo(
            db,
            release,
            "--no-http",
            "--log-level",
            "warn",
            log="seed",
            stdin=SCRIPTS / "upgrade_seed.py",
        )
        facts = next(line for line in out.splitlines() if line.startswith("UPGRADE-SEED "))
        print(f"[upgrade] {version} installed with data: {facts[13:]}", flush=True)
        run_odoo(db, None, "-u", ",".join(ADDONS), *quiet, log="update")
        os.environ["ARCC_UPGRADE_FACTS"] = facts[13:]
        out = run_odoo(
            db,
            None,
            "--no-http",
            "--log-level",
            "warn",
            log="verify",
            stdin=SCRIPTS / "upgrade_verify.py",
        )
        verdict = next(line for line in out.splitlines() if line.startswith("UPGRADE-VERIFY "))
        print(f"[upgrade] upgraded to the working tree: {verdict[15:]}", flush=True)
        out = run_odoo(
            db,
            None,
            "--no-http",
            "--log-level",
            "warn",
            log="uninstall",
            stdin=SCRIPTS / "uninstall_check.py",
        )
        if "UNINSTALL-CHECK: OK" not in out:
            raise RuntimeError(f"uninstall check: {out[-2000:]}")
        print("[upgrade] uninstalled: nothing of the addon left, Odoo still sells", flush=True)
    except (RuntimeError, StopIteration, subprocess.CalledProcessError) as error:
        print(f"[upgrade] FAILED from {version}: {error}", flush=True)
        return 1
    finally:
        odoo_env.drop_database(db)
    print(
        f"[upgrade] from {version} ({commit[:8]}): passed in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
