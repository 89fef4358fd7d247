"""Product families and models. A family keeps the vendor's spelling and is one family in any
case: a new model of "exos" joins "EXOS" as the vendor spells it, and "EXOS"/"exos" with the same
model is one product (the unique index of migration 0014 backs the check up)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.administration import rules
from app.audit.services import record
from app.contracts.models import Product
from app.errors import Conflict, NotFound
from app.uow import UnitOfWork, unit_of_work

FAMILY_LENGTH, MODEL_LENGTH = 32, 100


def snapshot(product: Product) -> dict[str, Any]:
    return {"family": product.family, "model": product.model, "name": product.name}


def _unique():
    return rules.unique("Another admin added this product a moment ago.", "product_exists")


def list_products(actor: User) -> list[Product]:
    """Every product, by family then model."""
    access.require(actor, "product.manage")
    with unit_of_work() as uow:
        return list(uow.session.scalars(sa.select(Product).order_by(
            sa.func.lower(Product.family), sa.func.lower(Product.model))))


def get_product(actor: User, product_id: int) -> Product:
    access.require(actor, "product.manage")
    with unit_of_work() as uow:
        return _product(uow, product_id)


def _product(uow: UnitOfWork, product_id: int) -> Product:
    product = uow.session.get(Product, product_id)
    if product is None:
        raise NotFound(f"Product {product_id} not found.", code="product_not_found")
    return product


def create_product(actor: User, family, model, name) -> Product:
    access.require(actor, "product.manage")
    family, model, name = _family(family), _model(model), _name(name)
    with _unique(), unit_of_work() as uow:
        product = Product(family=_spelling(uow, family), model=model, name=name)
        _refuse_duplicate(uow, product.family, model)
        uow.session.add(product)
        uow.session.flush()
        record(actor, "product", product.id, "product.created", after=snapshot(product))
        return product


def update_product(actor: User, product_id: int, changes: dict[str, Any]) -> Product:
    """Rename a product, or correct its family or model; only the fields given change."""
    access.require(actor, "product.manage")
    wanted = {}
    if "family" in changes:
        wanted["family"] = _family(changes["family"])
    if "model" in changes:
        wanted["model"] = _model(changes["model"])
    if "name" in changes:
        wanted["name"] = _name(changes["name"])
    with _unique(), unit_of_work() as uow:
        product = _product(uow, product_id)
        before = snapshot(product)
        if "family" in wanted:
            wanted["family"] = _spelling(uow, wanted["family"], besides=product)
        family, model = wanted.get("family", product.family), wanted.get("model", product.model)
        if (family.lower(), model.lower()) != (product.family.lower(), product.model.lower()):
            _refuse_duplicate(uow, family, model)
        for attribute, value in wanted.items():
            setattr(product, attribute, value)
        if snapshot(product) != before:
            record(actor, "product", product.id, "product.updated", before=before, after=snapshot(product))
        return product


def _spelling(uow: UnitOfWork, family: str, besides: Product | None = None) -> str:
    """The family as the vendor already spells it, if any other product has it; else as given."""
    query = sa.select(Product.family).where(sa.func.lower(Product.family) == family.lower())
    if besides is not None:
        query = query.where(Product.id != besides.id)
    return uow.session.scalars(query.order_by(Product.id).limit(1)).first() or family


def _refuse_duplicate(uow: UnitOfWork, family: str, model: str) -> None:
    existing = uow.session.scalars(sa.select(Product).where(
        sa.func.lower(Product.family) == family.lower(), sa.func.lower(Product.model) == model.lower())).first()
    if existing is not None:
        raise Conflict(f"{existing.family} {existing.model} is already a product ({existing.name}).",
                       code="product_exists", details={"product_id": existing.id})


def _family(value) -> str:
    return rules.text("family", value, FAMILY_LENGTH, "a product family")


def _model(value) -> str:
    return rules.text("model", value, MODEL_LENGTH, "a model")


def _name(value) -> str:
    return rules.text("name", value, rules.NAME_LENGTH, "a name")

