"""``crm-sync``: command-line entry point for cron jobs and systemd timers.

Exit codes (stable; a scheduler can act on them):

====  =========================================================================
 0    success
 1    unexpected internal error
 2    configuration error (file, environment variable, command-line usage)
 3    authentication error (CRM credentials or token, Odoo API key)
 4    a limit: rate-limited after retries, a daily request allowance or credit budget spent;
      the cursors are saved, run again after the limit resets
 5    remote system unavailable or a remote error after retries; try again later
 6    another run holds the lock
 7    partial failure: the run completed but quarantined records as dead letters
====  =========================================================================
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import IO, Any

from . import __version__
from .config import DEFAULT_CONFIG_PATH, load_config, write_default_config
from .errors import EXIT_INTERNAL, EXIT_OK, EXIT_PARTIAL, CrmSyncError
from .logs import configure_json_logging
from .redaction import redact

log = logging.getLogger("crm_sync.cli")

CRM_KINDS = ("zoho", "soap", "fxiaoke")  # crm.kind values; runtime.build_crm_connector maps them

EPILOG = """exit codes: 0 ok, 1 internal error, 2 configuration error, 3 authentication error,
4 a limit (rate limited after retries, a daily API allowance or credit budget spent),
5 remote unavailable or remote error, 6 lock held by another run, 7 partial failure (dead
letters).
Secrets come from the environment variables named in the configuration file."""


class _ProgressLine:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.counts: dict[str, int] = {}

    def __call__(self, phase: str, done: int) -> None:
        if not self.enabled:
            return
        self.counts[phase] = done
        text = "  ".join(f"{name}: {count:,}" for name, count in self.counts.items())
        self.stream.write(f"\r\x1b[2Kcrm-sync {text}")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.counts:
            self.stream.write("\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm-sync",
        description="Synchronise customers and payments between Odoo and a CRM "
        "(Zoho CRM, a SOAP replication API, FXiaoKe).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"crm-sync {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        default=os.environ.get("CRM_SYNC_CONFIG", DEFAULT_CONFIG_PATH),
        help="configuration file (default: $CRM_SYNC_CONFIG or crm-sync.toml)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="write a commented configuration template")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.add_argument(
        "--kind", choices=CRM_KINDS, default="zoho", help="CRM to connect (default: zoho)"
    )
    commands.add_parser("check", help="validate the configuration and the credentials")
    run = commands.add_parser("run", help="one incremental sync pass")
    run.add_argument("--dry-run", action="store_true", help="read and compare, write nothing")
    run.add_argument("--full", action="store_true", help="rescan every Odoo customer")
    run.add_argument("--no-progress", action="store_true", help="no progress line on a TTY")
    commands.add_parser("status", help="cursors, id-map sizes, dead letters, last run")
    commands.add_parser("replay", help="re-send the records in the dead-letter table")
    return parser


def _print(stream: IO[str], data: Any) -> None:
    stream.write(redact(json.dumps(data, indent=2, sort_keys=True, default=str)) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_json_logging(getattr(logging, args.log_level.upper()))
    stdout, stderr = sys.stdout, sys.stderr
    try:
        if args.command == "init":
            path = write_default_config(args.config, overwrite=args.force, kind=args.kind)
            stdout.write(f"wrote {path}; put the secrets in the environment variables it names\n")
            return EXIT_OK
        config = load_config(args.config)
        from .runtime import build_runtime  # after config: keeps `init` fast and dependency-free

        if args.command == "status":
            from .state import open_state_store

            state = open_state_store(config.state.backend, path=config.state.path,
                                     dsn=_dsn(config))  # fmt: skip
            try:
                _print(stdout, _status(state))
            finally:
                state.close()
            return EXIT_OK
        progress = _ProgressLine(stderr)
        if getattr(args, "no_progress", False):
            progress.enabled = False
        runtime = build_runtime(config, progress=progress)
        try:
            if args.command == "check":
                runtime.erp.check()
                runtime.crm.check()
                runtime.engine.verify_schema()  # the field map against the CRM's metadata
                _print(stdout, {"config": "ok", "odoo": "ok", "crm": "ok", "state": "ok",
                                "fields": "ok"})  # fmt: skip
                return EXIT_OK
            # Credentials first: a refused token stops the run before anything is read or written.
            authenticate = getattr(runtime.crm, "authenticate", None)
            if authenticate is not None:
                authenticate()
            # The field map against the CRM's metadata, before anything is read or written
            # (the engine then skips its own check: one metadata call per module per run).
            runtime.engine.verify_schema()
            if args.command == "run":
                report = runtime.engine.run(dry_run=args.dry_run, full=args.full)
                progress.finish()
                _print(stdout, report.as_dict())
                return EXIT_PARTIAL if report.partial else EXIT_OK
            if args.command == "replay":
                report = runtime.engine.replay()
                _print(stdout, report.as_dict())
                return EXIT_PARTIAL if report.counters.get("dead_letters_left") else EXIT_OK
        finally:
            runtime.close()
    except CrmSyncError as exc:
        extra = {"error": type(exc).__name__, "code": exc.code, "exit_code": exc.exit_code}
        log.error("crm-sync %s failed: %s", args.command, exc.message, extra=extra)
        stderr.write(redact(f"crm-sync: {type(exc).__name__}: {exc.message}") + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: never leak a traceback's locals
        log.exception("crm-sync %s crashed", args.command)
        stderr.write(redact(f"crm-sync: internal error: {type(exc).__name__}: {exc}") + "\n")
        return EXIT_INTERNAL
    return EXIT_INTERNAL  # pragma: no cover - argparse guarantees a known command


def _dsn(config: Any) -> str | None:
    if config.state.backend != "postgresql":
        return None
    from .config import resolve_secrets

    secrets = resolve_secrets(config)
    return secrets.postgres_dsn.get_secret_value() if secrets.postgres_dsn else None


def _status(state: Any) -> dict[str, Any]:
    cursors = {}
    for key in ("crm.customers", "crm.deleted", "crm.payments", "erp.customers"):
        cursors[key] = state.get_value(f"cursor:{key}")
    last_run = state.get_value("last_run")
    letters = state.dead_letters()
    return {
        "cursors": cursors,
        "id_map": {k: v for k, v in state.counts().items() if k != "dead_letters"},
        "dead_letters": len(letters),
        "dead_letters_by_code": _count_by(letter.code for letter in letters),
        "last_run": json.loads(last_run) if last_run else None,
    }


def _count_by(codes: Any) -> dict[str, int]:
    result: dict[str, int] = {}
    for code in codes:
        result[code] = result.get(code, 0) + 1
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
