"""The SR page reads everything it shows in one unit of work."""
from __future__ import annotations

import app.uow as uow_module
from tests.srs.helpers import escalate
from tests.web.helpers import sign_in, text


def test_the_sr_page_is_read_in_one_unit_of_work(app, client, tokens, monkeypatch):
    number = escalate(client, tokens)
    sign_in(client, "manager")
    opened = []
    begin = uow_module.begin

    def counting_begin(session=None):
        opened.append(1)
        return begin(session)

    monkeypatch.setattr(uow_module, "begin", counting_begin)
    answer = client.get(f"/srs/{number}")
    assert answer.status_code == 200
    html = text(answer)
    assert 'id="answers-h"' in html and 'id="triage-h"' in html and "Assign" in html
    assert len(opened) == 1
