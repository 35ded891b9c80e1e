"""Test doubles for integrators: a Zoho CRM v8 emulator and a fake Odoo JSON-RPC server.

Both are real HTTP servers on 127.0.0.1 running in a thread. Use them directly::

    with ZohoEmulator() as crm, FakeOdoo() as odoo:
        ...

or as pytest fixtures by adding ``pytest_plugins = ["crm_sync.testing.pytest_plugin"]`` to the
root ``conftest.py`` (fixtures ``zoho_emulator``, ``fake_odoo``, ``make_zoho_emulator``).
"""

from .odoo_fake import FakeOdoo
from .zoho_emulator import Fault, ZohoEmulator

__all__ = ["FakeOdoo", "Fault", "ZohoEmulator"]
