"""The vendor admin's pages: partners (add, edit, suspend, reinstate), customers (add, rename, move
to another partner), products, and every partner's certifications with programme-wide extensions.
Each form calls the same service as /api/v1/admin; a refusal is shown on the form that caused it."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.accounts.models import OrgKind, PartnerTier
from app.accounts.services import LONGEST_EXTENSION_DAYS
from app.administration import certifications, organisations, products
from app.administration.products import FAMILY_LENGTH, MODEL_LENGTH
from app.bounds import form_id
from app.administration.rules import NAME_LENGTH, REGIONS
from app.errors import DomainError, Forbidden, NotFound
from app.query_args import chosen_id

blp = Blueprint("admin_web", __name__, template_folder="templates")

TIER_CHOICES = [SelectChoice(PartnerTier.PW.value, "PartnerWorks (PW)"),
                SelectChoice(PartnerTier.PWP.value, "PartnerWorks Plus (PWP)")]
REGION_CHOICES = [SelectChoice(region) for region in REGIONS]


def _name_field():
    return StringField("Name", validators=[DataRequired(message="Give a name."), Length(max=NAME_LENGTH)])


class PartnerForm(FlaskForm):
    name = _name_field()
    tier = SelectField("Tier", choices=TIER_CHOICES)
    region = SelectField("Region", choices=REGION_CHOICES)


class CustomerForm(FlaskForm):
    name = _name_field()
    partner_id = SelectField("Served by", coerce=form_id, validate_choice=False,
                             validators=[InputRequired(message="Choose the partner serving it.")])


class ProductForm(FlaskForm):
    family = StringField("Product family", validators=[DataRequired(message="Give the family."),
                                                       Length(max=FAMILY_LENGTH)])
    model = StringField("Model", validators=[DataRequired(message="Give the model."), Length(max=MODEL_LENGTH)])
    name = _name_field()


class ExtensionForm(FlaskForm):
    days = IntegerField("Days to add", validators=[
        InputRequired(message="Give a number of days."),
        NumberRange(min=1, max=LONGEST_EXTENSION_DAYS, message=f"From 1 to {LONGEST_EXTENSION_DAYS} days.")])
    product_family = SelectField("Product family", validate_choice=False)
    expiring_before = DateField("Only those expiring before", validators=[Optional()])


def _refused(form: FlaskForm, error: DomainError) -> str | None:
    """Put a refusal's field messages on the form's fields; the message left for the form as a whole."""
    placed = False
    for name, messages in (error.details.get("fields") or {}).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
            placed = True
    return None if placed else error.message


def _submit(form: FlaskForm, call):
    """Validate the form and call the service: (result, None, 200) or (None, error message, status)."""
    if not form.validate_on_submit():
        return None, None, 400
    try:
        return call(), None, 200
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return None, _refused(form, exc), exc.status


@blp.get("/admin")
@login_required
def index():
    """Where the vendor admin starts: what there is to set up, and how much of it."""
    models = products.list_products(current_user)
    return render_template("administration/index.html",
                           partners=organisations.list_organisations(current_user, OrgKind.PARTNER),
                           customers=organisations.list_organisations(current_user, OrgKind.CUSTOMER),
                           models=len(models), families=len({p.family.casefold() for p in models}),
                           certifications=certifications.list_certifications(current_user))


# --- Partners ---------------------------------------------------------------------------------

def _partners_page(form: PartnerForm | None = None, error: str | None = None, status: int = 200):
    return render_template("administration/partners.html",
                           partners=organisations.list_organisations(current_user, OrgKind.PARTNER),
                           form=form or PartnerForm(formdata=None), error=error), status


@blp.get("/admin/partners")
@login_required
def partners():
    return _partners_page()


@blp.post("/admin/partners")
@login_required
def create_partner():
    form = PartnerForm()
    partner, error, status = _submit(form, lambda: organisations.create_partner(
        current_user, form.name.data, form.tier.data, form.region.data))
    if partner is None:
        return _partners_page(form, error, status)
    flash(f"Partner {partner.name} added.", "info")
    return redirect(url_for("admin_web.partner", partner_id=partner.id), 303)


def _partner_page(partner_id: int, form: PartnerForm | None = None, error: str | None = None, status: int = 200):
    partner = organisations.get(current_user, OrgKind.PARTNER, partner_id)
    if form is None:
        form = PartnerForm(formdata=None, data={"name": partner.name, "tier": partner.tier.value,
                                                "region": partner.region})
    return render_template(
        "administration/partner.html", partner=partner, form=form, error=error,
        customers=organisations.list_organisations(current_user, OrgKind.CUSTOMER, partner_id=partner.id),
        certifications=certifications.list_certifications(current_user, partner_id=partner.id)), status


@blp.get("/admin/partners/<int:partner_id>")
@login_required
def partner(partner_id: int):
    return _partner_page(partner_id)


@blp.post("/admin/partners/<int:partner_id>")
@login_required
def update_partner(partner_id: int):
    form = PartnerForm()
    changes = {"name": form.name.data, "tier": form.tier.data, "region": form.region.data}
    partner, error, status = _submit(form, lambda: organisations.update_partner(current_user, partner_id, changes))
    if partner is None:
        return _partner_page(partner_id, form, error, status)
    flash(f"Partner {partner.name} saved.", "info")
    return redirect(url_for("admin_web.partner", partner_id=partner.id), 303)


@blp.post("/admin/partners/<int:partner_id>/suspension")
@login_required
def suspend_partner(partner_id: int):
    return _suspension(partner_id, organisations.suspend_partner,
                       "{} is suspended: its users and its customers' users cannot sign in, and it cannot open "
                       "cases or escalate. Its open SRs stay with GTAC.")


@blp.post("/admin/partners/<int:partner_id>/reinstatement")
@login_required
def reinstate_partner(partner_id: int):
    return _suspension(partner_id, organisations.reinstate_partner,
                       "{} is reinstated: its users can sign in, open cases and escalate again.")


def _suspension(partner_id: int, change, done: str):
    try:
        partner = change(current_user, partner_id)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(done.format(partner.name), "info")
    return redirect(url_for("admin_web.partner", partner_id=partner_id), 303)


# --- Customers --------------------------------------------------------------------------------

def _partner_choices(form: CustomerForm, keep: int | None = None) -> CustomerForm:
    """The partners a customer may be served by: those not suspended (and the one it has)."""
    choices = [SelectChoice(p.id, p.name) for p in organisations.list_organisations(current_user, OrgKind.PARTNER)
               if not p.suspended or p.id == keep]
    form.partner_id.choices = [SelectChoice(0, "Choose a partner…"), *choices] if keep is None else choices
    return form


def _customers_page(form: CustomerForm | None = None, error: str | None = None, status: int = 200):
    partner_id = chosen_id("partner", "partner")
    return render_template(
        "administration/customers.html",
        customers=organisations.list_organisations(current_user, OrgKind.CUSTOMER),
        form=_partner_choices(form or CustomerForm(formdata=None, data={"partner_id": partner_id or 0})),
        error=error), status


@blp.get("/admin/customers")
@login_required
def customers():
    return _customers_page()


@blp.post("/admin/customers")
@login_required
def create_customer():
    form = CustomerForm()
    customer, error, status = _submit(form, lambda: organisations.create_customer(
        current_user, form.name.data, form.partner_id.data))
    if customer is None:
        return _customers_page(form, error, status)
    flash(f"Customer {customer.name} added, served by {customer.partner.name}.", "info")
    return redirect(url_for("admin_web.customer", customer_id=customer.id), 303)


def _customer_page(customer_id: int, form: CustomerForm | None = None, error: str | None = None,
                   status: int = 200):
    customer = organisations.get(current_user, OrgKind.CUSTOMER, customer_id)
    form = form or CustomerForm(formdata=None, data={"name": customer.name, "partner_id": customer.partner_id})
    return render_template("administration/customer.html", customer=customer, error=error,
                           form=_partner_choices(form, keep=customer.partner_id)), status


@blp.get("/admin/customers/<int:customer_id>")
@login_required
def customer(customer_id: int):
    return _customer_page(customer_id)


@blp.post("/admin/customers/<int:customer_id>")
@login_required
def update_customer(customer_id: int):
    form = CustomerForm()
    changes = {"name": form.name.data, "partner_id": form.partner_id.data}
    customer, error, status = _submit(form, lambda: organisations.update_customer(
        current_user, customer_id, changes))
    if customer is None:
        return _customer_page(customer_id, form, error, status)
    flash(f"Customer {customer.name} saved, served by {customer.partner.name}.", "info")
    return redirect(url_for("admin_web.customer", customer_id=customer.id), 303)


# --- Products ---------------------------------------------------------------------------------

def _products_page(form: ProductForm | None = None, error: str | None = None, status: int = 200):
    return render_template("administration/products.html", products=products.list_products(current_user),
                           form=form or ProductForm(formdata=None), error=error), status


@blp.get("/admin/products")
@login_required
def products_page():
    return _products_page()


@blp.post("/admin/products")
@login_required
def create_product():
    form = ProductForm()
    product, error, status = _submit(form, lambda: products.create_product(
        current_user, form.family.data, form.model.data, form.name.data))
    if product is None:
        return _products_page(form, error, status)
    flash(f"{product.family} {product.model} ({product.name}) added.", "info")
    return redirect(url_for("admin_web.products_page"), 303)


def _product_page(product_id: int, form: ProductForm | None = None, error: str | None = None, status: int = 200):
    product = products.get_product(current_user, product_id)
    form = form or ProductForm(formdata=None, obj=product)
    return render_template("administration/product.html", product=product, form=form, error=error), status


@blp.get("/admin/products/<int:product_id>")
@login_required
def product(product_id: int):
    return _product_page(product_id)


@blp.post("/admin/products/<int:product_id>")
@login_required
def update_product(product_id: int):
    form = ProductForm()
    changes = {"family": form.family.data, "model": form.model.data, "name": form.name.data}
    product, error, status = _submit(form, lambda: products.update_product(current_user, product_id, changes))
    if product is None:
        return _product_page(product_id, form, error, status)
    flash(f"{product.family} {product.model} ({product.name}) saved.", "info")
    return redirect(url_for("admin_web.products_page"), 303)


# --- Certifications ---------------------------------------------------------------------------

def _certifications_page(form: ExtensionForm | None = None, error: str | None = None, status: int = 200):
    partner_id = chosen_id("partner", "partner")
    family = (request.args.get("family") or "").strip() or None
    families = sorted({p.family for p in products.list_products(current_user)}, key=str.casefold)
    form = form or ExtensionForm(formdata=None)
    form.product_family.choices = [SelectChoice("", "Every family"), *(SelectChoice(f) for f in families)]
    return render_template(
        "administration/certifications.html", form=form, error=error, families=families,
        partners=organisations.list_organisations(current_user, OrgKind.PARTNER),
        chosen_partner=partner_id, chosen_family=family,
        certifications=certifications.list_certifications(current_user, partner_id=partner_id,
                                                          product_family=family)), status


@blp.get("/admin/certifications")
@login_required
def certifications_page():
    return _certifications_page()


@blp.post("/admin/certifications/extensions")
@login_required
def extend_certifications():
    form = ExtensionForm()
    form.product_family.choices = []  # any family: the service matches it in any case
    moved, error, status = _submit(form, lambda: certifications.extend(
        current_user, form.days.data, form.product_family.data or None, form.expiring_before.data))
    if moved is None:
        return _certifications_page(form, error, status)
    scope = f"{form.product_family.data} " if form.product_family.data else ""
    before = f" expiring before {form.expiring_before.data.isoformat()}" if form.expiring_before.data else ""
    flash(f"{moved} {scope}certification(s){before} extended by {form.days.data} day(s).", "info")
    return redirect(url_for("admin_web.certifications_page"), 303)
