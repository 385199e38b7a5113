"""The oversharing assessment as JSON, CSV and a self-contained HTML page. Every value from a
document (titles, ids, refs) is escaped for HTML, and CSV cells that a spreadsheet would run as
a formula are neutralised with a leading apostrophe."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from ztai.posture.oversharing import Assessment, Exposure

COLUMNS = ("rank", "risk", "severity", "document", "title", "source", "owner", "label",
           "sensitivity", "broad_access", "audience", "findings", "fixes")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def as_json(assessment: Assessment) -> dict[str, Any]:
    return {
        "documents": assessment.documents, "sensitive": assessment.sensitive,
        "sensitive_from": assessment.sensitive_from, "organisation": assessment.organisation,
        "overshared": len(assessment.exposures),
        "exposures": [_row(rank, e) | {"broad_access": [
            {"ref": ref, "members": size} for ref, size in e.broad],
            "findings": list(e.finding_kinds), "fixes": list(e.fixes)}
            for rank, e in enumerate(assessment.exposures, start=1)],
    }


def as_csv(assessment: Assessment) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for rank, exposure in enumerate(assessment.exposures, start=1):
        row = _row(rank, exposure) | {
            "broad_access": "; ".join(_ref(r, s) for r, s in exposure.broad),
            "findings": "; ".join(exposure.finding_kinds), "fixes": "; ".join(exposure.fixes)}
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def as_html(assessment: Assessment) -> str:
    rows = "\n".join(_html_row(rank, e) for rank, e in enumerate(assessment.exposures, start=1))
    organisation = f"{assessment.organisation:,}" if assessment.organisation else "unknown"
    return _PAGE.format(
        documents=f"{assessment.documents:,}", sensitive=f"{assessment.sensitive:,}",
        overshared=f"{len(assessment.exposures):,}", organisation=organisation,
        floor=html.escape(assessment.sensitive_from),
        rows=rows or '<tr><td colspan="8">No sensitive document is broadly readable.</td></tr>')


def _row(rank: int, e: Exposure) -> dict[str, Any]:
    return {"rank": rank, "risk": e.risk, "severity": e.severity, "document": e.document,
            "title": e.title, "source": e.source, "owner": e.owner, "label": e.label,
            "sensitivity": e.sensitivity, "audience": e.audience}


def _html_row(rank: int, e: Exposure) -> str:
    cells = [str(rank), f'<span class="{e.severity}">{e.risk} {e.severity}</span>',
             f"<b>{_h(e.title or e.document)}</b><br><small>{_h(e.document)} · {_h(e.source)}"
             f" · owner {_h(e.owner or 'none')}</small>",
             f"{_h(e.label or 'unlabelled')}<br><small>content: {_h(e.sensitivity)}</small>",
             "<br>".join(_h(_ref(r, s)) for r, s in e.broad),
             _h(f"{e.audience:,}" if e.audience is not None else "unknown"),
             "<br>".join(_h(k) for k in e.finding_kinds) or "–",
             "<ul>" + "".join(f"<li>{_h(f)}</li>" for f in e.fixes) + "</ul>"]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _ref(ref: str, size: int | None) -> str:
    return ref if size is None else f"{ref} ({size:,})"


def _h(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>ztai: oversharing assessment</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .5em; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }} ul {{ margin: 0; padding-left: 1.2em; }}
.critical {{ color: #fff; background: #b00020; padding: 0 .3em; }}
.high {{ color: #fff; background: #e65100; padding: 0 .3em; }}
.medium {{ background: #ffd54f; padding: 0 .3em; }} .low {{ background: #e0e0e0; padding: 0 .3em; }}
</style></head><body>
<h1>Oversharing assessment</h1>
<p>{documents} documents assessed; {sensitive} sensitive ({floor} or above, by label or
content); <b>{overshared}</b> of them readable by broad audiences. Organisation size:
{organisation}.</p>
<table><thead><tr><th>#</th><th>risk</th><th>document</th><th>label</th><th>broad access</th>
<th>audience</th><th>findings</th><th>suggested fixes</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
