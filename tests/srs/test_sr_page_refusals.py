"""A refused action on the SR page says why in words and keeps what GTAC had chosen and typed."""
from __future__ import annotations

import html

from tests.srs.helpers import get_sr, make_sr
from tests.web.helpers import sign_in, text


def test_a_solution_refused_keeps_the_form_and_says_why_plainly(app, client, tokens, demo):
    number = make_sr(app, "in_progress")
    token = sign_in(client, "gtac")
    form = {"csrf_token": token, "to": "solution_provided", "solution_kind": "rma", "solution_content": "  ",
            "note": "Send the PSU back to us"}
    answer = client.post(f"/srs/{number}/transitions", data=form)
    page = html.unescape(text(answer))
    assert answer.status_code == 400
    assert "Please check the form: solution, content: Write the solution for the partner." in page and "{'" not in page
    assert "<option selected>rma</option>" in page
    assert 'value="Send the PSU back to us"' in page

    answer = client.post(f"/srs/{number}/transitions", data={**form, "solution_kind": "teleport",
                                                              "solution_content": "Disable autoneg on 1:1"})
    page = html.unescape(text(answer))
    assert answer.status_code == 400
    assert "Please check the form: solution, kind: Must be one of:" in page and "{'" not in page
    assert ">Disable autoneg on 1:1</textarea>" in page
    assert get_sr(client, tokens["gtac"], number)["status"] == "in_progress"


def test_a_blank_solution_is_refused_by_the_api_as_by_the_page(app, client, tokens):
    number = make_sr(app, "in_progress")
    for content in ("", "   \n"):
        answer = client.post(f"/api/v1/srs/{number}/transitions", headers=tokens["gtac"],
                             json={"to": "solution_provided", "solution": {"kind": "fix", "content": content}})
        assert answer.status_code == 400, answer.json
        assert answer.json["error"]["details"]["fields"]["solution"]["content"] == [
            "Write the solution for the partner."]
    assert get_sr(client, tokens["gtac"], number)["status"] == "in_progress"
