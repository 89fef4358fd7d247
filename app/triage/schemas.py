"""API shape of GET /api/v1/cases/{id}/triage."""
import marshmallow as ma
from marshmallow import fields, validate

from app.cases.models import CaseStatus


class RulingSchema(ma.Schema):
    ruling = fields.Function(lambda r: r.ruling.value)
    ruled_by = fields.Function(lambda r: {"id": r.ruled_by.id, "name": r.ruled_by.name})
    ruled_at = fields.DateTime()


class AnomalySuggestionSchema(ma.Schema):
    anomaly_id = fields.Function(lambda item: item["anomaly"].code)
    title = fields.Function(lambda item: item["anomaly"].title)
    description = fields.Function(lambda item: item["anomaly"].description)
    severity = fields.Function(lambda item: item["anomaly"].severity.value if item["anomaly"].severity else None)
    score = fields.Function(lambda item: item["suggestion"].score)
    text_score = fields.Function(lambda item: item["suggestion"].text_score)
    log_score = fields.Function(lambda item: item["suggestion"].log_score)
    confidence = fields.Function(lambda item: item["suggestion"].confidence, metadata={
        "description": "how likely this is the right anomaly (0 to 1), calibrated on labelled cases"})
    finding = fields.Function(lambda item: item["suggestion"].finding, metadata={
        "description": "confident enough to need a ruling for checklist item 5; otherwise a weaker match"})
    above_threshold = fields.Function(lambda item: item["suggestion"].finding,
                                      metadata={"description": "the same as finding (kept for older clients)"})
    matched_terms = fields.Function(lambda item: item["suggestion"].matched_terms,
                                    metadata={"description": "words of the case and its logs the anomaly shares"})
    log_evidence = fields.Function(lambda item: item["suggestion"].log_evidence,
                                   metadata={"description": "log lines that match, as written, most telling first"})
    signature_kinds = fields.Function(lambda item: item["suggestion"].signature_kinds, metadata={
        "description": "crash or fault kinds (segfault, out_of_memory...) both the logs and the anomaly show"})
    affected = fields.Function(lambda item: item["anomaly"].affected)
    fixed_in = fields.Function(lambda item: item["anomaly"].fixed_in)
    first_fixed_in = fields.Function(lambda item: item["suggestion"].first_fix,
                                     metadata={"description": "the first release that fixes it for this case"})
    workaround = fields.Function(lambda item: item["anomaly"].workaround)
    ruling = fields.Function(lambda item: RulingSchema().dump(item["ruling"]) if item["ruling"] else None)


class DuplicateSchema(ma.Schema):
    case_id = fields.Function(lambda d: d.case.id)
    title = fields.Function(lambda d: d.case.title)
    status = fields.Function(lambda d: d.case.status.value)
    serial_number = fields.Function(lambda d: d.case.serial_number)
    partner = fields.Function(lambda d: {"id": d.case.partner_id, "name": d.case.partner.name})
    escalated = fields.Function(lambda d: d.case.escalated_at is not None)
    reasons = fields.List(fields.String())
    similarity = fields.Float()


class FlagSchema(ma.Schema):
    code = fields.String()
    message = fields.String()


class AdviceSchema(ma.Schema):
    anomaly_id = fields.String()
    title = fields.String()
    fixed_in = fields.String(allow_none=True)
    workaround = fields.String(allow_none=True)
    message = fields.String()


def _log_summary(report):
    findings = report.log_findings
    return {
        "scanned_logs": len(findings),
        "software_versions": sorted({f.software_version for f in findings if f.software_version}),
        "crash_signatures": sum(len(f.crash_signatures) for f in findings),
        "error_lines": sum(len(f.error_lines) for f in findings),
        "other_lines": sum(len(f.other_lines) for f in findings),
        "formats": sorted({name for f in findings for name in f.formats}),
        "fault_kinds": sorted({kind for f in findings for kind in f.fault_kinds}),
    }


class AppliedFixSchema(ma.Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    anomaly_id = fields.Function(lambda f: f.anomaly.code)
    title = fields.Function(lambda f: f.anomaly.title)
    action = fields.Function(lambda f: f.action.value, metadata={"description": "upgrade or workaround"})
    target_release = fields.String(allow_none=True,
                                   metadata={"description": "the first release that fixes it, for an upgrade"})
    note = fields.String(allow_none=True)
    resolved_by = fields.Function(lambda f: {"id": f.resolved_by.id, "name": f.resolved_by.name})
    resolved_at = fields.DateTime()
    reopened_at = fields.DateTime(allow_none=True)
    reopen_reason = fields.String(allow_none=True)


class ResolutionInSchema(ma.Schema):
    anomaly_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                               metadata={"description": "an anomaly ruled 'matches' on the case"})
    note = fields.String(validate=validate.Length(max=5000), allow_none=True,
                         metadata={"description": "added to the message that tells the customer what to do"})


class ResolutionSchema(ma.Schema):
    id = fields.Function(lambda f: f.case_id, metadata={"description": "the case id"})
    status = fields.Function(lambda f: "resolved")
    applied_fix = fields.Function(lambda f: AppliedFixSchema().dump(f))


class ReopeningInSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000),
                           metadata={"description": "why the fix did not help"})


class ReopenedCaseSchema(ma.Schema):
    id = fields.Integer()
    status = fields.Enum(CaseStatus, by_value=True)


class TriageSchema(ma.Schema):
    case_id = fields.Function(lambda r: r.case.id)
    product_family = fields.Function(lambda r: r.case.product.family)
    software_version = fields.Function(lambda r: r.case.software_version)
    threshold = fields.Float(metadata={"description": "the confidence from which a suggestion is a finding"})
    anomalies = fields.List(fields.Nested(AnomalySuggestionSchema))
    rulings = fields.Function(lambda r: {"needed": r.needs_ruling, "complete": r.rulings_complete,
                                         "reason": r.rulings_reason})
    advice = fields.List(fields.Nested(AdviceSchema))
    resolvable_without_escalation = fields.Function(lambda r: any(a.fixed_in or a.workaround for a in r.advice))
    applied_fixes = fields.List(fields.Nested(AppliedFixSchema))
    duplicates = fields.List(fields.Nested(DuplicateSchema))
    severity_flags = fields.List(fields.Nested(FlagSchema))
    log_findings = fields.Function(_log_summary)
