"""The OpenAPI document's rules hold at start-up: a second enum under a taken name, or an operation
without a unique action name, stops the application from being built instead of reaching clients."""
from __future__ import annotations

import enum

import pytest
from flask import Flask
from marshmallow import Schema, fields

from app.api_base import Api, Blueprint
from app.api_spec import ConflictingEnum, choice_of

SPEC = {"API_TITLE": "t", "API_VERSION": "v1", "OPENAPI_VERSION": "3.0.3"}


class Colour(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class OtherColour(str, enum.Enum):
    RED = "red"
    GREEN = "green"


def build(*routes):
    """An application with one blueprint whose views are (operation_id, body schema) pairs."""
    app = Flask(__name__)
    app.config.update(SPEC)
    api = Api(app)
    blp = Blueprint("things", __name__, url_prefix="/things")
    for index, (operation_id, schema) in enumerate(routes):
        def view(body):
            return {}
        view.__name__ = f"view{index}"
        decorated = blp.arguments(schema)(view)
        if operation_id:
            decorated = blp.operation(operation_id)(decorated)
        blp.route(f"/{index}", methods=["POST"], endpoint=f"view{index}")(decorated)
    api.register_blueprint(blp)
    return api.spec.to_dict()


class Painted(Schema):
    colour = fields.Enum(Colour, by_value=True)
    wanted = fields.String(validate=choice_of(Colour), metadata={"description": "the colour asked for"})


class Repainted(Schema):
    colour = fields.Enum(OtherColour, by_value=True, metadata={"enum_name": "Colour"})


def test_an_enum_is_one_component_referred_to_by_every_field():
    document = build(("paint_thing", Painted))
    assert document["components"]["schemas"]["Colour"] == {"type": "string", "enum": ["red", "blue"]}
    properties = document["components"]["schemas"]["Painted"]["properties"]
    assert properties["colour"] == {"$ref": "#/components/schemas/Colour"}
    assert properties["wanted"] == {"allOf": [{"$ref": "#/components/schemas/Colour"}],
                                    "description": "the colour asked for"}


def test_two_enums_under_one_name_stop_the_start_up():
    with pytest.raises(ConflictingEnum, match="two enums named Colour"):
        build(("paint_thing", Painted), ("repaint_thing", Repainted))


@pytest.mark.parametrize("names", [(None,), ("PaintThing",), ("paint_thing", "paint_thing")])
def test_operations_without_a_unique_action_name_stop_the_start_up(names):
    with pytest.raises(ValueError, match="operationId"):
        build(*[(name, Painted) for name in names])
