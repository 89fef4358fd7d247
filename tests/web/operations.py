"""Where a person does each operation of the API on the web pages (SPEC: no API-only action for a person).

Every operation of the OpenAPI document is listed here, as "METHOD /path" -> the Flask endpoint of the
page (or the form's target) that does the same through the same service, or MACHINE_ONLY for what
only an integration does. tests/web/test_operations_mapped.py fails on an operation that is in
neither, and on a page endpoint that does not exist.
"""
from __future__ import annotations

MACHINE_ONLY = "machine only"

PAGES: dict[str, str] = {
    # Accounts: the header of every page says who is signed in.
    "POST /api/v1/tokens": "accounts_web.issue",
    "GET /api/v1/tokens": "accounts_web.tokens",
    "DELETE /api/v1/tokens/{token_id}": "accounts_web.revoke",
    "GET /api/v1/me": "web.index",
    # Cases, their checklist, files, thread and escalation.
    "GET /api/v1/cases": "cases_web.case_list",
    "POST /api/v1/cases": "cases_web.new_case",
    "GET /api/v1/cases/{case_id}": "cases_web.case_page",
    "POST /api/v1/cases/{case_id}/messages": "cases_web.post_message",
    "GET /api/v1/cases/{case_id}/messages": "cases_web.case_page",
    "GET /api/v1/cases/{case_id}/checklist": "cases_web.case_page",
    "PUT /api/v1/cases/{case_id}/checklist/{code}": "checklists_web.respond",
    "POST /api/v1/cases/{case_id}/attachments": "cases_web.upload_attachment",
    "GET /api/v1/cases/{case_id}/attachments": "cases_web.case_page",
    "GET /api/v1/cases/{case_id}/attachments/{attachment_id}": "cases_web.case_page",
    "GET /api/v1/cases/{case_id}/attachments/{attachment_id}/content": "cases_web.download_attachment",
    "POST /api/v1/cases/{case_id}/escalation": "escalation_web.escalate",
    "GET /api/v1/cases/{case_id}/triage": "cases_web.case_page",
    "POST /api/v1/cases/{case_id}/resolution": "triage_web.resolve",
    "POST /api/v1/cases/{case_id}/reopening": "triage_web.reopen",
    # Claims and payouts.
    "POST /api/v1/claims": "payments_web.partner",
    "GET /api/v1/claims": "payments_web.partner",
    "GET /api/v1/claims/{claim_id}": "payments_web.claim_page",
    "POST /api/v1/claims/{claim_id}/attachments": "payments_web.add_proof",
    "POST /api/v1/claims/{claim_id}/submit": "payments_web.submit",
    "POST /api/v1/claims/{claim_id}/approve": "payments_web.approve",
    "POST /api/v1/claims/approvals": "payments_web.approve_selected",
    "POST /api/v1/claims/{claim_id}/reject": "payments_web.reject",
    "GET /api/v1/payouts": "payments_web.programmes",
    "GET /api/v1/payouts/{payout_id}": "payments_web.payout_page",
    "POST /api/v1/payouts/{payout_id}/retry": "payments_web.retry",
    "POST /api/v1/funding": "payments_web.record_funding",
    "GET /api/v1/ledger/balances": "payments_web.programmes",
    "PUT /api/v1/mdf-allocations": "payments_web.set_allocation",
    "GET /api/v1/mdf-allocations": "payments_web.programmes",
    "PUT /api/v1/payee": "payments_web.set_payee",
    "GET /api/v1/payee": "payments_web.partner",
    "POST /api/v1/reconciliation/statements": "payments_web.import_statement",
    "GET /api/v1/reconciliation/statements/{import_id}": "payments_web.programmes",
    # Service requests, their files and RMAs.
    "GET /api/v1/srs": "srs_web.queue",
    "GET /api/v1/srs/{sr_number}": "srs_web.sr_page",
    "POST /api/v1/srs/{sr_number}/transitions": "srs_web.transition",
    "POST /api/v1/srs/{sr_number}/assignment": "srs_web.assign",
    "POST /api/v1/srs/{sr_number}/severity": "srs_web.change_severity",
    "POST /api/v1/srs/{sr_number}/messages": "srs_web.post_message",
    "POST /api/v1/srs/{sr_number}/management-escalations": "srs_web.management_escalation",
    "GET /api/v1/srs/{sr_number}/history": "srs_web.sr_page",
    "GET /api/v1/srs/{sr_number}/events": "srs_web.sr_events",
    "POST /api/v1/srs/{sr_number}/rmas": "srs_web.request_rma",
    "GET /api/v1/rmas/{rma_number}": "srs_web.sr_page",
    "POST /api/v1/rmas/{rma_number}/transitions": "srs_web.move_rma",
    "POST /api/v1/srs/{sr_number}/attachments": "srs_web.upload_attachment",
    "GET /api/v1/srs/{sr_number}/attachments": "srs_web.sr_page",
    "GET /api/v1/srs/{sr_number}/attachments/{attachment_id}": "srs_web.sr_page",
    "GET /api/v1/srs/{sr_number}/attachments/{attachment_id}/content": "srs_web.download_attachment",
    # A partner admin's webhooks.
    "POST /api/v1/webhooks": "webhooks_web.register",
    "GET /api/v1/webhooks": "webhooks_web.index",
    "DELETE /api/v1/webhooks/{webhook_id}": "webhooks_web.deactivate",
    "GET /api/v1/webhooks/{webhook_id}/deliveries": "webhooks_web.index",
    # Service contracts and bulk imports (vendor admin).
    "GET /api/v1/contracts": "contracts_web.contracts",
    "POST /api/v1/contracts": "contracts_web.create",
    "GET /api/v1/contracts/{contract_id}": "contracts_web.contract",
    "PATCH /api/v1/contracts/{contract_id}": "contracts_web.change",
    "POST /api/v1/contracts/{contract_id}/serials": "contracts_web.add_serial",
    "DELETE /api/v1/contracts/{contract_id}/serials/{serial_number}": "contracts_web.remove_serial",
    "POST /api/v1/imports/{kind}": "imports_web.upload",
}
