"""SR lists read as plain rows: the API's items keep the SR summary's shape, the queue page shows
every cell, and urgency pages filtered on breaches stay right at read time, page after page."""
from __future__ import annotations

import json
import re

import sqlalchemy as sa

from app.srs.models import ServiceRequest
from app.extensions import db
from app.srs.schemas import SRSummarySchema
from tests.listing import every_item
from tests.srs.helpers import make_sr, move
from tests.web.helpers import sign_in, text


def walk(client, headers, query: str, limit: int = 1) -> list[dict]:
    return every_item(client, headers, "/api/v1/srs", query, limit)


def desk(app, client, tokens, clock) -> dict[str, str]:
    """SRs in the states a queue shows, one of them overdue; the clock is then 2 h on."""
    made = {
        "overdue": make_sr(app, "new", severity="S1"),  # response due in 1 h
        "soon": make_sr(app, "assigned", severity="S2"),  # due in 4 h
        "later": make_sr(app, "in_progress", severity="S4"),  # due in 48 h
        "paused": make_sr(app, "in_progress", severity="S3"),
        "elsewhere": make_sr(app, "new", severity="S3", queue="S1-Critical-EMEA"),  # due in 24 h
    }
    assert move(client, tokens["gtac"], made["paused"], "awaiting_partner").status_code == 200
    with app.app_context():
        db.session.execute(sa.update(ServiceRequest).where(ServiceRequest.number == made["later"])
                           .values(management_level=2))
        db.session.commit()
    clock.advance(hours=2)
    return made


def test_list_items_are_the_sr_summary_of_each_sr(app, client, tokens, clock):
    made = {"closed": make_sr(app, "closed", severity="S1"), **desk(app, client, tokens, clock)}
    listed = {}
    for query in ("sort=newest", "sort=urgency", "sort=urgency&status=closed"):
        for who in ("gtac", "engineer"):
            listed.update({item["sr_number"]: item for item in walk(client, tokens[who], query, limit=4)})
    assert set(listed) == set(made.values())
    with app.app_context():
        for number, item in listed.items():
            sr = db.session.scalars(sa.select(ServiceRequest).filter_by(number=number)).one()
            assert item == json.loads(json.dumps(SRSummarySchema().dump(sr))), number
    assert listed[made["overdue"]]["breached"] is True and listed[made["overdue"]]["assignee"] is None
    assert listed[made["soon"]]["assignee"]["name"] == "Grace GTAC"
    assert listed[made["paused"]]["sla_due_at"] is None and listed[made["paused"]]["breached"] is False
    assert listed[made["later"]]["management_level"] == 2


def test_urgency_pages_filtered_on_breaches_are_right_at_read_time(app, client, tokens, clock):
    made = desk(app, client, tokens, clock)
    gtac = tokens["gtac"]

    def numbers(query):
        return [item["sr_number"] for item in walk(client, gtac, query)]

    assert numbers("sort=urgency&queue=EXOS-EMEA") == [made[k] for k in ("overdue", "soon", "later", "paused")]
    assert numbers("sort=urgency&queue=EXOS-EMEA&breached=true") == [made["overdue"]]
    # Within the SLA: the running ones by due time, then the paused ones, which are never overdue.
    assert numbers("sort=urgency&queue=EXOS-EMEA&breached=false") == [made[k] for k in ("soon", "later", "paused")]
    assert numbers("sort=urgency&breached=false") == [made[k] for k in ("soon", "elsewhere", "later", "paused")]
    # The next SR falls due while nobody lists: the filter sees it at once, no job needed.
    clock.advance(hours=2, minutes=1)
    assert numbers("sort=urgency&breached=true") == [made["overdue"], made["soon"]]
    assert numbers("sort=newest&breached=true") == [made["soon"], made["overdue"]]
    assert numbers("sort=urgency&breached=false&severity=S4") == [made["later"]]
    # Tenancy holds under every filter: another partner sees none of them.
    assert walk(client, tokens["contoso"], "sort=urgency&breached=true") == []
    assert walk(client, tokens["contoso"], "sort=urgency&breached=false") == []


def test_queue_page_shows_each_cell_of_the_rows(app, client, tokens, clock):
    made = desk(app, client, tokens, clock)
    web = app.test_client()
    sign_in(web, "gtac")
    html = text(web.get("/srs?queue=EXOS-EMEA"))
    rows = re.findall(r'<tr data-sr="(SR\d+)"', html)
    assert rows == [made[k] for k in ("overdue", "soon", "later", "paused")]

    def row(number: str) -> str:
        return re.search(rf'<tr data-sr="{number}".*?</tr>', html, re.S).group(0)

    overdue = row(made["overdue"])
    assert 'class="overdue"' in overdue and '<strong class="breach">overdue</strong>' in overdue
    assert f'<a href="/srs/{made["overdue"]}">{made["overdue"]}</a>' in overdue
    assert '<span class="badge sev-S1">S1</span>' in overdue and '<span class="status st-new">new</span>' in overdue
    assert '<td data-field="assignee" data-label="Engineer">—</td>' in overdue and "Northwind Networks" in overdue
    assert "Generated for a sweep" in overdue and '<td data-field="queue" data-label="Queue">EXOS-EMEA</td>' in overdue
    soon = row(made["soon"])
    assert 'class="overdue"' not in soon and "Grace GTAC" in soon
    assert re.search(r'<time datetime="[^"]+\+00:00">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', soon)
    assert '<span class="status st-in_progress">in progress</span>' in row(made["later"])
    assert '<td data-field="management_level" data-label="Mgmt">2</td>' in row(made["later"])
    assert '<span class="muted">paused</span>' in row(made["paused"])
    assert [made["overdue"]] == re.findall(r'<tr data-sr="(SR\d+)"', text(web.get("/srs?breached=true")))

    partner = app.test_client()
    sign_in(partner, "engineer")
    partner_html = text(partner.get("/srs"))
    assert re.findall(r'<tr data-sr="(SR\d+)"', partner_html) == list(made.values())[::-1]
    assert 'data-field="queue"' not in partner_html
    other = app.test_client()
    sign_in(other, "contoso")
    assert "No SR matches." in text(other.get("/srs")) and "data-sr=" not in text(other.get("/srs"))
