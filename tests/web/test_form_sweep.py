"""Every form and filter the pages offer, swept with hostile values as each demo role: never a 500,
and nothing the database should not hold is written. Every form that posts is refused without its
CSRF token.

The forms are found as a person finds them, by following the links from the start page (as
tests/web/test_every_page.py does in the browser, up to four pages of each kind), so a new form is
swept as soon as a page offers it. Each form is posted as the page fills it, with one field at a
time replaced by a hostile value: a NUL, a number beyond any column, a day before 1970, NaN, 5,000
characters. The NUL also goes multipart, which a view reads through another parser. Each form is
also sent with every field twice. Each filter (a GET form, or a link's query) gets the same values in its parameters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

import lxml.html
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.extensions import db
from tests.srs.helpers import escalate
from tests.web.helpers import sign_in
from tests.web.test_every_page import MOST_PAGES, NOT_PAGES, ROLES, Visits, kind

HOSTILE = ("a\x00b", "9" * 30, "0001-01-01", "NaN", "x" * 5000)
ORIGIN = "http://localhost"


@dataclass(frozen=True)
class Form:
    method: str
    action: str
    fields: tuple[tuple[str, str], ...]  # as the page fills them in, in order
    multipart: bool

    def shape(self) -> tuple:
        return self.method, kind(self.action), tuple(sorted({name for name, _ in self.fields}))


def _forms(page_path: str, html: str) -> list[Form]:
    found = []
    for form in lxml.html.fromstring(html).forms:
        action = urlsplit(urljoin(ORIGIN + page_path, form.action or page_path))
        method = (form.method or "GET").upper()
        fields = tuple((name, value if isinstance(value, str) else "") for name, value in form.form_values())
        found.append(Form(method, action.path + (f"?{action.query}" if action.query else ""), fields,
                          (form.get("enctype") or "").lower() == "multipart/form-data"))
    return found


def _links(page_path: str, html: str) -> list[str]:
    links = []
    for href in re.findall(r'<a [^>]*href="([^"#]+)', html):
        parts = urlsplit(urljoin(ORIGIN + page_path, href.replace("&amp;", "&")))
        if parts.netloc == "localhost" and not NOT_PAGES.search(parts.path):
            links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def _walk(web) -> tuple[list[Form], list[str]]:
    """The forms and the links with a query on the pages reachable from the start page, as the
    browser's walk reads them (Visits)."""
    visits, queue, forms, queried = Visits(), ["/"], [], []
    pages = 0
    while queue and pages < MOST_PAGES:
        path = queue.pop(0)
        if not visits.take(path):
            continue
        answer = web.get(path, follow_redirects=True)
        if answer.status_code != 200 or answer.mimetype != "text/html" or answer.request.path == "/login":
            continue
        path = answer.request.full_path.rstrip("?")
        pages += 1
        html = answer.get_data(as_text=True)
        forms.extend(_forms(path, html))
        links = _links(path, html)
        queried.extend(link for link in links if "?" in link)
        queue.extend(visits.unread(links))
    return forms, queried


def _with(fields, name: str, value: str) -> MultiDict:
    return MultiDict([(key, value if key == name else old) for key, old in fields])


def _swept(fields) -> list[str]:
    return list(dict.fromkeys(name for name, _ in fields if not name.endswith("csrf_token")))


def _impossible_rows(app) -> list[str]:
    """Cells no valid input can leave: a NUL in text, a day before 1970, a number beyond BIGINT."""
    found = []
    with app.app_context():
        # PostgreSQL refuses a NUL in text and a number beyond a column outright; SQLite keeps them.
        lax = db.engine.dialect.name == "sqlite"
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                kind_ = column.type
                if isinstance(kind_, (sa.Date, sa.DateTime)):
                    where = sa.func.extract("year", column) < 1970
                elif isinstance(kind_, (sa.String, sa.Text)) and lax:
                    where = sa.func.instr(column, "\x00") > 0
                elif isinstance(kind_, sa.Integer) and lax:
                    where = sa.or_(column > 2**63 - 1, column < -(2**63))
                else:
                    continue
                if db.session.scalar(sa.select(sa.func.count()).select_from(table).where(where)):
                    found.append(f"{table.name}.{column.name}")
        db.session.remove()
    return found


@pytest.mark.parametrize("who", ROLES)
def test_hostile_values_in_every_form_and_filter_are_never_a_500(app, client, tokens, who, monkeypatch):
    escalate(client, tokens)  # the demo has no SR yet: one, so its pages and forms are swept too
    # What a valid form sets off (a payout, an e-mail) is other tests' business: its jobs stay queued.
    monkeypatch.setitem(app.extensions, "outbox_dispatch", lambda events: 0)
    web = app.test_client()
    sign_in(web, who)
    forms, queried = _walk(web)
    shapes, failures, unguarded, posted = set(), [], [], 0

    def check(answer, what):
        if answer.status_code >= 500:
            failures.append(f"{answer.status_code} {what}")

    for form in forms:
        if form.shape() in shapes:
            continue
        shapes.add(form.shape())
        if form.method == "POST":
            forged = MultiDict([(key, value) for key, value in form.fields if not key.endswith("csrf_token")])
            answer = web.post(form.action, data=forged)
            if answer.status_code != 400:
                unguarded.append(f"{answer.status_code} POST {form.action} without its CSRF token")
        swept = _swept(form.fields)
        if swept:  # every field sent twice, the second time with a number beyond any column
            doubled = MultiDict([*form.fields, *((name, HOSTILE[1]) for name in swept)])
            check(web.get(form.action, query_string=doubled) if form.method == "GET"
                  else web.post(form.action, data=doubled), f"{form.method} {form.action} with every field twice")
        for name in swept:
            for value in HOSTILE:
                fields = _with(form.fields, name, value)
                what = f"{form.method} {form.action} {name}={value[:12]!r}"
                if form.method == "GET":
                    check(web.get(form.action, query_string=fields), what)
                    continue
                check(web.post(form.action, data=fields), what)
                posted += 1
                if value == HOSTILE[0] or form.multipart:
                    check(web.post(form.action, data=fields, content_type="multipart/form-data"),
                          what + " (multipart)")
            if web.get("/", follow_redirects=True).request.path == "/login":  # a form signed the role out
                sign_in(web, who)
    for link in dict.fromkeys(queried):
        path, _, query = link.partition("?")
        params = parse_qsl(query, keep_blank_values=True)
        for name in dict.fromkeys(key for key, _ in params):
            for value in HOSTILE:
                check(web.get(path, query_string=_with(params, name, value)), f"GET {path} {name}={value[:12]!r}")
    assert posted, f"{who}: the walk found no form to post: it proves nothing"
    assert failures == []
    assert unguarded == []
    assert _impossible_rows(app) == []
