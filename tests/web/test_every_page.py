"""Every page each demo account can reach, on a 390 px phone: axe-core finds nothing, nothing needs
sideways scrolling.

The pages are found by following the links from the start page, so a new page is checked as soon as
something links to it. Pages that differ only by an id (/cases/3, /cases/4) are visited up to four
times: what a page shows follows its record's state (the escalation form is on a case page only
while the case may be escalated).
"""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import pytest

from tests.browser import accessibility_violations, overflow, sign_in
from tests.srs.helpers import escalate

pytestmark = pytest.mark.browser

ROLES = ("engineer", "admin", "customer", "gtac", "manager", "programs", "vendor_admin")
MOST_PAGES = 80  # per role: enough for every page the demo links to, up to MOST_OF_A_KIND a kind
MOST_OF_A_KIND = 4
NOT_PAGES = re.compile(r"^/(api/|static/|logout|healthz|webhooks/)|/attachments/\d+|/download|\.(json|csv|txt)$")


def kind(path: str) -> str:
    return re.sub(r"/[0-9]+|/[A-Z]+-[0-9-]+", "/{id}", path)


class Visits:
    """The pages a walk reads: each once, and up to MOST_OF_A_KIND of each kind."""

    def __init__(self):
        self.pages: set[str] = set()
        self.of_kind: Counter[str] = Counter()

    def take(self, path: str) -> bool:
        """Whether to read `path`; counted as read if so."""
        page = path.split("?")[0]
        if page in self.pages or self.of_kind[kind(page)] >= MOST_OF_A_KIND:
            return False
        self.pages.add(page)
        self.of_kind[kind(page)] += 1
        return True

    def unread(self, links: list[str]) -> list[str]:
        return [link for link in links if link.split("?")[0] not in self.pages]


def page_links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" == origin and not NOT_PAGES.search(parts.path):
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def reachable_pages(page, origin: str) -> list[tuple[str, list[str], list[str]]]:
    """Visit the pages reachable from the start page: (path, axe findings, overflow)."""
    visits, queue, results = Visits(), ["/"], []
    while queue and len(results) < MOST_PAGES:
        path = queue.pop(0)
        if not visits.take(path):
            continue
        answer = page.goto(path)
        if answer is None or answer.status != 200 or urlsplit(page.url).path == "/login":
            continue
        page.wait_for_load_state("networkidle")
        results.append((path, accessibility_violations(page), overflow(page)))
        queue.extend(visits.unread(page_links(page, origin)))
    return results


@pytest.mark.parametrize("who", ROLES)
def test_every_page_of_each_role_passes_axe_and_fits_a_phone(phone, live_server, client, tokens, who):
    escalate(client, tokens)  # the demo has no SR yet: one, so its pages are visited too
    sign_in(phone, who)
    results = reachable_pages(phone, live_server)
    assert len(results) >= 3, f"{who} reached only {[path for path, _, _ in results]}"
    problems = [f"{path}: {finding}" for path, findings, wide in results for finding in findings + wide]
    assert not problems, "\n".join(problems)


def test_the_pages_before_sign_in_pass_axe_and_fit_a_phone(phone):
    for path in ("/login", "/api/v1/docs"):
        phone.goto(path)
        phone.wait_for_load_state("networkidle")
        if path == "/api/v1/docs":
            phone.locator(".opblock").first.wait_for(timeout=30_000)
        problems = accessibility_violations(phone) + overflow(phone)
        assert not problems, f"{path}:\n" + "\n".join(problems)


def test_the_login_page_with_single_sign_on_passes_axe_and_fits_a_phone(phone, app, monkeypatch):
    # Drawing the button asks nothing of the provider: its settings are enough.
    settings = {"OIDC_DISCOVERY_URL": "https://id.vendor.example/.well-known/openid-configuration",
                "OIDC_CLIENT_ID": "gtac-triage", "OIDC_CLIENT_SECRET": "secret",
                "OIDC_DISPLAY_NAME": "Extreme Networks Corporate Identity"}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    phone.goto("/login")
    phone.get_by_role("link", name="Sign in with Extreme Networks Corporate Identity").wait_for()
    problems = accessibility_violations(phone) + overflow(phone)
    assert not problems, "/login with single sign-on:\n" + "\n".join(problems)
