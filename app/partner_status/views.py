"""Partner status pages: a partner's Performance & Training Dashboard (where the programmes team
also sets its level and records its trainings and specialisations), every partner's for the
programmes team (filtered, a page at a time, and a CSV export of them all), the level set with
its requirements, and the programme-wide changes desk."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app import access
from app.accounts.models import Organisation
from app.bounds import form_id, optional_form_id
from app.extensions import db
from app.errors import DomainError
from app.partner_status import changes, dashboard, levels
from app.partner_status.models import RequirementKind
from app.spreadsheets import text_cell

blp = Blueprint("partner_status_web", __name__, template_folder="templates")


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it changes nothing

    tier = SelectField("Tier", choices=[SelectChoice("", "All tiers"), SelectChoice("PW"), SelectChoice("PWP")],
                       validators=[Optional()])
    region = StringField("Region", validators=[Optional(), Length(max=16)])
    level_id = SelectField("Level", coerce=optional_form_id, validate_choice=False,
                           validators=[Optional()])
    unmet = SelectField("Requirement not met", coerce=optional_form_id, validate_choice=False,
                        validators=[Optional()])


class ChangeForm(FlaskForm):
    kind = SelectField("Kind of change", choices=[SelectChoice(*item) for item in changes.KIND_TITLES.items()])
    new_date = DateField("New date", validators=[InputRequired()])
    requirement_id = SelectField("Requirement (deadline and waiver)", coerce=optional_form_id,
                                 validate_choice=False, validators=[Optional()])
    active_on = DateField("Active on (specialisations)", validators=[Optional()])
    tier = SelectField("Partner tier (levels, review, exceptions)",
                       choices=[SelectChoice("", "All tiers (exceptions: PW)"), SelectChoice("PW"),
                                SelectChoice("PWP")])
    region = StringField("Region (empty: all)", validators=[Length(max=16)])
    reason = TextAreaField("Reason", validators=[Length(max=2000)])


class ExceptionForm(FlaskForm):
    partner_id = SelectField("Partner", coerce=form_id, validate_choice=False, validators=[InputRequired()])
    requirement_id = SelectField("Requirement", coerce=form_id, validate_choice=False, validators=[InputRequired()])
    until = DateField("Until", validators=[InputRequired()])
    reason = TextAreaField("Reason", validators=[InputRequired(), Length(min=3, max=2000)])


KIND_CHOICES = [SelectChoice(RequirementKind.CERTIFIED_ENGINEERS.value, "Certified engineers of a product family"),
                SelectChoice(RequirementKind.TRAINING.value, "Engineers who completed a course"),
                SelectChoice(RequirementKind.SPECIALISATION.value, "A specialisation held")]
SUBJECT_LABEL = "Product family, course or specialisation"
PAGE = 25


class RequirementRow(Form):
    """One requirement row of a new level; a row without a code is left out."""

    code = StringField("Code", validators=[Optional(), Length(max=levels.CODE_LENGTH)])
    kind = SelectField("Kind", choices=KIND_CHOICES, default=KIND_CHOICES[0].value)
    subject = StringField(SUBJECT_LABEL, validators=[Optional(), Length(max=levels.SUBJECT_LENGTH)])
    minimum = IntegerField("At least", default=1, validators=[Optional(), NumberRange(min=1, max=10_000)])
    deadline = DateField("Deadline", validators=[Optional()])


class LevelForm(FlaskForm):
    name = StringField("Level name", validators=[InputRequired(), Length(max=levels.NAME_LENGTH)])
    rank = IntegerField("Rank (1 is the lowest)", validators=[InputRequired(), NumberRange(min=1, max=1000)])
    requirements = FieldList(FormField(RequirementRow), min_entries=3, max_entries=10)


class RequirementForm(FlaskForm):
    level_id = SelectField("Level", coerce=form_id, validate_choice=False, validators=[InputRequired()])
    code = StringField("Code", validators=[InputRequired(), Length(max=levels.CODE_LENGTH)])
    kind = SelectField("Kind", choices=KIND_CHOICES)
    subject = StringField(SUBJECT_LABEL, validators=[InputRequired(), Length(max=levels.SUBJECT_LENGTH)])
    minimum = IntegerField("At least", default=1, validators=[InputRequired(), NumberRange(min=1, max=10_000)])
    deadline = DateField("Deadline", validators=[InputRequired()])


class StatusForm(FlaskForm):
    level_id = SelectField("Level", coerce=form_id, validate_choice=False, validators=[InputRequired()])
    valid_through = DateField("Level held through", validators=[InputRequired()])
    next_review_on = DateField("Next levelling review", validators=[InputRequired()])


class TrainingForm(FlaskForm):
    user_id = SelectField("Engineer", coerce=form_id, validate_choice=False, validators=[InputRequired()])
    course = StringField("Course", validators=[InputRequired(), Length(max=levels.SUBJECT_LENGTH)])
    completed_on = DateField("Completed on", validators=[InputRequired()])


class SpecialisationForm(FlaskForm):
    name = StringField("Specialisation", validators=[InputRequired(), Length(max=levels.SUBJECT_LENGTH)])
    starts_on = DateField("From", validators=[InputRequired()])
    ends_on = DateField("Through", validators=[InputRequired()])


def _fail(exc: DomainError, form) -> None:
    for name, messages in (exc.details or {}).get("fields", {}).items():
        if name in form:
            form[name].errors = list(messages)
    flash(exc.message, "error")


def _requirement_choices(level_set, empty: str | None):
    choices = [SelectChoice("", empty)] if empty is not None else []
    return choices + [SelectChoice(str(r.id), f"{level.name}: {r.code}") for level in level_set
                      for r in level.requirements]


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
    form.level_id.choices = [SelectChoice("", "All levels")] + [SelectChoice(str(level.id), level.name)
                                                             for level in level_set]
    form.unmet.choices = _requirement_choices(level_set, "Any")
    rows, status, more = [], 200, None
    cursor = request.args.get("cursor") or None
    if form.validate():
        filters = _filters(form)
        try:
            page = dashboard.dashboards_page(current_user, limit=PAGE, cursor=cursor, **filters)
        except DomainError as exc:
            _fail(exc, form)
            status = exc.status
        else:
            rows = page.items
            kept = {name: value for name, value in filters.items() if value is not None}
            if page.next_cursor:
                more = url_for("partner_status_web.index", **kept, cursor=page.next_cursor)
    else:
        status = 400
    query = "&".join(part for part in request.query_string.decode().split("&") if not part.startswith("cursor="))
    first = url_for("partner_status_web.index", **{k: v for k, v in request.args.items() if k != "cursor"}) \
        if cursor else None
    return render_template("partner_status/index.html", form=form, rows=rows, query=query, more=more,
                           first=first), status


def _filters(form: FilterForm) -> dict:
    return {"tier": form.tier.data or None, "region": (form.region.data or "").strip() or None,
            "level_id": form.level_id.data or None, "unmet": form.unmet.data or None}


@blp.get("/partner-status/partners/<int:partner_id>")
@login_required
def partner(partner_id: int):
    return _dashboard_page(partner_id)


def _dashboard_page(partner_id: int, status: int = 200, **forms):
    found = dashboard.partner_dashboard(current_user, partner_id)
    if access.allowed(current_user, "partner_status.change"):
        forms = _setup_forms(found, **forms)
    return render_template("partner_status/dashboard.html", d=found, **forms), status


def _setup_forms(found, status_form=None, training_form=None, specialisation_form=None) -> dict:
    """The programmes team's forms on a partner's dashboard, filled with its level and engineers."""
    status_form = status_form or StatusForm(prefix="status", formdata=None, data={
        "level_id": found.level.id if found.level else None, "valid_through": found.valid_through,
        "next_review_on": found.next_review_on})
    status_form.level_id.choices = [SelectChoice(level.id, level.name) for level in dashboard.levels(current_user)]
    training_form = training_form or TrainingForm(prefix="training", formdata=None)
    training_form.user_id.choices = [SelectChoice(e.id, f"{e.name} ({e.email})") for e in found.engineers]
    specialisation_form = specialisation_form or SpecialisationForm(prefix="specialisation", formdata=None)
    return {"status_form": status_form, "training_form": training_form,
            "specialisation_form": specialisation_form}


def _setup_post(partner_id: int, form, name: str, act, done: str):
    """A form of the partner's dashboard: done, back to the page; refused, the page again with why."""
    access.require(current_user, "partner_status.change")
    if form.validate_on_submit():
        try:
            act(form)
        except DomainError as exc:
            _fail(exc, form)
            return _dashboard_page(partner_id, exc.status, **{name: form})
        flash(done, "info")
        return redirect(url_for("partner_status_web.partner", partner_id=partner_id), 303)
    flash("Check the fields marked below.", "error")
    return _dashboard_page(partner_id, 400, **{name: form})


@blp.post("/partner-status/partners/<int:partner_id>/status")
@login_required
def set_status(partner_id: int):
    form = StatusForm(prefix="status")
    return _setup_post(partner_id, form, "status_form", lambda f: levels.set_status(
        current_user, partner_id, f.level_id.data, f.valid_through.data, f.next_review_on.data), "Level set.")


@blp.post("/partner-status/partners/<int:partner_id>/trainings")
@login_required
def record_training(partner_id: int):
    form = TrainingForm(prefix="training")
    return _setup_post(partner_id, form, "training_form", lambda f: levels.record_training(
        current_user, f.user_id.data, f.course.data, f.completed_on.data, partner_id=partner_id),
        "Training recorded.")


@blp.post("/partner-status/partners/<int:partner_id>/specialisations")
@login_required
def add_specialisation(partner_id: int):
    form = SpecialisationForm(prefix="specialisation")
    return _setup_post(partner_id, form, "specialisation_form", lambda f: levels.add_specialisation(
        current_user, partner_id, f.name.data, f.starts_on.data, f.ends_on.data), "Specialisation recorded.")


@blp.get("/partner-status/levels")
@login_required
def level_set():
    """Every level and its requirements: a partner reads what the next level asks; the programmes team
    defines them here too."""
    return _levels_page()


def _levels_page(status: int = 200, level_form=None, requirement_form=None):
    level_list = dashboard.levels(current_user)
    kinds = {choice.value: choice.label for choice in KIND_CHOICES}
    if not access.allowed(current_user, "partner_status.change"):
        return render_template("partner_status/levels.html", levels=level_list, kinds=kinds), status
    level_form = level_form or LevelForm(prefix="level", formdata=None)
    requirement_form = requirement_form or RequirementForm(prefix="requirement", formdata=None)
    requirement_form.level_id.choices = [SelectChoice(level.id, level.name) for level in level_list]
    return render_template("partner_status/levels.html", levels=level_list, level_form=level_form,
                           requirement_form=requirement_form, kinds=kinds), status


@blp.post("/partner-status/levels")
@login_required
def create_level():
    access.require(current_user, "partner_status.change")
    form = LevelForm(prefix="level")
    if form.validate_on_submit():
        rows = [row.form for row in form.requirements if (row.form.code.data or "").strip()]
        missing = False
        for row in rows:
            for f in (row.subject, row.minimum, row.deadline):
                if f.data in (None, ""):
                    f.errors = ["Needed for a requirement with a code."]
                    missing = True
        if not missing:
            try:
                level = levels.create_level(current_user, form.name.data, form.rank.data, [
                    (r.code.data, r.kind.data, r.subject.data, r.minimum.data, r.deadline.data) for r in rows])
            except DomainError as exc:
                _fail(exc, form)
                return _levels_page(exc.status, level_form=form)
            flash(f"Level {level.name} defined with {len(rows)} requirement(s).", "info")
            return redirect(url_for("partner_status_web.level_set"), 303)
    flash("Check the fields marked below.", "error")
    return _levels_page(400, level_form=form)


@blp.post("/partner-status/levels/requirements")
@login_required
def add_requirement():
    access.require(current_user, "partner_status.change")
    form = RequirementForm(prefix="requirement")
    if form.validate_on_submit():
        try:
            added = levels.add_requirement(current_user, form.level_id.data, (
                form.code.data, form.kind.data, form.subject.data, form.minimum.data, form.deadline.data))
        except DomainError as exc:
            _fail(exc, form)
            return _levels_page(exc.status, requirement_form=form)
        flash(f"Requirement {added.code} added.", "info")
        return redirect(url_for("partner_status_web.level_set"), 303)
    flash("Check the fields marked below.", "error")
    return _levels_page(400, requirement_form=form)


COLUMNS = ("partner", "tier", "region", "level", "level_valid_through", "next_review_on", "requirements_met",
           "requirements", "unmet", "waived", "programme", "period", "currency", "sales", "target",
           "attainment_percent", "projected_rebate")


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
        head = [text_cell(d.partner.name), d.partner.tier.value if d.partner.tier else "",
                text_cell(d.partner.region or ""),
                text_cell(d.level.name) if d.level else "", d.valid_through or "", d.next_review_on or "",
                sum(1 for s in d.requirements if s.met), len(d.requirements),
                text_cell(";".join(s.code for s in d.unmet)),
                text_cell(";".join(s.code for s in d.requirements if d.status_of(s) == "waived"))]
        for r in d.rebates or [None]:
            writer.writerow(head + ([text_cell(r.programme_name), r.period_label, r.currency, r.sales, r.target,
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
    form.partner_id.choices = [SelectChoice(*row) for row in db.session.execute(
        access.programme_partners(current_user).with_only_columns(Organisation.id, Organisation.name)
        .order_by(Organisation.name))]
    form.requirement_id.choices = [SelectChoice(int(choice.value), choice.label)
                                   for choice in _requirement_choices(level_set, None)]
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
