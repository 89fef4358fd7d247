"""Reading what a page's address asks for."""
from __future__ import annotations

from flask import request

from app.bounds import form_id
from app.errors import InvalidInput


def chosen_id(name: str, what: str) -> int | None:
    """The id a page's filter chose in ?<name>= (None when left empty). Anything but an id is a 400
    that says so: a filter quietly dropped would show a list the person did not ask for."""
    value = request.args.get(name, "")
    if value == "":
        return None
    try:
        return form_id(value)
    except ValueError:
        raise InvalidInput(f"The {what} chosen is not one this page offers.",
                           details={"fields": {name: ["Not a valid choice."]}}) from None
