"""The case page as the partner engineer's workspace, through the test client: what blocks the
escalation from the moment the case opens, the items under the vendor's numbers, the upload beside
the logs item, and an SR box that follows what GTAC did."""
from __future__ import annotations

import html as markup
import re
from datetime import date

import sqlalchemy as sa

from app.accounts.models import User
from app.checklists.models import ChecklistResponse
from app.contracts.models import CoveredSerial, ServiceContract
from app.extensions import db
from tests.case_helpers import complete_checklist, new_case, upload
from tests.web.helpers import sign_in, text


def case_page(client, case_id) -> str:
    answer = client.get(f"/cases/{case_id}")
    assert answer.status_code == 200
    return text(answer)


def readiness(html: str) -> str | None:
    found = re.search(r'<section class="card readiness[^"]*" id="readiness".*?</section>', html, re.S)
    return found.group(0) if found else None


def item_block(html: str, code: str) -> str:
    found = re.search(rf'<li class="item[^"]*" id="item-{code}">(.*?)</li>\s*(?=<li class="item|</ol>)', html, re.S)
    assert found, f"item {code} not on the page"
    return found.group(1)


def shown(fragment: str) -> str:
    """The fragment's text as read: tags dropped, entities decoded, white space collapsed."""
    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_blockers_outside_the_checklist_show_as_soon_as_the_case_opens(client, tokens):
    # Contoso is a PartnerWorks partner and its engineer's VOSS certification has expired.
    case = new_case(client, tokens["contoso"], serial_number="FAB-0002", severity="S2")
    sign_in(client, "contoso")
    panel = readiness(case_page(client, case["id"]))

    assert panel is not None
    said = shown(panel)
    assert "GTAC would refuse this case now, for 14 reasons. 2 of them do not depend on the checklist." in said
    assert "PartnerWorks partners may escalate S1 cases only." in said
    assert "Your VOSS certification expired on" in said
    assert "Renew your VOSS certification with the vendor, or have a colleague certified for VOSS escalate" in said
    assert '<a href="#details">Review the severity</a>' in panel
    assert "12 checklist items still open:" in said
    assert '<a href="#item-scope_what">Item 2: Scope: what happens: Not answered yet.</a>' in panel
    assert '<a href="#item-release_notes_reviewed">Item 5: Release notes reviewed' in panel
    # The panel comes first: before the details and the checklist.
    html = case_page(client, case["id"])
    assert html.index('id="readiness"') < html.index('id="details"') < html.index('id="checklist"')


def test_the_panel_says_what_the_escalation_itself_would_refuse(app, client, tokens):
    case = new_case(client, tokens["contoso"], serial_number="FAB-0002", severity="S2")
    refused = client.post(f"/api/v1/cases/{case['id']}/escalation", json={}, headers=tokens["contoso"])
    assert refused.status_code == 422
    reasons = refused.json["error"]["details"]["reasons"]
    sign_in(client, "contoso")
    said = shown(readiness(case_page(client, case["id"])))

    assert f"for {len(reasons)} reasons" in said
    for reason in reasons:
        assert shown(markup.escape(reason["message"])) in said, reason


def test_a_complete_checklist_of_a_pwp_partner_leaves_nothing_in_the_way(client, tokens):
    case = new_case(client, tokens["engineer"])
    sign_in(client, "engineer")
    before = shown(readiness(case_page(client, case["id"])))
    assert "2 of them" not in before and "do not depend on the checklist" not in before
    assert "12 checklist items still open:" in before

    complete_checklist(client, tokens["engineer"], case["id"])
    panel = readiness(case_page(client, case["id"]))
    assert "Nothing blocks the escalation." in shown(panel)
    assert '<a href="#escalate">Escalate to GTAC</a>' in panel


def test_only_who_may_escalate_an_open_case_sees_the_panel(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    customer = app.test_client()
    sign_in(customer, "customer")
    assert readiness(case_page(customer, case["id"])) is None

    complete_checklist(client, tokens["engineer"], case["id"])
    assert client.post(f"/api/v1/cases/{case['id']}/escalation", json={},
                       headers=tokens["engineer"]).status_code == 201
    for who in ("engineer", "gtac"):
        reader = app.test_client()
        sign_in(reader, who)
        assert readiness(case_page(reader, case["id"])) is None, who


def test_items_carry_the_vendors_numbers_on_the_case_page(client, tokens):
    case = new_case(client, tokens["engineer"], serial_number="ACME-0002",
                    title="Stack node reboots when the IGMP snooping table is full",
                    description="A stack node reboots when the IGMP snooping group table is full: mcmgr "
                                "not responding, then the watchdog reboots it.")
    sign_in(client, "engineer")
    html = case_page(client, case["id"])

    for code, number in [("customer_informed", 1), ("scope_what", 2), ("scope_how", 2), ("logs_gathered", 3),
                         ("problem_isolation", 4), ("release_notes_reviewed", 5), ("lab_simulation", 7),
                         ("logs_analysed", 10)]:
        block = item_block(html, code)
        assert f'<span class="mark" aria-hidden="true">{number}</span>' in block, code
        assert f'<span class="item-number">Item {number}' in block, code
    triage = re.search(r'<section class="card" id="triage".*?</section>', html, re.S).group(0)
    assert '<a href="#item-release_notes_reviewed">checklist item 5</a>' in triage
    # Each anomaly to rule on says what matched, so that a list that changes says why.
    ruling = item_block(html, "release_notes_reviewed")
    assert re.search(r'<p class="matched" id="item-release_notes_reviewed-EXOS-31207-why">Suggested because the case '
                     r'shares: [^<]*igmp', ruling, re.I)


def test_the_upload_sits_in_the_logs_item_before_the_escalate_button(client, tokens):
    case = new_case(client, tokens["engineer"])
    sign_in(client, "engineer")
    html = case_page(client, case["id"])

    assert html.count('id="upload-form"') == 1
    assert 'id="upload-form"' in item_block(html, "logs_gathered")
    assert html.index('id="upload-form"') < html.index('id="escalate"')


def test_the_sr_box_says_the_initial_response_was_given_once_it_was(client, tokens):
    case = new_case(client, tokens["engineer"])
    complete_checklist(client, tokens["engineer"], case["id"])
    number = client.post(f"/api/v1/cases/{case['id']}/escalation", json={},
                         headers=tokens["engineer"]).json["sr_number"]
    sign_in(client, "engineer")
    box = re.search(r'<section class="card sr-banner".*?</section>', case_page(client, case["id"]), re.S).group(0)
    assert "Initial response due" in box and "Next update due" in box

    assert client.post(f"/api/v1/srs/{number}/messages", json={"body": "We are on it."},
                       headers=tokens["gtac"]).status_code == 201
    box = re.search(r'<section class="card sr-banner".*?</section>', case_page(client, case["id"]), re.S).group(0)
    assert "Initial response due" not in box
    assert re.search(r"<dt>Initial response</dt><dd>Given <time", box)
    assert "Next update due" in box


def test_after_a_partial_ruling_the_anomalies_still_to_rule_on_are_marked(client, tokens):
    case = new_case(client, tokens["engineer"], serial_number="ACME-0002",
                    title="Stack node reboots and snmpMaster memory keeps growing",
                    description="A stack node reboots when the IGMP snooping group table is full: mcmgr "
                                "not responding. Separately snmpMaster memory grows every day while our "
                                "monitoring polls ifXTable with SNMPv3 GETBULK.")
    checklist = client.get(f"/api/v1/cases/{case['id']}/checklist", headers=tokens["engineer"]).json
    suggested = next(i for i in checklist["items"] if i["code"] == "release_notes_reviewed")["suggestions"]
    assert "EXOS-31207" in suggested and len(suggested) >= 2
    ruled = client.put(f"/api/v1/cases/{case['id']}/checklist/release_notes_reviewed", headers=tokens["engineer"],
                       json={"value": {"rulings": [{"anomaly_id": "EXOS-31207", "ruling": "matches"}]}})
    assert ruled.status_code == 200, ruled.json
    sign_in(client, "engineer")
    block = item_block(case_page(client, case["id"]), "release_notes_reviewed")

    legends = dict(re.findall(r'<legend><span class="mono">([^<]+)</span>(.*?)</legend>', block, re.S))
    assert "Not ruled on yet" not in legends["EXOS-31207"]
    assert all("Not ruled on yet" in legend for anomaly, legend in legends.items() if anomaly != "EXOS-31207")


def test_a_ruling_on_an_anomaly_no_longer_suggested_says_why_the_list_moved(app, client, tokens):
    case = new_case(client, tokens["engineer"], serial_number="ACME-0002",
                    title="Stack node reboots when the IGMP snooping table is full",
                    description="A stack node reboots when the IGMP snooping group table is full: mcmgr "
                                "not responding, then the watchdog reboots it.")
    with app.app_context():
        engineer = db.session.scalars(sa.select(User).where(User.email == "engineer@northwind.example")).one()
        # As left by a ruling made while the case's text and logs still matched another anomaly.
        db.session.add(ChecklistResponse(case_id=case["id"], item_code="release_notes_reviewed",
                                         responded_by_id=engineer.id,
                                         value={"rulings": [{"anomaly_id": "EXOS-27001", "ruling": "not_relevant"}]}))
        db.session.commit()
    sign_in(client, "engineer")
    block = shown(item_block(case_page(client, case["id"]), "release_notes_reviewed"))

    assert ("EXOS-27001 : not relevant (no longer suggested: with what the case and its logs now say, "
            "it no longer matches confidently)") in block
    assert "Rule on every suggested known anomaly" in block


def test_the_workspace_is_read_in_one_transaction(app, client, tokens):
    # Contoso's case has blockers of every sort, so the readiness panel reads contracts and certifications too.
    case = new_case(client, tokens["contoso"], serial_number="FAB-0002", severity="S2")
    sign_in(client, "contoso")
    with app.app_context():
        engine = db.engine
    begun: list[int] = []

    def count(connection):
        begun.append(1)

    sa.event.listen(engine, "begin", count)
    try:
        html = case_page(client, case["id"])
    finally:
        sa.event.remove(engine, "begin", count)
    assert readiness(html) is not None
    assert len(begun) == 2  # the signed-in user, then the whole page


def test_a_lapsed_contract_is_a_blocker_with_what_to_do(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    with app.app_context():
        contract = db.session.scalars(sa.select(ServiceContract).join(CoveredSerial).where(
            CoveredSerial.serial_number == "ACME-0003")).first()
        contract.starts_on, contract.ends_on = date(2020, 1, 1), date(2020, 12, 31)
        db.session.commit()
    sign_in(client, "engineer")
    panel = readiness(case_page(client, case["id"]))

    said = shown(panel)
    assert "1 of them does not depend on the checklist." in said
    assert "No active service contract of Acme Corp covers serial ACME-0003." in said
    assert "Ask Acme Corp to renew or extend the contract that covers this serial" in said
    assert '<a href="#details">Check the serial number</a>' in panel


def test_a_crash_the_logs_show_is_named_where_the_case_says_whether_it_crashed(client, tokens):
    case = new_case(client, tokens["engineer"])
    sign_in(client, "engineer")
    assert shown(re.search(r'<dd id="crash">.*?</dd>', case_page(client, case["id"])).group(0)) == "No"
    log = b"<Crit:Kernel> Process hal crashed with signal 11 (SIGSEGV)\n"
    assert upload(client, tokens["engineer"], case["id"], content=log, filename="hal.log").status_code == 201
    assert shown(re.search(r'<dd id="crash">.*?</dd>', case_page(client, case["id"])).group(0)) == (
        "Not reported, but hal.log shows one")
