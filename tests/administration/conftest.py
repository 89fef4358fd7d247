"""The API suite's callers and row counts serve the administration's tests too."""
from tests.api.conftest import callers, row_counts  # noqa: F401  (fixtures)
