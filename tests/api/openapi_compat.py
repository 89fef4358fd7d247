"""Which differences between two OpenAPI documents break a client generated from the older one.

A client breaks when something it calls or reads goes away: an operation, its
name (the generated function's), a query parameter, a schema, a field, an enum
value; or when a request must now carry a field that it did not have to.
Additions break nothing.
"""
from __future__ import annotations

METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict) -> dict[tuple[str, str], dict]:
    return {(method, path): operation for path, item in document.get("paths", {}).items()
            for method, operation in item.items() if method in METHODS}


def breaking_changes(old: dict, new: dict) -> list[str]:
    """What `new` takes away from clients of `old`, one line each (empty: nothing)."""
    changes: list[str] = []
    new_operations = operations(new)
    for (method, path), before in operations(old).items():
        where = f"{method.upper()} {path}"
        after = new_operations.get((method, path))
        if after is None:
            changes.append(f"operation removed: {where} ({before.get('operationId')})")
            continue
        if before.get("operationId") != after.get("operationId"):
            changes.append(f"operation renamed: {where} {before.get('operationId')} -> {after.get('operationId')}")
        kept = {(p.get("in"), p.get("name")) for p in after.get("parameters", [])}
        for parameter in before.get("parameters", []):
            if (parameter.get("in"), parameter.get("name")) not in kept:
                changes.append(f"parameter removed: {where} {parameter.get('in')} {parameter.get('name')}")

    new_schemas = new.get("components", {}).get("schemas", {})
    for name, before in old.get("components", {}).get("schemas", {}).items():
        after = new_schemas.get(name)
        if after is None:
            changes.append(f"schema removed or renamed: {name}")
            continue
        for field in before.get("properties", {}):
            if field not in after.get("properties", {}):
                changes.append(f"field removed or renamed: {name}.{field}")
        for field in sorted(set(after.get("required", [])) - set(before.get("required", []))):
            changes.append(f"field now required: {name}.{field}")
        for value in before.get("enum", []):
            if value not in after.get("enum", []):
                changes.append(f"enum value removed: {name} {value!r}")
    return changes
