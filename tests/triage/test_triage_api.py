"""GET /api/v1/cases/{id}/triage as partners, customers, GTAC and strangers see it."""
from tests.triage.helpers import attach_scanned_log, mark_escalated, open_case


def triage(client, headers, case_id):
    return client.get(f"/api/v1/cases/{case_id}/triage", headers=headers)


def test_ranks_the_anomaly_the_case_describes_with_its_fix(client, tokens):
    case = open_case(client, tokens["engineer"], title="Stack unit restarts when many multicast groups join",
                     description="Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups.")
    answer = triage(client, tokens["engineer"], case["id"])
    assert answer.status_code == 200, answer.json
    body = answer.json
    top = body["anomalies"][0]
    assert top["anomaly_id"] == "EXOS-31207"
    assert top["finding"] and top["confidence"] >= body["threshold"]
    assert top["first_fixed_in"] == "32.6.2.1"
    assert {"IGMP", "groups"} <= set(top["matched_terms"])
    assert top["ruling"] is None
    assert "EXOS-31207" in body["rulings"]["needed"] and body["rulings"]["complete"] is False
    # Anomalies that do not affect 32.6.1.4 never appear, whatever the words.
    codes = {a["anomaly_id"] for a in body["anomalies"]}
    assert not codes & {"EXOS-30512", "EXOS-32300", "EXOS-31388"}


def test_a_fixed_version_no_longer_gets_the_anomaly(client, tokens):
    case = open_case(client, tokens["engineer"], software_version="32.6.2.1",
                     title="Stack unit restarts when many multicast groups join",
                     description="Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups.")
    codes = [a["anomaly_id"] for a in triage(client, tokens["engineer"], case["id"]).json["anomalies"]]
    assert "EXOS-31207" not in codes


def test_log_signatures_answer_a_vague_case(app, client, tokens, demo):
    case = open_case(client, tokens["engineer"])
    before = triage(client, tokens["engineer"], case["id"]).json
    assert not before["rulings"]["needed"]
    attach_scanned_log(app, case["id"], demo["engineer"].id)
    body = triage(client, tokens["engineer"], case["id"]).json
    top = body["anomalies"][0]
    assert top["anomaly_id"] == "EXOS-31207" and top["finding"] and top["above_threshold"]
    assert top["confidence"] >= body["threshold"]
    assert top["log_score"] > top["text_score"]
    # The explanation: the log lines that matched, as the partner's log wrote them, and the crash kind.
    assert any("Process mcmgr not responding" in line and line.startswith("11/22/2026")
               for line in top["log_evidence"])
    assert "watchdog" in top["signature_kinds"]
    assert body["log_findings"] == {"scanned_logs": 1, "software_versions": ["32.6.1.4"],
                                    "crash_signatures": 1, "error_lines": 2, "other_lines": 1,
                                    "formats": ["exos"], "fault_kinds": ["restart_reason", "task_hung", "watchdog"]}


def test_duplicates_within_the_partner(client, tokens):
    first = open_case(client, tokens["engineer"], serial_number="ACME-0004",
                      title="Phones lost PoE after power supply swap",
                      description="After replacing PSU 2 the IP phones on ports 1-24 have no power.")
    similar = open_case(client, tokens["engineer"], serial_number="ACME-0005",
                        title="IP phones without PoE after a power supply was replaced",
                        description="Phones on ports 1-24 stay unpowered since PSU 2 was replaced.")
    unrelated = open_case(client, tokens["engineer"], serial_number="ACME-0006",
                          title="Request for documentation", description="How to configure QoS queues?")
    same_serial = open_case(client, tokens["engineer"], serial_number="ACME-0004",
                            title="Console port dead", description="Console does not answer at any speed.")
    duplicates = triage(client, tokens["engineer"], first["id"]).json["duplicates"]
    found = {d["case_id"]: d["reasons"] for d in duplicates}
    assert found[similar["id"]] == ["similar_text"]
    assert found[same_serial["id"]] == ["same_serial"]
    assert unrelated["id"] not in found


def test_severity_flags(client, tokens):
    vague_s1 = open_case(client, tokens["engineer"], severity="S1", title="Port counters look odd",
                         description="Some CRC errors on one port.")
    flags = triage(client, tokens["engineer"], vague_s1["id"]).json["severity_flags"]
    assert [f["code"] for f in flags] == ["s1_without_outage_statement"]
    real_s1 = open_case(client, tokens["engineer"], severity="S1", title="Core stack down",
                        description="The whole campus network is down, no traffic is forwarded.")
    assert triage(client, tokens["engineer"], real_s1["id"]).json["severity_flags"] == []
    low = open_case(client, tokens["engineer"], severity="S4", title="Network down at site B",
                    description="Complete outage since 9am.")
    assert [f["code"] for f in triage(client, tokens["engineer"], low["id"]).json["severity_flags"]] == [
        "outage_statement_with_low_severity"]


def test_a_log_of_another_version_is_flagged(app, client, tokens, demo):
    case = open_case(client, tokens["engineer"], software_version="32.6.3.1")
    attach_scanned_log(app, case["id"], demo["engineer"].id)
    flags = triage(client, tokens["engineer"], case["id"]).json["severity_flags"]
    assert [f["code"] for f in flags] == ["log_version_differs"]
    assert "32.6.1.4" in flags[0]["message"]


def test_tenancy(app, client, tokens):
    case = open_case(client, tokens["engineer"])
    assert triage(client, tokens["admin"], case["id"]).status_code == 200
    for stranger in ("contoso", "fabrikam", "programs", "gtac"):  # GTAC sees only escalated cases
        answer = triage(client, tokens[stranger], case["id"])
        assert answer.status_code == 404, stranger
        assert answer.json["error"]["code"] == "case_not_found"
    customer = triage(client, tokens["customer"], case["id"])
    assert customer.status_code == 403 and customer.json["error"]["code"] == "role_not_allowed"
    assert triage(client, tokens["engineer"], 999999).status_code == 404
    assert client.get(f"/api/v1/cases/{case['id']}/triage").status_code == 401


def _exos_serial_for_fabrikam(app, serial):
    import sqlalchemy as sa

    from app.contracts.models import CoveredSerial, Product, ServiceContract
    from app.extensions import db

    with app.app_context():
        contract = db.session.scalars(sa.select(ServiceContract).filter_by(number="PW-FAB-2026")).one()
        product = db.session.scalars(sa.select(Product).filter_by(model="X465-48T")).one()
        db.session.add(CoveredSerial(contract_id=contract.id, serial_number=serial, product_id=product.id))
        db.session.commit()
        db.session.remove()


POE_CASE = {"software_version": "32.6.1.4", "severity": "S2",
            "title": "Phones lost PoE after power supply swap",
            "description": "After replacing PSU 2 the IP phones on ports 1-24 have no power."}


def test_gtac_sees_escalated_triage_and_duplicates_across_partners(app, client, tokens):
    _exos_serial_for_fabrikam(app, "FAB-X465-1")
    mine = open_case(client, tokens["engineer"], **POE_CASE)
    theirs = client.post("/api/v1/cases", headers=tokens["contoso"],
                         json={**POE_CASE, "serial_number": "FAB-X465-1"}).json
    not_escalated = open_case(client, tokens["engineer"], serial_number="ACME-0009", **POE_CASE)
    mark_escalated(app, mine["id"])
    mark_escalated(app, theirs["id"])

    gtac = triage(client, tokens["gtac"], mine["id"])
    assert gtac.status_code == 200
    found = {d["case_id"]: d for d in gtac.json["duplicates"]}
    assert found[theirs["id"]]["partner"]["name"] == "Contoso Integrators"
    assert found[theirs["id"]]["escalated"] is True
    assert not_escalated["id"] not in found  # GTAC sees SRs, not the partners' open cases

    partner = {d["case_id"] for d in triage(client, tokens["engineer"], mine["id"]).json["duplicates"]}
    assert not_escalated["id"] in partner and theirs["id"] not in partner


def test_a_rescanned_log_is_read_afresh(app, client, tokens, demo):
    """Parsed findings are kept per process; a new scan (a new scanned_at) replaces them."""
    import io

    import sqlalchemy as sa

    from app.attachments.models import Attachment
    from app.clock import now
    from app.extensions import db
    from app.triage.logscan import scan_log
    from tests.triage.helpers import CRASH_LOG

    case = open_case(client, tokens["engineer"])
    attach_scanned_log(app, case["id"], demo["engineer"].id, content=b"11/22/2026 07:45:01.02 <Info:X> nothing\n")
    first = triage(client, tokens["engineer"], case["id"]).json
    assert first["log_findings"]["crash_signatures"] == 0 and not first["rulings"]["needed"]
    with app.app_context():
        attachment = db.session.scalars(sa.select(Attachment).filter_by(case_id=case["id"])).one()
        attachment.findings, attachment.scanned_at = scan_log(io.BytesIO(CRASH_LOG)).to_dict(), now()
        db.session.commit()
    second = triage(client, tokens["engineer"], case["id"]).json
    assert second["log_findings"]["crash_signatures"] == 1
    assert second["rulings"]["needed"] == ["EXOS-31207"]
