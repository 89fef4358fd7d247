"""Routing rules: which GTAC queue an escalated case goes to, read from a data file at start-up."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.policy_files import SEVERITIES, PolicyFileError, load_yaml

DEFAULT_ROUTING_FILE = Path(__file__).resolve().parent / "routing.yaml"


@dataclass(frozen=True)
class RoutingRule:
    queue: str
    product_families: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    utc_hours: tuple[int, int] | None = None

    def matches(self, product_family: str, severity: str, region: str | None, at: datetime) -> bool:
        # Families keep their vendor spelling; a rule names one in any case.
        if (self.product_families is not None
                and product_family.casefold() not in {f.casefold() for f in self.product_families}):
            return False
        if self.severities is not None and severity not in self.severities:
            return False
        if self.regions is not None and region not in self.regions:
            return False
        if self.utc_hours is not None:
            start, end = self.utc_hours
            hour = at.hour
            inside = start <= hour < end if start < end else (hour >= start or hour < end)
            if not inside:
                return False
        return True


@dataclass(frozen=True)
class Routing:
    rules: tuple[RoutingRule, ...]

    def queue_for(self, product_family: str, severity: str, region: str | None, at: datetime) -> str:
        for rule in self.rules:
            if rule.matches(product_family, severity, region, at):
                return rule.queue
        raise AssertionError("the last routing rule matches everything")  # checked at load


def _strings(path: Path, index: int, raw: dict, key: str) -> tuple[str, ...] | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise PolicyFileError(path, f"rule {index + 1}: {key} must be a non-empty list of strings")
    return tuple(value)


def load_routing(path: Path = DEFAULT_ROUTING_FILE) -> Routing:
    data = load_yaml(path)
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PolicyFileError(path, "rules must be a non-empty list")
    rules = []
    allowed = {"queue", "product_families", "severities", "regions", "utc_hours"}
    for index, raw in enumerate(raw_rules):
        if not isinstance(raw, dict) or not isinstance(raw.get("queue"), str) or not raw["queue"]:
            raise PolicyFileError(path, f"rule {index + 1}: needs a queue name")
        if set(raw) - allowed:
            raise PolicyFileError(path, f"rule {index + 1}: unknown keys {sorted(set(raw) - allowed)}")
        hours = raw.get("utc_hours")
        if hours is not None and not (isinstance(hours, list) and len(hours) == 2
                                      and all(isinstance(h, int) and 0 <= h <= 24 for h in hours)
                                      and hours[0] != hours[1]):
            raise PolicyFileError(path, f"rule {index + 1}: utc_hours must be [from, to] hours 0-24")
        severities = _strings(path, index, raw, "severities")
        if severities and set(severities) - set(SEVERITIES):
            raise PolicyFileError(path, f"rule {index + 1}: unknown severities")
        rules.append(RoutingRule(raw["queue"], _strings(path, index, raw, "product_families"), severities,
                                 _strings(path, index, raw, "regions"), tuple(hours) if hours else None))
    if set(raw_rules[-1]) != {"queue"}:
        raise PolicyFileError(path, "the last rule must name only a queue, so that every SR has one")
    return Routing(tuple(rules))
