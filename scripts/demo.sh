#!/usr/bin/env bash
# Creates the demo database (ar_credit_demo) with the addon and its demo data, once, then
# starts Odoo on http://127.0.0.1:8069 (login admin / admin). Idempotent: a second run only
# updates the addon and starts Odoo. --no-serve builds the database and stops (to time it).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
DB="${DEMO_DB:-ar_credit_demo}"
PORT="${DEMO_PORT:-8069}"

if ! $PYTHON -c 'import odoo' 2>/dev/null; then
    echo "Odoo 18.0 is required: 'import odoo' fails in $PYTHON." >&2
    echo "Install Odoo 18.0 into this Python (see README.md, Prerequisites), then run again." >&2
    exit 2
fi
$PYTHON -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e . \
    2>&1 | grep -vE "^WARNING: Location|self._finalize|^\s*!!|^\s*\*{5,}|^$" || true
exec $PYTHON scripts/demo.py --database "$DB" --port "$PORT" "$@"
