#!/usr/bin/env bash
# Runs every test of the project: tier 1 (no Odoo needed) then tier 2 (the addon in Odoo).
# Sets up what it needs, idempotently: this project into the Python that has Odoo, and
# PostgreSQL/wkhtmltopdf from Debian's packages (tier 2 only). See README.md.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

echo "== setup: pip install -e .[test] into $($PYTHON -c 'import sys; print(sys.executable)')"
$PYTHON -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    -e '.[test]' 2>&1 | grep -vE "^WARNING: Location|self._finalize|^\s*!!|^\s*\*{5,}|^$" || true

# tier 1 also tests the SDK's PostgreSQL state store: start the local cluster when there is one
$PYTHON -c "import sys; sys.path.insert(0, 'scripts'); import odoo_env; odoo_env.ensure_postgresql()" \
    || echo "[setup] PostgreSQL not available: tier 1 skips the PostgreSQL state-store tests"

echo "== tier 1: pytest tests/ (engine, SDK, data generator, static addon checks, lint)"
$PYTHON -m pytest tests/ -p no:odoo
tier1=$?

echo "== tier 2: the addon installed in fresh Odoo databases, its Odoo tests"
$PYTHON scripts/odoo_tier.py
tier2=$?

echo "== summary: tier 1 exit ${tier1}, tier 2 exit ${tier2} (3 = skipped, Odoo not importable)"
if [ "$tier1" -ne 0 ]; then exit 1; fi
if [ "$tier2" -eq 3 ] && [ "${CI:-}" != "true" ]; then exit 0; fi
exit "$tier2"
