"""Release-notes documents laid out as a network vendor publishes them, generated for the tests.

The PDF follows the usual shape: a title page naming product and release, prose, a compatibility table
(not an issue table), "Open Issues, Known Behaviors, and Restrictions" with an Issue ID / Description /
Workaround table long enough to run over several pages (its header repeated on each), and "Resolved Issues
in <release>" with a CR Number / Description table. The HTML has the same sections as headings and tables.
"""
from __future__ import annotations

import html
import io

OPEN = [
    ("EXOS-40101", "Stack member reboots when the IGMP snooping table overflows. The mcmgr process stops "
                   "responding and the process watchdog reboots the node.", "Limit snooped groups with a filter."),
    ("EXOS-40102", "snmpMaster leaks memory on SNMPv3 GETBULK walks of ifXTable. Polling times out after days.",
     "Poll with SNMPv2c."),
    ("EXOS-40103", "Port LEDs stay amber after a hot swap of a 25G optic although the link is up.", "None"),
]
FILLER = [(f"EXOS-41{n:03d}", f"Cosmetic issue number {n} in show command output of the port statistics. "
                              "Counters are aligned one column to the right.", "N/A") for n in range(40)]
RESOLVED = [
    ("EXOS-39001", "OSPF neighbours stay in EXSTART with jumbo frames after an upgrade."),
    ("EXOS-39002", "Remote syslog stops after the management interface flaps."),
]


def vendor_pdf(title: str = "ExtremeXOS 32.6.2.1 Release Notes", open_rows=None, resolved_rows=None,
               author: str = "Vendor", headed: bool = True, extra_open_header=None) -> bytes:
    """A vendor-like release-notes PDF (reportlab)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = styles["BodyText"]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey), ("VALIGN", (0, 0), (-1, -1), "TOP")])

    def table(header, rows, widths):
        data = [list(header)] + [[Paragraph(html.escape(str(c)), cell) for c in row] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(grid)
        return t

    story = []
    if title:
        story += [Paragraph(title, styles["Title"]), Paragraph("9036512-00 Rev AA, November 2026", cell)]
    story += [Spacer(1, 12), Paragraph("Supported platforms", styles["Heading2"]),
              table(("Switch model", "Minimum version"), [("X465", "30.2.1.8"), ("X695", "31.1.1.3")], (200, 200)),
              PageBreak()]
    if headed:
        story.append(Paragraph("Open Issues, Known Behaviors, and Restrictions", styles["Heading1"]))
    header = extra_open_header or ("Issue ID", "Description", "Workaround")
    story.append(table(header, OPEN + FILLER if open_rows is None else open_rows, (70, 300, 130)))
    story += [Paragraph("Resolved Issues in ExtremeXOS 32.6.2.1", styles["Heading1"]),
              table(("CR Number", "Description"), RESOLVED if resolved_rows is None else resolved_rows, (70, 430))]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=title or "notes", author=author).build(story)
    return out.getvalue()


def vendor_html(title: str = "VOSS 8.10.3.0 Release Notes", known=None, fixed=None) -> bytes:
    known = known if known is not None else [
        ("VOSS-50001", "IS-IS adjacency flaps on NNI ports with MACsec after a key rollover.", "High",
         "Disable hello padding."),
        ("VOSS-50002", "EDM hangs on the IS-IS adjacency screen with many adjacencies.", "Low", "Use the CLI."),
    ]
    fixed = fixed if fixed is not None else [("VOSS-49001", "DHCP relay drops requests in VRFs with two agents.")]

    def rows(items):
        return "\n".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in item) + "</tr>" for item in items)

    return f"""<!DOCTYPE html>
<html><head><title>{html.escape(title)}</title></head>
<body>
<h1>{html.escape(title)}</h1>
<p>These release notes describe the software of VSP 4900, VSP 7400 and XA1400.</p>
<h2>Known Issues</h2>
<table>
<thead><tr><th>Issue number</th><th>Description</th><th>Severity</th><th>Workaround</th></tr></thead>
<tbody>
{rows(known)}
</tbody>
</table>
<h2>Fixed Issues</h2>
<table>
<tr><th>Issue number</th><th>Description</th></tr>
{rows(fixed)}
</table>
</body></html>
""".encode()
