"""What the OpenAPI document promises beyond the shapes marshmallow gives it.

Integrators generate clients from /api/v1/openapi.json, and a generator names
its types and functions after the document. So:

- an enum is one component schema, named after its values' meaning (CaseStatus,
  Severity) and referenced wherever a field takes it; two different enums under
  one name stop the application from starting, rather than leaving a generator
  to drop the schemas that use them;
- every operation has an operationId that reads as an action (open_case), unique
  in the document;
- every operation documents the refusals each kind of request gets anyway: 401
  for a caller who is not signed in, 404 for a path that names no record, 400,
  413 and 415 for a body, 400 for query parameters. Refusals that belong to one
  operation's rules (403, 409, 422) are declared on it with Blueprint.refuses.
"""
from __future__ import annotations

import enum
import http
import re
from collections.abc import Iterable
from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from marshmallow import fields, validate

# Schema keywords that describe the field, not the enum: they stay beside the reference.
_FIELD_KEYWORDS = ("description", "readOnly", "writeOnly", "default", "example", "nullable", "deprecated")
OPERATION_ID = re.compile(r"[a-z]+(_[a-z0-9]+)*")


class Choice(validate.OneOf):
    """OneOf with the name its set of values has in the OpenAPI document."""

    def __init__(self, choices: Iterable, *, name: str, **kwargs):
        super().__init__(choices, **kwargs)
        self.name = name


def choice_of(enum_cls: type[enum.Enum], **kwargs) -> Choice:
    """A string field's validator: one of the enum's values, documented as the enum's component."""
    return Choice([member.value for member in enum_cls], name=enum_cls.__name__, **kwargs)


class ConflictingEnum(ValueError):
    """Two enums with different values were given one name in the document."""


class DocumentConverter(OpenAPIConverter):
    """Puts each enum in components/schemas once and refers to it from the fields; says "this
    schema, or null" in the one form generators read as exactly that."""

    def field2property(self, field: fields.Field) -> dict:
        prop = super().field2property(field)
        prop = _nullable_reference(prop)
        name = _enum_name(field)
        if name is None or "enum" not in prop:
            return prop
        values = [value for value in prop["enum"] if value is not None]
        self._register(name, {"type": prop.get("type", "string"), "enum": values})
        reference = {"$ref": f"#/components/schemas/{name}"}
        kept = {key: prop[key] for key in _FIELD_KEYWORDS if key in prop}
        if None in prop["enum"]:
            kept["nullable"] = True
        # In OpenAPI 3.0 keywords beside a $ref are ignored: allOf keeps them.
        return {"allOf": [reference], **kept} if kept else reference

    def _field2parameter(self, field: fields.Field, *, name: str, location: str) -> dict:
        parameter = super()._field2parameter(field, name=name, location=location)
        schema = parameter.get("schema", {})
        if list(schema) == ["allOf"] and len(schema["allOf"]) == 1:
            # The description went to the parameter: the reference alone is left.
            parameter["schema"] = schema["allOf"][0]
        return parameter

    def _register(self, name: str, component: dict) -> None:
        schemas = self.spec.components.schemas
        if name not in schemas:
            self.spec.components.schema(name, component)
        elif schemas[name] != component:
            raise ConflictingEnum(f"two enums named {name}: {schemas[name]} and {component}")


def _nullable_reference(prop: dict) -> dict:
    # apispec writes a nullable nested schema as anyOf an untyped nullable object and the
    # reference: generators then read any object as the untyped one and lose the fields.
    options = prop.get("anyOf") or []
    if len(options) == 2 and options[0] == {"type": "object", "nullable": True} and "$ref" in options[1]:
        rest = {key: value for key, value in prop.items() if key != "anyOf"}
        return {"allOf": [options[1]], **rest, "nullable": True}
    return prop


def _enum_name(field: fields.Field) -> str | None:
    if isinstance(field, fields.Enum):
        return field.metadata.get("enum_name", field.enum.__name__)
    for validator in field.validators:
        if isinstance(validator, Choice):
            return validator.name
    return None


class DocumentMarshmallowPlugin(MarshmallowPlugin):
    Converter = DocumentConverter


class OperationContract(BasePlugin):
    """Checks each operation's name and documents the refusals shared by all operations."""

    METHODS = ("get", "put", "post", "delete", "patch")

    def __init__(self) -> None:
        self.operation_ids: dict[str, str] = {}

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if method not in self.METHODS:
                continue
            where = f"{method.upper()} {path}"
            self._check_name(where, operation.get("operationId"))
            responses = operation.setdefault("responses", {})
            for status in self.shared_refusals(path or "", operation):
                responses.setdefault(str(status), response_name(status))
            # In status order, whatever order the decorators documented them in.
            operation["responses"] = dict(sorted(responses.items(), key=lambda item: str(item[0])))

    def _check_name(self, where: str, operation_id: str | None) -> None:
        if not operation_id or not OPERATION_ID.fullmatch(operation_id):
            raise ValueError(f"{where} needs an operationId in snake_case that names the action, "
                             f"such as open_case (has {operation_id!r})")
        if self.operation_ids.setdefault(operation_id, where) != where:
            raise ValueError(f"operationId {operation_id} of {where} is already "
                             f"{self.operation_ids[operation_id]}'s")

    @staticmethod
    def shared_refusals(path: str, operation: dict) -> list[int]:
        statuses = [401, 429]  # every operation of /api/v1 needs credentials and is rate limited
        if "{" in path:
            statuses.append(404)
        content = operation.get("requestBody", {}).get("content", {})
        if content:
            statuses += [400, 413]
            if "application/json" in content:
                statuses.append(415)
        if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])
               if isinstance(parameter, dict)):
            statuses.append(400)
        return sorted(set(statuses))


# What each refusal means in this API; the body is always the error body.
REFUSALS = {
    400: "Malformed or invalid input: details.fields names each field and what is wrong with it.",
    401: "No valid credentials: a bearer token (POST /tokens: the user's email and password).",
    403: "The caller's role may not do this.",
    404: "No such record, or none the caller may see.",
    409: "The record's state does not allow this now, or the Idempotency-Key was used for another request.",
    413: "The body is larger than the limit that details.max_bytes gives.",
    415: "The body is not JSON (Content-Type: application/json).",
    422: "Well formed, but refused by a business rule: error.code names it and details say why.",
    429: "Too many requests (app/rate_limits.py) or sign-in attempts: Retry-After and "
         "details.retry_after_seconds say when to try again.",
}


def response_name(status: int) -> str:
    """The component response flask-smorest registers for a status: its phrase and the error body."""
    return http.HTTPStatus(status).name


def component(name: str) -> dict:
    """A reference to a component schema, such as an enum's."""
    return {"$ref": f"#/components/schemas/{name}"}


def file_upload(description: str, **fields: dict) -> dict:
    """Documents an upload: a multipart/form-data body with the binary `file` and these fields, all required."""
    properties = {"file": {"type": "string", "format": "binary", "description": description}, **fields}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": list(properties), "properties": properties}}}}}
