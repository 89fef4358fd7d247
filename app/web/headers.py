"""Security headers on every answer: no framing, no inline script, no referrer, no stored pages.

A small after_request hook rather than a library such as Flask-Talisman: the pages load only
their own scripts and style sheets (no inline script or style, no nonce to hand out), the
cookie flags are plain settings (app/config.py), and HTTPS is the proxy's to enforce, so what
is left is a fixed set of headers, and a library would add a dependency for it.

- Content-Security-Policy: everything from this origin only, no inline script or style, no
  plugin, forms posting only here; `frame-ancestors 'none'` (and X-Frame-Options DENY for older
  browsers), so that one-click forms such as approve and escalate cannot be clickjacked.
- Referrer-Policy: page addresses (case and SR numbers) never leave for another site.
- Pages (HTML) are `Cache-Control: no-store`: a signed-in page must not be kept by a shared
  computer's browser or a proxy; so is anything else for a signed-in browser whose view set no
  Cache-Control. API answers keep their own: they answer requests that carry Authorization,
  which shared caches do not store, and static files stay cacheable.
- In production, Strict-Transport-Security (HSTS_SECONDS).
"""
from __future__ import annotations

from flask import Flask, Response, current_app, request, session

PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# JSON, files and streams are never rendered as pages: they may load nothing at all.
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"


def add_security_headers(response: Response) -> Response:
    page = response.mimetype == "text/html"
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PAGE_POLICY if page else OTHER_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if page:
        headers["Cache-Control"] = "no-store"
        headers.setdefault("X-Content-Type-Options", "nosniff")
    elif "Cache-Control" not in headers and _signed_in_browser():
        # A file or stream for a signed-in browser, whose view said nothing about caching.
        headers["Cache-Control"] = "no-store"
    seconds = current_app.config["HSTS_SECONDS"]
    if seconds:
        headers.setdefault("Strict-Transport-Security", f"max-age={seconds}; includeSubDomains")
    return response


def _signed_in_browser() -> bool:
    if (request.endpoint or "").endswith("static"):
        return False
    # Only a browser sends the cookie; asking the session otherwise would add Vary: Cookie.
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies and "_user_id" in session


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
