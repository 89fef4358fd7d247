"""API tokens and webhooks managed from the web, in a real browser: what the API offers a person
(issue and revoke a token, register and deactivate a webhook) has a page too."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable

pytestmark = pytest.mark.browser


def test_a_person_issues_a_token_uses_it_then_revokes_it_from_the_web(page, sign_in, client):
    sign_in(page, "engineer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    page.get_by_label("Name").fill("monitoring integration")
    page.get_by_role("button", name="Issue token").click()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert re.fullmatch(r"\S{30,}", secret)
    assert_usable(page, "the tokens page with a new token")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200

    page.goto("/account/tokens")  # the secret is never shown again
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)
    row = page.locator("tbody tr", has_text="monitoring integration")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name=re.compile("^Revoke token monitoring integration")).click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.locator("tbody tr", has_text="monitoring integration")).to_contain_text("revoked")
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_another_persons_token_cannot_be_revoked_from_the_page(page, sign_in, tokens, client):
    # The admin's tokens, issued by the fixture; the engineer posts a revocation of one anyway.
    theirs = client.get("/api/v1/tokens", headers=tokens["admin"]).json[0]["id"]
    sign_in(page, "engineer")
    page.goto("/account/tokens")
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    answer = page.request.post(f"/account/tokens/{theirs}/revocation", form={"csrf_token": csrf})
    assert answer.status == 404
    assert client.get("/api/v1/me", headers=tokens["admin"]).status_code == 200


def test_partner_admin_registers_and_deactivates_a_webhook_from_the_web(page, sign_in, app, monkeypatch):
    sign_in(page, "admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    # A private address is refused with the reason, and what was typed stays.
    page.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/hooks")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Register endpoint").click()
    assert answer.value.status == 422
    expect(page.get_by_label("Endpoint URL")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Endpoint URL")).to_have_value("http://127.0.0.1:9/hooks")
    assert_usable(page, "the webhooks page with a refused URL")

    monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)  # no public host in a test
    page.get_by_label("Endpoint URL").fill("https://hooks.northwind.example/gtac")
    page.get_by_role("button", name="Register endpoint").click()
    expect(page.get_by_role("region", name="Endpoint registered")).to_be_visible()
    assert len(page.get_by_label("Signing secret").input_value()) >= 32
    hook = page.get_by_role("article", name="https://hooks.northwind.example/gtac")
    expect(hook).to_contain_text("active")
    expect(hook).to_contain_text("No deliveries yet.")
    assert_usable(page, "the webhooks page")

    hook.get_by_role("button", name="Deactivate https://hooks.northwind.example/gtac").click()
    expect(page.get_by_role("status")).to_contain_text("deactivated")
    expect(page.get_by_role("article", name="https://hooks.northwind.example/gtac")).to_contain_text("deactivated")


def test_only_a_partner_admin_has_the_webhooks_page(page, sign_in):
    sign_in(page, "engineer")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks")).to_have_count(0)
    assert page.goto("/webhooks").status == 403
