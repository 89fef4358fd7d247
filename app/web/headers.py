"""Security headers on every answer: no framing, no inline script, no referrer, no stored pages.

A small after_request hook rather than a library such as Flask-Talisman: the pages load only
their own scripts and style sheets (no inline script or style, no nonce to hand out), the
cookie flags are plain settings (app/config.py), and HTTPS is the proxy's to enforce, so what
is left is a fixed set of headers, and a library would add a dependency for it.

- Content-Security-Policy: everything from this origin only, no inline script or style, no
  plugin, forms posting only here; `frame-ancestors 'none'` (and X-Frame-Options DENY for older
  browsers), so that one-click forms such as approve and escalate cannot be clickjacked.
- Referrer-Policy: page addresses (case and SR numbers) never leave for another site.
- Pages (not the API, not static files) are `Cache-Control: no-store`: a signed-in page must not
  be kept by a shared computer's browser or a proxy. API answers keep their own Cache-Control;
  they answer requests that carry Authorization, which shared caches do not store.
- In production, Strict-Transport-Security (HSTS_SECONDS).
"""
from __future__ import annotations

from flask import Flask, Response, current_app, request

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
# JSON is never rendered: it may load nothing at all.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def add_security_headers(response: Response) -> Response:
    api = request.path.startswith("/api/") and request.endpoint != "web.api_docs"
    headers = response.headers
    headers.setdefault("Content-Security-Policy", API_POLICY if api else PAGE_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not api and not (request.endpoint or "").endswith("static"):
        headers["Cache-Control"] = "no-store"
        headers.setdefault("X-Content-Type-Options", "nosniff")
    seconds = current_app.config["HSTS_SECONDS"]
    if seconds:
        headers.setdefault("Strict-Transport-Security", f"max-age={seconds}; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
