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
from .errors import EXIT_AUTH, EXIT_INTERNAL, EXIT_OK, EXIT_PARTIAL, AuthError, CrmSyncError
from .logs import configure_json_logging
from .redaction import redact

log = logging.getLogger("crm_sync.cli")

CRM_KINDS = ("zoho", "soap", "fxiaoke")  # crm.kind values; runtime.build_crm_connector maps them

EPILOG = """exit codes: 0 ok, 1 internal error, 2 configuration error, 3 authentication error,
4 a limit (rate limited after retries, a daily API allowance or credit budget spent),
5 remote unavailable or remote error, 6 lock held by another run, 7 partial failure (dead
letters).
Secrets come from the environment variables named in the configuration file."""


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
    commands.add_parser(
        "check", help="validate the configuration, the credentials and the token's scopes"
    )
    setup = commands.add_parser(
        "setup", help="create the CRM fields the field map needs (once, as a CRM administrator)"
    )
    setup.add_argument(
        "--dry-run", action="store_true", help="list the fields it would create; change nothing"
    )
    run = commands.add_parser("run", help="one incremental sync pass")
    run.add_argument("--dry-run", action="store_true", help="read and compare, write nothing")
    run.add_argument("--full", action="store_true", help="rescan every Odoo customer")
    run.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars or summary table on a terminal (JSON report and log lines only)",
    )
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
    display: Any = None  # the terminal's progress bars, stopped before any error is shown
    try:
        if args.command == "init":
            path = write_default_config(args.config, overwrite=args.force, kind=args.kind)
            stdout.write(f"wrote {path}; put the secrets in the environment variables it names\n")
            return EXIT_OK
        config = load_config(args.config)
        from .runtime import build_runtime  # after config: keeps `init` fast and dependency-free

        if args.command == "setup":
            return _setup(config, dry_run=args.dry_run, stdout=stdout, stderr=stderr)
        if args.command == "status":
            from .state import open_state_store

            state = open_state_store(config.state.backend, path=config.state.path,
                                     dsn=_dsn(config))  # fmt: skip
            try:
                _print(stdout, _status(state))
            finally:
                state.close()
            return EXIT_OK
        if args.command == "run" and not args.no_progress and stderr.isatty():
            from .progress import RunDisplay  # rich loads only for a person watching

            display = RunDisplay()
        runtime = build_runtime(config, progress=display)
        try:
            if args.command == "check":
                runtime.erp.check()
                # Scopes first: a token without them fails the next calls with a bare refusal.
                missing = _missing_scopes(runtime.crm, CHECKED_COMMANDS, stderr, fresh=True)
                result: dict[str, Any] = {"config": "ok", "odoo": "ok", "state": "ok"}
                if missing is not None:
                    result["scopes_missing"] = missing
                if missing and any(command in missing for command in SYNC_COMMANDS):
                    result["crm"] = "scopes missing"
                    _print(stdout, result)
                    return EXIT_AUTH
                runtime.crm.check()
                runtime.engine.verify_schema()  # the field map against the CRM's metadata
                _print(stdout, {**result, "crm": "ok", "fields": "ok"})
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
                if display is not None:
                    display.finish(report)  # the summary table
                if display is None or not stdout.isatty():
                    _print(stdout, report.as_dict())  # for scripts: the report as JSON
                return EXIT_PARTIAL if report.partial else EXIT_OK
            if args.command == "replay":
                report = runtime.engine.replay()
                _print(stdout, report.as_dict())
                return EXIT_PARTIAL if report.counters.get("dead_letters_left") else EXIT_OK
        finally:
            runtime.close()
    except CrmSyncError as exc:
        if display is not None:
            display.stop()
        extra = {"error": type(exc).__name__, "code": exc.code, "exit_code": exc.exit_code}
        log.error("crm-sync %s failed: %s", args.command, exc.message, extra=extra)
        stderr.write(redact(f"crm-sync: {type(exc).__name__}: {exc.message}") + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        if display is not None:
            display.stop()
        return 130
    except Exception as exc:  # the last line of defence: never leak a traceback's locals
        if display is not None:
            display.stop()
        log.exception("crm-sync %s crashed", args.command)
        stderr.write(redact(f"crm-sync: internal error: {type(exc).__name__}: {exc}") + "\n")
        return EXIT_INTERNAL
    return EXIT_INTERNAL  # pragma: no cover - argparse guarantees a known command


# Commands whose OAuth scopes ``check`` verifies; a sync command lacking one fails ``check``.
CHECKED_COMMANDS = ("check", "run", "replay", "setup")
SYNC_COMMANDS = ("check", "run", "replay")


def _missing_scopes(
    crm: Any, commands: Sequence[str], stderr: IO[str], *, fresh: bool = False
) -> dict[str, list[str]] | None:
    """Per command, the OAuth scopes the CRM token lacks, each told on ``stderr``; ``None``
    when the CRM has no scopes or did not say which it granted."""
    report = getattr(crm, "missing_scopes", None)
    missing = report(commands, fresh=fresh) if report is not None else None
    for command, scopes in (missing or {}).items():
        stderr.write(f"crm-sync: the token lacks scopes {command} needs: {', '.join(scopes)}\n")
    return missing


def _setup(config: Any, *, dry_run: bool, stdout: IO[str], stderr: IO[str]) -> int:
    """``crm-sync setup``: create the missing CRM fields of the field map, then prove the map.

    Needs the CRM credentials only (no Odoo). Exit 2 when a field has the wrong type (nothing
    created) or when fields remain that only an administrator can create by hand.
    """
    from .config import resolve_secrets
    from .provisioning import by_hand_error, conflict_error, create_missing, plan_setup
    from .runtime import build_crm_connector, retry_policy
    from .state import open_state_store

    secrets = resolve_secrets(config)
    dsn = secrets.postgres_dsn.get_secret_value() if secrets.postgres_dsn else None
    state = open_state_store(config.state.backend, path=config.state.path, dsn=dsn)
    try:
        crm: Any = build_crm_connector(config, secrets, state=state, retry=retry_policy(config))
        try:
            missing = _missing_scopes(crm, ("setup",), stderr)
            if missing and not dry_run:  # a dry run only reads the field metadata
                raise AuthError(
                    f"the token lacks the scopes setup needs: {', '.join(missing['setup'])}",
                    code="OAUTH_SCOPE_MISMATCH",
                )
            options = {
                "payments": config.sync.sync_payments,
                "archived": config.sync.archived_in_odoo == "mark",
            }
            plan = plan_setup(crm, **options)
            error = conflict_error(plan)
            if error is None and not dry_run:
                create_missing(
                    crm,
                    plan,
                    on_created=lambda spec: log.info(
                        "crm field created", extra={"object": spec.obj, "field": spec.api_name}
                    ),
                )
            _print(stdout, plan.as_dict(dry_run=dry_run))
            error = error or by_hand_error(plan)
            if error is not None:
                raise error
            if not dry_run:
                crm.verify_schema(**options)  # the map now matches the CRM's metadata
            return EXIT_OK
        finally:
            crm.close()
    finally:
        state.close()


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
