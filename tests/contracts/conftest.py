from tests.imports.conftest import rows, vendor_admin  # noqa: F401  (the same callers and counts)
