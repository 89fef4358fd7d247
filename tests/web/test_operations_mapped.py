"""Every operation of the API that a person performs has a page (tests/web/operations.py)."""
from __future__ import annotations

from tests.web.operations import MACHINE_ONLY, PAGES

METHODS = {"get", "post", "put", "patch", "delete"}


def api_operations(client) -> set[str]:
    document = client.get("/api/v1/openapi.json").get_json()
    return {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
            if method in METHODS}


def test_every_api_operation_has_a_page_or_is_marked_machine_only(client):
    unmapped = sorted(api_operations(client) - PAGES.keys())
    assert not unmapped, ("these API operations have no page: add one, or map them in tests/web/operations.py "
                          f"(to MACHINE_ONLY if only an integration does them): {unmapped}")


def test_the_mapping_names_only_operations_and_pages_that_exist(app, client):
    gone = sorted(PAGES.keys() - api_operations(client))
    assert not gone, f"tests/web/operations.py maps operations the API no longer has: {gone}"
    endpoints = set(app.view_functions)
    missing = sorted({page for page in PAGES.values() if page != MACHINE_ONLY} - endpoints)
    assert not missing, f"tests/web/operations.py names pages that do not exist: {missing}"
