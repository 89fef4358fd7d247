"""The one browser plugin: the test app behind a real HTTP server, Debian's headless chromium through
Playwright, a signed-in page, and the checks every page must pass (axe-core, a 390 px screen).

Registered from tests/conftest.py, so every package's browser tests share one live server, one way
to launch chromium and one `sign_in`.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.demo.seed import DEMO_PASSWORD
from tests.conftest import DEMO_EMAILS, need

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The fixture that starts chromium. A test that uses it must be marked `browser`, or
# `-m "not browser"` would still start a browser: pytest_collection_modifyitems stops the run.
CHROMIUM_FIXTURE = "browser"
PHONE = {"width": 390, "height": 844}


def serve(application, ssl_context=None):
    """Serve an application on a free loopback port from a thread (over TLS with `ssl_context`);
    returns (base url, stop)."""
    server = make_server("127.0.0.1", 0, application, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    return f"{'https' if ssl_context else 'http'}://127.0.0.1:{server.server_port}", stop


# How chromium reports, on the console, what the Content-Security-Policy refused.
POLICY_VIOLATION = "Content Security Policy"


def _fail_on_policy_violations(browser) -> None:
    """Every context this browser opens fails when it is closed if one of its pages broke the
    Content-Security-Policy (an inline script or style, a resource from elsewhere): a page that
    only works without the policy would otherwise pass here and break for users."""
    new_context = browser.new_context

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        violations: list[str] = []

        def listen(message):
            if POLICY_VIOLATION in message.text:
                violations.append(f"{message.location.get('url', '?')}: {message.text}")

        context.on("console", listen)
        close = context.close

        def close_and_check(*close_args, **close_kwargs):
            close(*close_args, **close_kwargs)
            assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)

        context.close = close_and_check
        return context

    browser.new_context = watched_context


@contextmanager
def launched_chromium():
    """Debian's headless chromium through Playwright. Skips when either is absent; under CI's
    REQUIRE_BROWSER=1 the test fails instead, so a missing browser cannot pass as green.
    A page that breaks the Content-Security-Policy fails its test (_fail_on_policy_violations)."""
    need("browser", os.access(CHROMIUM, os.X_OK), f"needs Debian's chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("browser", False, "needs Playwright's Python package (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        _fail_on_policy_violations(browser)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def live_server(app):
    """The test app on 127.0.0.1 and a free port, served from a background thread."""
    url, stop = serve(app)
    yield url
    stop()


@pytest.fixture(scope="session")
def browser():
    # One chromium per worker, not one per module: the 26 launches cost Playwright's driver some 14 s
    # of CPU. No module starts an event loop of its own in the main thread, which would clash with
    # Playwright's sync API. Every test still gets a fresh context (open_page).
    with launched_chromium() as chromium:
        yield chromium


@contextmanager
def open_page(browser, base_url, also: tuple[str, ...] = (), **options):
    """A fresh browser context (no cookies) on `base_url`; fails fast rather than hangs, and fails
    the test when a page loads anything from outside this machine (`also`: other servers of the
    test on loopback, such as the OpenID provider)."""
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(10_000)
    outside: list[str] = []
    allowed = (base_url, *also)

    def guard(route):
        if route.request.url.startswith(allowed):
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
def phone(browser, live_server, demo):
    """A page on the seeded demo data, on a 390 px wide touch screen."""
    with open_page(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True) as tab:
        yield tab


@pytest.fixture
def page_without_js(browser, live_server, demo):
    """A page on the seeded demo data with JavaScript off: every form must still work."""
    with open_page(browser, live_server, java_script_enabled=False) as tab:
        yield tab


def sign_in(page, who: str, password: str = DEMO_PASSWORD):
    """Sign a demo user in through the login form."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(DEMO_EMAILS[who])
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    return page


@contextmanager
def streams_held(page, pattern: str = "**/events*"):
    """Holds the page's live streams until the block ends: what the server does meanwhile happens, for
    the page, between its load and its streams' connection, as on a slow network."""
    held = []
    page.route(pattern, lambda route: held.append(route))
    try:
        yield held
    finally:
        page.unroute(pattern)  # which lets the held requests go on


def wait_for_streams(page, held: list, count: int = 1) -> None:
    """Until the page has asked for `count` streams (held by streams_held)."""
    for _ in range(100):
        if len(held) >= count:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the page asked for {len(held)} streams, not {count}")


@pytest.fixture(name="sign_in")
def sign_in_fixture():
    """sign_in(page, "engineer") signs a demo user in through the login form."""
    return sign_in


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def opened_with_live_updates_refused(app, page, monkeypatch, path: str):
    """`path` opened by the engineer while the server refuses them a live stream (as if five other
    pages held theirs); returns the page's notice that its live updates have stopped (after two tries
    a fraction of a second apart, where a user's page tries for about a minute)."""
    from app.live.streams import LIMITS

    monkeypatch.setattr(app.extensions[LIMITS], "per_user", 0)
    page.add_init_script("window.liveRetrySeconds = [0.2, 0.2];")  # two quick tries before it gives up
    sign_in(page, "engineer")
    with page.expect_response(lambda answer: "/events" in answer.url and answer.status == 429):
        page.goto(path)
    return page.locator("#live-stopped")


def accessibility_violations(page) -> list[str]:
    """What axe-core finds wrong on the page as it stands, one line per rule and element."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}"
            for v in results.response["violations"] for node in v["nodes"]]


def overflow(page) -> list[str]:
    """Elements that stick out of the viewport to the right (nothing should need sideways scrolling)."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) return [];
        return [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > width + 1 && getComputedStyle(e).position !== 'fixed')
          .slice(0, 5)
          .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                    (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '')
                    + ' right=' + Math.round(e.getBoundingClientRect().right));
    }""")


def assert_usable(page, what: str = "") -> None:
    """axe-core finds nothing on the page as it stands, and on a 390 px phone nothing scrolls
    sideways; the window is put back to its size afterwards."""
    where = what or page.url
    violations = accessibility_violations(page)
    assert not violations, f"axe-core on {where}:\n" + "\n".join(violations)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        wide = overflow(page)
        assert not wide, f"{where} is wider than a 390 px phone: {wide}"
    finally:
        if size:
            page.set_viewport_size(size)


def pytest_collection_modifyitems(config, items):
    unmarked = [item.nodeid for item in items
                if CHROMIUM_FIXTURE in getattr(item, "fixturenames", ())
                and item.get_closest_marker("browser") is None]
    if unmarked:
        raise pytest.UsageError("these tests drive chromium but are not marked `browser` "
                                "(add pytestmark = pytest.mark.browser): " + ", ".join(unmarked))
