"""Signing in and out through the login form, in a real browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(page, sign_in):
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        sign_in(page, "engineer", password="not-the-password")

    assert answer.value.status == 401
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect(page.get_by_label("E-mail")).to_have_value("engineer@northwind.example")
    expect(page.get_by_label("Password")).to_have_value("")
    page.goto("/cases")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_page_asked_for_before_signing_in_opens_after_it(page, sign_in):
    sign_in(page, "engineer")
    case_link = page.get_by_role("table").locator("tbody tr a").first
    case_path = case_link.get_attribute("href")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")

    page.goto(case_path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill("engineer@northwind.example")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(case_path) + "$"))


def test_each_role_lands_on_its_own_start_page(page, sign_in):
    sign_in(page, "customer")
    expect(page).to_have_url(re.compile(r"/my/cases$"))
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "programs")
    expect(page).to_have_url(re.compile(r"/payments/programmes$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Claims and payouts")
