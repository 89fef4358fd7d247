"""Rate limits per token and per client address on the API and on signing in: 429 in the error body's
format with Retry-After; counted in Redis so that every web process shares the counts."""
from __future__ import annotations

import pytest

from app import create_app
from app.config import ConfigError
from app.extensions import db
from tests.api.conftest import assert_error
from tests.conftest import basic
from tests.web.helpers import csrf_token


@pytest.fixture
def limited(app, tmp_path):
    """Web processes built like `app` but with rate limits on (off in the rest of the suite)."""
    made = []

    def make(**settings):
        process = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                              "RATE_LIMITS_ENABLED": True, "RATE_LIMIT_PER_TOKEN": "5 per minute",
                              "RATE_LIMIT_PER_ADDRESS": "8 per minute", "RATE_LIMIT_SIGN_IN": "3 per minute",
                              **settings}, instance_path=str(tmp_path / f"process{len(made)}"))
        process.extensions["outbox_dispatch"] = app.extensions["outbox_dispatch"]
        made.append(process)
        return process

    yield make
    for process in made:
        with process.app_context():
            db.engine.dispose()


def refused(answer, limit: str) -> dict:
    error = assert_error(answer, 429, "rate_limited")
    assert error["details"]["limit"] == limit
    assert 1 <= error["details"]["retry_after_seconds"] <= 61  # the window, rounded up
    assert answer.headers["Retry-After"] == str(error["details"]["retry_after_seconds"])
    return error


def test_a_token_is_limited_and_another_token_is_not(limited, tokens):
    client = limited().test_client()
    for _ in range(5):
        assert client.get("/api/v1/me", headers=tokens["engineer"]).status_code == 200
    refused(client.get("/api/v1/cases", headers=tokens["engineer"]), "5 per 1 minute")
    # Another caller at the same address has a budget of its own, up to the address's.
    assert client.get("/api/v1/me", headers=tokens["gtac"]).status_code == 200


def test_an_address_is_limited_whatever_tokens_it_uses(limited, tokens):
    client = limited().test_client()
    callers = ["engineer", "gtac", "admin", "programs"]
    for n in range(8):
        assert client.get("/api/v1/me", headers=tokens[callers[n % 4]]).status_code == 200
    refused(client.get("/api/v1/me", headers=tokens["customer"]), "8 per 1 minute")
    # No token at all counts against the address too, and is refused for that before anything else.
    refused(client.get("/api/v1/me"), "8 per 1 minute")
    other = {"REMOTE_ADDR": "192.0.2.77"}
    assert client.get("/api/v1/me", headers=tokens["customer"], environ_base=other).status_code == 200


def test_signing_in_is_limited_per_address_on_the_api_and_the_form(limited, demo):
    client = limited().test_client()
    for _ in range(3):
        assert client.post("/api/v1/tokens", headers=basic("engineer@northwind.example")).status_code == 201
    # The right password does not get past it: this counts requests, not failures.
    refused(client.post("/api/v1/tokens", headers=basic("engineer@northwind.example")), "3 per 1 minute")
    form = csrf_token(client.get("/login").get_data(as_text=True))
    for _ in range(3):
        client.post("/login", data={"email": "admin@northwind.example", "password": "guess", "csrf_token": form})
    page = client.post("/login", data={"email": "admin@northwind.example", "password": "demo-password",
                                       "csrf_token": form}, headers={"Accept": "text/html"})
    assert page.status_code == 429 and "Too many requests" in page.get_data(as_text=True)
    # Reading pages is not signing in.
    assert client.get("/login").status_code == 200


def test_password_reset_requests_are_limited_per_address(limited, demo):
    client = limited().test_client()
    form = csrf_token(client.get("/password-reset").get_data(as_text=True))
    for _ in range(3):
        answer = client.post("/password-reset", data={"email": "admin@northwind.example", "csrf_token": form})
        assert answer.status_code == 202
    answer = client.post("/password-reset", data={"email": "admin@northwind.example", "csrf_token": form},
                         headers={"Accept": "text/html"})
    assert answer.status_code == 429


def test_every_web_process_shares_the_counts_in_redis(limited, tokens, redis_url):
    first, second = (limited(REDIS_URL=redis_url).test_client() for _ in range(2))
    for n in range(5):
        assert (first if n % 2 else second).get("/api/v1/me", headers=tokens["engineer"]).status_code == 200
    refused(first.get("/api/v1/me", headers=tokens["engineer"]), "5 per 1 minute")
    refused(second.get("/api/v1/me", headers=tokens["engineer"]), "5 per 1 minute")


def test_a_malformed_limit_stops_start_up_with_its_name(app, tmp_path):
    with pytest.raises(ConfigError, match="RATE_LIMIT_PER_TOKEN"):
        create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "RATE_LIMIT_PER_TOKEN": "lots"}, instance_path=str(tmp_path))
