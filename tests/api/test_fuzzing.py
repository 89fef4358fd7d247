"""The API fuzzed against its own OpenAPI document (schemathesis), as three roles on the embedded default.

Every operation of the served document gets requests generated from its schema, valid ones
and invalid ones, as a partner engineer, GTAC, programmes and the vendor admin. Each answer must:
- not be a 5xx;
- have a status the operation documents: a success status listed for it by number (a
  `default` entry covers errors only), an error status with the SPEC §10 error body;
- match the schema documented for its status, with the content type documented.

Two passes, bounded to a few minutes for the ordinary suite, derandomized so that a failure repeats:
- the schema's edges (schemathesis's coverage phase): each bound and one past it (an id at
  2^31 - 1 and 2^31), wrong types, missing and unknown fields, each sent once per operation, by
  one of the roles in turn: where the class of "a number beyond its column" or "a value the
  validator lets through" hides, which random examples rarely reach;
- random examples: FUZZ_EXAMPLES (6) per operation, role and mode.
FUZZ_EXAMPLES=<n> and FUZZ_RANDOM=1 search longer and wider; FUZZ_ONLY="POST /api/v1/claims"
fuzzes the operations whose label holds that text.
"""
from __future__ import annotations

import os
import re
import socket

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.webhooks import urls as webhook_urls
from tests.api.test_recorded_answers import InstantProvider

ROLES = ("engineer", "gtac", "programs", "vendor_admin")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SKIPPED = {
    # Would revoke the very token a role fuzzes with, and every later request would be a 401.
    ("DELETE", "/api/v1/tokens/{token_id}"),
}
SNAKE = re.compile(r"[a-z][a-z0-9_]*")


def error_body_problem(response) -> str | None:
    """Why an error answer is not the SPEC §10 error body, or None."""
    content_type = (response.headers.get("content-type") or [""])[0]  # lowercase keys, lists of values
    if not content_type.startswith("application/json"):
        return f"content type {content_type!r}"
    try:
        body = response.json()
    except ValueError:
        return "not JSON"
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return f"not {{'error': {{...}}}}: {str(body)[:200]}"
    error = body["error"]
    if set(error) != {"code", "message", "details", "request_id"}:
        return f"error keys {sorted(error)}"
    if not (isinstance(error["code"], str) and SNAKE.fullmatch(error["code"])):
        return f"code {error['code']!r}"
    if not (isinstance(error["message"], str) and error["message"]):
        return "empty message"
    if not isinstance(error["details"], dict):
        return "details not an object"
    return None


def describe(exc: BaseException) -> str:
    """The failure, with what a group (Hypothesis's flaky report: the API's state moved on between
    the first call and its replay) holds inside."""
    text = str(exc)[:1500]
    for inner in getattr(exc, "exceptions", ()):
        text += "\n    " + describe(inner)
    return text


def check_documented(operation, response) -> None:
    status = response.status_code
    documented = set(operation.definition.raw.get("responses", {}))
    if status < 400:
        assert str(status) in documented, (
            f"{operation.label}: success status {status} is not in the document ({sorted(documented)})")
    else:
        problem = error_body_problem(response)
        assert problem is None, f"{operation.label}: {status} without the error body: {problem}"


def check_undocumented_method(method: str, response) -> None:
    """A method the path does not document: 405 with the error body (OPTIONS: the framework's
    automatic answer listing the allowed methods)."""
    if method == "OPTIONS" and response.status_code == 200:
        assert response.headers.get("allow"), "OPTIONS answered without Allow"
        return
    assert response.status_code == 405, f"{method}: {response.status_code}, not 405"
    problem = error_body_problem(response)
    assert problem is None, f"{method}: 405 without the error body: {problem}"


@pytest.fixture
def nowhere_outside(app, monkeypatch):
    """Webhook URLs the fuzzer makes up resolve to nothing and nothing connects beyond loopback:
    the run stays on this machine and fast. Payouts are answered at once by the in-process
    provider of the recorded journeys; an SR's event stream sends its backlog and ends."""
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 0)
    monkeypatch.setitem(app.config, "PAYMENTS_PROVIDER", "sandbox")
    monkeypatch.setitem(app.extensions, "payment_providers",
                        {"sandbox": InstantProvider(app.config["PAYMENTS_WEBHOOK_SECRET"])})
    def resolve(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    real_connect = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host not in (None, "127.0.0.1", "::1", "localhost"):
            raise OSError("no connections beyond loopback while fuzzing")
        return real_connect(sock, address)

    monkeypatch.setattr(webhook_urls, "resolve", resolve)
    monkeypatch.setattr(socket.socket, "connect", connect)


def test_every_operation_answers_within_its_document(app, tokens, nowhere_outside):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.path) not in SKIPPED]
    assert len(operations) > 40, [op.label for op in operations]
    if os.environ.get("FUZZ_ONLY"):  # a substring of "METHOD /path", to look into one failure
        operations = [op for op in operations if os.environ["FUZZ_ONLY"] in op.label]
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    for n, operation in enumerate(operations):
        role = ROLES[n % len(ROLES)]
        edges = CoverageGenerator(operation=operation, generation_modes=list(GenerationMode),
                                  generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
                                  auth_storage=None, override=Override(), feedback=FeedbackSources())
        for case in edges:
            try:
                response = case.call(headers=tokens[role])
                if case.method.upper() != operation.method.upper():
                    check_undocumented_method(case.method.upper(), response)
                    continue
                case.validate_response(response, checks=checks, headers=tokens[role])
                check_documented(operation, response)
            except Exception as exc:  # noqa: BLE001  (collected as below)
                body = "" if case.body is NOT_SET else str(case.body)[:200]
                failures.append(f"{operation.label} as {role} (edge: {case.method} {case.path_parameters} "
                                f"{case.query} {body}): {describe(exc)}")
                break  # one edge case per operation says enough
    for operation in operations:
        for role in ROLES:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, deadline=None, database=None,
                          derandomize=not os.environ.get("FUZZ_RANDOM"), phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
                def run(case):
                    response = case.call(headers=tokens[role])
                    case.validate_response(response, checks=checks, headers=tokens[role])
                    check_documented(operation, response)

                try:
                    run()
                except Exception as exc:  # noqa: BLE001  (every failure is collected, then reported at once)
                    failures.append(f"{operation.label} as {role} ({mode.value}): {describe(exc)}")
    assert not failures, f"{len(failures)} failing:\n\n" + "\n\n".join(failures)
