"""/api/v1 claims, payouts, funding, ledger balances, MDF allocations and payee details."""
from __future__ import annotations

from flask import current_app, jsonify, request

from app import access
from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.api_spec import file_upload
from app.bounds import UNSTORABLE, unstorable_text
from app.errors import InvalidInput
from app.files.uploads import release_uploads
from app.payments import claims, funding, payees, payouts, reconciliation
from app.payments.models import ClaimStatus, PayoutStatus
from app.payments.schemas import (AllocationQuerySchema, AllocationSchema, AllocationSetSchema,
                                  BalancesSchema, ClaimApprovalsSchema, ClaimApprovedSchema, ClaimChangeSchema,
                                  ClaimCreateSchema, ClaimListQuerySchema, ClaimPageSchema, ClaimProofSchema,
                                  ClaimRejectSchema, ClaimSchema,
                                  FundingCreateSchema, FundingSchema, PayeeQuerySchema, PayeeSchema,
                                  PayeeSetSchema, PayoutListQuerySchema, PayoutPageSchema, PayoutSchema,
                                  StatementImportSchema)

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="Claims and payouts")
STATEMENT_MAX_BYTES = 20 * 1024 * 1024


@blp.route("/claims", methods=["POST"], endpoint="create_claim")
@blp.operation("create_claim", refuses=(403, 422))
@blp.arguments(ClaimCreateSchema, example={
    "type": "rebate", "amount": 50000, "currency": "USD", "period": "2026-Q3",
    "description": "Q3 rebate on the X465 deal"})
@blp.response(201, ClaimSchema)
def create_claim(body):
    """File a draft rebate or MDF claim (partner admin); amount in minor units."""
    return claims.create_claim(api_user(), body)


@blp.route("/claims", methods=["GET"], endpoint="list_claims")
@blp.operation("list_claims", refuses=(403,))
@blp.arguments(ClaimListQuerySchema, location="query")
@blp.response(200, ClaimPageSchema)
def list_claims(args):
    """Claims with their payout status: a partner's own, or all for programmes."""
    return claims.list_claims(api_user(), **args)


@blp.route("/claims/<int:claim_id>", methods=["GET"], endpoint="get_claim")
@blp.operation("get_claim", refuses=(403,))
@blp.response(200, ClaimSchema)
def get_claim(claim_id):
    """One claim with its payout status."""
    return claims.get_claim(api_user(), claim_id)


@blp.route("/claims/<int:claim_id>", methods=["PATCH"], endpoint="change_claim")
@blp.operation("change_claim", refuses=(403, 409))
@blp.arguments(ClaimChangeSchema, example={"amount": 45000})
@blp.response(200, ClaimSchema)
def change_claim(body, claim_id):
    """Change a draft claim's amount, currency, period or description (partner admin); only the fields
    sent change; 409 once it is submitted."""
    return claims.change_draft(api_user(), claim_id, body)


@blp.route("/claims/<int:claim_id>/attachments", methods=["POST"], endpoint="claim_proof")
@blp.operation("add_claim_proof", refuses=(403, 409, 422))
@blp.response(201, ClaimProofSchema)
@blp.doc(**file_upload("proof of performance, up to PAYMENTS_PROOF_MAX_BYTES"))
def add_proof(claim_id):
    """Attach a proof-of-performance file to a draft MDF claim (multipart, field `file`)."""
    user = api_user()
    claims.get_claim(user, claim_id)  # 404 before reading an upload for someone else's claim
    # Proof files may be larger than a JSON body; the limit is set before the body is read.
    request.max_content_length = current_app.config["PAYMENTS_PROOF_MAX_BYTES"] + 64 * 1024
    try:
        upload = request.files.get("file")
    except BaseException:
        release_uploads()
        raise
    if upload is None or not upload.filename:
        release_uploads()
        raise InvalidInput("Send the file as multipart field `file`.", code="file_missing",
                           details={"fields": {"file": ["Missing."]}})
    _refuse_unstorable_names(upload)
    try:
        return claims.add_proof(user, claim_id, upload.stream, upload.filename, upload.mimetype)
    finally:
        release_uploads()


@blp.route("/claims/<int:claim_id>/submit", methods=["POST"], endpoint="submit_claim")
@blp.operation("submit_claim", refuses=(403, 409, 422))
@blp.response(200, ClaimSchema)
def submit_claim(claim_id):
    """Send a draft to the programmes team (partner admin)."""
    return claims.submit_claim(api_user(), claim_id)


@blp.route("/claims/<int:claim_id>/approve", methods=["POST"], endpoint="approve_claim")
@blp.operation("approve_claim", refuses=(403, 409, 422))
@blp.response(200, ClaimSchema)
def approve_claim(claim_id):
    """Approve (programmes); above the threshold the first approval waits for a second approver."""
    # ClaimSchema's shape built by hand: the busiest claim write answers without marshmallow's
    # per-field cost (tests/payments/test_claim_answer.py compares both).
    return jsonify(claim_answer(claims.approve_claim(api_user(), claim_id)))


def _at(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def claim_answer(claim) -> dict:
    """A claim as ClaimSchema renders it."""
    partner, payout, status = claim.partner, claim.payout, claim.status
    return {
        "id": claim.id, "status": status.value, "type": claim.type.value, "amount": claim.amount,
        "currency": claim.currency, "period": claim.period, "description": claim.description,
        "partner": {"id": partner.id, "name": partner.name} if partner is not None else None,
        "created_at": _at(claim.created_at), "submitted_at": _at(claim.submitted_at),
        "first_approved_by_id": claim.first_approved_by_id, "first_approved_at": _at(claim.first_approved_at),
        "approved_by_id": claim.approved_by_id, "approved_at": _at(claim.approved_at),
        "rejection_reason": claim.rejection_reason, "return_reason": claim.return_reason,
        "awaiting_second_approval": status is ClaimStatus.SUBMITTED and claim.first_approved_by_id is not None,
        "payout_status": payout.status.value if payout else None,
        "payout": {"id": payout.id, "status": payout.status.value, "reference": payout.reference,
                   "attempt": payout.attempt, "paid_at": _at(payout.paid_at)} if payout is not None else None,
        "attachments": [{"id": proof.id, "filename": proof.filename, "content_type": proof.content_type,
                         "size_bytes": proof.size_bytes, "sha256": proof.sha256,
                         "created_at": _at(proof.created_at)} for proof in claim.attachments],
    }


@blp.route("/claims/approvals", methods=["POST"], endpoint="approve_claims")
@blp.operation("approve_claims", refuses=(403, 422))
@blp.arguments(ClaimApprovalsSchema, example={"claim_ids": [12, 13]})
@blp.response(200, ClaimApprovedSchema)
def approve_claims(body):
    """Approve up to 100 submitted claims at once (programmes), all or none.

    Each claim follows the single approval's rules; if any cannot be approved
    the answer is 422 `claims_not_approved` listing every refusal in
    `details.refused`, and nothing changes.
    """
    return {"items": claims.approve_claims(api_user(), body["claim_ids"])}


@blp.route("/claims/<int:claim_id>/reject", methods=["POST"], endpoint="reject_claim")
@blp.operation("reject_claim", refuses=(403, 409))
@blp.arguments(ClaimRejectSchema, example={"reason": "The invoice does not match the period."})
@blp.response(200, ClaimSchema)
def reject_claim(body, claim_id):
    """Reject with a reason the partner will read (programmes)."""
    return claims.reject_claim(api_user(), claim_id, body["reason"])


@blp.route("/payouts", methods=["GET"], endpoint="list_payouts")
@blp.operation("list_payouts", refuses=(403,))
@blp.arguments(PayoutListQuerySchema, location="query")
@blp.response(200, PayoutPageSchema)
def list_payouts(args):
    """Payments with the claims they paid: a partner's own, or all for programmes."""
    return payouts.list_payouts(api_user(), **args)


@blp.route("/payouts/<int:payout_id>", methods=["GET"], endpoint="get_payout")
@blp.operation("get_payout", refuses=(403,))
@blp.response(200, PayoutSchema)
def get_payout(payout_id):
    """One payment (remittance detail)."""
    return payouts.get_payout(api_user(), payout_id)


@blp.route("/payouts/<int:payout_id>/retry", methods=["POST"], endpoint="retry_payout")
@blp.operation("retry_payout", refuses=(403, 409))
@blp.response(200, PayoutSchema)
def retry_payout(payout_id):
    """Send a failed or returned payout again, as a new attempt (programmes)."""
    return payouts.retry_payout(api_user(), payout_id)


@blp.route("/funding", methods=["POST"], endpoint="record_funding")
@blp.operation("record_funding", refuses=(403, 409))
@blp.arguments(FundingCreateSchema, example={"amount": 1000000, "currency": "USD", "reference": "DEP-2026-11-0042"})
@blp.response(201, FundingSchema, description="the deposit, recorded now")
@blp.alt_response(200, schema=FundingSchema, success=True,
                  description="a repeat of a recorded deposit's reference: that deposit, nothing recorded again")
def record_funding(body):
    """Record a pre-funding deposit (programmes); waiting payouts go out, oldest approval first."""
    user = api_user()
    deposit, released, created = funding.record_deposit(user, body["amount"], body["currency"],
                                                        body["reference"])
    available = next((b.prefunding_available for b in funding.balances(user)
                      if b.currency == deposit.currency), 0)
    answer = {"id": deposit.id, "amount": deposit.amount, "currency": deposit.currency,
              "reference": deposit.reference, "created_at": deposit.created_at,
              "released_payout_ids": [p.id for p in released], "available": available}
    return answer, 201 if created else 200


@blp.route("/ledger/balances", methods=["GET"], endpoint="ledger_balances")
@blp.operation("get_ledger_balances", refuses=(403,))
@blp.response(200, BalancesSchema)
def ledger_balances():
    """Pre-funding balance, what is reserved, owed, in transit and paid, and the payout pipeline, per currency."""
    user = api_user()
    pipeline = funding.pipeline(user)
    answer = []
    for balance in funding.balances(user):
        stages = pipeline.get(balance.currency, [])
        answer.append({
            "currency": balance.currency,
            "prefunding": {"posted": balance.prefunding_posted, "pending": balance.prefunding_pending,
                           "available": balance.prefunding_available},
            "pending_total": balance.prefunding_pending, "payable_total": balance.partner_payable,
            "in_transit_total": balance.in_transit, "paid_total": balance.paid,
            "funded_total": balance.funded,
            "awaiting_funds_total": sum(a for s, _, a in stages if s == PayoutStatus.AWAITING_FUNDS.value),
            "pipeline": [{"status": s, "count": c, "amount": a} for s, c, a in stages],
        })
    return {"balances": answer}


@blp.route("/mdf-allocations", methods=["PUT"], endpoint="set_allocation")
@blp.operation("set_mdf_allocation", refuses=(403, 404, 422))
@blp.arguments(AllocationSetSchema, example={"partner_id": 2, "period": "2026-Q3", "currency": "USD", "amount": 250000})
@blp.response(200, AllocationSchema)
def set_allocation(body):
    """Set a partner's MDF allocation for a period and currency (programmes)."""
    allocation = claims.set_allocation(api_user(), body["partner_id"], body["period"], body["currency"],
                                       body["amount"])
    return _allocation(allocation, claims.list_allocations(api_user(), allocation.partner_id))


@blp.route("/mdf-allocations", methods=["GET"], endpoint="list_allocations")
@blp.operation("list_mdf_allocations", refuses=(403,))
@blp.arguments(AllocationQuerySchema, location="query")
@blp.response(200, AllocationSchema(many=True))
def list_allocations(args):
    """MDF allocations with what is used and what remains."""
    return [_row(a, used) for a, used in claims.list_allocations(api_user(), args.get("partner_id"))]


def _row(allocation, used):
    return {"id": allocation.id, "partner": allocation.partner, "period": allocation.period,
            "currency": allocation.currency, "amount": allocation.amount, "used": used,
            "remaining": allocation.amount - used}


def _allocation(allocation, rows):
    used = next((u for a, u in rows if a.id == allocation.id), 0)
    return _row(allocation, used)


@blp.route("/payee", methods=["PUT"], endpoint="set_payee")
@blp.operation("set_payee", refuses=(403,))
@blp.arguments(PayeeSetSchema, example={
    "kind": "iban", "holder_name": "Northwind Networks GmbH", "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX"})
@blp.response(200, PayeeSchema)
def set_payee(body):
    """Enter or replace the caller's organisation's bank details (partner admin only)."""
    return payees.set_payee(api_user(), body)


@blp.route("/payee", methods=["GET"], endpoint="get_payee")
@blp.operation("get_payee", refuses=(403, 404))
@blp.arguments(PayeeQuerySchema, location="query")
@blp.response(200, PayeeSchema)
def get_payee(args):
    """Bank details, masked (programmes may name a partner_id). Every read is audited."""
    return payees.get_payee(api_user(), args.get("partner_id"))


@blp.route("/reconciliation/statements", methods=["POST"], endpoint="import_statement")
@blp.operation("import_statement", refuses=(403,))
@blp.response(201, StatementImportSchema)
@blp.doc(**file_upload("the provider's statement as CSV, up to 20 MiB"))
def import_statement():
    """Match a provider statement (CSV, multipart field `file`) against our payouts (programmes)."""
    user = api_user()
    access.require(user, "reconciliation.run")  # before reading anyone's upload
    request.max_content_length = STATEMENT_MAX_BYTES
    try:
        upload = request.files.get("file")
    except BaseException:
        release_uploads()
        raise
    if upload is None or not upload.filename:
        release_uploads()
        raise InvalidInput("Send the statement as multipart field `file`.", code="file_missing",
                           details={"fields": {"file": ["Missing."]}})
    _refuse_unstorable_names(upload)
    return reconciliation.reconcile(user, upload.filename, _read_all(upload))


@blp.route("/reconciliation/statements/<int:import_id>", methods=["GET"], endpoint="get_statement")
@blp.operation("get_statement_import", refuses=(403,))
@blp.response(200, StatementImportSchema)
def get_statement(import_id):
    """One reconciliation result with its exceptions."""
    return reconciliation.get_import(api_user(), import_id)


def _refuse_unstorable_names(upload) -> None:
    """The part's file name and type are stored as given: a NUL in either is a 400, not a 500."""
    if unstorable_text(upload.filename or "") or unstorable_text(upload.mimetype or ""):
        release_uploads()
        raise InvalidInput("The file's name or type contains a NUL character or invalid Unicode.",
                           details={"fields": {"file": [UNSTORABLE]}})


def _read_all(upload) -> bytes:
    """The whole of an uploaded file; the stream may have been left at its end by the upload."""
    upload.stream.seek(0)
    return upload.stream.read()
