"""A real OpenID provider on loopback for the single sign-on tests: tests/oidc/provider.mjs (the npm
package `oidc-provider`) run by Node, and the way through its development sign-in pages by plain HTTP.

Its packages are installed with `npm ci` in tests/oidc the first time (.ci/run does it beforehand).
Without Node or npm the tests skip with the reason; under CI's REQUIRE_NODE=1 they fail instead.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import threading
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import need

FOLDER = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "gtac-triage"
CLIENT_SECRET = "a-client-secret-only-the-tests-use-0123456789"
DISPLAY_NAME = "Vendor Identity"
# Logins typed on the provider's sign-in page that make unusual accounts; any other login is an
# account whose e-mail is the login itself, verified.
UNVERIFIED = "unverified"
WITHOUT_EMAIL = "no-email"
ACCOUNTS = {
    UNVERIFIED: {"email": "engineer@northwind.example", "email_verified": False},
    WITHOUT_EMAIL: {"email": None, "email_verified": None},
}


def install() -> None:
    """`npm ci` in tests/oidc unless its packages are there (one process at a time)."""
    need("node", bool(shutil.which("node") and shutil.which("npm")),
         "the single sign-on tests need Node.js and npm, to run the OpenID provider of tests/oidc")
    with open(FOLDER / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (FOLDER / "node_modules" / "oidc-provider" / "package.json").exists():
            return
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FOLDER,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"npm ci in {FOLDER} failed:\n{done.stdout}\n{done.stderr}"


class OpenIDProvider:
    """tests/oidc/provider.mjs on a free loopback port, with the test app registered as a client."""

    def __init__(self, redirect_uri: str, userinfo_only: bool = False):
        install()
        client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri]}
        env = {**os.environ, "OIDC_TEST_CLIENT": json.dumps(client), "OIDC_TEST_ACCOUNTS": json.dumps(ACCOUNTS),
               "OIDC_TEST_USERINFO_ONLY": "1" if userinfo_only else ""}
        self.process = subprocess.Popen(["node", "provider.mjs"], cwd=FOLDER, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        timer = threading.Timer(30, self.process.kill)  # a provider that never starts fails the test
        timer.start()
        try:
            self.issuer = (self.process.stdout.readline() or "").strip()
        finally:
            timer.cancel()
        if not self.issuer.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the OpenID provider did not start (exit code {self.process.returncode})")

    def settings(self) -> dict:
        """The application's settings for signing in through this provider."""
        return {"OIDC_DISCOVERY_URL": f"{self.issuer}/.well-known/openid-configuration",
                "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "OIDC_DISPLAY_NAME": DISPLAY_NAME}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _form_action(answer: requests.Response) -> str:
    found = re.search(r'<form[^>]*action="([^"]+)"', answer.text)
    assert found, f"no form on {answer.url} ({answer.status_code}):\n{answer.text[:500]}"
    return urljoin(answer.url, unescape(found.group(1)))


def start_sign_in(http: requests.Session, base_url: str, next_path: str | None = None) -> requests.Response:
    """The app's login page, its "Sign in with …" button, and the redirects to the provider's sign-in page."""
    login = http.get(f"{base_url}/login" + (f"?next={next_path}" if next_path else ""))
    button = re.search(r'<a class="button" href="([^"]+)">Sign in with ' + re.escape(DISPLAY_NAME), login.text)
    assert button, f"no single sign-on button on the login page:\n{login.text}"
    return http.get(urljoin(login.url, unescape(button.group(1))))


def sign_in_through_provider(http: requests.Session, base_url: str, login: str,
                             next_path: str | None = None) -> requests.Response:
    """The whole trip as a browser without JavaScript makes it: the app's button, the provider's
    sign-in and consent pages, and back to the app's callback; returns the app's last answer."""
    answer = start_sign_in(http, base_url, next_path)
    assert 'value="login"' in answer.text, f"not the provider's sign-in page: {answer.url}"
    answer = http.post(_form_action(answer), data={"prompt": "login", "login": login, "password": "any"})
    assert 'value="consent"' in answer.text, f"not the provider's consent page: {answer.url}"
    return http.post(_form_action(answer), data={"prompt": "consent"})


@pytest.fixture(scope="session")
def openid_provider(live_server):
    """The provider, for the whole run, with the live server's callback registered."""
    provider = OpenIDProvider(f"{live_server}/login/sso/callback")
    yield provider
    provider.stop()


@pytest.fixture
def single_sign_on(app, openid_provider, monkeypatch):
    """The test app signs in through the provider during this test."""
    for key, value in openid_provider.settings().items():
        monkeypatch.setitem(app.config, key, value)
    return openid_provider
