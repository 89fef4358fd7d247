"""The interactive API reference at /api/v1/docs, in a real browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(client) -> list[tuple[str, str]]:
    document = client.get("/api/v1/openapi.json").json
    return [(method.upper(), path) for path, item in document["paths"].items()
            for method in item if method in METHODS]


def operation(page, method: str, path: str):
    return page.locator("details.op").filter(
        has=page.get_by_role("heading", name=f"{method} {path}", exact=True))


def test_the_reference_lists_every_operation_of_the_document(page, client):
    expected = operations(client)
    page.goto("/api/v1/docs")

    expect(page.locator("details.op")).to_have_count(len(expected))
    for method, path in expected:
        expect(operation(page, method, path)).to_have_count(1)
    create = operation(page, "POST", "/api/v1/cases")
    create.locator("summary").click()
    expect(create.locator("pre.schema").first).to_contain_text("serial_number*: string")
    expect(create.get_by_label("JSON body")).to_have_value(
        re.compile(r'"severity": "S1"'))
    listing = operation(page, "GET", "/api/v1/cases")
    listing.locator("summary").click()
    expect(listing.get_by_role("table")).to_contain_text("cursor")


def test_try_it_gets_a_token_and_calls_the_api(page):
    page.goto("/api/v1/docs")
    page.get_by_label("E-mail").fill("engineer@northwind.example")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Get a token").click()
    expect(page.locator("#auth-status")).to_have_text("Token received; it is used for the requests below.")
    expect(page.get_by_label("Bearer token")).to_have_value(re.compile(r"^gtac_"))

    me = operation(page, "GET", "/api/v1/me")
    me.locator("summary").click()
    me.get_by_role("button", name="Send request").click()
    expect(me.locator(".status-line")).to_have_text(re.compile(r"^200\b"))
    expect(me.locator(".response-body")).to_contain_text('"email": "engineer@northwind.example"')

    one = operation(page, "GET", "/api/v1/cases/{case_id}")
    one.locator("summary").click()
    one.get_by_label("case_id (path, required)").fill("999999")
    one.get_by_role("button", name="Send request").click()
    expect(one.locator(".status-line")).to_have_text(re.compile(r"^404\b"))
    expect(one.locator(".response-body")).to_contain_text('"code": "case_not_found"')


def test_try_it_without_a_token_shows_the_refusal(page):
    page.goto("/api/v1/docs")
    me = operation(page, "GET", "/api/v1/me")
    me.locator("summary").click()
    me.get_by_role("button", name="Send request").click()
    expect(me.locator(".status-line")).to_have_text(re.compile(r"^401\b"))
    expect(me.locator(".response-body")).to_contain_text('"code": "missing_token"')
