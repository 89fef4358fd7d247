"""Test set-up: a real database built by the migrations, in a known state at the start of every test
(tests/database.py).

The database is SQLite in a temporary folder, or PostgreSQL when
TEST_DATABASE_URL is set (CI runs the suite both ways). Outbox events run
eagerly after each commit, or, when TEST_REDIS_URL names a Redis that answers,
through real RQ on it (tests/rq_path.py); that Redis database is emptied after every test.
"""
from __future__ import annotations

import os
from base64 import b64encode
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from app import create_app
from app.clock import FixedClock
from app.demo.seed import DEMO_PASSWORD, seed_demo
from app.extensions import db
from tests.database import DEMO, EMPTY, TOKENS, DatabaseStates
from tests.rq_path import DrainingDispatcher

pytest_plugins = ["tests.browser", "tests.oidc_provider"]

DEMO_EMAILS = {
    "engineer": "engineer@northwind.example",
    "admin": "admin@northwind.example",
    "customer": "customer@acme.example",
    "contoso": "engineer@contoso.example",
    "fabrikam": "customer@fabrikam.example",
    "gtac": "gtac@vendor.example",
    "manager": "manager@vendor.example",
    "programs": "programs@vendor.example",
    "vendor_admin": "vendor-admin@vendor.example",
}


# How far below its first Redis database a worker's second one lies: 8 xdist workers fit in Redis's 16.
APART = 8


# Files of one test that runs for minutes (a stateful property test, the API fuzzer): collected
# first, so that under xdist's loadfile (with --no-loadscope-reorder, as .ci/run calls it) each goes
# to a worker of its own at the start, rather than one starting late and running alone while the
# other workers have finished.
LONG_FILES = ("tests/payments/test_ledger_properties.py", "tests/api/test_fuzzing.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.nodeid.partition("::")[0] not in LONG_FILES)  # stable: order kept


def worker_index() -> int:
    """Which pytest-xdist worker runs this process (0 for gw0 and without xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def database_url(tmp_path_factory) -> str:
    """The suite's database: SQLite in this worker's temporary folder, or TEST_DATABASE_URL
    (under xdist each worker gets a database of its own beside it, named <name>_gw<n>)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base, _, name = url.rpartition("/")
    own = f"{name}_{worker}"
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own,)).fetchone():
            server.execute(f'CREATE DATABASE "{own}"')
    return f"{base}/{own}"


def worker_redis_url(default: str | None = None, *, apart: bool = False) -> str | None:
    """TEST_REDIS_URL (or `default`), moved to a database number of this xdist worker's own:
    queue names are fixed, so two workers on one Redis database would take each other's jobs.

    `apart`: a second database of the worker's, for tests that start RQ workers and queues of
    their own, so that nothing of theirs can take the suite's jobs (tests/rq_path.py).
    """
    url = os.environ.get("TEST_REDIS_URL", default)
    if not url:
        return url
    base, _, number = url.rpartition("/")
    moved = int(number or 0) - worker_index() - (APART if apart else 0)
    if moved < 0:
        raise ValueError(f"TEST_REDIS_URL {url}: its database number leaves none for this worker "
                         f"(each worker counts down from it, by {APART} for its second database)")
    return f"{base}/{moved}"


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


def queue_redis_url() -> str | None:
    """The Redis the suite's jobs go through: TEST_REDIS_URL if it answers, else none (eager jobs).

    Under REQUIRE_REDIS=1 a Redis that does not answer fails the run instead.
    """
    from redis import Redis
    from redis.exceptions import RedisError

    url = worker_redis_url()
    if not url:
        return None
    try:
        Redis.from_url(url, socket_connect_timeout=1).ping()
    except RedisError as exc:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"TEST_REDIS_URL {url} does not answer ({exc}) and REQUIRE_REDIS is set")
        return None
    return url


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = database_url(tmp_path_factory)
    env = {"GTAC_ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "test-secret",
           "PASSWORD_TIME_COST": "1", "PASSWORD_MEMORY_COST": "8192",
           # On RQ a batch job takes its topic's pending events at once rather than wait for more.
           "OUTBOX_BATCH_LINGER_MS": "0"}
    saved = {key: os.environ.get(key) for key in [*env, "REDIS_URL", "JOBS_EAGER"]}
    os.environ.update(env)
    # REDIS_URL stays unset: it would also move the SR event streams onto Redis.
    os.environ.pop("REDIS_URL", None)
    os.environ["JOBS_EAGER"] = "1"
    application = create_app(instance_path=str(tmp_path_factory.mktemp("instance")))
    application.extensions["outbound_refusals"] = []  # see _no_outside_call_inside_a_transaction
    jobs_redis = queue_redis_url()
    if jobs_redis:
        application.config["JOBS_EAGER"] = False
        application.extensions["outbox_dispatch"] = DrainingDispatcher(jobs_redis)
        application.extensions["outbox_dispatch"].flush()  # nothing left by an earlier run
    with application.app_context():
        reset_schema(url)
        from flask_migrate import upgrade

        upgrade()
    yield application
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def reset_schema(url: str) -> None:
    if is_postgres(url):
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.engine.dispose()
        path = url.removeprefix("sqlite:///")
        if os.path.exists(path):
            os.remove(path)


@pytest.fixture(autouse=True)
def _no_outside_call_inside_a_transaction(app):
    """Every test fails if the service called the outside world (provider, webhook, SMTP) while a
    database transaction was open, even where the caller swallowed the refusal (app.outbound.guard)."""
    refusals = app.extensions["outbound_refusals"]
    refusals.clear()
    yield
    assert refusals == [], f"calls to the outside world made inside a transaction: {refusals}"


@pytest.fixture(scope="session")
def database_states(app) -> DatabaseStates:
    """The worker's database states (tests/database.py): empty, the demo, the demo with tokens."""
    with app.app_context():
        states = DatabaseStates({DEMO: (EMPTY, _seed_demo), TOKENS: (DEMO, _issue_demo_tokens)})
    return states


@pytest.fixture(autouse=True)
def _database_state(app, database_states, request):
    """Each test starts from the state it asks for: `tokens`, else `demo`, else empty. Autouse, so it
    runs before the test's other fixtures of its scope, which write on top of that state."""
    names = request.fixturenames
    start = TOKENS if "tokens" in names else DEMO if "demo" in names else EMPTY
    with app.app_context():
        database_states.bring_to(start)
        db.session.remove()
    database_states.started_from = start
    yield
    dispatcher = app.extensions["outbox_dispatch"]
    if isinstance(dispatcher, DrainingDispatcher):
        dispatcher.flush()
    with app.app_context():
        db.session.remove()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def _seed_demo() -> None:
    seed_demo()
    db.session.remove()


def _issue_demo_tokens() -> dict[str, dict[str, str]]:
    """Bearer headers for every demo user, issued through the service."""
    from app.accounts.models import User
    from app.accounts.services import issue_token

    headers = {}
    for name, email in DEMO_EMAILS.items():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        secret, _ = issue_token(user, f"test {name}")
        headers[name] = {"Authorization": f"Bearer {secret}"}
    db.session.remove()
    return headers


@pytest.fixture
def demo(app, database_states):
    """The SPEC §10 demo data; returns the demo users by short name.

    The test starts from the worker's one seeding (tests/database.py), unless it has set the
    application's clock first: then the demo is seeded afresh at that time.
    """
    from app.accounts.models import User
    from app.clock import SystemClock

    with app.app_context():
        if not isinstance(app.extensions["clock"], SystemClock):
            database_states.bring_to(EMPTY)
            database_states.started_from = None
            _seed_demo()
        found = {user.email: user for user in
                 db.session.scalars(sa.select(User).where(User.email.in_(DEMO_EMAILS.values())))}
        users = {name: found[email] for name, email in DEMO_EMAILS.items()}
        db.session.expunge_all()
    return users


@pytest.fixture
def tokens(app, demo, database_states):
    """Bearer headers for every demo user, issued through the service (once per worker, unless the
    demo was seeded afresh for the test)."""
    if database_states.started_from == TOKENS:
        return {name: dict(header) for name, header in database_states.taken[TOKENS].result.items()}
    with app.app_context():
        return _issue_demo_tokens()


def basic(email: str, password: str = DEMO_PASSWORD) -> dict:
    return {"Authorization": "Basic " + b64encode(f"{email}:{password}".encode()).decode()}


def need(service: str, available: bool, reason: str) -> None:
    """Skip when a service is truly absent; under CI's REQUIRE_<SERVICE>=1, fail instead."""
    if available:
        return
    if os.environ.get(f"REQUIRE_{service.upper()}"):
        pytest.fail(f"{reason} (REQUIRE_{service.upper()} is set, so this may not skip)")
    pytest.skip(reason)


@pytest.fixture
def postgres(app):
    """For tests whose point is PostgreSQL behaviour (concurrency, sequences, locks)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    need("postgres", is_postgres(url), "needs PostgreSQL: set TEST_DATABASE_URL")
    return url


@pytest.fixture
def redis_url():
    """A real Redis for queue tests: TEST_REDIS_URL, else TEST_QUEUE_REDIS_URL, else a local server on
    6379 (db 15); each worker's own database below it (worker_redis_url, apart)."""
    from redis import Redis
    from redis.exceptions import RedisError

    url = worker_redis_url(os.environ.get("TEST_QUEUE_REDIS_URL", "redis://127.0.0.1:6379/15"), apart=True)
    try:
        connection = Redis.from_url(url, socket_connect_timeout=1)
        connection.ping()
    except RedisError:
        need("redis", False, f"needs a Redis server at {url}")
    connection.flushdb()
    yield url
    connection.flushdb()


@pytest.fixture(scope="session")
def s3_server():
    """An S3 API on loopback (moto in server mode, its own process), for the whole run."""
    from tests.attachment_store import CREDENTIALS, MotoServer

    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)  # the application's boto3 finds them as it would AWS's
    server = MotoServer()
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(params=["local", "s3"])
def attachment_store(request, app, monkeypatch):
    """The test runs once on the local folder and once on a fresh bucket of the S3 API."""
    from tests.attachment_store import Store, s3_storage

    if request.param == "local":
        store = Store(app.extensions["attachment_storage"])
    else:
        server = request.getfixturevalue("s3_server")
        storage = s3_storage(server)
        monkeypatch.setitem(app.extensions, "attachment_storage", storage)
        store = Store(storage, server)
    monkeypatch.setitem(app.extensions, "attachment_store", store)
    return store


T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # a Monday morning


@pytest.fixture
def clock(app, monkeypatch):
    """The application's clock, fixed at T0 and moved only by the test."""
    fixed = FixedClock(T0)
    monkeypatch.setitem(app.extensions, "clock", fixed)
    return fixed
