"""The API tests' row counts, to show that refused input writes nothing."""
from tests.api.conftest import row_counts  # noqa: F401
