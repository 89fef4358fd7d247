"""flask-smorest wired to the SPEC §10 error contract.

Validation failures are 400 (SPEC §10: "400 malformed body"), not webargs'
default 422, which this API keeps for business-rule refusals.
"""
from __future__ import annotations

import logging

import flask_smorest
import marshmallow as ma
from flask import render_template, request
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from app.errors import DomainError, error_body

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


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "snake_case error code"})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict(metadata={"description": "field errors or rule reasons"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorDetailSchema, required=True)


def wants_json() -> bool:
    path = request.path
    if path.startswith("/api/") or path in {"/healthz", "/readyz"}:
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
    return error_response(status, code, message, headers=data.get("headers"))


def domain_error(error: DomainError):
    return error_response(error.status, error.code, error.message, error.details)


def _flatten(messages: dict) -> dict:
    # webargs nests field errors by location ({"json": {...}}); clients want the fields.
    if len(messages) == 1:
        (only,) = messages.values()
        if isinstance(only, dict):
            return only
    return messages


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return http_error(error)
