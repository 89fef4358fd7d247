"""The API tests' row counts (refused input writes nothing) and the pages' signed-in clients."""
from tests.api.conftest import row_counts  # noqa: F401
from tests.payments.conftest import signed_in  # noqa: F401
