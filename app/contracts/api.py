"""/api/v1/contracts: service contracts and their covered serials, one at a time (vendor admin)."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.contracts import services
from app.contracts.schemas import (ContractChangeSchema, ContractCreateSchema, ContractDetailSchema,
                                   ContractListQuerySchema, ContractPageSchema, CoveredSerialSchema,
                                   SerialCreateSchema)

blp = Blueprint("contracts", __name__, url_prefix="/api/v1/contracts", description="Service contracts")


@blp.route("", methods=["GET"], endpoint="list")
@blp.operation("list_contracts", refuses=(403,))
@blp.arguments(ContractListQuerySchema, location="query")
@blp.response(200, ContractPageSchema)
def list_contracts(args):
    """Service contracts, newest first (keyset pagination); `number` finds one by its number."""
    return services.list_contracts(api_user(), args["limit"], args.get("cursor"), args.get("number"))


@blp.route("", methods=["POST"], endpoint="create")
@blp.operation("create_contract", refuses=(403, 409, 422))
@blp.arguments(ContractCreateSchema, example={
    "number": "PWP-INITECH-2027", "level": "PWP", "customer_id": 4, "starts_on": "2027-01-01",
    "ends_on": "2027-12-31"})
@blp.response(201, ContractDetailSchema)
def create_contract(body):
    """Create a contract (level PW or PWP) for a customer organisation; it ends on or after its start."""
    return services.create_contract(api_user(), **body)


@blp.route("/<int:contract_id>", methods=["GET"], endpoint="get")
@blp.operation("get_contract", refuses=(403,))
@blp.response(200, ContractDetailSchema)
def get_contract(contract_id):
    """One contract with the serials it covers."""
    return services.get_contract(api_user(), contract_id)


@blp.route("/<int:contract_id>", methods=["PATCH"], endpoint="change")
@blp.operation("change_contract", refuses=(403, 422))
@blp.arguments(ContractChangeSchema, example={"ends_on": "2028-12-31"})
@blp.response(200, ContractDetailSchema)
def change_contract(body, contract_id):
    """Change the level, customer or dates; refused if a serial would then be on two customers' contracts
    in force on the same day."""
    return services.update_contract(api_user(), contract_id, body)


@blp.route("/<int:contract_id>/serials", methods=["POST"], endpoint="add_serial")
@blp.operation("add_covered_serial", refuses=(403, 409, 422))
@blp.arguments(SerialCreateSchema, example={"serial_number": "INI-0003", "product_model": "X465-48T"})
@blp.response(201, CoveredSerialSchema)
def add_serial(body, contract_id):
    """Cover a serial number (of a known product model) by the contract."""
    return services.add_serial(api_user(), contract_id, body["serial_number"], body["product_model"])


@blp.route("/<int:contract_id>/serials/<serial_number>", methods=["DELETE"], endpoint="remove_serial")
@blp.operation("remove_covered_serial", refuses=(403,))
@blp.response(204)
def remove_serial(contract_id, serial_number):
    """Stop covering a serial number by the contract."""
    services.remove_serial(api_user(), contract_id, serial_number)
