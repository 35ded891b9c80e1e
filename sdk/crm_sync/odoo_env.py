"""Odoo in-process: the gateway over an ``env`` handed in by the addon's cron.

Nothing here imports ``odoo``: the environment is duck-typed (``env[model]`` returns a model
with ``search_read``, ``search``, ``create``, ``browse``, ``read_group``, ``with_context`` and
``_fields``), which keeps the SDK importable and testable without Odoo.
"""

from __future__ import annotations

from typing import Any

from .errors import AuthError, ValidationError

_RECORD_ERRORS = {"ValidationError", "UserError", "MissingError"}
_AUTH_ERRORS = {"AccessError", "AccessDenied"}


def _translate(exc: Exception) -> Exception:
    name = type(exc).__name__
    if name in _RECORD_ERRORS:
        return ValidationError(f"Odoo rejected the record: {exc}", code=name)
    if name in _AUTH_ERRORS:
        return AuthError(f"Odoo refused access: {exc}", code=name)
    return exc


class OdooEnvGateway:
    """The :class:`~crm_sync.odoo_connector.OdooGateway` over an Odoo ``env``."""

    def __init__(self, env: Any) -> None:
        self.env = env

    def __repr__(self) -> str:
        return "OdooEnvGateway()"

    def close(self) -> None:
        """The addon owns the environment and its cursor."""

    def _model(self, model: str, active_test: bool = True) -> Any:
        records = self.env[model]
        return records if active_test else records.with_context(active_test=False)

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        order: str | None = None,
        limit: int | None = None,
        active_test: bool = True,
    ) -> list[dict[str, Any]]:
        return list(
            self._model(model, active_test).search_read(domain, fields, order=order, limit=limit)
        )

    def search(
        self, model: str, domain: list[Any], *, limit: int | None = None, active_test: bool = True
    ) -> list[int]:
        return list(self._model(model, active_test).search(domain, limit=limit).ids)

    def create(self, model: str, values: dict[str, Any]) -> int:
        try:
            return int(self._model(model).create(values).id)
        except Exception as exc:  # Odoo's exception classes cannot be imported here
            raise _translate(exc) from exc

    def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None:
        try:
            self._model(model, active_test=False).browse(ids).write(values)
        except Exception as exc:
            raise _translate(exc) from exc

    def field_names(self, model: str) -> set[str]:
        return set(self._model(model)._fields)

    def read_group(
        self, model: str, domain: list[Any], fields: list[str], groupby: list[str]
    ) -> list[dict[str, Any]]:
        return list(self._model(model).read_group(domain, fields, groupby, lazy=False))
