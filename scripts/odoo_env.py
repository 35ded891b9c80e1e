"""Locate Odoo and prepare the services it needs (PostgreSQL, wkhtmltopdf).

Shared by the test runner (``scripts/odoo_tier.py``), the demo command and the benchmarks.
Everything here is idempotent: a second call on a ready machine only checks and returns.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDONS_DIR = REPO / "addons"
# Modules our addon builds on; template databases are built with them already installed.
BASE_MODULES = ("account", "sale_management")
# Bump when the way templates are built changes, so stale templates are not reused.
TEMPLATE_FORMAT = "2"


def odoo_importable() -> bool:
    return importlib.util.find_spec("odoo") is not None


def odoo_addons_paths(addons_dir: Path = ADDONS_DIR) -> list[str]:
    """Odoo's own addons folders, then ours (ODOO_ADDONS_PATH adds more, comma separated);
    `addons_dir`: another copy of ours, e.g. a release's."""
    import odoo  # noqa: PLC0415 - only when Odoo is there

    odoo_root = Path(odoo.__file__).resolve().parent
    paths = []
    for candidate in (odoo_root.parent / "addons", odoo_root / "addons"):
        # An editable install has the full addons folder beside the package.
        if (candidate / "account" / "__manifest__.py").exists() or (
            candidate / "base" / "__manifest__.py"
        ).exists():
            paths.append(str(candidate))
    extra = [p for p in os.environ.get("ODOO_ADDONS_PATH", "").split(",") if p]
    return [*extra, str(addons_dir), *paths]


def odoo_version() -> str:
    import odoo.release  # noqa: PLC0415

    return odoo.release.version


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, **kwargs)


def _apt_install(packages: list[str]) -> None:
    missing = [
        p
        for p in packages
        if subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True
        ).stdout
        != "install ok installed"
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        names = " ".join(missing)
        sys.exit(f"Missing Debian packages: install them with 'apt-get install {names}'.")
    print(f"[setup] installing Debian packages: {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
    _run(["apt-get", "install", "-y", "-q", *missing], env=env, stdout=subprocess.DEVNULL)


def ensure_postgresql() -> None:
    """PostgreSQL installed, a cluster running, and a superuser role for this OS user."""
    if not shutil.which("pg_lsclusters"):
        _apt_install(["postgresql"])
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    rows = [line.split() for line in clusters.splitlines() if line.strip()]
    if not rows:
        sys.exit("PostgreSQL is installed but has no cluster: create one with pg_createcluster.")
    version, name, _port, status = rows[0][:4]
    if status != "online":
        print(f"[setup] starting PostgreSQL {version}/{name}", flush=True)
        _run(["pg_ctlcluster", version, name, "start"])
    user = os.environ.get("PGUSER") or _current_user()
    probe = subprocess.run(["psql", "-d", "postgres", "-tAc", "select 1"], capture_output=True)
    if probe.returncode != 0 and os.geteuid() == 0:
        subprocess.run(["su", "postgres", "-c", f"createuser -s {user}"], capture_output=True)
        _run(["psql", "-d", "postgres", "-tAc", "select 1"], stdout=subprocess.DEVNULL)


def ensure_wkhtmltopdf() -> None:
    if not shutil.which("wkhtmltopdf"):
        _apt_install(["wkhtmltopdf"])
    if shutil.which("dpkg-query"):  # a CJK font: Chinese letters and statements print
        _apt_install(["fonts-noto-cjk"])


# The executables Odoo's browser tests look for (odoo.tests.common._find_executable).
BROWSERS = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")


def ensure_browser() -> None:
    """What Odoo's browser tests (tours) need: a Chromium and the websocket-client module.
    Without them Odoo skips those tests silently (see odoo_tier.browser_skips)."""
    if not any(shutil.which(name) for name in BROWSERS):
        _apt_install(["chromium"])
    if subprocess.run([sys.executable, "-c", "import websocket"], capture_output=True).returncode:
        print("[setup] installing websocket-client (Odoo's browser tests)", flush=True)
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--root-user-action=ignore",
                "websocket-client",
            ]
        )


def _current_user() -> str:
    import pwd  # noqa: PLC0415

    return pwd.getpwuid(os.getuid()).pw_name


def psql(sql: str, db: str = "postgres") -> str:
    return _run(["psql", "-d", db, "-tAc", sql], capture_output=True).stdout.strip()


def database_exists(name: str) -> bool:
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def data_dir() -> Path:
    return Path(os.environ.get("ODOO_DATA_DIR", Path.home() / ".local/share/Odoo"))


def drop_database(name: str) -> None:
    if database_exists(name):
        psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        _run(["dropdb", "--if-exists", name])
    shutil.rmtree(data_dir() / "filestore" / name, ignore_errors=True)


def copy_database(template: str, new: str) -> None:
    """Fast fresh database: PostgreSQL copies the template's files (≈0.5 s)."""
    drop_database(new)
    # PostgreSQL refuses to copy a template another session is copying at the same moment
    # ("source database is being accessed by other users"): two runs side by side wait their turn.
    for attempt in range(30):
        proc = subprocess.run(["createdb", "-T", template, new], capture_output=True, text=True)
        if proc.returncode == 0:
            break
        if "being accessed by other users" not in proc.stderr or attempt == 29:
            raise RuntimeError(f"createdb -T {template} {new} failed: {proc.stderr.strip()}")
        time.sleep(1 + attempt % 3)
    src = data_dir() / "filestore" / template
    if src.exists():
        shutil.copytree(src, data_dir() / "filestore" / new)


def odoo_command(
    db: str,
    port: int,
    *args: str,
    subcommand: str = "server",
    addons_dir: Path = ADDONS_DIR,
    extra_paths: tuple[str, ...] = (),
) -> list[str]:
    """The odoo command line for `db`; Odoo reads a subcommand only in first position.
    `extra_paths`: more addons folders, searched first (e.g. the test addons')."""
    return [
        sys.executable,
        "-m",
        "odoo",
        subcommand,
        "--database",
        db,
        "--addons-path",
        ",".join([*extra_paths, *odoo_addons_paths(addons_dir)]),
        "--data-dir",
        str(data_dir()),
        "--http-port",
        str(port),
        "--http-interface",
        "127.0.0.1",
        "--db-filter",
        f"^{db}$",
        *args,
    ]


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def template_name(modules: tuple[str, ...], demo: bool) -> str:
    key = "|".join([TEMPLATE_FORMAT, odoo_version(), *modules, str(demo)])
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return f"arcc_tpl_{digest}_{'demo' if demo else 'nodemo'}"


def ensure_template(modules: tuple[str, ...] = BASE_MODULES, demo: bool = True) -> str:
    """A database with Odoo's modules installed, built once and reused (≈45 s the first time).

    The name carries a hash of the Odoo version and module list; a half-built template is
    never reused because it is built under a temporary name and renamed when complete.
    """
    name = template_name(modules, demo)
    if database_exists(name):
        return name
    building = f"{name}_building"
    drop_database(building)
    print(
        f"[tier2] building template database {name} ({'with' if demo else 'without'} demo data)",
        flush=True,
    )
    started = time.monotonic()
    args = ["-i", ",".join(modules), "--stop-after-init", "--log-level", "warn"]
    if not demo:
        args += ["--without-demo", "all"]
    _run(odoo_command(building, free_port(), *args), stdout=subprocess.DEVNULL)
    # Compile the web asset bundles once, here: every copy then starts with them (≈35 s saved
    # per test database that runs HTTP tests).
    subprocess.run(
        odoo_command(building, free_port(), "--no-http", "--log-level", "warn", subcommand="shell"),
        input="env['ir.qweb']._pregenerate_assets_bundles()\nenv.cr.commit()\n",
        text=True,
        check=True,
        capture_output=True,
    )
    psql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    filestore = data_dir() / "filestore"
    if (filestore / building).exists():
        shutil.rmtree(filestore / name, ignore_errors=True)
        (filestore / building).rename(filestore / name)
    print(f"[tier2] template {name} built in {time.monotonic() - started:.0f} s", flush=True)
    return name
