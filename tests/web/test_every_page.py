"""Every page of each role's daily work, as each demo account sees it: no serious or critical axe-core
violation, and nothing scrolls sideways on a 390 px phone."""
from __future__ import annotations

import pytest

from tests.web.a11y import assert_usable

pytestmark = pytest.mark.browser

PAGES = {
    "engineer": ["/cases", "/cases/new", "/cases/1", "/srs", "/account/tokens", "/api/v1/docs"],
    "admin": ["/payments/partner", "/webhooks", "/cases"],
    "customer": ["/my/cases", "/my/requests/new", "/account/tokens"],
    "gtac": ["/srs", "/cases"],
    "manager": ["/srs", "/gtac/dashboard"],
    "programs": ["/payments/programmes", "/payments/claims/1"],
}


@pytest.mark.parametrize("who", sorted(PAGES))
def test_each_roles_pages_pass_axe_and_fit_a_phone(page, sign_in, who):
    sign_in(page, who)
    failures = []
    for path in PAGES[who]:
        answer = page.goto(path)
        assert answer.status == 200, (path, answer.status)
        try:
            assert_usable(page, path)
        except AssertionError as exc:
            failures.append(str(exc)[:600])
    assert not failures, "\n".join(failures)
