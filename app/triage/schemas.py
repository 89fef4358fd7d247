"""API shape of GET /api/v1/cases/{id}/triage."""
import marshmallow as ma
from marshmallow import fields


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
    above_threshold = fields.Function(lambda item: item["suggestion"].above_threshold,
                                      metadata={"description": "a ruling is needed for checklist item 5"})
    matched_terms = fields.Function(lambda item: item["suggestion"].matched_terms)
    log_evidence = fields.Function(lambda item: item["suggestion"].log_evidence,
                                   metadata={"description": "log signatures and error lines that match"})
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
    }


class TriageSchema(ma.Schema):
    case_id = fields.Function(lambda r: r.case.id)
    product_family = fields.Function(lambda r: r.case.product.family)
    software_version = fields.Function(lambda r: r.case.software_version)
    threshold = fields.Float()
    anomalies = fields.List(fields.Nested(AnomalySuggestionSchema))
    rulings = fields.Function(lambda r: {"needed": r.needs_ruling, "complete": r.rulings_complete,
                                         "reason": r.rulings_reason})
    advice = fields.List(fields.Nested(AdviceSchema))
    resolvable_without_escalation = fields.Function(lambda r: any(a.fixed_in or a.workaround for a in r.advice))
    duplicates = fields.List(fields.Nested(DuplicateSchema))
    severity_flags = fields.List(fields.Nested(FlagSchema))
    log_findings = fields.Function(_log_summary)
