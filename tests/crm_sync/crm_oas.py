"""A small JSON-schema check for Zoho's OpenAPI files (the subset those files use).

Supports type (with OpenAPI's ``nullable``), properties, required, items, enum, oneOf, anyOf,
allOf, additionalProperties and ``$ref`` within and across the files of the spec folder.
References to files that are not in the folder (users.json, tags.json) accept anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC_DIR = Path("/work/shared/zoho-crm-oas")
TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


class SchemaViolation(AssertionError):
    pass


class Spec:
    def __init__(self, folder: Path = SPEC_DIR) -> None:
        self.folder = folder
        self._docs: dict[str, Any] = {}

    def doc(self, name: str) -> Any:
        if name not in self._docs:
            self._docs[name] = json.loads((self.folder / name).read_text())
        return self._docs[name]

    def schema(self, file: str, name: str) -> tuple[str, Any]:
        return file, self.doc(file)["components"]["schemas"][name]

    def resolve(self, file: str, ref: str) -> tuple[str, Any] | None:
        target, _, pointer = ref.partition("#")
        if target:
            target = target.rsplit("/", 1)[-1]
            if not (self.folder / target).exists():
                return None
            file = target
        node = self.doc(file)
        for part in pointer.strip("/").split("/"):
            node = node[part]
        return file, node

    def validate(self, value: Any, file: str, schema: Any, path: str = "$") -> None:
        if "$ref" in schema:
            resolved = self.resolve(file, schema["$ref"])
            if resolved is not None:
                self.validate(value, resolved[0], resolved[1], path)
            return
        if value is None:
            if schema.get("nullable") or "type" not in schema:
                return
            raise SchemaViolation(f"{path}: null where {schema.get('type')} expected")
        kind = schema.get("type")
        if kind:
            expected = TYPES[kind]
            if isinstance(value, bool) and kind in ("integer", "number"):
                raise SchemaViolation(f"{path}: boolean where {kind} expected")
            if not isinstance(value, expected):
                raise SchemaViolation(f"{path}: {type(value).__name__} where {kind} expected")
        if "enum" in schema and value not in schema["enum"]:
            raise SchemaViolation(f"{path}: {value!r} not one of the spec's values")
        for sub in schema.get("allOf", []):
            self.validate(value, file, sub, path)
        for key, exactly_one in (("oneOf", True), ("anyOf", False)):
            if key in schema:
                matches = sum(self._ok(value, file, sub, path) for sub in schema[key])
                if matches == 0 or (exactly_one and matches > 1):
                    raise SchemaViolation(f"{path}: {matches} {key} branches match")
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    raise SchemaViolation(f"{path}: required property {name!r} missing")
            properties = schema.get("properties", {})
            for name, item in value.items():
                if name in properties:
                    self.validate(item, file, properties[name], f"{path}.{name}")
                elif schema.get("additionalProperties") is False:
                    raise SchemaViolation(f"{path}: unexpected property {name!r}")
        if isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                self.validate(item, file, schema["items"], f"{path}[{index}]")

    def _ok(self, value: Any, file: str, schema: Any, path: str) -> bool:
        try:
            self.validate(value, file, schema, path)
        except SchemaViolation:
            return False
        return True

    def check(self, value: Any, file: str, name: str) -> None:
        file, schema = self.schema(file, name)
        self.validate(value, file, schema)

    def check_subset(self, value: Any, file: str, name: str, required: list[str]) -> None:
        """``value`` against a schema whose ``required`` list is replaced by ``required``.

        For schemas that mark every property as required (fields.json's ``fields`` lists ~75,
        ``common.picklist`` among them): the properties present are checked as the spec types
        them, and the ones a client relies on must be there."""
        file, schema = self.schema(file, name)
        self.validate(value, file, {**schema, "required": required})

    def check_action_body(self, value: Any, path: str, method: str) -> None:
        """The per-record result list of a write operation of record.json (create, update,
        upsert: ``{"data": [Success_Response | API_Exception, ...]}``).

        The operation's top level is ``oneOf`` two object schemas without required properties,
        which any object matches twice; the per-record ``oneOf`` (success vs. error, told apart
        by their ``status`` enums) is the part with meaning, so that is what is checked.
        """
        operation = self.doc("record.json")["paths"][path][method]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        self.validate(value, "record.json", schema["oneOf"][0])

    def check_upsert_body(self, value: Any) -> None:
        self.check_action_body(value, "/crm/v8/{module_api_name}/upsert", "post")

    def check_response(self, value: Any, file: str, path: str, method: str, status: str) -> None:
        """``value`` against the schema an operation documents for ``status`` (``$ref``s to
        ``components/responses`` followed)."""
        response = self.doc(file)["paths"][path][method]["responses"][status]
        if "$ref" in response:
            file, response = self.resolve(file, response["$ref"])  # type: ignore[misc]
        self.validate(value, file, response["content"]["application/json"]["schema"])
