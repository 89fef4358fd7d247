"""The vendor admin's contract pages: list and create contracts, change one, add and remove its serials.
The same services as /api/v1/contracts."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.accounts.models import PartnerTier
from app.contracts import rules, services
from app.errors import DomainError, Forbidden, NotFound
from app.pagination import DEFAULT_LIMIT

blp = Blueprint("contracts_web", __name__, template_folder="templates")
LEVELS = [SelectChoice(tier.value, tier.value) for tier in PartnerTier]


class ContractChangeForm(FlaskForm):
    """A contract's terms; its number is its key in the ERP's exports and does not change."""

    level = SelectField("Level", choices=LEVELS)
    customer_id = SelectField("Customer", coerce=int)
    starts_on = DateField("Starts on", validators=[DataRequired()])
    ends_on = DateField("Ends on", validators=[DataRequired()])


class ContractForm(ContractChangeForm):
    number = StringField("Contract number", validators=[DataRequired(), Length(max=rules.NUMBER_MAX)])


class SerialForm(FlaskForm):
    serial_number = StringField("Serial number", validators=[DataRequired(), Length(max=rules.SERIAL_MAX)])
    product_model = StringField("Product model", validators=[DataRequired(), Length(max=100)])


def _with_customers(form):
    form.customer_id.choices = [SelectChoice(c.id, c.name) for c in services.customers(current_user)]
    return form


def _list_page(form=None, error: str | None = None, status: int = 200):
    page = services.list_contracts(current_user, DEFAULT_LIMIT, request.args.get("cursor") or None,
                                   (request.args.get("number") or "").strip() or None)
    return render_template("contracts/contracts.html", page=page, form=form or _with_customers(ContractForm()),
                           error=error, number=request.args.get("number", "")), status


@blp.get("/admin/contracts")
@login_required
def contracts():
    return _list_page()


@blp.post("/admin/contracts")
@login_required
def create():
    form = _with_customers(ContractForm())
    if not form.validate_on_submit():
        return _list_page(form, status=400)
    try:
        contract = services.create_contract(current_user, form.number.data, form.level.data, form.customer_id.data,
                                            form.starts_on.data, form.ends_on.data)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return _list_page(form, error=exc.message, status=exc.status)
    flash(f"Contract {contract.number} created.", "info")
    return redirect(url_for("contracts_web.contract", contract_id=contract.id), 303)


def _contract_page(contract_id: int, change_form=None, serial_form=None, error: str | None = None,
                   status: int = 200):
    contract = services.get_contract(current_user, contract_id)
    if change_form is None:
        change_form = _with_customers(ContractChangeForm(obj=contract, level=contract.level.value))
    return render_template("contracts/contract.html", contract=contract, change_form=change_form,
                           serial_form=serial_form or SerialForm(formdata=None), error=error,
                           serials=sorted(contract.serials, key=lambda s: s.serial_number)), status


@blp.get("/admin/contracts/<int:contract_id>")
@login_required
def contract(contract_id: int):
    return _contract_page(contract_id)


@blp.post("/admin/contracts/<int:contract_id>")
@login_required
def change(contract_id: int):
    services.get_contract(current_user, contract_id)
    form = _with_customers(ContractChangeForm())
    if not form.validate_on_submit():
        return _contract_page(contract_id, change_form=form, status=400)
    try:
        services.update_contract(current_user, contract_id, {
            "level": form.level.data, "customer_id": form.customer_id.data,
            "starts_on": form.starts_on.data, "ends_on": form.ends_on.data})
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return _contract_page(contract_id, change_form=form, error=exc.message, status=exc.status)
    flash("Contract saved.", "info")
    return redirect(url_for("contracts_web.contract", contract_id=contract_id), 303)


@blp.post("/admin/contracts/<int:contract_id>/serials")
@login_required
def add_serial(contract_id: int):
    services.get_contract(current_user, contract_id)
    form = SerialForm()
    if not form.validate_on_submit():
        return _contract_page(contract_id, serial_form=form, status=400)
    try:
        covered = services.add_serial(current_user, contract_id, form.serial_number.data, form.product_model.data)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return _contract_page(contract_id, serial_form=form, error=exc.message, status=exc.status)
    flash(f"Serial {covered.serial_number} added.", "info")
    return redirect(url_for("contracts_web.contract", contract_id=contract_id, _anchor="serials"), 303)


@blp.post("/admin/contracts/<int:contract_id>/serials/<serial_number>/removal")
@login_required
def remove_serial(contract_id: int, serial_number: str):
    services.remove_serial(current_user, contract_id, serial_number)
    flash(f"Serial {serial_number} removed from the contract.", "info")
    return redirect(url_for("contracts_web.contract", contract_id=contract_id, _anchor="serials"), 303)
