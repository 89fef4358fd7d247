"""Server-rendered payments pages: the partner's payments and claims, the programmes desk."""
from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from app import access
from app.accounts.models import Role
from app.bounds import MAX_ID, form_id
from app.clock import now
from app.errors import DomainError, Forbidden, NotFound
from app.extensions import csrf
from app.files.uploads import release_uploads
from app.payments import claims, funding, live, payees, payouts, reconciliation, remittance
from app.payments.models import ClaimStatus, PayeeKind
from app.payments.money import PERIOD, format_amount, is_currency, parse_amount, to_decimal_string
from app.payments.list_views import CLAIM_TYPES
from app.payments.schemas import MAX_BULK_APPROVALS
from app.quarters import quarter_of
from app.spreadsheets import text_cell

blp = Blueprint("payments_web", __name__, template_folder="templates")
PAGE = 50


@blp.app_template_filter("money")
def _money(amount, currency):
    return format_amount(int(amount), currency)


def this_quarter() -> str:
    return quarter_of(now().date())[0]


class DraftForm(FlaskForm):
    """A draft claim's changes (its type stays)."""

    amount = StringField("Amount", validators=[DataRequired(), Length(max=20)])
    currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)])
    period = StringField("Programme period",
                         validators=[DataRequired(), Regexp(PERIOD, message="A period such as 2026-Q3.")])
    description = TextAreaField("Description", validators=[DataRequired(), Length(max=5000)])


class ClaimForm(DraftForm):
    """A new claim: a draft's fields and its type; it starts in US dollars, in the current quarter."""

    type = SelectField("Type", choices=[SelectChoice(kind.value, label) for kind, label in CLAIM_TYPES.items()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{"currency": "USD", "period": this_quarter(), **kwargs})


class PayeeForm(FlaskForm):
    # Which of the account's details are needed for each kind is the service's rule (payees.validate).
    kind = RadioField("Account type", choices=[SelectChoice(PayeeKind.IBAN.value, "IBAN account"),
                                               SelectChoice(PayeeKind.ABA.value, "US account (ABA routing)")],
                      validators=[InputRequired(message="Choose the type of account.")])
    holder_name = StringField("Account holder", validators=[DataRequired(message="Give the account holder's name."),
                                                            Length(min=2, max=140)])
    iban = StringField("IBAN", validators=[Length(max=42)])
    bic = StringField("BIC (optional)", validators=[Length(max=11)])
    account_number = StringField("Account number", validators=[Length(max=20)])
    routing_number = StringField("ABA routing number", validators=[Length(max=12)])


class RejectForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(message="A rejection needs a reason."),
                                                 Length(min=3, max=2000)])


class FundingForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired(), Length(max=20)])
    currency = StringField("Currency", default="USD", validators=[DataRequired(), Length(min=3, max=3)])
    reference = StringField("Bank reference", validators=[
        DataRequired(), Length(max=140), Regexp(r"[\w.\-/: ]+\Z", message="Letters, digits, . - / : _")])


class AllocationForm(FlaskForm):
    partner_id = SelectField("Partner", coerce=form_id, validate_choice=False,
                             validators=[InputRequired(message="Choose a partner.")])
    period = StringField("Programme period", default=this_quarter,
                         validators=[DataRequired(), Regexp(PERIOD, message="A period such as 2026-Q3.")])
    currency = StringField("Currency", default="USD", validators=[DataRequired(), Length(min=3, max=3)])
    amount = StringField("Allocation", validators=[DataRequired(), Length(max=20)])


class StatementForm(FlaskForm):
    statement = FileField("Provider statement (CSV)", validators=[FileRequired()])


def minor_units(text: str, currency: str, *, zero: bool = False) -> int:
    """'1,234.56' in USD -> 123456, exactly; ValueError for anything else (and for 0 unless `zero`)."""
    if not is_currency(currency):
        raise ValueError("Not an ISO 4217 currency code.")
    return parse_amount(text, currency, zero=zero)


@blp.get("/payments")
@login_required
def home():
    if current_user.role is Role.PROGRAMS:
        return redirect(url_for("payments_web.programmes"))
    if access.allowed(current_user, "claim.file"):
        return redirect(url_for("payments_web.partner"))
    abort(403)


@blp.route("/payments/partner", methods=["GET", "POST"])
@login_required
def partner():
    """The partner's payments (with the claims each paid), its claims and its bank details."""
    access.require(current_user, "claim.file")
    form = ClaimForm(prefix="claim")
    amount = _amount_of(form) if form.validate_on_submit() else None
    if amount is not None:
        try:
            claim = claims.create_claim(current_user, {
                "type": form.type.data, "amount": amount, "currency": form.currency.data.upper(),
                "period": form.period.data, "description": form.description.data})
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Claim {claim.id} saved as a draft.", "info")
            return redirect(url_for("payments_web.claim_page", claim_id=claim.id))
    return _partner_page(form=form, status=400 if request.method == "POST" else 200)


def _partner_page(form: ClaimForm | None = None, payee_form: PayeeForm | None = None, status: int = 200):
    try:
        payee = payees.get_payee(current_user)
    except NotFound:
        payee = None
    if payee_form is None:
        payee_form = PayeeForm(prefix="payee", formdata=None, kind=payee.kind.value if payee else None)
    feed = live.feed_address()
    page = payouts.list_payouts(current_user, limit=PAGE, cursor=request.args.get("cursor") or None)
    claim_page = claims.list_claims(current_user, limit=PAGE)
    return render_template("payments/partner.html", form=form or ClaimForm(prefix="claim", formdata=None),
                           payee_form=payee_form, payee=payee, payouts=page, claims=claim_page, feed=feed,
                           allocations=claims.list_allocations(current_user),
                           remittances=remittance.recent_advices(current_user)), status


@blp.post("/payments/payee")
@login_required
def set_payee():
    """Bank details of one kind of account: on a refusal the form comes back with what was typed."""
    access.require(current_user, "payee.manage")
    form = PayeeForm(prefix="payee")
    if form.validate_on_submit():
        data = {name: (getattr(form, name).data or "").strip() or None for name in
                ("kind", "holder_name", "iban", "bic", "account_number", "routing_number")}
        try:
            payees.set_payee(current_user, data)
        except DomainError as exc:
            for name, messages in exc.details.get("fields", {}).items():
                if name in form:
                    form[name].errors = list(messages)
            flash(exc.message, "error")
        else:
            flash("Bank details saved. They are stored encrypted and shown masked.", "info")
            return redirect(url_for("payments_web.partner", _anchor="bank-h"), 303)
    else:
        flash("The bank details are not complete.", "error")
    return _partner_page(payee_form=form, status=400)


@blp.get("/payments/export.csv")
@login_required
def export_csv():
    """The partner's payments with the claims they paid, for its own books."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["payment_reference", "status", "amount_minor_units", "currency", "amount", "claim_id",
                     "claim_type", "claim_period", "approved_at", "paid_at", "returned_at", "reason"])
    cursor = None
    while True:
        page = payouts.list_payouts(current_user, limit=100, cursor=cursor)
        for p in page.items:
            writer.writerow([p.reference, p.status.value, p.amount, p.currency, format_amount(p.amount, p.currency),
                             p.claim_id, p.claim.type.value, p.claim.period, p.approved_at.isoformat(),
                             p.paid_at.isoformat() if p.paid_at else "",
                             p.returned_at.isoformat() if p.returned_at else "",
                             text_cell(p.return_reason or p.failure_reason or "")])
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=payments.csv"})


@blp.get("/payments/claims/<int:claim_id>")
@login_required
def claim_page(claim_id: int):
    return _claim_page(claim_id)


def _claim_page(claim_id: int, reject_form: RejectForm | None = None, status: int = 200,
                draft_form: DraftForm | None = None):
    claim = claims.get_claim(current_user, claim_id)
    if draft_form is None:
        draft_form = DraftForm(formdata=None, amount=to_decimal_string(claim.amount, claim.currency),
                               currency=claim.currency, period=claim.period, description=claim.description)
    return render_template("payments/claim.html", claim=claim, reject_form=reject_form or RejectForm(formdata=None),
                           draft_form=draft_form,
                           may_decide=access.allowed(current_user, "claim.decide"),
                           may_file=access.allowed(current_user, "claim.file"),
                           proof_limit=current_app.config["PAYMENTS_PROOF_MAX_BYTES"]), status


# Exempt from the global CSRF hook, which would read the whole file before anyone is authorised;
# the token is checked once the claim is known to be the caller's.
@blp.post("/payments/claims/<int:claim_id>/proof")
@csrf.exempt
@login_required
def add_proof(claim_id: int):
    """A proof-of-performance file for a draft MDF claim, streamed to storage as the API does."""
    claims.get_claim(current_user, claim_id)  # 404 before reading an upload for someone else's claim
    access.require(current_user, "claim.file")
    back = redirect(url_for("payments_web.claim_page", claim_id=claim_id, _anchor="proof"), 303)
    request.max_content_length = current_app.config["PAYMENTS_PROOF_MAX_BYTES"] + 64 * 1024
    try:
        try:
            csrf.protect()
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            flash("The file is larger than the limit; nothing was added.", "error")
            return back
        except CSRFError as exc:
            flash(f"{exc.description} Reload the page and send the file again.", "error")
            return back
        if upload is None or not upload.filename:
            flash("Choose a file to upload.", "error")
            return back
        try:
            proof = claims.add_proof(current_user, claim_id, upload.stream, upload.filename, upload.mimetype)
        except Forbidden:
            raise
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Proof {proof.filename} added.", "info")
        return back
    finally:
        release_uploads()


@blp.post("/payments/claims/<int:claim_id>/draft")
@login_required
def change_draft(claim_id: int):
    """The partner puts a draft right before submitting it (an MDF claim over its allocation, a typo)."""
    form, status = DraftForm(), 400
    amount = _amount_of(form) if form.validate_on_submit() else None
    if amount is not None:
        try:
            claims.change_draft(current_user, claim_id, {"amount": amount, "currency": form.currency.data.upper(),
                                                         "period": form.period.data,
                                                         "description": form.description.data})
        except (Forbidden, NotFound):
            raise
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            flash("Draft saved.", "info")
            return redirect(url_for("payments_web.claim_page", claim_id=claim_id), 303)
    return _claim_page(claim_id, draft_form=form, status=status)


def _amount_of(form: DraftForm) -> int | None:
    """The form's amount in minor units of its currency, or None with the reason on the field at fault."""
    currency = form.currency.data.upper()
    if not is_currency(currency):
        form.currency.errors = ["Not an ISO 4217 currency code."]
        return None
    try:
        return parse_amount(form.amount.data, currency)
    except ValueError as exc:
        form.amount.errors = [str(exc)]
        return None


def _act(claim_id: int, action, success: str):
    try:
        action()
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(success, "info")
    return redirect(request.form.get("next") if request.form.get("next") == url_for("payments_web.programmes")
                    else url_for("payments_web.claim_page", claim_id=claim_id))


@blp.post("/payments/claims/<int:claim_id>/submit")
@login_required
def submit(claim_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    return _act(claim_id, lambda: claims.submit_claim(current_user, claim_id), "Claim submitted.")


@blp.post("/payments/claims/<int:claim_id>/approve")
@login_required
def approve(claim_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    return _act(claim_id, lambda: claims.approve_claim(current_user, claim_id), f"Claim {claim_id} approved.")


def selected_claim_ids(values: list[str]) -> list[int]:
    """The claim ids ticked in a form, in their order and each once; ValueError says what is wrong."""
    if not values:
        raise ValueError("Select at least one claim to approve.")
    ids: list[int] = []
    for value in values:
        text = value.strip()
        if not re.fullmatch(r"[0-9]{1,10}", text) or not 1 <= int(text) <= MAX_ID:
            raise ValueError(f"\u201c{value[:20]}\u201d is not a claim number; nothing was approved.")
        if int(text) not in ids:
            ids.append(int(text))
    if len(ids) > MAX_BULK_APPROVALS:
        raise ValueError(f"At most {MAX_BULK_APPROVALS} claims can be approved at once; {len(ids)} were selected. "
                         "Nothing was approved.")
    return ids


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _refusals(refused: list[dict]) -> str:
    """Each refused claim with its reason, one sentence each, without saying "Claim 7: Claim 7 ..."."""
    parts = []
    for item in refused:
        reason = item["message"].rstrip(".")
        name = f"Claim {item['claim_id']}"
        parts.append(reason if reason.startswith(name + " ") else f"{name}: {reason}")
    return ". ".join(parts) + "."


@blp.post("/payments/claims/approvals")
@login_required
def approve_selected():
    """Approve the claims ticked on the programmes page, all or none."""
    access.require(current_user, "claim.decide")
    if not FlaskForm().validate_on_submit():
        abort(400)
    back = redirect(url_for("payments_web.programmes"))
    try:
        ids = selected_claim_ids(request.form.getlist("claim_id"))
    except ValueError as exc:
        flash(str(exc), "error")
        return back
    try:
        decided = claims.approve_claims(current_user, ids)
    except DomainError as exc:
        refused = exc.details.get("refused") if exc.code == "claims_not_approved" else None
        if refused:
            which = "the selected claim" if len(ids) == 1 else f"{len(refused)} of the {len(ids)} selected claims"
            flash(f"Nothing was approved: {which} cannot be. {_refusals(refused)}", "error")
        else:
            flash(exc.message, "error")
        return back
    approved = [c for c in decided if c.status is not ClaimStatus.SUBMITTED]
    waiting = [c for c in decided if c.status is ClaimStatus.SUBMITTED]
    messages = []
    if approved:
        messages.append(f"Approved {_plural(len(approved), 'claim', 'claims')}; "
                        f"{'its payout has' if len(approved) == 1 else 'their payouts have'} started.")
    if waiting:
        names = ", ".join(str(c.id) for c in waiting)
        messages.append(f"First approval recorded for {_plural(len(waiting), 'claim', 'claims')} ({names}); "
                        f"{'it needs' if len(waiting) == 1 else 'they need'} a second approver.")
    flash(" ".join(messages), "info")
    return back


@blp.post("/payments/claims/<int:claim_id>/reject")
@login_required
def reject(claim_id: int):
    form = RejectForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        # The reason typed so far comes back with the page, with what is wrong with it.
        return _claim_page(claim_id, reject_form=form, status=400)
    return _act(claim_id, lambda: claims.reject_claim(current_user, claim_id, form.reason.data),
                f"Claim {claim_id} rejected.")


@blp.get("/payments/payouts/<int:payout_id>")
@login_required
def payout_page(payout_id: int):
    """Remittance detail: one payment, the claim it paid and the bank account on file for its partner
    now (masked), which a failed payment sent again would go to."""
    payout, payee = payouts.payout_with_payee(current_user, payout_id)
    return render_template("payments/payout.html", payout=payout, payee=payee,
                           may_retry=access.allowed(current_user, "payout.retry"))


@blp.get("/payments/payouts/feed")
@login_required
def payout_feed():
    """Live events of the payouts the caller sees, for the payments pages whose tables show payouts."""
    return live.feed_stream(current_user, request.args.get("since"))


@blp.post("/payments/payouts/<int:payout_id>/retry")
@login_required
def retry(payout_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        payouts.retry_payout(current_user, payout_id)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("Payout sent again.", "info")
    return redirect(url_for("payments_web.payout_page", payout_id=payout_id))


@blp.get("/payments/programmes")
@login_required
def programmes():
    """Balance, pipeline, claims to decide, recent payouts and reconciliation."""
    return _programmes_page()


def _programmes_page(funding_form: FundingForm | None = None, statement_form: StatementForm | None = None,
                     allocation_form: AllocationForm | None = None, status: int = 200):
    """The page, or the page again with a refused form as it was filled in and why (status 4xx)."""
    access.require(current_user, "ledger.read")
    funding_form = funding_form or FundingForm(prefix="fund", formdata=None)
    statement_form = statement_form or StatementForm(prefix="stmt", formdata=None)
    feed = live.feed_address()
    report, earlier_reports = reconciliation.recent_imports(current_user)
    balances = funding.balances(current_user)
    pipeline = funding.pipeline(current_user)
    waiting = claims.list_claims(current_user, status="submitted", limit=PAGE)
    recent = payouts.list_payouts(current_user, limit=PAGE, cursor=request.args.get("cursor") or None)
    return render_template("payments/programmes.html", balances=balances, pipeline=pipeline, waiting=waiting,
                           recent=recent, feed=feed, funding_form=funding_form, statement_form=statement_form,
                           report=report, earlier_reports=earlier_reports, max_bulk=MAX_BULK_APPROVALS,
                           page_url=url_for("payments_web.programmes", cursor=request.args.get("cursor") or None),
                           **_allocations_section(allocation_form)), status


def _refused(what: str, form: FlaskForm, *, because: str | None = None, status: int = 400, **forms):
    """The page again with the form as it was filled in, and why `what` did not happen at the top:
    `because` (a service's refusal, with its status), else the fields' own errors."""
    reason = because or " ".join(message for field in form for message in field.errors)
    flash(f"{what}: {reason}", "error")
    return _programmes_page(status=status, **forms)


def _allocations_section(form: AllocationForm | None = None) -> dict:
    if not access.allowed(current_user, "mdf.manage"):
        return {"allocations": None, "allocation_form": None}
    if form is None:
        form = AllocationForm(prefix="mdf", formdata=None)
    form.partner_id.choices = [SelectChoice(0, "Choose a partner…")] + [
        SelectChoice(p.id, p.name) for p in claims.allocation_partners(current_user)]
    return {"allocations": claims.list_allocations(current_user), "allocation_form": form}


@blp.post("/payments/programmes/allocations")
@login_required
def set_allocation():
    """Set a partner's MDF allocation for a period; it cannot drop below what approved claims use."""
    access.require(current_user, "mdf.manage")
    form = AllocationForm(prefix="mdf")
    if not form.validate_on_submit():
        return _refused("Allocation not set", form, allocation_form=form)
    if not form.partner_id.data:
        form.partner_id.errors.append("Choose a partner.")
        return _refused("Allocation not set", form, allocation_form=form)
    currency = form.currency.data.strip().upper()
    try:
        amount = minor_units(form.amount.data, currency, zero=True)
    except ValueError as exc:
        form.amount.errors.append(str(exc))
        return _refused("Allocation not set", form, allocation_form=form)
    try:
        allocation = claims.set_allocation(current_user, form.partner_id.data, form.period.data.strip(),
                                           currency, amount)
    except DomainError as exc:
        return _refused("Allocation not set", form, because=exc.message, status=exc.status, allocation_form=form)
    flash(f"MDF allocation of {allocation.partner.name} for {allocation.period} is now "
          f"{format_amount(allocation.amount, allocation.currency)}.", "info")
    return redirect(url_for("payments_web.programmes", _anchor="allocations"), 303)


@blp.post("/payments/programmes/funding")
@login_required
def record_funding():
    form = FundingForm(prefix="fund")
    if not form.validate_on_submit():
        return _refused("Deposit not recorded", form, funding_form=form)
    currency = form.currency.data.upper()
    try:
        amount = minor_units(form.amount.data, currency)
    except ValueError as exc:
        form.amount.errors.append(str(exc))
        return _refused("Deposit not recorded", form, funding_form=form)
    try:
        deposit, released, _ = funding.record_deposit(current_user, amount, currency, form.reference.data.strip())
    except DomainError as exc:
        return _refused("Deposit not recorded", form, because=exc.message, status=exc.status, funding_form=form)
    flash(f"Deposit {deposit.reference} recorded; {len(released)} waiting payout(s) released.", "info")
    return redirect(url_for("payments_web.programmes"), 303)


@blp.post("/payments/programmes/reconciliation")
@login_required
def import_statement():
    access.require(current_user, "reconciliation.run")
    form = StatementForm(prefix="stmt")
    if not form.validate_on_submit():
        return _refused("Statement not imported", form, statement_form=form)
    upload = form.statement.data
    try:
        result = reconciliation.reconcile(current_user, upload.filename or "statement.csv", _read_all(upload))
    except DomainError as exc:
        return _refused("Statement not imported", form, because=exc.message, status=exc.status,
                        statement_form=form)
    flash(f"Statement matched: {result.matched} of {result.lines} line(s), "
          f"{len(result.exceptions)} exception(s).", "info")
    return redirect(url_for("payments_web.programmes") + "#reconciliation", 303)


def _read_all(upload) -> bytes:
    """The whole of an uploaded file; the stream may have been left at its end by the upload."""
    upload.stream.seek(0)
    return upload.stream.read()
