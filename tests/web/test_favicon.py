"""The tab icon: named by every page, and found where browsers look without being told."""
from __future__ import annotations


def test_pages_name_the_icon_and_it_is_served(client):
    page = client.get("/login")
    assert b'rel="icon" type="image/svg+xml" href="/static/favicon.svg"' in page.data
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data


def test_the_usual_address_leads_to_the_icon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    assert answer.headers["Location"].endswith("/static/favicon.svg")
