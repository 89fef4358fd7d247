"""The SR list page offers each role the filters and orders the API's list takes from it: GTAC picks an
engineer and an order, a partner a queue and an order; a value the page does not offer is a 400 that
says which filter was wrong."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app.srs.schemas import SRListQuerySchema
from tests.srs.helpers import make_sr, user_id
from tests.web.helpers import sign_in, text

GRACE = "gtac@vendor.example"
MAX = "manager@vendor.example"


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-sr="(SR\d+)"', html)


def options(html: str, name: str) -> list[tuple[str, str]]:
    """(value, label) of each option of the page's select `name`."""
    select = re.search(rf'<select id="([^"]+)" name="{name}">(.*?)</select>', html, re.S)
    assert select, f"no {name} select"
    assert f'<label for="{select.group(1)}">' in html
    return [(value if attribute else label.strip(), label.strip()) for attribute, value, label in
            re.findall(r'<option( value="([^"]*)")?[^>]*>([^<]*)</option>', select.group(2))]


def selected(html: str, name: str) -> str:
    select = re.search(rf'<select id="[^"]+" name="{name}">(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option value="([^"]*)" selected>', select).group(1)


def signed_in(app, who: str):
    web = app.test_client()
    sign_in(web, who)
    return web


def api_numbers(client, headers, query: str) -> list[str]:
    answer = client.get(f"/api/v1/srs?limit=100&{query}", headers=headers)
    assert answer.status_code == 200, answer.json
    return [item["sr_number"] for item in answer.json["items"]]


def test_a_manager_picks_another_engineer_and_sees_exactly_their_srs_page_after_page(
        app, client, tokens, demo, monkeypatch):
    graces = [make_sr(app, status, severity=severity, assignee_email=GRACE)
              for status, severity in (("assigned", "S2"), ("in_progress", "S1"), ("in_progress", "S4"))]
    mine = make_sr(app, "assigned", severity="S1", assignee_email=MAX)
    nobodys = make_sr(app, "new", severity="S1")
    grace = user_id(app, GRACE)
    manager = signed_in(app, "manager")
    offered = options(text(manager.get("/srs")), "assignee_id")
    assert offered == [("", "Anyone"), (str(user_id(app, MAX)), "Assigned to me"), (str(grace), "Grace GTAC")]

    html = text(manager.get(f"/srs?assignee_id={grace}"))
    # In the order the API gives the same filter, the most urgent first.
    assert listed(html) == api_numbers(client, tokens["manager"], f"assignee_id={grace}&sort=urgency")
    assert sorted(listed(html)) == sorted(graces)
    assert selected(html, "assignee_id") == str(grace)
    assert listed(text(manager.get(f"/srs?assignee_id={user_id(app, MAX)}"))) == [mine]
    assert nobodys in listed(text(manager.get("/srs")))

    # The next page's link keeps the engineer and the order.
    monkeypatch.setattr("app.srs.views.PAGE_SIZE", 2)
    seen, address = [], f"/srs?assignee_id={grace}&sort=newest"
    while address:
        html = text(manager.get(address))
        seen += listed(html)
        more = re.search(r'<a href="([^"]+)" rel="next">', html)
        address = more.group(1).replace("&amp;", "&") if more else None
        if address:
            query = parse_qs(urlsplit(address).query)
            assert query["assignee_id"] == [str(grace)] and query["sort"] == ["newest"]
    assert seen == graces[::-1]


def test_assigned_to_me_is_the_engineers_choice_and_its_old_address_still_works(app, demo):
    graces = make_sr(app, "assigned", assignee_email=GRACE)
    maxs = make_sr(app, "assigned", assignee_email=MAX)
    make_sr(app, "new")
    engineer = signed_in(app, "gtac")
    me = str(user_id(app, GRACE))
    # An engineer may see a colleague's SRs too (the API's assignee filter is any of GTAC's).
    assert options(text(engineer.get("/srs")), "assignee_id") == [("", "Anyone"), (me, "Assigned to me"),
                                                                  (str(user_id(app, MAX)), "Max Manager")]
    html = text(engineer.get(f"/srs?assignee_id={me}"))
    assert listed(html) == [graces] and selected(html, "assignee_id") == me
    html = text(engineer.get("/srs?mine=1"))
    assert listed(html) == [graces] and selected(html, "assignee_id") == me
    assert listed(text(engineer.get(f"/srs?assignee_id={user_id(app, MAX)}"))) == [maxs]


def test_the_order_select_offers_the_apis_orders_in_words_and_changes_the_order(app, demo):
    # Opened first, due first: newest first and most urgent first list them the other way round.
    urgent = make_sr(app, "new", severity="S1")
    minor = make_sr(app, "new", severity="S4")
    closed = make_sr(app, "closed", severity="S2")
    api_orders = set(SRListQuerySchema().fields["sort"].validate.choices)
    for who, default in (("manager", "urgency"), ("engineer", "newest")):
        web = signed_in(app, who)
        html = text(web.get("/srs"))
        offered = dict(options(html, "sort"))
        assert set(offered) == api_orders, who
        assert offered == {"urgency": "Most urgent first (open SRs)", "newest": "Newest first"}
        assert selected(html, "sort") == default
        assert listed(text(web.get("/srs?sort=urgency"))) == [urgent, minor], who
        assert listed(text(web.get("/srs?sort=newest"))) == [closed, minor, urgent], who
        assert selected(text(web.get("/srs?sort=newest")), "sort") == "newest"


@pytest.mark.parametrize(("query", "reason"), [
    ("sort=oldest", "Order: Choose one of the orders the list offers: Most urgent first (open SRs), Newest first."),
    ("assignee_id=PARTNER", "Engineer: Choose one of the GTAC engineers the list offers."),
    ("assignee_id=2147483648", "Engineer: Choose one of the GTAC engineers the list offers."),
    ("assignee_id=9" + "9" * 30, "Engineer: Choose one of the GTAC engineers the list offers."),
    ("assignee_id=Grace", "Engineer: Choose one of the GTAC engineers the list offers."),
    ("status=sleeping", "Status: Must be one of: new, assigned"),
    ("severity=S9", "Severity: Must be one of: S1, S2, S3, S4."),
])
def test_a_filter_the_page_does_not_offer_is_a_400_that_says_which(app, demo, query, reason):
    make_sr(app, "assigned", assignee_email=GRACE)
    manager = signed_in(app, "manager")
    query = query.replace("PARTNER", str(user_id(app, "engineer@northwind.example")))
    answer = manager.get(f"/srs?{query}")
    assert answer.status_code == 400
    html = text(answer)
    assert re.search(r'<p role="alert">Please check the filters: ([^<]*)</p>', html).group(1).startswith(reason)
    assert "data-sr=" not in html  # refused, not an unfiltered or empty list


def test_a_partner_filters_on_a_queue_and_an_order_as_its_api_lets_it(app, client, tokens, demo):
    emea = make_sr(app, "new", queue="EXOS-EMEA")
    critical = make_sr(app, "new", severity="S1", queue="S1-Critical-EMEA")
    # What the API lets the partner do.
    assert api_numbers(client, tokens["engineer"], "queue=S1-Critical-EMEA") == [critical]
    partner = signed_in(app, "engineer")
    html = text(partner.get("/srs"))
    queues = [value for value, _ in options(html, "queue")]
    assert "S1-Critical-EMEA" in queues and "EXOS-EMEA" in queues
    assert 'name="assignee_id"' not in html  # GTAC's engineers are not a partner's choice
    html = text(partner.get("/srs?queue=S1-Critical-EMEA"))
    assert listed(html) == [critical]
    assert '<option selected>S1-Critical-EMEA</option>' in html
    assert listed(text(partner.get("/srs?queue=EXOS-EMEA&sort=urgency"))) == [emea]
    # Another partner's page filters only its own SRs.
    assert listed(text(signed_in(app, "contoso").get("/srs?queue=S1-Critical-EMEA"))) == []
