"""The Content-Security-Policy in a real browser: inline script does not run, and a browser test
whose page breaks the policy fails (tests/browser.py _fail_on_policy_violations)."""
from __future__ import annotations

import pytest

from app.web.headers import PAGE_POLICY

pytestmark = pytest.mark.browser


def test_a_page_breaking_the_policy_fails_its_browser_test(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.route("**/policy-probe", lambda route: route.fulfill(
        status=200, content_type="text/html", headers={"Content-Security-Policy": PAGE_POLICY},
        body="<!doctype html><title>untouched</title><script>document.title = 'ran';</script>"))
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.goto("/policy-probe")
    assert page.title() == "untouched"
    with pytest.raises(AssertionError, match="Content-Security-Policy violations"):
        context.close()


def test_no_page_can_be_framed(browser, live_server, demo):
    """frame-ancestors 'none' refuses every framer, this site included (another origin on this
    machine is refused earlier by chromium's local-network checks, which would prove nothing)."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.route("**/framing-probe", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body='<!doctype html><title>framing</title><iframe src="/login"></iframe>'))
    with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        page.goto("/framing-probe")
    assert page.frame_locator("iframe").get_by_label("E-mail").count() == 0
    # The refusal is what the policy is for; to the fixture it is a violation all the same.
    with pytest.raises(AssertionError, match="frame-ancestors"):
        context.close()
