# Odoo addons used by the tier 2 tests (scripts/odoo_tier.py installs them in a test database):
# their tests run inside Odoo, not under pytest.
collect_ignore_glob = ["*"]
