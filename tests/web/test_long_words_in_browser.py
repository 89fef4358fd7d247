"""Text people type with no space in it (a pasted hash, a path, a run of characters) still fits a
390 px phone: the pages break it rather than scroll sideways."""
from __future__ import annotations

import pytest

from tests.browser import overflow, sign_in
from tests.srs.helpers import escalate, move

pytestmark = pytest.mark.browser

LONG = "x" * 200


def test_long_unbroken_words_fit_a_phone(app, client, tokens, phone):
    number = escalate(client, tokens, title=LONG, software_version="32.6.1.4-" + "b" * 50)
    case_id = client.get(f"/api/v1/srs/{number}", headers=tokens["gtac"]).json["case_id"]
    assert move(client, tokens["gtac"], number, "assigned", note="n" * 5000).status_code == 200
    partner = client.post("/api/v1/admin/partners", json={"name": "P" * 100, "tier": "PW", "region": "EMEA"},
                          headers=tokens["vendor_admin"])
    assert partner.status_code == 201, partner.json
    pages = {"engineer": [f"/cases/{case_id}", f"/srs/{number}"], "gtac": [f"/srs/{number}"],
             "customer": [f"/my/cases/{case_id}/progress"], "vendor_admin": [f"/admin/partners/{partner.json['id']}"]}
    for who, paths in pages.items():
        sign_in(phone, who)
        for path in paths:
            phone.goto(path)
            phone.wait_for_load_state("load")
            assert overflow(phone) == [], f"{who} on {path}"
        phone.context.clear_cookies()
