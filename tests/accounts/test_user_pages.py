"""The Users pages of a partner's admin, an invitation accepted in the browser, and your own account page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.mail import link_path, mailbox, mails_to  # noqa: F401 (fixture)
from tests.browser import assert_usable, open_page, sign_in

pytestmark = pytest.mark.browser
NINA = "nina@northwind.example"
PASSWORD = "correct horse battery staple"


def test_an_admin_invites_an_engineer_who_joins_and_is_then_deactivated(browser, live_server, page, mailbox):
    sign_in(page, "admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    assert_usable(page, "the users page")
    page.get_by_role("link", name="Invite a user").click()
    assert_usable(page, "the invitation form")
    page.get_by_label("E-mail").fill(NINA)
    page.get_by_label("Name").fill("Nina Newcomer")
    page.get_by_label("Organisation").select_option(label="Northwind Networks (partner)")
    page.get_by_label("Role").select_option("partner_engineer")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Nina Newcomer is invited")
    expect(page.locator("#user-status")).to_have_text("invited, no password chosen yet")
    assert_usable(page, "a user's page")
    user_page = page.url

    (mail,) = mails_to(mailbox, NINA)
    with open_page(browser, live_server) as nina:
        nina.goto(link_path(mail))
        expect(nina.get_by_role("heading", level=1)).to_have_text("Welcome to GTAC Triage")
        assert_usable(nina, "the invitation page")
        nina.get_by_label("New password", exact=True).fill(PASSWORD)
        nina.get_by_label("New password again").fill(PASSWORD)
        nina.get_by_role("button", name="Set my password").click()
        expect(nina).to_have_url(re.compile(r"/login$"))
        expect(nina.get_by_role("status")).to_contain_text("Your password is set")
        nina.get_by_label("E-mail").fill(NINA)
        nina.get_by_label("Password").fill(PASSWORD)
        nina.get_by_role("button", name="Sign in").click()
        expect(nina).to_have_url(re.compile(r"/cases$"))
        expect(nina.get_by_text("Nina Newcomer · Northwind Networks")).to_be_visible()

        page.goto(user_page)
        expect(page.locator("#user-status")).to_have_text("active")
        page.get_by_role("button", name="Deactivate").click()
        expect(page.get_by_role("status")).to_contain_text("Nina Newcomer is deactivated")
        expect(page.locator("#user-status")).to_have_text("deactivated")

        nina.reload()
        expect(nina).to_have_url(re.compile(r"/login\?next="))


def test_the_account_page_changes_your_password_on_a_phone(phone):
    sign_in(phone, "customer")
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your account")
    assert_usable(phone, "the account page")
    phone.get_by_label("Current password").fill("not-the-password")
    phone.get_by_label("New password", exact=True).fill(PASSWORD)
    phone.get_by_label("New password again").fill(PASSWORD)
    phone.get_by_role("button", name="Change password").click()
    expect(phone.locator(".field-error")).to_have_text("Wrong password.")
    assert_usable(phone, "the account page with an error")
    phone.get_by_label("Current password").fill("demo-password")
    phone.get_by_label("New password", exact=True).fill(PASSWORD)
    phone.get_by_label("New password again").fill(PASSWORD)
    phone.get_by_role("button", name="Change password").click()
    expect(phone.get_by_role("status")).to_contain_text("Your password is changed")


def test_forgot_password_from_the_login_page(page, mailbox):
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    assert_usable(page, "the forgotten password form")
    page.get_by_label("E-mail").fill("engineer@northwind.example")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    assert_usable(page, "the link-sent page")
    (mail,) = mailbox.messages
    page.goto(link_path(mail))
    assert_usable(page, "the new password form")
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    page.goto(link_path(mail))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not open")
    expect(page.get_by_role("alert")).to_contain_text("used already")
    assert_usable(page, "a spent link")
