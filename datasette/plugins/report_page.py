"""Report pages, archived captures, version diffs and the coverage page.

- row pages of `reports` get the report as a document (template row.html, vars from here);
- /-/capture/<db>/<id>: an archived response as text, never as HTML (crawled scripts stay inert);
  an archived report file (PDF, Word, OFD, scan) as a download of its exact bytes;
- /-/diff/<db>?url=…&a=<version id>&b=<version id>: a side-by-side diff of two versions;
- /-/coverage/<db>: sources × years, on-time share, and charts drawn as inline SVG.
"""

from __future__ import annotations

import difflib
import json
from datetime import date
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from archive.decode import decode_body
from archive.files import sniff

FILE_TYPES = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument."
              "wordprocessingml.document", "doc": "application/msword", "ofd": "application/ofd"}


async def _rows(datasette, db: str, sql: str, params=None) -> list[dict]:
    if db not in datasette.databases:
        raise NotFound(f"no database {db!r}")
    result = await datasette.get_database(db).execute(sql, params or [])
    return [dict(r) for r in result.rows]


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if view_name != "row" or table != "reports" or request is None:
        return {}

    async def inner():
        pk = tilde_decode(request.url_vars.get("pks", ""))
        rows = await _rows(datasette, database, "SELECT * FROM reports WHERE url = ?", [pk])
        if not rows:
            return {}
        report = rows[0]
        versions = await _rows(
            datasette, database,
            "SELECT id, content_hash, fetched_at, derived_at, extractor_version, length(text) AS "
            "chars FROM report_versions WHERE url = ? ORDER BY id", [pk])
        provenance = json.loads(report.get("provenance") or "{}")
        return {"report": report, "versions": versions, "provenance": provenance,
                "paragraphs": (report["text"] or "").split("\n"),
                "report_json": datasette.urls.row(database, table, tilde_encode(pk), "json")}

    return inner


async def capture(request, datasette):
    db, capture_id = request.url_vars["db"], int(request.url_vars["id"])
    rows = await _rows(
        datasette, db,
        "SELECT c.url, c.status, c.headers, c.fetched_at, b.body FROM captures c "
        "LEFT JOIN payloads b ON b.sha256 = c.sha256 WHERE c.id = ?", [capture_id])
    if not rows:
        return Response.text("no such capture", status=404)
    row = rows[0]
    headers = json.loads(row["headers"] or "{}")
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type")
    sniffed = sniff(row["body"] or b"", row["url"], ctype)
    if sniffed.format != "html":
        # A report file: the archived bytes as a download, never rendered on this origin.
        name = row["url"].rsplit("/", 1)[-1].split("?", 1)[0] or f"capture-{capture_id}"
        return Response(row["body"] or b"", content_type=FILE_TYPES.get(
            sniffed.format, "application/octet-stream"), headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'"})
    decoded = decode_body(row["body"] or b"", ctype)
    head = "\n".join([f"URL: {row['url']}", f"Fetched: {row['fetched_at']}",
                      f"Status: {row['status']}", f"Decoded as: {decoded.encoding} ({decoded.how})",
                      *(f"{k}: {v}" for k, v in headers.items()), "", ""])
    # text/plain and nosniff: the archived page is evidence to read, never a page to run.
    return Response.text(head + decoded.text,
                         headers={"X-Content-Type-Options": "nosniff",
                                  "Content-Security-Policy": "default-src 'none'"})


async def diff(request, datasette):
    db = request.url_vars["db"]
    url, a, b = request.args.get("url"), request.args.get("a"), request.args.get("b")
    rows = await _rows(datasette, db,
                       "SELECT id, fetched_at, text FROM report_versions WHERE url = ? AND id IN "
                       "(?, ?) ORDER BY id", [url, a, b])
    if len(rows) != 2:
        return Response.text("need two versions of one report: ?url=…&a=…&b=…", status=400)
    old, new = rows
    table = difflib.HtmlDiff(wrapcolumn=60).make_table(
        old["text"].split("\n"), new["text"].split("\n"),
        fromdesc=f"version {old['id']} ({old['fetched_at']})",
        todesc=f"version {new['id']} ({new['fetched_at']})", context=True)
    return Response.html(await datasette.render_template(
        "report_diff.html", {"url": url, "table": Markup(table)}, request=request))


def _bars(values: list[tuple[str, float]], fmt: str, colour: str, title: str) -> Markup:
    """A small bar chart as inline SVG (no script, renders anywhere)."""
    width, height, pad = 40 * max(len(values), 1) + 40, 180, 30
    top = max((v for _, v in values), default=1) or 1
    parts = [f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" style="font: 11px sans-serif">'
             f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(values):
        h = (height - 2 * pad) * value / top
        x, y = 30 + i * 40, height - pad - h
        parts.append(f'<rect x="{x}" y="{y:.1f}" width="28" height="{h:.1f}" fill="{colour}">'
                     f"<title>{escape(label)}: {escape(fmt.format(value))}</title></rect>"
                     f'<text x="{x + 14}" y="{y - 4:.1f}" text-anchor="middle">'
                     f"{escape(fmt.format(value))}</text>"
                     f'<text x="{x + 14}" y="{height - pad + 14}" text-anchor="middle">'
                     f"{escape(label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


async def coverage(request, datasette):
    db = request.url_vars["db"]
    per_year = await _rows(datasette, db, """
        SELECT report_year, COUNT(*) AS reports,
          SUM(published IS NOT NULL AND published <= printf('%d-03-31', report_year + 1))
            AS on_time,
          SUM(published IS NOT NULL) AS dated
        FROM reports WHERE report_year IS NOT NULL GROUP BY report_year ORDER BY report_year""")
    sources = await _rows(datasette, db,
                          "SELECT name, region, level, province FROM sources "
                          "ORDER BY province, level, name")
    found = await _rows(datasette, db, """
        SELECT source, report_year, MIN(published) AS published, MIN(url) AS url
        FROM reports WHERE report_year IS NOT NULL GROUP BY source, report_year""")
    years = [r["report_year"] for r in per_year]
    cells = {(f["source"], f["report_year"]): f for f in found}
    grid = []
    for s in sources:
        row = []
        for y in years:
            f = cells.get((s["name"], y))
            days = None
            if f and f["published"]:
                days = (date.fromisoformat(f["published"]) - date(y + 1, 4, 1)).days
            link = datasette.urls.row(db, "reports", tilde_encode(f["url"])) if f else None
            row.append({"found": f, "days": days, "link": link})
        grid.append({"source": s, "cells": row})
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in grid:
        key = (row["source"].get("province") or "?", row["source"].get("level") or "?")
        groups.setdefault(key, []).append(row)
    by_group = [
        {"province": province, "level": level, "sources": len(rows),
         "shares": [sum(1 for r in rows if r["cells"][i]["found"]) for i in range(len(years))]}
        for (province, level), rows in sorted(groups.items())
    ]
    titles = ("报告数（按年度） · Reports per year",
              "按时发布比例 · Share published by the April 1 deadline")
    charts = [
        (titles[0], _bars([(str(r["report_year"]), r["reports"]) for r in per_year], "{:.0f}",
                          "#3b6ea5", titles[0])),
        (titles[1], _bars([(str(r["report_year"]), 100 * (r["on_time"] or 0) / (r["dated"] or 1))
                           for r in per_year], "{:.0f}%", "#4a9a5b", titles[1])),
    ]
    return Response.html(await datasette.render_template(
        "coverage.html", {"database": db, "years": years, "grid": grid, "charts": charts,
                          "per_year": per_year, "by_group": by_group}, request=request))


@hookimpl
def register_routes():
    return [
        (r"^/-/capture/(?P<db>[^/]+)/(?P<id>\d+)$", capture),
        (r"^/-/diff/(?P<db>[^/]+)$", diff),
        (r"^/-/coverage/(?P<db>[^/]+)$", coverage),
    ]
