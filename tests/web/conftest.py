"""Real-browser fixtures: the test app behind a real HTTP server, driven by Debian's headless chromium."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import DEMO_EMAILS, launched_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def live_server(app):
    """The test app on 127.0.0.1 and a free port, served from a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    # Per module, like the other browser fixtures: Playwright's sync API cannot run twice at once in
    # one thread, so a session-wide browser here would break a later module's own.
    with launched_chromium() as chromium:
        yield chromium


@contextmanager
def open_page(browser, live_server, **options):
    """A fresh browser context (no cookies); fails fast rather than hangs."""
    context = browser.new_context(base_url=live_server, **options)
    context.set_default_timeout(10_000)
    # Nothing may be loaded from outside this machine: any such request fails the test.
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    yield context.new_page()
    context.close()
    assert not outside, f"pages loaded resources from outside the machine: {outside}"


@pytest.fixture
def page(browser, live_server, demo):
    """A page on the seeded demo data."""
    with open_page(browser, live_server) as tab:
        yield tab


@pytest.fixture
def page_without_js(browser, live_server, demo):
    """A page on the seeded demo data with JavaScript off: every form must still work."""
    with open_page(browser, live_server, java_script_enabled=False) as tab:
        yield tab


@pytest.fixture
def sign_in():
    """sign_in(page, "engineer") signs a demo user in through the login form."""

    def sign_in(page, who: str, password: str = "demo-password"):
        page.goto("/login")
        page.get_by_label("E-mail").fill(DEMO_EMAILS[who])
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        return page

    return sign_in


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
