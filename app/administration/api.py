"""/api/v1/admin: the vendor's support operations set up partners, customers, products and
certifications. Every operation is the vendor admin's alone (403 for every other role)."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.accounts.models import OrgKind
from app.administration import certifications, organisations, products
from app.administration.schemas import (CertificationQuerySchema, CertificationSchema, CustomerChangeSchema,
                                        CustomerInSchema, CustomerQuerySchema, CustomerSchema, ExtensionInSchema,
                                        ExtensionSchema, PartnerChangeSchema, PartnerInSchema, PartnerSchema,
                                        ProductModelChangeSchema, ProductModelInSchema, ProductModelSchema)
from app.api_base import Blueprint

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin",
                description="Setting up the programme: partners, customers, products, certifications")


# --- Partners ---------------------------------------------------------------------------------

@blp.route("/partners", methods=["GET"], endpoint="list_partners")
@blp.operation("list_partners", refuses=(403,))
@blp.response(200, PartnerSchema(many=True))
def list_partners():
    """Every partner organisation, by name, suspended ones included."""
    return organisations.list_organisations(api_user(), OrgKind.PARTNER)


@blp.route("/partners", methods=["POST"], endpoint="create_partner")
@blp.operation("create_partner", refuses=(403, 409))
@blp.arguments(PartnerInSchema, example={"name": "Tailspin Networks", "tier": "PW", "region": "APAC"})
@blp.response(201, PartnerSchema)
def create_partner(body):
    """A new partner organisation; 409 when an organisation already has the name (in any case)."""
    return organisations.create_partner(api_user(), body["name"], body["tier"], body["region"])


@blp.route("/partners/<int:partner_id>", methods=["GET"], endpoint="get_partner")
@blp.operation("get_partner", refuses=(403,))
@blp.response(200, PartnerSchema)
def get_partner(partner_id):
    """One partner organisation."""
    return organisations.get(api_user(), OrgKind.PARTNER, partner_id)


@blp.route("/partners/<int:partner_id>", methods=["PATCH"], endpoint="change_partner")
@blp.operation("change_partner", refuses=(403, 409))
@blp.arguments(PartnerChangeSchema, example={"tier": "PWP"})
@blp.response(200, PartnerSchema)
def update_partner(body, partner_id):
    """Rename a partner, change its tier or its region; only the fields sent change."""
    return organisations.update_partner(api_user(), partner_id, body)


@blp.route("/partners/<int:partner_id>/suspension", methods=["POST"], endpoint="suspend_partner")
@blp.operation("suspend_partner", refuses=(403, 409))
@blp.response(200, PartnerSchema)
def suspend_partner(partner_id):
    """Suspend a partner: its users and its customers' users cannot sign in, it cannot open cases
    or escalate; its open SRs stay with GTAC."""
    return organisations.suspend_partner(api_user(), partner_id)


@blp.route("/partners/<int:partner_id>/suspension", methods=["DELETE"], endpoint="reinstate_partner")
@blp.operation("reinstate_partner", refuses=(403, 409))
@blp.response(200, PartnerSchema)
def reinstate_partner(partner_id):
    """Reinstate a suspended partner: everything the suspension stopped works again."""
    return organisations.reinstate_partner(api_user(), partner_id)


# --- Customers --------------------------------------------------------------------------------

@blp.route("/customers", methods=["GET"], endpoint="list_customers")
@blp.operation("list_customers", refuses=(403,))
@blp.arguments(CustomerQuerySchema, location="query")
@blp.response(200, CustomerSchema(many=True))
def list_customers(query):
    """Every customer organisation with the partner serving it, by name."""
    return organisations.list_organisations(api_user(), OrgKind.CUSTOMER, partner_id=query.get("partner_id"))


@blp.route("/customers", methods=["POST"], endpoint="create_customer")
@blp.operation("create_customer", refuses=(403, 409, 422))
@blp.arguments(CustomerInSchema, example={"name": "Initech", "partner_id": 2})
@blp.response(201, CustomerSchema)
def create_customer(body):
    """A new customer organisation served by a partner (422 when that is no partner, or a suspended one)."""
    return organisations.create_customer(api_user(), body["name"], body["partner_id"])


@blp.route("/customers/<int:customer_id>", methods=["GET"], endpoint="get_customer")
@blp.operation("get_customer", refuses=(403,))
@blp.response(200, CustomerSchema)
def get_customer(customer_id):
    """One customer organisation."""
    return organisations.get(api_user(), OrgKind.CUSTOMER, customer_id)


@blp.route("/customers/<int:customer_id>", methods=["PATCH"], endpoint="change_customer")
@blp.operation("change_customer", refuses=(403, 409, 422))
@blp.arguments(CustomerChangeSchema, example={"partner_id": 3})
@blp.response(200, CustomerSchema)
def update_customer(body, customer_id):
    """Rename a customer or move it to another partner; only the fields sent change."""
    return organisations.update_customer(api_user(), customer_id, body)


# --- Products ---------------------------------------------------------------------------------

@blp.route("/products", methods=["GET"], endpoint="list_products")
@blp.operation("list_products", refuses=(403,))
@blp.response(200, ProductModelSchema(many=True))
def list_products():
    """Every product, by family and model."""
    return products.list_products(api_user())


@blp.route("/products", methods=["POST"], endpoint="create_product")
@blp.operation("create_product", refuses=(403, 409))
@blp.arguments(ProductModelInSchema, example={"family": "EXOS", "model": "X590-24x-1q-2c", "name": "ExtremeSwitching X590"})
@blp.response(201, ProductModelSchema)
def create_product(body):
    """A new model; a family already known in another case keeps the spelling it has (409 for a model
    the family already has, in any case)."""
    return products.create_product(api_user(), body["family"], body["model"], body["name"])


@blp.route("/products/<int:product_id>", methods=["PATCH"], endpoint="change_product")
@blp.operation("change_product", refuses=(403, 409))
@blp.arguments(ProductModelChangeSchema, example={"name": "ExtremeSwitching X465-48T"})
@blp.response(200, ProductModelSchema)
def update_product(body, product_id):
    """Rename a product or correct its family or model; only the fields sent change."""
    return products.update_product(api_user(), product_id, body)


# --- Certifications ---------------------------------------------------------------------------

@blp.route("/certifications", methods=["GET"], endpoint="list_certifications")
@blp.operation("list_certifications", refuses=(403,))
@blp.arguments(CertificationQuerySchema, location="query")
@blp.response(200, CertificationSchema(many=True))
def list_certifications(query):
    """Every partner's engineers' certifications with their expiry dates."""
    return certifications.list_certifications(api_user(), **query)


@blp.route("/certifications/extensions", methods=["POST"], endpoint="extend_certifications")
@blp.operation("extend_certifications", refuses=(403,))
@blp.arguments(ExtensionInSchema, example={"days": 90, "product_family": "EXOS", "expiring_before": "2027-01-01"})
@blp.response(200, ExtensionSchema)
def extend_certifications(body):
    """Programme-wide: move expiry dates later, for one family or every one, optionally only those
    expiring before a day. Each certification moved is audited."""
    moved = certifications.extend(api_user(), body["days"], body.get("product_family"), body.get("expiring_before"))
    return {"extended": moved, "days": body["days"]}
