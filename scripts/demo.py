"""The demo: a database with the addon and its demo data, then Odoo serving it on loopback."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="ar_credit_demo")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="build (or update) the demo database, then stop instead of serving it",
    )
    args = parser.parse_args()
    odoo_env.ensure_postgresql()
    odoo_env.ensure_wkhtmltopdf()
    if odoo_env.database_exists(args.database):
        print(f"[demo] updating ar_credit_control in existing database {args.database}")
        action = ["-u", "ar_credit_control"]
    else:
        template = odoo_env.ensure_template(demo=True)
        print(f"[demo] creating {args.database} from {template}, installing ar_credit_control")
        odoo_env.copy_database(template, args.database)
        action = ["-i", "ar_credit_control"]
    subprocess.run(
        odoo_env.odoo_command(args.database, args.port, *action, "--stop-after-init"),
        check=True,
    )
    if args.no_serve:
        print(f"[demo] {args.database} ready", flush=True)
        return 0
    print(f"[demo] Odoo on http://127.0.0.1:{args.port}/odoo (login admin / admin)", flush=True)
    cmd = odoo_env.odoo_command(args.database, args.port)
    os.execv(cmd[0], cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
