"""Routing rules and SLA targets, read from data files at start-up and validated there."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

SEVERITIES = ("S1", "S2", "S3", "S4")
HERE = Path(__file__).resolve().parent
DEFAULT_ROUTING_FILE = HERE / "routing.yaml"
DEFAULT_SLA_FILE = HERE / "sla.yaml"


class PolicyFileError(Exception):
    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class RoutingRule:
    queue: str
    product_families: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    utc_hours: tuple[int, int] | None = None

    def matches(self, product_family: str, severity: str, region: str | None, at: datetime) -> bool:
        if self.product_families is not None and product_family not in self.product_families:
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


@dataclass(frozen=True)
class SLATargets:
    initial_response: dict[str, timedelta]
    update_cadence: dict[str, timedelta]


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyFileError(path, f"cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyFileError(path, "must hold a mapping")
    return data


def _strings(path: Path, index: int, raw: dict, key: str) -> tuple[str, ...] | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise PolicyFileError(path, f"rule {index + 1}: {key} must be a non-empty list of strings")
    return tuple(value)


def load_routing(path: Path = DEFAULT_ROUTING_FILE) -> Routing:
    data = _load_yaml(path)
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


def load_sla(path: Path = DEFAULT_SLA_FILE) -> SLATargets:
    data = _load_yaml(path)
    targets = data.get("targets")
    if not isinstance(targets, dict) or set(targets) != set(SEVERITIES):
        raise PolicyFileError(path, "targets must give S1, S2, S3 and S4")
    initial, cadence = {}, {}
    for severity, target in targets.items():
        try:
            initial[severity] = timedelta(minutes=int(target["initial_response_minutes"]))
            cadence[severity] = timedelta(minutes=int(target["update_cadence_minutes"]))
        except (KeyError, TypeError, ValueError):
            raise PolicyFileError(path, f"{severity}: needs initial_response_minutes and "
                                        "update_cadence_minutes as whole numbers") from None
        if initial[severity] <= timedelta(0) or cadence[severity] <= timedelta(0):
            raise PolicyFileError(path, f"{severity}: targets must be positive")
    return SLATargets(initial, cadence)
