"""Database chores: create from a template with its filestore, drop, terminate connections.

Odoo keeps attachments under ``<data_dir>/filestore/<db>``: a database copy without that folder
loses its attachments (assets, reports), so every copy here copies both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import psycopg2

ADDONS_PATH = "/opt/odoo18/addons,/opt/odoo18/odoo/addons"


def data_dir() -> Path:
    return Path(os.environ.get("ODOO_DATA_DIR", Path.home() / ".local/share/Odoo"))


def filestore(db: str) -> Path:
    return data_dir() / "filestore" / db


@contextmanager
def _admin_cursor():
    # No ``with connection``: psycopg2 2.9 would open a transaction, and CREATE DATABASE
    # refuses to run inside one.
    connection = psycopg2.connect(dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cr:
            yield cr
    finally:
        connection.close()


def exists(db: str) -> bool:
    with _admin_cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        return cr.fetchone() is not None


def terminate(db: str) -> None:
    with _admin_cursor() as cr:
        cr.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [db],
        )


def drop(db: str) -> None:
    terminate(db)
    with _admin_cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{db}"')
    shutil.rmtree(filestore(db), ignore_errors=True)


def copy(template: str, db: str) -> None:
    """``createdb -T template db`` plus the filestore folder; the template must be idle."""
    terminate(template)
    with _admin_cursor() as cr:
        cr.execute(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
    source = filestore(template)
    if source.exists():
        shutil.copytree(source, filestore(db), dirs_exist_ok=True)


def set_comment(db: str, comment: str) -> None:
    with _admin_cursor() as cr:
        cr.execute(f'COMMENT ON DATABASE "{db}" IS %s', [comment])


def get_comment(db: str) -> str | None:
    with _admin_cursor() as cr:
        cr.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [db],
        )
        row = cr.fetchone()
        return row[0] if row else None


def install_modules(
    db: str,
    modules: str,
    *,
    http_port: int,
    addons_path: str = ADDONS_PATH,
    update: bool = False,
    log_file: Path | None = None,
) -> None:
    """Install (or update) modules with the ``odoo`` command, stopping after init."""
    command = [
        "odoo",
        "-d",
        db,
        "-u" if update else "-i",
        modules,
        "--without-demo=all",
        "--stop-after-init",
        f"--http-port={http_port}",
        "--http-interface=127.0.0.1",
        f"--addons-path={addons_path}",
        "--log-level=warn",
    ]
    with open(log_file or os.devnull, "a") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"odoo {' '.join(command[1:6])} failed (exit {result.returncode})")
