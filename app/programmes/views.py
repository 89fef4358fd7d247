"""Rebate programme pages: the programmes team's desk and the partner's rebate portal."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from marshmallow import validate
from wtforms import BooleanField, DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from app import access
from app.accounts.models import Organisation
from app.bounds import form_id
from app.errors import DomainError
from app.extensions import db
from app.files.uploads import release_uploads
from app.payments.money import PERIOD, parse_amount
from app.programmes import attainment, closing, sales, services, targets
from app.programmes.chart import attainment_chart
from app.programmes.percent import format_bp, parse_bp
from app.programmes.portal import portal_page
from app.programmes.schemas import TierSchema
from app.query_args import chosen_id

blp = Blueprint("programmes_web", __name__, template_folder="templates")


def _api_most_bp(name: str) -> int:
    """The largest value the API takes for a tier's field, so the page takes exactly the tiers it does."""
    return next(v.max for v in TierSchema().fields[name].validators if isinstance(v, validate.Range))


_MOST_FROM_BP, _MOST_RATE_BP = _api_most_bp("from_bp"), _api_most_bp("rate_bp")


def _tier_bp(field, most_bp: int) -> int | None:
    try:
        return parse_bp(field.data or "", most_bp)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class TierForm(Form):
    """One row of a programme's tiers; a row left blank is no tier."""

    from_pct = StringField("From % of target")
    rate_pct = StringField("Rebate rate %")
    tier: tuple[int, int] | None = None

    def validate_from_pct(self, field):
        self.from_bp = _tier_bp(field, _MOST_FROM_BP)

    def validate_rate_pct(self, field):
        self.rate_bp = _tier_bp(field, _MOST_RATE_BP)

    def validate(self, extra_validators=None) -> bool:
        self.tier = None
        if not super().validate(extra_validators):
            return False
        if (self.from_bp is None) != (self.rate_bp is None):
            blank = self.from_pct if self.from_bp is None else self.rate_pct
            blank.errors.append("Needed too, or leave the whole row blank.")
            return False
        if self.from_bp is not None:
            self.tier = (self.from_bp, self.rate_bp)
        return True


TIER_ROWS = 6


def _default_tier_rows() -> list[dict]:
    return [{"from_pct": format_bp(start), "rate_pct": format_bp(rate)} for start, rate in services.DEFAULT_TIERS]


class ProgrammeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    currency = StringField("Currency", default="USD", validators=[DataRequired(), Length(min=3, max=3)])
    baseline = StringField("Baseline target per partner and quarter", validators=[DataRequired(), Length(max=20)])
    # Named as the service's field, so its refusal of the tiers lands here.
    tiers = FieldList(FormField(TierForm), min_entries=TIER_ROWS, max_entries=TIER_ROWS, default=_default_tier_rows)

    def validate_tiers(self, field):
        if not field.errors and not self.chosen_tiers():
            raise ValidationError("At least one tier, e.g. from 0 % of target a rate of 0 %.")

    def chosen_tiers(self) -> list[tuple[int, int]]:
        """(threshold bp, rate bp) of each filled row, once validated."""
        return [entry.form.tier for entry in self.tiers if entry.form.tier is not None]


class PeriodForm(FlaskForm):
    label = StringField("Quarter", validators=[DataRequired(), Regexp(PERIOD, message="Like 2026-Q4.")])
    starts_on = DateField("First day", validators=[InputRequired()])
    ends_on = DateField("Last day", validators=[InputRequired()])


class TargetForm(FlaskForm):
    partner_id = SelectField("Partner", coerce=form_id, validate_choice=False, validators=[InputRequired()])
    amount = StringField("Target", validators=[DataRequired(), Length(max=20)])
    effective_from = DateField("From", validators=[InputRequired()])


class AlleviationForm(FlaskForm):
    effective_from = DateField("From", validators=[InputRequired()])
    percent = StringField("Lower targets by (%)", validators=[DataRequired(), Length(max=8)])
    tier = SelectField("Partner tier", choices=[SelectChoice("", "All tiers"), SelectChoice("PW"), SelectChoice("PWP")])
    region = StringField("Region (empty: all)", validators=[Length(max=16)])
    reason = TextAreaField("Reason the partners read", validators=[Length(max=2000)])


class SalesForm(FlaskForm):
    bookings = FileField("Bookings (CSV)", validators=[FileRequired()])
    dry_run = BooleanField("Dry run: check only, write nothing")
    skip_bad = BooleanField("Import the good lines even if some are bad")


def _minor(text: str, currency: str) -> int:
    return parse_amount(text, currency, zero=True)


def _bp(percent: str) -> int:
    """An alleviation's cut; how much of a target may go is the service's rule."""
    bp = parse_bp(percent, 99_999)
    if bp is None:
        raise ValueError("A percentage such as 80 or 92.5.")
    return bp


def _fail(exc: DomainError, form=None) -> None:
    for name, messages in (exc.details or {}).get("fields", {}).items():
        if form is not None and name in form:
            form[name].errors = list(messages)
    flash(exc.message, "error")


@blp.route("/programmes", methods=["GET", "POST"])
@login_required
def index():
    if not access.allowed(current_user, "programme.manage"):
        return redirect(url_for("programmes_web.portal"))
    form = ProgrammeForm()
    if form.validate_on_submit():
        currency = form.currency.data.strip().upper()
        try:
            programme = services.create_programme(current_user, form.name.data, currency,
                                                  _minor(form.baseline.data, currency), form.chosen_tiers())
        except ValueError as exc:
            form.baseline.errors = [str(exc)]
        except DomainError as exc:
            _fail(exc, form)
        else:
            flash(f"Programme {programme.name} created.", "info")
            return redirect(url_for("programmes_web.detail", programme_id=programme.id), 303)
    # A post that gets here was refused, even when the refusal (a name taken) names no field.
    return render_template("programmes/index.html", programmes=services.list_programmes(current_user),
                           form=form), 400 if request.method == "POST" else 200


def _partner_choices():
    return [SelectChoice(*row) for row in db.session.execute(
        access.programme_partners(current_user).with_only_columns(Organisation.id, Organisation.name)
        .order_by(Organisation.name))]


@blp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@login_required
def detail(programme_id: int):
    access.require(current_user, "programme.manage")
    programme = services.get_programme(current_user, programme_id)
    period_form, target_form = PeriodForm(prefix="period"), TargetForm(prefix="target")
    target_form.partner_id.choices = _partner_choices()
    status = 200
    if request.method == "POST":
        status = 400
        if request.form.get("form") == "period" and period_form.validate_on_submit():
            try:
                period = services.add_period(current_user, programme.id, period_form.label.data,
                                             period_form.starts_on.data, period_form.ends_on.data)
            except DomainError as exc:
                _fail(exc, period_form)
            else:
                flash(f"Period {period.label} added.", "info")
                return redirect(url_for("programmes_web.detail", programme_id=programme.id), 303)
        elif request.form.get("form") == "target" and target_form.validate_on_submit():
            try:
                targets.set_target(current_user, programme.id, target_form.partner_id.data,
                                   _minor(target_form.amount.data, programme.currency),
                                   target_form.effective_from.data)
            except ValueError as exc:
                target_form.amount.errors = [str(exc)]
            except DomainError as exc:
                _fail(exc, target_form)
            else:
                flash("Target set.", "info")
                return redirect(url_for("programmes_web.detail", programme_id=programme.id), 303)
    programme = services.get_programme(current_user, programme_id)
    return render_template("programmes/detail.html", programme=programme, period_form=period_form,
                           target_form=target_form), status


@blp.route("/programmes/<int:programme_id>/alleviation", methods=["GET", "POST"])
@login_required
def alleviation(programme_id: int):
    """Lower targets: the first post previews every partner affected, the second applies what was shown."""
    access.require(current_user, "programme.manage")
    programme = services.get_programme(current_user, programme_id)
    form, preview = AlleviationForm(), None
    if form.validate_on_submit():
        try:
            cut = dict(effective_from=form.effective_from.data, reduction_bp=_bp(form.percent.data),
                       tier=form.tier.data or None, region=(form.region.data or "").strip() or None)
            if request.form.get("action") == "apply":
                _done, applied = targets.apply_alleviation(current_user, programme.id, reason=form.reason.data or "",
                                                           preview_digest=request.form.get("digest"), **cut)
                flash(f"Targets lowered for {len(applied.rows)} partner(s) from {cut['effective_from']}; "
                      "the partners are told by e-mail.", "info")
                return redirect(url_for("programmes_web.period", programme_id=programme.id,
                                        period_id=applied.period.id), 303)
            preview = targets.preview_alleviation(current_user, programme.id, **cut)
        except ValueError as exc:
            form.percent.errors = [str(exc)]
        except DomainError as exc:
            _fail(exc, form)
            preview = None
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template("programmes/alleviation.html", programme=programme, form=form, preview=preview), status


@blp.route("/programmes/sales", methods=["GET", "POST"])
@login_required
def import_sales():
    access.require(current_user, "sales.import")
    form, report = SalesForm(), None
    try:
        if form.validate_on_submit():
            upload = form.bookings.data
            upload.stream.seek(0)
            report = sales.import_sales(current_user, sales.text_lines(upload.stream), upload.filename,
                                        dry_run=form.dry_run.data, skip_bad=form.skip_bad.data)
    finally:
        release_uploads()
    status = 400 if (request.method == "POST" and (report is None or (report.bad_count and not report.written
                                                                        and not report.dry_run))) else 200
    return render_template("programmes/sales.html", form=form, report=report), status


@blp.get("/programmes/<int:programme_id>/periods/<int:period_id>")
@login_required
def period(programme_id: int, period_id: int):
    access.require(current_user, "programme.manage")
    programme = services.get_programme(current_user, programme_id)
    period_row, rows = attainment.list_attainment(current_user, programme_id, period_id)
    _p, settlements = closing.list_settlements(current_user, programme_id, period_id)
    return render_template("programmes/period.html", programme=programme, period=period_row, rows=rows,
                           settlements=settlements, form=FlaskForm())


@blp.post("/programmes/<int:programme_id>/periods/<int:period_id>/close")
@login_required
def close(programme_id: int, period_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        period_row, settlements, closed_now = closing.close_period(current_user, programme_id, period_id)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        claims = sum(1 for s in settlements if s.claim_id)
        flash(f"{period_row.label} closed: {claims} rebate claim(s) wait for approval." if closed_now
              else f"{period_row.label} was closed already; no claim was created again.", "info")
    return redirect(url_for("programmes_web.period", programme_id=programme_id, period_id=period_id), 303)


@blp.post("/programmes/<int:programme_id>/periods/<int:period_id>/approve")
@login_required
def approve(programme_id: int, period_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        approved = closing.approve_period(current_user, programme_id, period_id)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"{len(approved)} rebate claim(s) approved; their payouts have started.", "info")
    return redirect(url_for("programmes_web.period", programme_id=programme_id, period_id=period_id), 303)


@blp.get("/rebates")
@login_required
def portal():
    """The partner's rebate portal: its sales against target in the current quarter, with a chart."""
    access.require(current_user, "attainment.read")
    partner_id = access.own_partner(current_user)
    if partner_id is None:
        return redirect(url_for("programmes_web.index"))
    return _portal(partner_id, chosen_id("programme", "programme"), chosen_id("period", "period"))


@blp.get("/programmes/<int:programme_id>/periods/<int:period_id>/partners/<int:partner_id>")
@login_required
def partner_portal(programme_id: int, period_id: int, partner_id: int):
    """A partner's portal as the programmes team (or the partner itself) sees it."""
    return _portal(partner_id, programme_id, period_id)


def _portal(partner_id: int, programme_id: int | None, period_id: int | None):
    shown = portal_page(current_user, partner_id, programme_id, period_id)
    others = [(other.name, url_for("programmes_web.partner_portal", programme_id=other.id, period_id=period.id,
                                   partner_id=shown.partner.id)) for other, period in shown.others]
    chart = shown.found and attainment_chart(shown.found, shown.programme.tiers, shown.period.label)
    return render_template("programmes/portal.html", partner=shown.partner, programme=shown.programme,
                           others=others, period=shown.period, found=shown.found, history=shown.history,
                           tiers=shown.programme.tiers if shown.programme else [], chart=chart)
