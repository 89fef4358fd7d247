"""The header's main navigation: each role sees the links of its work, in a fixed order, and every
one of them opens for that role."""
from __future__ import annotations

import re

import pytest

from tests.web.helpers import sign_in, text

# What the header showed each demo role before the links were worked out once per role.
EXPECTED = {
    "engineer": ["Cases", "Open a case", "Service requests", "Rebates", "Partner status"],
    "admin": ["Cases", "Open a case", "Service requests", "Payments", "Rebates", "Partner status", "Webhooks",
              "Users"],
    "customer": ["My cases", "Open a request"],
    "gtac": ["Cases", "Service requests"],
    "manager": ["Cases", "Service requests", "Dashboard"],
    "programs": ["Payments", "Programmes", "Partner status", "Integrations"],
    "vendor_admin": ["Integrations", "Administration", "Users", "Contracts", "Imports"],
}
EVERYONE = ["API", "API tokens", "Account"]
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def header_links(html: str) -> list[tuple[str, bool, str]]:
    nav = html[html.index('<nav aria-label="Main">'):]
    nav = nav[:nav.index("</nav>")]
    return [(href, bool(current), label) for href, current, label in LINK.findall(nav)]


@pytest.mark.parametrize("who", EXPECTED)
def test_each_role_sees_the_links_of_its_work_and_each_opens(app, demo, who):
    client = app.test_client()
    sign_in(client, who)
    home = client.get("/", follow_redirects=True)
    links = header_links(text(home))
    assert [label for _, _, label in links] == EXPECTED[who] + EVERYONE
    for href, _, label in links:
        assert client.get(href, follow_redirects=True).status_code == 200, f"{who}: {label} ({href})"


def test_the_page_shown_is_marked_in_the_header(app, demo):
    client = app.test_client()
    sign_in(client, "gtac")
    links = header_links(text(client.get("/srs")))
    assert [(href, label) for href, current, label in links if current] == [("/srs", "Service requests")]

