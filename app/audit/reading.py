"""The audit trail as people read it: one sentence per event, human labels, formatted values.

The stored events keep machine values (codes, ids, JSON) for integrations and
investigations; pages show these lines instead. Only what changed is listed: a
field whose value stayed the same is left out of an event's changes.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.accounts.models import Person, User
from app.attachments.forms import human_size
from app.audit.models import AuditEvent
from app.extensions import db
from app.uow import active

NOTHING = "none"
# What each stored field is called on a page.
LABELS = {
    "status": "Status", "severity": "Severity", "title": "Title", "software_version": "Software version",
    "serial_number": "Serial number", "hardware_issue": "Hardware issue", "crash_reported": "Crash reported",
    "checklist_name": "Checklist", "checklist_version": "Checklist version", "checklist": "Checklist",
    "version": "Version", "item": "Checklist item", "value": "Answer", "not_applicable": "Does not apply",
    "reason": "Reason", "anomaly_id": "Known anomaly", "ruling": "Ruling", "sr_number": "SR number",
    "queue": "GTAC queue", "channel": "Thread", "message_id": "Message", "attachment_id": "File number",
    "filename": "File", "kind": "Kind", "size": "Size", "sha256": "SHA-256", "visibility": "Seen by",
    "action": "Fix", "target_release": "Target release", "assignee_id": "Engineer",
    "management_level": "Management escalation level", "sla_due_at": "SLA due",
}
# Stored codes and the words pages use for them.
WORDS = {
    "in_progress": "in progress", "awaiting_partner": "awaiting the partner", "solution_provided": "solution provided",
    "matches": "matches this case", "not_relevant": "not relevant", "gtac": "GTAC thread",
    "customer": "customer thread", "internal": "internal notes", "case": "everyone on the case",
    "thread": "the partner and GTAC", "upgrade": "upgrade", "workaround": "workaround",
    "error_log": "error log", "core_file": "core file", "support_bundle": "support bundle",
}
# Fields that say which thing an event is about, not a change of it.
NAMING_FIELDS = ("item", "anomaly_id", "message_id", "attachment_id", "sha256")


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the field had no earlier value in this event
    after: str


@dataclass(frozen=True)
class AuditLine:
    """One event as a page shows it. `action` is the sentence; `before`/`after` map labels to
    formatted values of the fields that changed (for templates that list them)."""

    at: datetime
    actor: User | Person | None
    action: str
    changes: list[Change] = field(default_factory=list)

    @property
    def before(self) -> dict[str, str]:
        return {c.label: c.before for c in self.changes if c.before is not None}

    @property
    def after(self) -> dict[str, str]:
        return {c.label: c.after for c in self.changes}


@dataclass(frozen=True)
class _Event:
    at: datetime
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor: Person | None


# trail()'s events as plain columns with their actor's name: a page only shows them.
_TRAIL = (sa.select(AuditEvent.at, AuditEvent.action, AuditEvent.before, AuditEvent.after, User.name)
          .outerjoin(User, User.id == AuditEvent.actor_id)
          .where(AuditEvent.entity_type == sa.bindparam("entity_type"),
                 AuditEvent.entity_id == sa.bindparam("entity_id"))
          .order_by(AuditEvent.id))


def readable_trail(entity_type: str, entity_id, names: Mapping[str, str] | None = None) -> list[AuditLine]:
    """The entity's trail, oldest first, as sentences. `names` gives the human name of codes the
    events carry (a checklist item's title by its code). Callers check visibility first."""
    uow = active()
    if uow is not None:  # this unit's own events too, as trail() reads them
        uow.write_records()
    rows = db.session.execute(_TRAIL, {"entity_type": entity_type, "entity_id": str(entity_id)})
    return [describe(_Event(at, action, before, after, Person(name) if name is not None else None), names or {})
            for at, action, before, after, name in rows]


def describe(event: AuditEvent | _Event, names: Mapping[str, str]) -> AuditLine:
    before, after = event.before or {}, event.after or {}
    who = event.actor.name if event.actor else "GTAC Triage"
    wording = _SENTENCES.get(event.action)
    # An event no sentence is written for yet still reads as words, not as its code.
    sentence = (wording(before, after, names) if wording
                else "recorded: " + event.action.rpartition(".")[2].replace("_", " ") + ".")
    return AuditLine(event.at, event.actor, f"{who} {sentence}", _changes(before, after, names))


def value_text(value: Any, key: str = "", names: Mapping[str, str] | None = None) -> str:
    """One stored value as words: never a Python repr."""
    names = names or {}
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "size" and isinstance(value, int):
        return human_size(value)
    if key == "item" and isinstance(value, str):
        return names.get(value, value.replace("_", " "))
    if isinstance(value, Mapping):
        if "rulings" in value:
            return "; ".join(f"{r.get('anomaly_id')} {WORDS.get(r.get('ruling'), r.get('ruling'))}"
                             for r in value["rulings"]) or "no known anomaly to rule on"
        if "attachment_ids" in value:
            count = len(value["attachment_ids"])
            return f"{count} file{'' if count == 1 else 's'} (" + ", ".join(
                f"#{i}" for i in value["attachment_ids"]) + ")"
        return "; ".join(f"{LABELS.get(k, k.replace('_', ' '))}: {value_text(v, k, names)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v, key, names) for v in value)
    if isinstance(value, str):
        return WORDS.get(value, value)
    return str(value)


def _changes(before: dict, after: dict, names: Mapping[str, str]) -> list[Change]:
    changes = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in NAMING_FIELDS:
            continue
        label = LABELS.get(key, key.replace("_", " ").capitalize())
        if key in before and key in after:
            if before[key] != after[key]:
                changes.append(Change(label, value_text(before[key], key, names), value_text(after[key], key, names)))
        elif key in after and after[key] not in (None, "", []):
            changes.append(Change(label, None, value_text(after[key], key, names)))
    return changes


def _text(values: dict, key: str, names: Mapping[str, str]) -> str:
    return value_text(values.get(key), key, names)


def _answered(before: dict, after: dict, names: Mapping[str, str]) -> str:
    item = f"“{_text(after, 'item', names)}”"
    if after.get("not_applicable"):
        return f"marked {item} as not applying: {_text(after, 'reason', names)}."
    verb = "changed the answer to" if before else "answered"
    answer = _text(after, "value", names)
    reason = f" ({_text(after, 'reason', names)})" if after.get("reason") else ""
    return f"{verb} {item}: {answer}{reason}."


_SENTENCES = {
    "case.opened": lambda b, a, n: f"opened the case at severity {_text(a, 'severity', n)} "
                                   f"on serial {_text(a, 'serial_number', n)}.",
    "case.severity_changed": lambda b, a, n: f"changed the severity from {_text(b, 'severity', n)} "
                                             f"to {_text(a, 'severity', n)}.",
    "case.escalated": lambda b, a, n: f"escalated the case to GTAC as {_text(a, 'sr_number', n)} "
                                      f"(queue {_text(a, 'queue', n)}).",
    "case.resolved_with_known_fix": lambda b, a, n: f"resolved the case with the known fix for "
                                                    f"{_text(a, 'anomaly_id', n)} ({_text(a, 'action', n)}).",
    "case.reopened": lambda b, a, n: f"reopened the case: {_text(a, 'reason', n)}.",
    "checklist.responded": _answered,
    "checklist.migrated": lambda b, a, n: f"moved the case to checklist version {_text(a, 'version', n)} "
                                          f"(was version {_text(b, 'version', n)}).",
    "message.posted": lambda b, a, n: f"wrote on the {_text(a, 'channel', n)}.",
    "attachment.added": lambda b, a, n: f"added the file {_text(a, 'filename', n)} "
                                        f"({_text(a, 'kind', n)}, {_text(a, 'size', n)}).",
    "triage.ruled": lambda b, a, n: (f"ruled that {_text(a, 'anomaly_id', n)} {_text(a, 'ruling', n)}"
                                     + (f" (was {_text(b, 'ruling', n)})." if b.get("ruling") else ".")),
}
