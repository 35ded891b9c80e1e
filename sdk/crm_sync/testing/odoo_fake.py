"""A small fake of Odoo's JSON-RPC endpoint (``/jsonrpc``) for tests.

It keeps records in memory and implements what crm_sync calls through ``execute_kw``:
``search``, ``search_read``, ``read``, ``create``, ``write``, ``fields_get`` and
``read_group``, with Odoo's domain language (prefix ``&``/``|``/``!``), many2one values as
``[id, display_name]``, ``write_date`` to the second, ``active_test`` and Odoo's error format.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from .http_server import LoopbackEmulator, LoopbackServer, Request, Response

MANY2ONE = {
    ("res.partner", "country_id"): "res.country",
    ("res.partner", "industry_id"): "res.partner.industry",
    ("res.partner", "user_id"): "res.users",
    ("account.payment", "partner_id"): "res.partner",
    ("account.move", "partner_id"): "res.partner",
}
MODEL_FIELDS: dict[str, dict[str, str]] = {
    "res.partner": {
        "name": "char", "is_company": "boolean", "email": "char", "phone": "char", "vat": "char",
        "street": "char", "city": "char", "zip": "char", "country_id": "many2one",
        "industry_id": "many2one", "user_id": "many2one", "active": "boolean",
        "write_date": "datetime", "ref": "char", "company_id": "many2one",
        "user_ids": "one2many", "ref_company_ids": "one2many",
    },
    "res.country": {"name": "char", "code": "char"},
    "res.partner.industry": {"name": "char", "full_name": "char"},
    "res.users": {"name": "char", "login": "char", "email": "char", "active": "boolean"},
    "account.payment": {
        "partner_id": "many2one", "amount": "monetary", "date": "date", "memo": "char",
        "payment_reference": "char", "payment_type": "selection", "partner_type": "selection",
        "state": "selection", "write_date": "datetime", "company_id": "many2one",
    },
    "account.move": {
        "partner_id": "many2one", "move_type": "selection", "state": "selection",
        "payment_state": "selection", "amount_residual": "monetary", "write_date": "datetime",
        "company_id": "many2one",
    },
}  # fmt: skip
CREDIT_FIELDS = {
    "credit_grade": "char", "credit_limit": "float", "credit_exposure": "float",
    "credit_available": "float", "amount_overdue": "float", "oldest_overdue_days": "integer",
    "credit_hold": "boolean", "last_payment_date": "date",
}  # fmt: skip


class OdooFault(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _like(value: Any, pattern: Any, exact: bool) -> bool:
    if value in (None, False):
        return False
    left, right = str(value).lower(), str(pattern).lower()
    return left == right if exact else right in left


def _unset(value: Any) -> Any:
    # Odoo reads an empty field, many2one or x2many as False.
    return False if value is None or value == [] else value


def _eq(a: Any, b: Any) -> bool:
    return a == b or (b is False and _unset(a) is False)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": _eq,
    "!=": lambda a, b: not _eq(a, b),
    ">": lambda a, b: a not in (None, False) and a > b,
    ">=": lambda a, b: a not in (None, False) and a >= b,
    "<": lambda a, b: a not in (None, False) and a < b,
    "<=": lambda a, b: a not in (None, False) and a <= b,
    "in": lambda a, b: _unset(a) in b,
    "not in": lambda a, b: _unset(a) not in b,
    "=ilike": lambda a, b: _like(a, b, True),
    "ilike": lambda a, b: _like(a, b, False),
}


class FakeOdoo(LoopbackEmulator):
    def __init__(
        self,
        *,
        database: str = "odoo",
        login: str = "crm-sync",
        api_key: str = "fake-odoo-api-key",
        with_credit_fields: bool = True,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.login = login
        self.api_key = api_key
        self.latency = latency
        self.clock = clock
        self.fields = {model: dict(fields) for model, fields in MODEL_FIELDS.items()}
        if with_credit_fields:
            self.fields["res.partner"].update(CREDIT_FIELDS)
        self.data: dict[str, dict[int, dict[str, Any]]] = {model: {} for model in self.fields}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.uid = 2
        self.data["res.users"][self.uid] = {
            "id": self.uid,
            "name": "Sync",
            "login": login,
            "email": "sync@example.com",
            "active": True,
        }
        self._server = LoopbackServer(self._handle)

    # -- addresses (lifecycle: LoopbackEmulator) ----------------------------------------
    @property
    def url(self) -> str:
        return self.base_url

    # -- data helpers --------------------------------------------------------------------
    def _now(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S"
        )

    def create(self, model: str, values: dict[str, Any]) -> int:
        with self._lock:
            self._validate(model, values, creating=True)
            record_id = next(self._ids)
            record: dict[str, Any] = {"id": record_id, **values}
            if "active" in self.fields[model]:
                record.setdefault("active", True)
            if model == "account.payment":
                record.setdefault("state", "draft")
            record["write_date"] = self._now()
            self.data[model][record_id] = record
            return record_id

    def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None:
        with self._lock:
            self._validate(model, values, creating=False)
            for record_id in ids:
                if record_id not in self.data[model]:
                    raise OdooFault("odoo.exceptions.MissingError", f"{model}({record_id}) gone")
                self.data[model][record_id].update(values, write_date=self._now())

    def _validate(self, model: str, values: dict[str, Any], *, creating: bool) -> None:
        unknown = set(values) - set(self.fields[model]) - {"id"}
        if unknown:
            raise OdooFault("builtins.ValueError", f"Invalid field {sorted(unknown)} on {model}")
        if model == "res.partner" and (creating or "name" in values) and not values.get("name"):
            raise OdooFault("odoo.exceptions.ValidationError", "A partner needs a name")
        if model == "account.payment" and creating:
            if not values.get("partner_id") or float(values.get("amount") or 0) <= 0:
                raise OdooFault("odoo.exceptions.ValidationError", "Invalid payment")

    def partners(self, *, active_only: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            rows = [dict(r) for r in self.data["res.partner"].values()]
        return [r for r in rows if r.get("active", True)] if active_only else rows

    # -- domain and reads ----------------------------------------------------------------
    def _match(self, model: str, record: dict[str, Any], domain: list[Any]) -> bool:
        def evaluate(position: int) -> tuple[bool, int]:
            term = domain[position]
            if term == "!":
                value, nxt = evaluate(position + 1)
                return not value, nxt
            if term in ("&", "|"):
                left, nxt = evaluate(position + 1)
                right, nxt = evaluate(nxt)
                return (left and right) if term == "&" else (left or right), nxt
            name, operator, value = term
            if name not in self.fields[model] and name != "id":
                raise OdooFault("builtins.ValueError", f"Invalid field {name!r} on {model}")
            return OPERATORS[operator](record.get(name), value), position + 1

        # Terms without an operator are joined by an implicit '&'.
        position = 0
        while position < len(domain):
            result, position = evaluate(position)
            if not result:
                return False
        return True

    def _search(
        self, model: str, domain: list[Any], *, order: str | None = None,
        limit: int | None = None, offset: int = 0, context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        mentions_active = any(isinstance(t, (list, tuple)) and t[0] == "active" for t in domain)
        active_test = (context or {}).get("active_test", True)
        rows = [
            record
            for record in self.data[model].values()
            if (not active_test or mentions_active or record.get("active", True))
            and self._match(model, record, domain)
        ]
        for clause in reversed((order or "id asc").split(",")):
            name, _, direction = clause.strip().partition(" ")
            rows.sort(key=partial(_nulls_last, name), reverse=direction.strip().lower() == "desc")
        rows = rows[offset:]
        return rows[:limit] if limit else rows

    def _display(self, model: str, record_id: Any) -> Any:
        target = self.data[model].get(record_id) if record_id else None
        return [record_id, target.get("name") or ""] if target else False

    def _read(self, model: str, record: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        names = fields or list(self.fields[model])
        result: dict[str, Any] = {"id": record["id"]}
        for name in names:
            if name == "id":
                continue
            if name not in self.fields[model]:
                raise OdooFault("builtins.ValueError", f"Invalid field {name!r} on {model}")
            comodel = MANY2ONE.get((model, name))
            value = record.get(name, False)
            result[name] = (
                self._display(comodel, value) if comodel else (False if value is None else value)
            )
        return result

    # -- JSON-RPC ------------------------------------------------------------------------
    def _handle(self, request: Request) -> Response:
        if self.latency:
            time.sleep(self.latency)
        if request.path != "/jsonrpc":
            return Response(404, None)
        payload = request.json()
        params = payload.get("params", {})
        try:
            result = self._dispatch(
                params.get("service"), params.get("method"), params.get("args", [])
            )
        except OdooFault as fault:
            data = {"name": fault.name, "message": fault.message, "debug": "",
                    "arguments": [fault.message]}  # fmt: skip
            error = {"code": 200, "message": "Odoo Server Error", "data": data}
            return Response(200, {"jsonrpc": "2.0", "id": payload.get("id"), "error": error})
        return Response(200, {"jsonrpc": "2.0", "id": payload.get("id"), "result": result})

    def _dispatch(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common":
            if method == "version":
                return {"server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""]}
            if method == "authenticate":
                database, login, key = args[0], args[1], args[2]
                ok = (database, login, key) == (self.database, self.login, self.api_key)
                return self.uid if ok else False
        if service == "object" and method == "execute_kw":
            database, uid, key, model, call, call_args = args[:6]
            kwargs = args[6] if len(args) > 6 else {}
            if (database, uid, key) != (self.database, self.uid, self.api_key):
                raise OdooFault("odoo.exceptions.AccessDenied", "Access Denied")
            if model not in self.fields:
                raise OdooFault("builtins.KeyError", f"unknown model {model}")
            with self._lock:
                self.calls[f"{model}.{call}"] += 1
                return self._execute(model, call, call_args, kwargs)
        raise OdooFault("builtins.NotImplementedError", f"{service}.{method} is not implemented")

    def _execute(self, model: str, call: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        context = kwargs.get("context") or {}
        if call == "search":
            rows = self._search(model, args[0], limit=kwargs.get("limit"),
                                order=kwargs.get("order"), context=context)  # fmt: skip
            return [row["id"] for row in rows]
        if call == "search_read":
            rows = self._search(
                model,
                args[0],
                order=kwargs.get("order"),
                limit=kwargs.get("limit"),
                offset=kwargs.get("offset", 0),
                context=context,
            )
            return [self._read(model, row, kwargs.get("fields")) for row in rows]
        if call == "read":
            return [
                self._read(model, self.data[model][rid], kwargs.get("fields")) for rid in args[0]
            ]
        if call == "create":
            values = args[0]
            if isinstance(values, list):
                return [self.create(model, v) for v in values]
            return self.create(model, values)
        if call == "write":
            self.write(model, list(args[0]), args[1])
            return True
        if call == "fields_get":
            return {name: {"type": kind} for name, kind in self.fields[model].items()}
        if call == "read_group":
            return self._read_group(model, args[0], args[1], args[2])
        raise OdooFault("builtins.AttributeError", f"{model} has no method {call}")

    def _read_group(
        self, model: str, domain: list[Any], fields: list[str], groupby: list[str]
    ) -> list[dict[str, Any]]:
        key_field = groupby[0]
        groups: dict[Any, list[dict[str, Any]]] = {}
        for row in self._search(model, domain):
            groups.setdefault(row.get(key_field), []).append(row)
        result = []
        for key, rows in groups.items():
            comodel = MANY2ONE.get((model, key_field))
            group: dict[str, Any] = {
                key_field: self._display(comodel, key) if comodel else key,
                "__count": len(rows),
            }
            for spec in fields:
                name, _, aggregate = spec.partition(":")
                if aggregate == "sum":
                    group[name] = sum(float(r.get(name) or 0) for r in rows)
            result.append(group)
        return result


def _nulls_last(name: str, record: dict[str, Any]) -> tuple[bool, Any]:
    """Sort key of ``record`` by ``name``, empty values last."""
    return record.get(name) is None, record.get(name) or 0
