"""WSGI entry point: `gunicorn wsgi:app`."""
import gc

from app import create_app

app = create_app()
# The application's long-lived objects (routes, schemas, templates, loaded data files) never
# become garbage; moving them out of the collector's reach spares every request the full
# collections that would otherwise walk them again (pauses of about 100 ms were measured).
gc.freeze()
