"""flask-smorest wired to the SPEC §10 error contract.

Validation failures are 400 (SPEC §10: "400 malformed body"), not webargs'
default 422, which this API keeps for business-rule refusals. Input that the
JSON decoder cannot take (nesting or integers beyond its limits) or that the
database cannot store (a NUL character, half a UTF-16 surrogate pair) is
refused here as bad input, before any service runs (the bounds themselves are
app.bounds).
"""
from __future__ import annotations

import logging

import flask_smorest
from flask_smorest.utils import prepare_response
import marshmallow as ma
from sqlalchemy.exc import IntegrityError
from flask import render_template, request
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from app.api_spec import REFUSALS, DocumentMarshmallowPlugin, OperationContract, response_name
from app.bounds import MAX_ID, refuse_unstorable, unstorable_fields
from app.errors import DomainError, InvalidInput, error_body

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
}


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema):
        """The JSON body; a body in another format is 415, never silently ignored."""
        if not is_json_request(req):
            if req.get_data(cache=True):
                abort(415, message="Send the body as JSON (Content-Type: application/json).")
            return core.missing
        try:
            data = super().load_json(req, schema)
        except (RecursionError, ValueError) as exc:
            # Nesting deeper than the decoder's stack, or an integer literal longer than
            # Python converts: no client of this API sends either.
            self._handle_invalid_json_error(exc, req)
        refuse_unstorable(data)
        return data

    def load_json_or_form(self, req, schema):
        if is_json_request(req):
            return self.load_json(req, schema)
        return self.load_form(req, schema)


def refuse_unstorable_request() -> None:
    """Every text a request carries outside its body (path, query) may be stored or compared by the
    database: one that PostgreSQL refuses is a 400 here, for every endpoint. (A JSON body gets the
    same check when the Parser loads it; a form's fields and file names when it is first read,
    app.files.uploads.StreamingUploadRequest.)"""
    found = unstorable_fields(request.view_args or {}, request.args.to_dict(flat=False))
    if found:
        raise InvalidInput("The request has invalid or missing fields.", details={"fields": found})


# No record has id 0: SQLite rowids and PostgreSQL sequences both start at 1.
NO_RECORD = 0


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every route: an id, with no number too large for the INTEGER id columns.

    A larger number names no record. It becomes 0, which no record has either, so
    the request gets the same 404 as any unknown id instead of a query that
    overflows the column (a 500). Refusing the match instead would let Werkzeug
    answer 405 whenever the path has a rule for another method.
    """

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        if self.max is None:
            self.max = MAX_ID  # also documents the bound in the OpenAPI document

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
            return NO_RECORD
        return super().to_python(value)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *args, **kwargs):
        # Given a class, webargs builds a new schema (and deep-copies its fields) on every request;
        # one instance serves them all, as a schema keeps nothing between loads.
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def operation(self, operation_id: str, *, refuses: tuple[int, ...] = ()):
        """Name an operation in the OpenAPI document, and list the refusals its own rules give
        (403, 409, 422...) beyond those every operation documents (app.api_spec)."""
        def decorator(func):
            func = self.doc(operationId=operation_id)(func)
            for status in refuses:
                func = self.alt_response(status, response_name(status))(func)
            return func
        return decorator


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "snake_case error code"})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict(metadata={"description": "field errors or rule reasons"})
    request_id = ma.fields.String(metadata={"description": "the request's id (X-Request-ID): quote it to support"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorDetailSchema, required=True)


def wants_json() -> bool:
    path = request.path
    # The API, the health checks, the metrics and the providers' webhooks have machines for clients.
    if path.startswith(("/api/", "/webhooks/")) or path in {"/healthz", "/readyz", "/metrics"}:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, code: str, message: str, details: dict | None = None, headers=None):
    if status == 401 and request.path.startswith("/api/"):
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="api"'}
    if wants_json():
        return error_body(code, message, details), status, headers or {}
    return render_template("error.html", status=status, code=code, message=message), status, headers or {}


def http_error(error: HTTPException):
    status = error.code or 500
    if status >= 500:
        log.error("unhandled error on %s %s", request.method, request.path,
                  exc_info=getattr(error, "original_exception", None))
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages is not None:
        if messages.get("json") == ["Invalid JSON body."]:
            return error_response(400, "malformed_json", "The request body is not valid JSON.")
        details = {"fields": _flatten(messages)}
        return error_response(status, "invalid_input", "The request has invalid or missing fields.", details)
    code = HTTP_CODES.get(status, "http_error")
    message = data.get("message") or (error.description if status < 500 else "Internal server error.")
    headers = dict(data.get("headers") or {})
    details = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110: a 405 names what is allowed
        details["allowed_methods"] = list(error.valid_methods)
    if status == 413 and request.max_content_length:
        details["max_bytes"] = request.max_content_length
    return error_response(status, code, message, details, headers=headers)


def domain_error(error: DomainError):
    retry_after = (error.details or {}).get("retry_after_seconds")
    headers = {"Retry-After": str(retry_after)} if error.status in (429, 503) and retry_after else None
    return error_response(error.status, error.code, error.message, error.details, headers=headers)


def integrity_error(error: IntegrityError):
    """A uniqueness a service checked, then lost to another request's insert at the same moment: its
    unit of work rolled back, and the caller is told so rather than given a 500. Any other broken
    constraint is a defect, answered as one."""
    if not _unique_violation(error):
        return http_error(InternalServerError(original_exception=error))
    log.warning("refused with 409, a uniqueness raced on %s %s: %s", request.method, request.path, error.orig)
    return error_response(409, "conflict", "Someone else wrote the same thing at the same moment: nothing was "
                                           "written. Read it again, then try again if it is still needed.")


def _unique_violation(error: IntegrityError) -> bool:
    # PostgreSQL's SQLSTATE (psycopg), SQLite's message.
    return getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(error.orig)


def _flatten(messages: dict) -> dict:
    # webargs nests field errors by location ({"json": {...}}); clients want the fields.
    if len(messages) == 1:
        (only,) = messages.values()
        if isinstance(only, dict):
            return only
    return messages


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        # Before any blueprint is registered: a rule picks its converter when it is added.
        app.url_map.converters["int"] = RecordIdConverter
        spec_kwargs = {"marshmallow_plugin": DocumentMarshmallowPlugin(), "extra_plugins": [OperationContract()],
                       **(spec_kwargs or {})}
        super().init_app(app, spec_kwargs=spec_kwargs)

    def handle_http_exception(self, error):
        return http_error(error)

    def _register_responses(self):
        super()._register_responses()
        # flask-smorest's say only the status phrase; these replace them with what the refusal means here.
        for status, description in REFUSALS.items():
            response = {"description": description, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(response_name(status), response, lazy=True)
        response = {"description": "An unexpected failure (500), or a store the request needs is unavailable "
                                   "(503): nothing was changed.", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


class StrictBoolean(ma.fields.Boolean):
    """A JSON true or false only: not 1, 0, "yes" (1 == True in Python, so truthy sets cannot tell)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
