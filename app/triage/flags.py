"""Severity sanity: does what the case says match the severity it was opened with?"""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.cases.models import Case, Severity
from app.triage.logscan import Findings
from app.triage.versions import VersionError, parse_version

# Statements of an S1 (SPEC §6: network down / critical business impact).
OUTAGE = re.compile(
    r"(?i)\b(?:(?:network|site|service|services|link|links|switch|stack|core|everything|production|"
    r"campus|internet|wan|lan|fabric|wifi|wireless)\s+(?:is\s+|are\s+|went\s+|goes\s+)?(?:down|dead|offline)"
    r"|outage|critical|business impact|no traffic|not forwarding|nothing works|completely down"
    r"|(?:all|no)\s+(?:users|clients|sites|traffic)|unreachable|total loss|hard down)\b")


@dataclass(frozen=True)
class SeverityFlag:
    code: str
    message: str


def severity_flags(case: Case, findings: list[Findings]) -> list[SeverityFlag]:
    """Flags for the engineer: an S1 with no outage statement, a low severity that states one, a log of another version."""
    text = f"{case.title}\n{case.description}"
    flags = []
    states_outage = bool(OUTAGE.search(text))
    if case.severity is Severity.S1 and not states_outage:
        flags.append(SeverityFlag(
            "s1_without_outage_statement",
            "S1 means network down or critical business impact, but the case does not say so."))
    if case.severity in (Severity.S3, Severity.S4) and states_outage:
        flags.append(SeverityFlag(
            "outage_statement_with_low_severity",
            f"The case describes an outage or critical impact but is {case.severity.value}."))
    seen = {f.software_version for f in findings if f.software_version}
    try:
        declared = parse_version(case.software_version)
        other = sorted(v for v in seen if _differs(v, declared))
    except VersionError:
        other = []
    if other:
        flags.append(SeverityFlag(
            "log_version_differs",
            f"The logs show software version {', '.join(other)}, the case says {case.software_version}."))
    return flags


def _differs(seen: str, declared) -> bool:
    try:
        return parse_version(seen) != declared
    except VersionError:
        return False

