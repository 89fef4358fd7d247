"""The rebate portal's chart: server-rendered SVG, no script (the CSP allows none).

Sales against the prorated target of each segment and of the whole period, as bars on one
scale, with the tier thresholds marked. It has a title and a description for screen
readers, and the page shows the same figures in a table beside it. The viewBox scales it
to any width (390 px phones included).
"""
from __future__ import annotations

from markupsafe import Markup, escape

from app.payments.money import format_amount
from app.programmes.attainment import Attainment

WIDTH, LABEL, BAR, GAP = 600, 150, 22, 14


def attainment_chart(found: Attainment, tiers, period_label: str) -> Markup:
    rows = [(f"{s.starts_on:%d %b}–{s.ends_on:%d %b}", s.sales, s.share) for s in found.segments]
    if len(rows) > 1:
        rows.append((f"All of {period_label}", found.sales, found.target))
    else:
        rows = [(f"All of {period_label}", found.sales, found.target)]
    top = max([1] + [max(sales, target * max([t.from_bp for t in tiers] + [10000]) // 10000)
                     for _, sales, target in rows])
    scale = (WIDTH - LABEL - 20) / top
    height = len(rows) * (2 * BAR + GAP) + 40
    title = f"Sales against target, {period_label}"
    desc = (f"{found.partner_name} sold {format_amount(found.sales, found.currency)} against a target of "
            f"{format_amount(found.target, found.currency)}: {found.attainment_bp / 100:.1f} % attained, "
            f"rebate rate {found.rate_bp / 100:.2f} %.")
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title chart-desc"'
             f' xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
             f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(desc)}</desc>']
    y = 10
    for label, sales, target in rows:
        parts.append(f'<text x="0" y="{y + BAR + 4}" class="chart-label">{escape(label)}</text>')
        parts.append(f'<rect x="{LABEL}" y="{y}" width="{max(1, round(target * scale))}" height="{BAR}" '
                     f'class="chart-target"/>')
        parts.append(f'<rect x="{LABEL}" y="{y + BAR}" width="{max(1, round(sales * scale))}" height="{BAR}" '
                     f'class="chart-sales"/>')
        for tier in tiers:
            if tier.from_bp:
                x = LABEL + round(target * tier.from_bp // 10000 * scale)
                parts.append(f'<line x1="{x}" x2="{x}" y1="{y - 3}" y2="{y + 2 * BAR + 3}" class="chart-tier"/>')
        y += 2 * BAR + GAP
    parts.append(f'<rect x="{LABEL}" y="{y + 4}" width="14" height="14" class="chart-target"/>'
                 f'<text x="{LABEL + 20}" y="{y + 16}" class="chart-label">Target</text>'
                 f'<rect x="{LABEL + 100}" y="{y + 4}" width="14" height="14" class="chart-sales"/>'
                 f'<text x="{LABEL + 120}" y="{y + 16}" class="chart-label">Sales</text>'
                 f'<line x1="{LABEL + 200}" x2="{LABEL + 200}" y1="{y + 2}" y2="{y + 20}" class="chart-tier"/>'
                 f'<text x="{LABEL + 206}" y="{y + 16}" class="chart-label">Tier thresholds</text></svg>')
    return Markup("".join(parts))
