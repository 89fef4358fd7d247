"""The interactive API reference at /api/v1/docs (Swagger UI served from this machine), in a real browser."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import accessibility_violations

pytestmark = pytest.mark.browser

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(client) -> list[tuple[str, str]]:
    document = client.get("/api/v1/openapi.json").json
    return [(method, path) for path, item in document["paths"].items() for method in item if method in METHODS]


def open_reference(page):
    page.goto("/api/v1/docs")
    # Swagger UI is a megabyte of script: on a busy machine it takes a few seconds to draw.
    page.locator(".opblock").first.wait_for(timeout=30_000)


def operation(page, method: str, path: str):
    return page.locator(f".opblock-{method}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]'))


def execute(page, method: str, path: str, **parameters):
    """Open an operation, fill its parameters, send it; returns (status, body) as the page shows them."""
    block = operation(page, method, path)
    if not block.locator(".opblock-body").count():
        block.locator(".opblock-summary").first.click()
    for name, value in parameters.items():
        block.locator(f'tr[data-param-name="{name}"] input').fill(str(value))
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text(re.compile(r"\d{3}"), timeout=20_000)  # a password check takes a while
    body = block.locator(".live-responses-table tbody .response-col_description .highlight-code pre").first.inner_text()
    return int(status.inner_text().strip()), body


def authorize(page, scheme: str, *values: str):
    """Fill the Authorize dialog's inputs of one security scheme, in the order shown."""
    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".modal-ux")
    box = dialog.locator(".auth-container").filter(has_text=scheme)
    for field, value in zip(box.locator("input").all(), values):
        field.fill(value)
    box.get_by_role("button", name="Authorize").click()
    dialog.locator(".btn-done").first.click()


def test_the_reference_lists_every_operation_of_the_document(page, client):
    expected = operations(client)
    open_reference(page)
    expect(page.locator(".opblock")).to_have_count(len(expected))
    for method, path in expected:
        expect(operation(page, method, path)).to_have_count(1)
    assert not accessibility_violations(page)


def test_try_it_gets_a_token_and_calls_the_api(page):
    open_reference(page)
    authorize(page, "basicAuth", "engineer@northwind.example", "demo-password")
    status, body = execute(page, "post", "/api/v1/tokens")
    assert status == 201, body
    token = json.loads(body)["token"]
    assert token.startswith("gtac_")

    authorize(page, "bearerAuth", token)
    status, body = execute(page, "get", "/api/v1/me")
    assert status == 200 and json.loads(body)["email"] == "engineer@northwind.example"

    status, body = execute(page, "get", "/api/v1/cases/{case_id}", case_id=999999)
    assert status == 404 and json.loads(body)["error"]["code"] == "case_not_found"


def test_try_it_without_a_token_shows_the_refusal(page):
    open_reference(page)
    status, body = execute(page, "get", "/api/v1/me")
    assert status == 401 and json.loads(body)["error"]["code"] == "missing_token"
