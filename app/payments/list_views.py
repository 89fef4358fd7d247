"""Every claim and every payout the caller may see, filtered as the API filters them, a page at a time;
and each reconciliation of a provider statement.

The partner's and the programmes team's payments pages show the newest few, the claims waiting for a
decision and the latest reconciliation; these pages reach the rest (a partner's older claims, the
failed payouts to retry, an earlier statement's exceptions).
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app import access
from app.errors import InvalidInput
from app.payments import claims, live, payouts, reconciliation
from app.payments.models import ClaimStatus, ClaimType, PayoutStatus

blp = Blueprint("payment_lists_web", __name__, template_folder="templates")
PAGE = 50
# As the claim form and the claim list name them.
CLAIM_TYPES = {ClaimType.REBATE: "Rebate", ClaimType.MDF: "Market development funds"}


def _choices(values) -> list[SelectChoice]:
    return [SelectChoice("", "Any"), *(SelectChoice(value.value, value.value.replace("_", " ")) for value in values)]


class _ListForm(FlaskForm):
    class Meta:
        csrf = False  # a search: it changes nothing

    cursor = HiddenField(validators=[Optional(), Length(max=200)])


class ClaimFilterForm(_ListForm):
    # No Optional() on the selects: it would let whitespace past the choices.
    status = SelectField("Status", choices=_choices(ClaimStatus), default="")
    type = SelectField("Type", choices=[SelectChoice("", "Any"),
                                        *(SelectChoice(kind.value, label) for kind, label in CLAIM_TYPES.items())],
                       default="")


class PayoutFilterForm(_ListForm):
    status = SelectField("Status", choices=_choices(PayoutStatus), default="")


@blp.get("/payments/claims")
@login_required
def claim_list():
    access.require(current_user, "claim.read")
    return _filtered("payments/claim_list.html", ClaimFilterForm(formdata=request.args), "claim_list",
                     claims.list_claims, ("status", "type"))


@blp.get("/payments/programmes/reconciliation/<int:import_id>")
@login_required
def statement(import_id: int):
    """One provider statement's reconciliation, as it was matched when imported."""
    report, earlier, later = reconciliation.import_with_neighbours(current_user, import_id)
    return render_template("payments/statement.html", report=report, earlier=earlier, later=later)


@blp.get("/payments/payouts")
@login_required
def payout_list():
    access.require(current_user, "payout.read")
    # The rows go on changing as the provider answers.
    return _filtered("payments/payout_list.html", PayoutFilterForm(formdata=request.args), "payout_list",
                     payouts.list_payouts, ("status",), feed=live.feed_address())


def _filtered(template: str, form: _ListForm, endpoint: str, lister: Callable, names: tuple[str, ...], **context):
    """The list through its service, with the filters the form names; a bad filter or page link is a 400."""
    context.update(form=form, page=None, show_partner=access.own_partner(current_user) is None)
    if not form.validate():
        return render_template(template, **context), 400
    filters = {name: getattr(form, name).data for name in names if getattr(form, name).data}
    try:
        page = lister(current_user, limit=PAGE, cursor=form.cursor.data or None, **filters)
    except InvalidInput as exc:
        return render_template(template, **context, error=exc.message), exc.status
    endpoint = f"payment_lists_web.{endpoint}"
    return render_template(template, **{**context, "page": page}, filtered=bool(filters),
                           older=url_for(endpoint, **filters, cursor=page.next_cursor) if page.next_cursor else None,
                           newest=url_for(endpoint, **filters) if form.cursor.data else None)
