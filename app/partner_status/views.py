"""Partner status pages: a partner's Performance & Training Dashboard, every partner's for the
programmes team (with filters and a CSV export), and the programme-wide changes desk."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app import access
from app.accounts.models import Organisation
from app.extensions import db
from app.errors import DomainError
from app.partner_status import changes, dashboard, levels

blp = Blueprint("partner_status_web", __name__, template_folder="templates")


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it changes nothing

    tier = SelectField("Tier", choices=[("", "All tiers"), ("PW", "PW"), ("PWP", "PWP")], validators=[Optional()])
    region = StringField("Region", validators=[Optional(), Length(max=16)])
    level_id = SelectField("Level", coerce=lambda v: int(v) if v else None, validate_choice=False,
                           validators=[Optional()])
    unmet = SelectField("Requirement not met", coerce=lambda v: int(v) if v else None, validate_choice=False,
                        validators=[Optional()])


class ChangeForm(FlaskForm):
    kind = SelectField("Kind of change", choices=list(changes.KIND_TITLES.items()))
    new_date = DateField("New date", validators=[InputRequired()])
    requirement_id = SelectField("Requirement (deadline and waiver)", coerce=lambda v: int(v) if v else None,
                                 validate_choice=False, validators=[Optional()])
    active_on = DateField("Active on (specialisations)", validators=[Optional()])
    tier = SelectField("Partner tier (levels, review, exceptions)",
                       choices=[("", "All tiers (exceptions: PW)"), ("PW", "PW"), ("PWP", "PWP")])
    region = StringField("Region (empty: all)", validators=[Length(max=16)])
    reason = TextAreaField("Reason", validators=[Length(max=2000)])


class ExceptionForm(FlaskForm):
    partner_id = SelectField("Partner", coerce=int, validate_choice=False, validators=[InputRequired()])
    requirement_id = SelectField("Requirement", coerce=int, validate_choice=False, validators=[InputRequired()])
    until = DateField("Until", validators=[InputRequired()])
    reason = TextAreaField("Reason", validators=[InputRequired(), Length(min=3, max=2000)])


def _fail(exc: DomainError, form) -> None:
    for name, messages in (exc.details or {}).get("fields", {}).items():
        if name in form:
            form[name].errors = list(messages)
    flash(exc.message, "error")


def _requirement_choices(level_set, empty: str | None):
    choices = [("", empty)] if empty is not None else []
    return choices + [(str(r.id), f"{level.name}: {r.code}") for level in level_set for r in level.requirements]


@blp.get("/partner-status")
@login_required
def index():
    """A partner's own dashboard; every partner's, filtered, for the programmes team."""
    access.require(current_user, "partner_status.read")
    own = access.own_partner(current_user)
    if own is not None:
        return _dashboard_page(own)
    level_set = dashboard.levels(current_user)
    form = FilterForm(request.args)
    form.level_id.choices = [("", "All levels")] + [(str(level.id), level.name) for level in level_set]
    form.unmet.choices = _requirement_choices(level_set, "Any")
    rows, status = [], 200
    if form.validate():
        try:
            rows = dashboard.all_dashboards(current_user, **_filters(form))
        except DomainError as exc:
            _fail(exc, form)
            status = exc.status
    else:
        status = 400
    return render_template("partner_status/index.html", form=form, rows=rows,
                           query=request.query_string.decode()), status


def _filters(form: FilterForm) -> dict:
    return {"tier": form.tier.data or None, "region": (form.region.data or "").strip() or None,
            "level_id": form.level_id.data or None, "unmet": form.unmet.data or None}


@blp.get("/partner-status/partners/<int:partner_id>")
@login_required
def partner(partner_id: int):
    return _dashboard_page(partner_id)


def _dashboard_page(partner_id: int):
    found = dashboard.partner_dashboard(current_user, partner_id)
    return render_template("partner_status/dashboard.html", d=found)


COLUMNS = ("partner", "tier", "region", "level", "level_valid_through", "next_review_on", "requirements_met",
           "requirements", "unmet", "waived", "programme", "period", "currency", "sales", "target",
           "attainment_percent", "projected_rebate")


def _text(value) -> str:
    """A text cell a spreadsheet will not run: one starting like a formula is quoted."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@blp.get("/partner-status/partners.csv")
@login_required
def export():
    """The filtered list as CSV: one line per partner and programme (amounts in minor units)."""
    access.require(current_user, "partner_status.read")
    form = FilterForm(request.args)
    form.level_id.choices = form.unmet.choices = []
    if not form.validate():
        return Response("Bad filter.\n", 400, mimetype="text/plain")
    rows = dashboard.all_dashboards(current_user, **_filters(form))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for d in rows:
        head = [_text(d.partner.name), d.partner.tier.value if d.partner.tier else "", _text(d.partner.region or ""),
                _text(d.level.name) if d.level else "", d.valid_through or "", d.next_review_on or "",
                sum(1 for s in d.requirements if s.met), len(d.requirements),
                _text(";".join(s.code for s in d.unmet)),
                _text(";".join(s.code for s in d.requirements if d.status_of(s) == "waived"))]
        for r in d.rebates or [None]:
            writer.writerow(head + ([_text(r.programme_name), r.period_label, r.currency, r.sales, r.target,
                                     f"{r.attainment_bp / 100:.2f}", r.rebate] if r else [""] * 7))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=partner-status.csv"})


@blp.route("/partner-status/changes", methods=["GET", "POST"])
@login_required
def change_desk():
    """A programme-wide change: the first post previews who is affected, the second applies what was shown."""
    access.require(current_user, "partner_status.change")
    level_set = dashboard.levels(current_user)
    form, preview = ChangeForm(), None
    form.requirement_id.choices = _requirement_choices(level_set, "None")
    if form.validate_on_submit():
        asked = changes.ChangeRequest(form.kind.data, form.new_date.data, form.requirement_id.data,
                                      form.active_on.data, form.tier.data or None,
                                      (form.region.data or "").strip() or None)
        try:
            if request.form.get("action") == "apply":
                change, applied = changes.apply_change(current_user, asked, form.reason.data or "",
                                                       request.form.get("digest"))
                flash(f"{changes.KIND_TITLES[change.kind]}: applied to {len(applied.rows)} partner(s).", "info")
                return redirect(url_for("partner_status_web.change_desk"), 303)
            preview = changes.preview_change(current_user, asked)
        except DomainError as exc:
            _fail(exc, form)
            preview = None
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template("partner_status/changes.html", form=form, preview=preview,
                           history=changes.list_changes(current_user), titles=changes.KIND_TITLES,
                           exception_form=_exception_form(level_set)), status


def _exception_form(level_set, form: ExceptionForm | None = None) -> ExceptionForm:
    form = form or ExceptionForm(prefix="exception", formdata=None)
    form.partner_id.choices = [tuple(row) for row in db.session.execute(
        access.programme_partners(current_user).with_only_columns(Organisation.id, Organisation.name)
        .order_by(Organisation.name))]
    form.requirement_id.choices = [(int(v), label) for v, label in _requirement_choices(level_set, None)]
    return form


@blp.post("/partner-status/exceptions")
@login_required
def grant_exception():
    access.require(current_user, "partner_status.change")
    form = ExceptionForm(prefix="exception")
    if form.validate_on_submit():
        try:
            levels.grant_exception(current_user, form.partner_id.data, form.requirement_id.data, form.until.data,
                                   form.reason.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash("Exception granted.", "info")
    else:
        flash("The exception needs a partner, a requirement, a day and a reason.", "error")
    return redirect(url_for("partner_status_web.change_desk") + "#exception-h", 303)
