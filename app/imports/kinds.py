"""Every kind of import this application has: importing this module registers them all."""
from app.imports import certifications, contracts, users  # noqa: F401
