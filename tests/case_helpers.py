"""Driving a case through the API the way a partner engineer does."""
from __future__ import annotations

import io

LOG_TEXT = (b"<Info:System> ExtremeXOS version 32.6.1.4 booted\n"
            b"<Erro:HAL.Port> Port 1:49 link flap detected\n")

TEXT_ANSWERS = {
    "scope_what": "Uplink 1:49 to the core flaps every few minutes, users lose sessions.",
    "scope_when": "Since the upgrade to 32.6.1.4 on Monday, every 5 to 10 minutes.",
    "scope_how": "Happens under normal load; clearing counters does not help at all.",
    "problem_isolation": "Swapped optics and cable, moved the uplink to 1:50: the flap follows the port.",
    "specifications_checked": "Port speed and optic are supported per the X465 data sheet.",
    "lab_simulation": "Reproduced in our lab with the same optic and 32.6.1.4 firmware.",
    "action_plan": "Collect debug output during a flap and ask GTAC to confirm a known defect.",
    "logs_analysed": "error.log shows HAL.Port link flap every few minutes since the upgrade.",
    "rma_serial_number": "ACME-0003",
    "rma_failure_description": "Port 1:49 hardware fails link negotiation repeatedly.",
    "rma_ship_to": "Acme Corp, Dock 4, 1 Main Street, Springfield, +1 555 0100",
}


def new_case(client, headers, **overrides) -> dict:
    body = {"serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2",
            "title": "Uplink flaps on core switch", "description": "Port 1:49 flaps.", **overrides}
    answer = client.post("/api/v1/cases", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def upload(client, headers, case_id, content=LOG_TEXT, kind="error_log", filename="error.log"):
    return client.post(f"/api/v1/cases/{case_id}/attachments", headers=headers,
                       data={"kind": kind, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def complete_checklist(client, headers, case_id) -> None:
    """Answer every item that applies to the case, uploading a log for the evidence items."""
    checklist = client.get(f"/api/v1/cases/{case_id}/checklist", headers=headers).json
    for item in checklist["items"]:
        if not item["required"] or item["met"]:
            continue
        if item["kind"] == "triage_ruling":
            # Uploaded logs change what triage suggests: read the suggestions afresh.
            fresh = client.get(f"/api/v1/cases/{case_id}/checklist", headers=headers).json
            suggested = next(i for i in fresh["items"] if i["code"] == item["code"])["suggestions"]
            body = {"value": {"rulings": [{"anomaly_id": anomaly, "ruling": "not_relevant"}
                                          for anomaly in suggested]} if suggested else True}
        elif item["kind"] == "attestation":
            body = {"value": True}
        elif item["kind"] == "text":
            body = {"value": TEXT_ANSWERS[item["code"]]}
        elif item["kind"] == "choice":
            body = {"value": item["options"][0]}
        else:
            kind = item["attachment_kinds"][0]
            uploaded = upload(client, headers, case_id, kind=kind, filename=f"{kind}.bin")
            assert uploaded.status_code == 201, uploaded.json
            body = {"value": {"attachment_ids": [uploaded.json["id"]]}}
        answer = client.put(f"/api/v1/cases/{case_id}/checklist/{item['code']}", json=body, headers=headers)
        assert answer.status_code == 200, (item["code"], answer.json)
    after = client.get(f"/api/v1/cases/{case_id}/checklist", headers=headers).json
    assert after["complete"], [i for i in after["items"] if i["required"] and not i["met"]]
