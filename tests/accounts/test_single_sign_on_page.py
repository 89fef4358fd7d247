"""Signing in through the vendor's identity provider in a real browser: the button on the login
page, the provider's own sign-in and consent pages (a real OpenID provider on loopback, tests/oidc),
and back, signed in, on the same start page as with a password."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import PHONE, assert_usable, open_page
from tests.conftest import DEMO_EMAILS
from tests.oidc_provider import DISPLAY_NAME

pytestmark = pytest.mark.browser


@pytest.fixture
def tab(browser, live_server, demo, single_sign_on):
    with open_page(browser, live_server, also=(single_sign_on.issuer,)) as page:
        yield page


def sign_in_at_the_provider(page, login: str) -> None:
    page.get_by_role("link", name=f"Sign in with {DISPLAY_NAME}").click()
    page.get_by_placeholder("Enter any login").fill(login)
    page.get_by_placeholder("and password").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    expect(page.get_by_role("heading", name="Authorize")).to_be_visible()  # the provider's consent page
    page.get_by_role("button", name="Continue").click()


def test_an_engineer_signs_in_through_the_provider_and_lands_on_the_case_list(tab):
    tab.goto("/login")
    expect(tab.get_by_role("link", name=f"Sign in with {DISPLAY_NAME}")).to_be_visible()
    assert_usable(tab, "the login page with single sign-on")

    sign_in_at_the_provider(tab, DEMO_EMAILS["engineer"])

    expect(tab).to_have_url(re.compile(r"/cases$"))
    expect(tab.get_by_role("button", name="Sign out")).to_be_visible()
    tab.get_by_role("button", name="Sign out").click()
    expect(tab.get_by_role("status")).to_have_text("You are signed out.")
    tab.goto("/cases")
    expect(tab).to_have_url(re.compile(r"/login\?next="))


def test_a_refusal_is_shown_on_the_login_page_which_stays_usable(tab, live_server):
    tab.set_viewport_size(PHONE)
    tab.goto("/login")
    sign_in_at_the_provider(tab, "stranger@northwind.example")

    expect(tab.get_by_role("alert")).to_have_text(re.compile(
        "No GTAC Triage account has the e-mail address stranger@northwind.example"))
    assert_usable(tab, "the login page refusing a single sign-on")
    # The password form on that page still signs in.
    tab.get_by_label("E-mail").fill(DEMO_EMAILS["engineer"])
    tab.get_by_label("Password").fill("demo-password")
    tab.get_by_role("button", name="Sign in", exact=True).click()
    expect(tab).to_have_url(re.compile(r"/cases$"))
