"""What the cases benchmark checks besides speed: each scenario's request, its SQL and plan,
and the verdict of every target against the measured figures."""
from __future__ import annotations

from bench import probe

TARGETS = {
    "list_p95_ms_max": 20.0,
    "create_rps_min_at_concurrency_8": 400.0,
}
PAGE_SIZE = 25
PROBE_CASE = {"serial_number": "ACME-0001", "software_version": "32.6.1.4", "severity": "S3",
              "title": "Probe case", "description": "Checks the request before the load."}


def _short(statement: str) -> str:
    return " ".join(statement.split())[:240]


def probe_requests(app, headers: dict, other_headers: dict, cursor: str) -> dict:
    """One request of each scenario through the application: status, queries, list plans.

    Refuses to go on (SystemExit) when a request does not answer as the scenario
    expects, so that wrk never measures error pages. The other partner's first
    page is probed too, not measured: its tenant filter is the selective one.
    """
    profiles = {
        "list_first_page": (probe.request_profile(app, "GET", "/api/v1/cases", headers), 200),
        "list_deep_page": (probe.request_profile(
            app, "GET", f"/api/v1/cases?cursor={cursor}", headers), 200),
        "list_first_page_other_partner": (probe.request_profile(
            app, "GET", "/api/v1/cases", other_headers), 200),
        # The pause lets the outbox's in-process drain run, so its statements are seen too.
        "create_case": (probe.request_profile(
            app, "POST", "/api/v1/cases", headers, PROBE_CASE, settle_s=1.0), 201),
    }
    found = {}
    for name, (profile, status) in profiles.items():
        if profile["status"] != status:
            raise SystemExit(f"{name}: expected {status}, got {profile['status']}: {profile['body']}")
        found[name] = {
            "queries_per_request": len(profile["statements"]),
            "statements": [_short(sql) for sql in profile["statements"]],
            "background_queries": len(profile["background_statements"]),
            "background_statements": [_short(sql) for sql in profile["background_statements"]],
        }
        if name.startswith("list_"):
            items = profile["body"].get("items", [])
            if len(items) != PAGE_SIZE or not profile["body"].get("next_cursor"):
                raise SystemExit(f"{name}: expected a full page and a next cursor, got {len(items)} items")
            found[name]["first_id"], found[name]["last_id"] = items[0]["id"], items[-1]["id"]
            found[name]["explain"] = probe.explain(app, *probe.list_statement(profile))
    return found


def probe_after_writes(app, other_headers: dict) -> dict:
    """The other partner's first page again, once the measured partner's new cases sit on top.

    The planner may walk the primary key backwards and filter by partner; then this
    page costs one row for every newer case of other tenants. Its plan is recorded
    so that such a regression shows in the results.
    """
    profile = probe.request_profile(app, "GET", "/api/v1/cases", other_headers)
    if profile["status"] != 200:
        raise SystemExit(f"other partner's list: expected 200, got {profile['status']}: {profile['body']}")
    return {"queries_per_request": len(profile["statements"]),
            "explain": probe.explain(app, *probe.list_statement(profile))}


def verdicts(results: list[dict]) -> dict:
    """Each target against the figures: met or not, for every measurement it applies to."""
    lists = [r for r in results if r["scenario"].startswith("list_")]
    creates = [r for r in results if r["scenario"] == "create_case" and r["concurrency"] == 8]
    return {
        "list_page_p95_under_20ms": [
            {"scenario": r["scenario"], "concurrency": r["concurrency"], "p95_ms": r["latency_ms"]["p95"],
             "met": r["latency_ms"]["p95"] < TARGETS["list_p95_ms_max"] and r["errors"] == 0}
            for r in lists],
        "create_at_least_400rps_at_concurrency_8": [
            {"throughput_rps": r["throughput_rps"],
             "met": r["throughput_rps"] >= TARGETS["create_rps_min_at_concurrency_8"] and r["errors"] == 0}
            for r in creates],
    }


def shared_machine_load(results: list[dict]) -> dict:
    """How much of the machine other people's processes took while we measured."""
    others = sorted(r["cpu"]["other_processes_cores"] for r in results)
    if not others:
        return {}
    return {"other_processes_cores_median": others[len(others) // 2],
            "other_processes_cores_max": others[-1],
            "note": "cores busy with processes that are neither gunicorn, PostgreSQL nor wrk; "
                    "figures measured while this is high understate what 2 idle cores can do"}
