"""The Zoho OAuth scopes each ``crm-sync`` command needs, and which of them a token lacks.

Each API's page in Zoho's v8 reference lists the scopes that allow it ("Scope" line): an
operation scope (``ZohoCRM.settings.fields.READ``) is granted by itself, by ``ALL`` at its
level (``ZohoCRM.settings.fields.ALL``) or by a parent scope (``ZohoCRM.settings.ALL``,
``ZohoCRM.modules.ALL``); a module's records also by the module's own scope
(``ZohoCRM.modules.accounts.READ``), or ``ZohoCRM.modules.custom.*`` for a custom module.
Zoho's token endpoint lists the granted scopes in ``scope`` when it answers a refresh.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

STANDARD_MODULES = frozenset(
    {"leads", "contacts", "accounts", "deals", "products", "quotes", "invoices", "vendors",
     "campaigns", "cases", "solutions"}
)  # fmt: skip


def parse_scopes(text: str | None) -> frozenset[str] | None:
    """The scopes of a token answer's ``scope`` (space- or comma-separated); ``None`` when
    the answer did not say."""
    if not text:
        return None
    return frozenset(part for part in re.split(r"[\s,]+", text) if part)


def module_scope(module: str, operation: str) -> str:
    """The record scope of one operation on a module: ``ZohoCRM.modules.accounts.READ``."""
    name = module.lower() if module.lower() in STANDARD_MODULES else "custom"
    return f"ZohoCRM.modules.{name}.{operation}"


def command_scopes(command: str, accounts_module: str, payments_module: str | None) -> list[str]:
    """The operation scopes a command uses (the calls it makes, in the order it makes them)."""
    fields_read = "ZohoCRM.settings.fields.READ"
    if command == "setup":
        return [fields_read, "ZohoCRM.settings.fields.CREATE"]
    needed = [fields_read, module_scope(accounts_module, "READ")]
    if command in ("run", "replay"):
        needed += [module_scope(accounts_module, "CREATE"), module_scope(accounts_module, "UPDATE")]
    if payments_module and command == "run":
        needed.append(module_scope(payments_module, "READ"))
    return list(dict.fromkeys(needed))


def grants(granted: Iterable[str], needed: str) -> bool:
    """Whether ``granted`` holds ``needed`` itself, ``ALL`` at its level or a parent scope."""
    have = {scope.lower() for scope in granted}
    *path, operation = needed.split(".")
    for depth in range(2, len(path) + 1):  # ZohoCRM.x … the scope's own level
        prefix = ".".join(path[:depth])
        if f"{prefix}.all".lower() in have or f"{prefix}.{operation}".lower() in have:
            return True
    return False


def missing_scopes(granted: Iterable[str], needed: Iterable[str]) -> list[str]:
    granted = list(granted)
    return [scope for scope in needed if not grants(granted, scope)]
