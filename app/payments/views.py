"""Server-rendered payments pages for partners and the programmes team."""
from __future__ import annotations

from flask import Blueprint

blp = Blueprint("payments_web", __name__, template_folder="templates")
