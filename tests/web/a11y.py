"""What every page a browser test visits must hold: no serious or critical axe-core violation, and
no horizontal scrolling on a 390 px phone.

axe-core is the npm package of package.json (`make install-dev` runs `npm ci`). It is evaluated
through the browser's debugging protocol rather than added as a <script>, so a page's
Content-Security-Policy does not have to make room for it.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from tests.conftest import need

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")


@lru_cache(maxsize=1)
def axe_source() -> str:
    need("browser", AXE.is_file(), f"needs the axe-core npm package at {AXE} (run `npm ci`)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations of the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate("""async () => {
        const found = await axe.run(document, {resultTypes: ['violations']});
        return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in result if v["impact"] in SERIOUS]


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def too_wide(page) -> list[str]:
    """The innermost elements that reach past the window's right edge, to say what to fix."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const out = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 0.5);
        return out.filter(e => !out.some(o => o !== e && e.contains(o))).slice(0, 8)
                  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''));
    }""")


def assert_usable(page, what: str = "") -> None:
    """axe-core finds nothing serious, and at 390 px wide nothing scrolls sideways; the window
    is put back to its size afterwards."""
    where = what or page.url
    violations = axe_violations(page)
    assert not violations, f"axe-core on {where}: " + json.dumps(violations, indent=1)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        extra = overflow(page)
        assert extra <= 0, f"{where} is {extra} px wider than a 390 px phone: {too_wide(page)}"
    finally:
        if size:
            page.set_viewport_size(size)
