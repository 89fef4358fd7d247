"""The soak's clients: every role at work on the API at once, each request's step, status and time recorded.

Each client thread plays one role for the whole run and picks its next action at random from
its role's weights (seeded per thread, so a run repeats its mix). Actions that make an SR event
(an escalation, a GTAC move) are paced by the whole run, not per thread, so that the trickling
webhook receiver meets a steady stream of deliveries rather than a flood proportional to speed.

Opening cases is paced to what a large support desk sees, not to how fast the machine answers.
Unpaced, 16 clients opened some 15,000 cases in 30 minutes (8 a second), each one e-mailed to the
partner: no desk works like that. The reference is a desk taking 5,000 cases a day, about 3.5 a
minute on average and some 10 a minute in its peak hour. So every engineer client thinks between
its actions (`engineer_think_s`, 9 s on average, drawn from an exponential distribution, coming
back on a new connection as a browser would), and the customers open a case only when the run's
customer pace allows (`customer_open_every_s`, one every 20 s over the three of them; they read
instead otherwise, so their pressure on the reads is kept). Three 3-minute runs opened 37 to 53
cases, 12 to 18 a minute, 10 to 16 of them on their way to an escalation: a peak hour of such a
desk, held for the whole run. Every other role works without pause.
"""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from base64 import b64encode
from collections import Counter
from dataclasses import dataclass, field

from bench.escalation_flow import ANSWERS, CASE, LOG, multipart

PASSWORD = "demo-password"
ACCOUNTS = {
    "engineer": "engineer@northwind.example",
    "customer": "customer@acme.example",
    "gtac": "gtac@vendor.example",
    "manager": "manager@vendor.example",
    "programs": "programs@vendor.example",
    "partner_admin": "admin@northwind.example",
    "other_tenant": "engineer@contoso.example",
}
# 16 clients: who does what at once.
CLIENTS = (["engineer"] * 5 + ["customer"] * 3 + ["gtac"] * 3 + ["manager"]
           + ["programs"] * 2 + ["partner_admin"] + ["other_tenant"])
# Answers a client may legitimately get besides success: another GTAC engineer moved the SR first,
# another programs client approved the claim first.
EXPECTED_REFUSALS = {"gtac_move": {409}, "approve_claim": {409}}


def issue_tokens(port: int) -> dict[str, str]:
    tokens = {}
    for role, email in ACCOUNTS.items():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        basic = b64encode(f"{email}:{PASSWORD}".encode()).decode()
        connection.request("POST", "/api/v1/tokens", headers={"Authorization": f"Basic {basic}"})
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 201:
            raise SystemExit(f"no token for {email}: {answer.status} {body[:200]!r}")
        tokens[role] = json.loads(body)["token"]
    return tokens


@dataclass
class Record:
    """Everything the clients saw, shared by all threads."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter] = field(default_factory=dict)
    server_errors: list[dict] = field(default_factory=list)  # every 5xx, with when and what
    unexpected: list[dict] = field(default_factory=list)  # other refusals, the first 50
    connection_errors: list[dict] = field(default_factory=list)
    idempotent_replays: Counter = field(default_factory=Counter)  # same key again: same SR or not
    tenancy: Counter = field(default_factory=Counter)  # another tenant's case: 404 or not
    escalations: int = 0

    def add(self, step: str, status: int, ms: float, method: str, path: str, at: float, body: bytes):
        with self.lock:
            self.latencies.setdefault(step, []).append(ms)
            self.statuses.setdefault(step, Counter())[status] += 1
            if status >= 500:
                self.server_errors.append({"at_s": round(at, 1), "step": step, "status": status,
                                           "request": f"{method} {path}", "body": body[:300].decode("utf-8", "replace")})
            elif status >= 400 and status not in EXPECTED_REFUSALS.get(step, ()) and len(self.unexpected) < 50:
                self.unexpected.append({"at_s": round(at, 1), "step": step, "status": status,
                                        "request": f"{method} {path}", "body": body[:300].decode("utf-8", "replace")})


class Pace:
    """At most one go every `every_s` seconds over all threads."""

    def __init__(self, every_s: float):
        self.every_s, self.next_at, self.lock = every_s, 0.0, threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            if now < self.next_at:
                return False
            self.next_at = now + self.every_s
            return True


class Client:
    """One keep-alive connection (reopened after any failure) for one role's thread."""

    def __init__(self, port: int, token: str, record: Record, began: float):
        self.port, self.record, self.began = port, record, began
        self.headers = {"Authorization": f"Bearer {token}"}
        self.connection: http.client.HTTPConnection | None = None

    def call(self, step: str, method: str, path: str, body: bytes | None = None,
             content_type: str = "application/json", extra: dict | None = None) -> tuple[int, object]:
        headers = {**self.headers, **(extra or {})}
        if body is not None:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.connection = None
            with self.record.lock:
                self.record.connection_errors.append({"at_s": round(started - self.began, 1), "step": step,
                                                      "request": f"{method} {path}", "error": repr(exc)[:300]})
            return 0, None
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        elapsed = (time.perf_counter() - started) * 1000
        self.record.add(step, response.status, elapsed, method, path, started - self.began, data)
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def json(self, step: str, method: str, path: str, payload, extra: dict | None = None):
        return self.call(step, method, path, json.dumps(payload).encode(), extra=extra)


class Shared:
    """What the roles hand each other: open cases, SRs to work, the webhook to watch."""

    def __init__(self, escalate_every_s: float, move_every_s: float, engineer_think_s: float = 9.0,
                 customer_open_every_s: float = 20.0):
        self.lock = threading.Lock()
        self.engineer_think_s = engineer_think_s
        self.customer_open_pace = Pace(customer_open_every_s)
        self.open_cases: list[int] = []
        self.other_tenant_probe: int | None = None  # a Northwind case the other tenant must not see
        self.webhook_id: int | None = None
        self.escalation_pace = Pace(escalate_every_s)
        self.move_pace = Pace(move_every_s)

    def add_case(self, case_id: int) -> None:
        with self.lock:
            self.open_cases.append(case_id)
            self.other_tenant_probe = case_id
            del self.open_cases[:-200]  # the newest 200 are enough to work on

    def take_case(self) -> int | None:
        with self.lock:
            return self.open_cases.pop(random.randrange(len(self.open_cases))) if self.open_cases else None

    def some_case(self) -> int | None:
        with self.lock:
            return random.choice(self.open_cases) if self.open_cases else None


def open_case(client: Client, shared: Shared, rng: random.Random) -> None:
    case = {**CASE, "serial_number": f"ACME-{rng.randint(1, 10):04d}", "title": f"Soak case {uuid.uuid4().hex[:8]}"}
    status, answer = client.json("open_case", "POST", "/api/v1/cases", case)
    if status == 201:
        client.call("get_case", "GET", f"/api/v1/cases/{answer['id']}")
        shared.add_case(answer["id"])


def update_case(client: Client, shared: Shared, rng: random.Random) -> None:
    case_id = shared.some_case()
    if case_id is None:
        return open_case(client, shared, rng)
    base = f"/api/v1/cases/{case_id}"
    if rng.random() < 0.5:
        client.json("post_message", "POST", base + "/messages",
                    {"channel": rng.choice(["internal", "customer"]), "body": "Collected the port counters."})
    else:
        code = rng.choice(["customer_informed", "problem_isolation", "specifications_checked"])
        client.json("checklist_put", "PUT", f"{base}/checklist/{code}", ANSWERS[code])


def escalate(client: Client, shared: Shared, record: Record) -> None:
    """A case from open to SR (as bench.escalation_flow), the escalation sent twice under one key."""
    status, case = client.json("open_case", "POST", "/api/v1/cases", CASE)
    if status != 201:
        return
    base = f"/api/v1/cases/{case['id']}"
    body, content_type = multipart("error_log", "error.log", LOG)
    status, attachment = client.call("upload_log", "POST", base + "/attachments", body, content_type)
    if status != 201:
        return
    status, checklist = client.call("checklist_get", "GET", base + "/checklist")
    if status != 200:
        return
    suggested = next(i["suggestions"] for i in checklist["items"] if i["code"] == "release_notes_reviewed")
    answers = {**ANSWERS, "logs_gathered": {"value": {"attachment_ids": [attachment["id"]]}},
               "release_notes_reviewed": _rulings(suggested) if suggested else {"value": True}}
    for code, answer in answers.items():
        status, result = client.json("checklist_put", "PUT", f"{base}/checklist/{code}", answer)
        if status == 422 and result["error"]["code"] == "rulings_required":
            # The log's scan finished after the checklist was read and added suggestions.
            status, checklist = client.call("checklist_get", "GET", base + "/checklist")
            suggested = next(i["suggestions"] for i in checklist["items"] if i["code"] == code)
            status, result = client.json("checklist_put", "PUT", f"{base}/checklist/{code}", _rulings(suggested))
        if status != 200:
            return
    key = {"Idempotency-Key": uuid.uuid4().hex}
    status, sr = client.json("escalate", "POST", base + "/escalation", {}, extra=key)
    if status != 201:
        return
    with record.lock:
        record.escalations += 1
    # A client that lost the answer sends the same request again: the same SR, never a second.
    again_status, again = client.json("escalate_replay", "POST", base + "/escalation", {}, extra=key)
    same = again_status in (200, 201) and again and again.get("sr_number") == sr["sr_number"]
    with record.lock:
        record.idempotent_replays["same_sr" if same else "different_or_refused"] += 1


def _rulings(anomaly_ids) -> dict:
    return {"value": {"rulings": [{"anomaly_id": a, "ruling": "not_relevant"} for a in anomaly_ids]}}


def engineer(client: Client, shared: Shared, record: Record, rng: random.Random) -> None:
    if shared.escalation_pace.take():
        return escalate(client, shared, record)
    roll = rng.random()
    if roll < 0.3:
        open_case(client, shared, rng)
    elif roll < 0.7:
        update_case(client, shared, rng)
    else:
        client.call("list_cases", "GET", "/api/v1/cases?status=open&limit=25")


def customer(client: Client, shared: Shared, record: Record, rng: random.Random) -> None:
    roll = rng.random()
    if roll < 0.05 and shared.customer_open_pace.take():
        return open_case(client, shared, rng)
    status, page = client.call("list_cases", "GET", "/api/v1/cases?limit=25")
    if status == 200 and page["items"]:
        case_id = rng.choice(page["items"])["id"]
        client.call("get_case", "GET", f"/api/v1/cases/{case_id}")
        if roll < 0.5:
            client.call("list_messages", "GET", f"/api/v1/cases/{case_id}/messages")


NEXT_MOVE = {"new": {"to": "assigned"}, "assigned": {"to": "in_progress"},
             "in_progress": {"to": "solution_provided", "note": "Workaround given.",
                             "solution": {"kind": "workaround", "content": "Disable IGMP snooping fast-leave."}},
             "solution_provided": {"to": "closed"}}


def gtac(client: Client, shared: Shared, record: Record, rng: random.Random) -> None:
    move = shared.move_pace.take()
    status = rng.choice(["new", "assigned", "in_progress", "solution_provided"]) if move else None
    query = f"?status={status}&limit=25" if status else "?limit=25"
    answer_status, page = client.call("list_srs", "GET", "/api/v1/srs" + query)
    if answer_status != 200 or not page["items"]:
        return
    sr = rng.choice(page["items"])
    client.call("get_sr", "GET", f"/api/v1/srs/{sr['sr_number']}")
    if move:
        client.json("gtac_move", "POST", f"/api/v1/srs/{sr['sr_number']}/transitions", NEXT_MOVE[sr["status"]])


def manager(client: Client, shared: Shared, record: Record, rng: random.Random) -> None:
    status, page = client.call("list_srs", "GET", "/api/v1/srs?breached=true&limit=25")
    if status == 200 and page["items"]:
        client.call("sr_history", "GET", f"/api/v1/srs/{rng.choice(page['items'])['sr_number']}/history")


def programs(client: Client, shared: Shared, record: Record, rng: random.Random) -> None:
    status, page = client.call("list_claims", "GET", "/api/v1/claims?status=submitted&limit=25")
    if status == 200 and page["items"]:
        client.call("approve_claim", "POST", f"/api/v1/claims/{rng.choice(page['items'])['id']}/approve")
    elif rng.random() < 0.5:
        client.call("ledger_balances", "GET", "/api/v1/ledger/balances")
    else:
        client.call("list_payouts", "GET", "/api/v1/payouts?limit=25")
        time.sleep(0.05)  # nothing to approve: do not spin


def partner_admin(client: Client, shared: Shared, record: Record, rng: random.Random) -> None:
    roll = rng.random()
    if roll < 0.5:
        status, claim = client.json("create_claim", "POST", "/api/v1/claims",
                                    {"type": "rebate", "amount": rng.randint(1000, 90000), "currency": "USD",
                                     "period": "2026-Q3", "description": "Soak rebate claim"})
        if status == 201:
            client.call("submit_claim", "POST", f"/api/v1/claims/{claim['id']}/submit")
    elif roll < 0.7:
        client.call("list_users", "GET", "/api/v1/users?limit=25")
    elif roll < 0.85 and shared.webhook_id:
        client.call("webhook_deliveries", "GET", f"/api/v1/webhooks/{shared.webhook_id}/deliveries")
    else:
        client.call("list_claims", "GET", "/api/v1/claims?limit=25")


def other_tenant(client: Client, shared: Shared, record: Record, rng: random.Random) -> None:
    """Contoso's engineer reads its own lists and tries a Northwind case: it must get a 404."""
    if rng.random() < 0.5:
        client.call("list_cases", "GET", "/api/v1/cases?limit=25")
    else:
        client.call("list_srs", "GET", "/api/v1/srs?limit=25")
    probe = shared.other_tenant_probe
    if probe is not None and rng.random() < 0.2:
        status, _ = client.call("other_tenants_case", "GET", f"/api/v1/cases/{probe}")
        with record.lock:
            record.tenancy["404" if status == 404 else f"answered {status}"] += 1


ROLES = {"engineer": engineer, "customer": customer, "gtac": gtac, "manager": manager, "programs": programs,
         "partner_admin": partner_admin, "other_tenant": other_tenant}
# Steps whose refusals the record does not flag: the other tenant's probe must be refused.
EXPECTED_REFUSALS["other_tenants_case"] = {404}


def run_clients(port: int, tokens: dict[str, str], shared: Shared, record: Record, until: float,
                began: float, seed: int = 12) -> list[threading.Thread]:
    """Start one thread per entry of CLIENTS, each working until the monotonic time `until`."""
    def work(n: int, role: str):
        rng = random.Random(seed * 1000 + n)
        client = Client(port, tokens[role], record, began)
        act = ROLES[role]
        while time.monotonic() < until:
            try:
                act(client, shared, record, rng)
            except (KeyError, TypeError, StopIteration, ValueError) as exc:
                # An answer without what the next step needs (already recorded with its status).
                with record.lock:
                    record.connection_errors.append({"at_s": round(time.monotonic() - began, 1), "step": role,
                                                     "request": "-", "error": f"unusable answer: {exc!r}"[:300]})
            if role == "engineer" and shared.engineer_think_s > 0:
                # The server closes a keep-alive connection idle for more than a few seconds (gunicorn's
                # keepalive): a client that pauses comes back on a new one, as a browser does.
                client.close()
                time.sleep(max(0.0, min(rng.expovariate(1 / shared.engineer_think_s), until - time.monotonic())))

    threads = [threading.Thread(target=work, args=(n, role), name=f"soak-{role}-{n}", daemon=True)
               for n, role in enumerate(CLIENTS)]
    for thread in threads:
        thread.start()
    return threads
