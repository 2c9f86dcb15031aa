"""Report pages, archived captures, version diffs and the coverage page.

- row pages of `reports` get the report as a document (template row.html, vars from here);
- /-/capture/<db>/<id>: an archived response as text (crawled scripts stay inert);
  an archived report file (PDF, Word, OFD, scan) as a download of its exact bytes;
- /-/capture/<db>/<id>/view: the archived page rendered, sandboxed, with no network (CSP);
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


async def _payloads(datasette, db: str) -> str:
    """The raw-bytes table: `payloads` once `bodies` names the governments (schema change)."""
    if db in datasette.databases and "payloads" in await datasette.get_database(db).table_names():
        return "payloads"
    return "bodies"


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
        captures = await _rows(datasette, database,
                               "SELECT id, fetched_at, headers FROM captures WHERE id = ?",
                               [report.get("capture_id")])
        capture = captures[0] if captures else {}
        ctype = _content_type(capture.get("headers"))
        archived = datasette.absolute_url(
            request, datasette.urls.row(database, table, tilde_encode(pk)))
        return {"report": report, "versions": versions, "provenance": provenance,
                "paragraphs": (report["text"] or "").split("\n"),
                "report_json": datasette.urls.row(database, table, tilde_encode(pk), "json"),
                "capture": capture, "capture_is_html": "html" in ctype,
                "capture_view": datasette.urls.path(
                    f"/-/capture/{tilde_encode(database)}/{report.get('capture_id')}/view"),
                "archived_url": archived, "citation": citation(report, archived, capture)}

    return inner


def _content_type(headers_json: str | None) -> str:
    headers = json.loads(headers_json or "{}")
    return ({k.lower(): v for k, v in headers.items()}.get("content-type") or "").lower()


def citation(report: dict, archived: str, capture: dict) -> dict[str, str]:
    """GB/T 7714-2015 for an online document ([EB/OL], published date, retrieval date), and a
    plain form with everything a reader needs to find the same text again."""
    issuer = report.get("issuer") or report.get("publisher") or report.get("region") or "佚名"
    retrieved = (capture.get("fetched_at") or report.get("first_seen") or "")[:10]
    published = report.get("published") or ""
    gbt = (f"{issuer}. {report['title']}[EB/OL]. "
           + (f"({published})" if published else "")
           + f"[{retrieved}]. {report['url']}. 存档: {archived}.")
    plain = (f"{issuer}，《{report['title']}》（{report.get('report_year') or '年度不详'}年度），"
             f"原文 {report['url']}，存档 {archived}，获取于 {retrieved}，"
             f"正文 SHA-256 {report.get('content_hash')}")
    return {"gbt": gbt, "plain": plain, "retrieved": retrieved}


async def capture(request, datasette):
    db, capture_id = tilde_decode(request.url_vars["db"]), int(request.url_vars["id"])
    rows = await _rows(
        datasette, db,
        "SELECT c.url, c.status, c.headers, c.fetched_at, b.body FROM captures c "
        f"LEFT JOIN {await _payloads(datasette, db)} b ON b.sha256 = c.sha256 "
        "WHERE c.id = ?", [capture_id])
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


# The rendered view of an archived page: the page's own HTML, re-encoded as UTF-8, under a CSP
# that forbids every fetch (images, styles, frames, scripts: `default-src 'none'`) except inline
# styles and data: images, and sandboxes the document (no scripts, forms, popups or same origin)
# even when opened outside the report page's <iframe sandbox="">.
VIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "frame-ancestors 'self'; sandbox")


async def capture_view(request, datasette):
    db, capture_id = tilde_decode(request.url_vars["db"]), int(request.url_vars["id"])
    rows = await _rows(
        datasette, db,
        "SELECT c.headers, b.body FROM captures c "
        f"LEFT JOIN {await _payloads(datasette, db)} b ON b.sha256 = c.sha256 "
        "WHERE c.id = ?", [capture_id])
    if not rows:
        return Response.text("no such capture", status=404)
    ctype = _content_type(rows[0]["headers"])
    headers = {"Content-Security-Policy": VIEW_CSP, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer"}
    if "html" not in ctype:
        return Response.text("这份抓取不是网页，请看文本视图 · not an HTML capture: see the "
                             "text view", status=415, headers=headers)
    decoded = decode_body(rows[0]["body"] or b"", ctype)
    return Response.html(decoded.text, headers=headers)


def paragraph_diff(old: list[str], new: list[str]) -> list[dict]:
    """Changed paragraphs side by side, whole (no fixed-width wrapping); equal runs collapsed to
    their first and last paragraph; within a changed pair, the changed characters marked."""
    rows: list[dict] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            span = list(range(i1, i2))
            keep = span if len(span) <= 2 else [span[0], None, span[-1]]
            for i in keep:
                rows.append({"kind": "skip", "n": len(span) - 2} if i is None else
                            {"kind": "equal", "old": escape(old[i]),
                             "new": escape(new[j1 + i - i1]), "a": i + 1, "b": j1 + i - i1 + 1})
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            a = old[i1 + k] if i1 + k < i2 else None
            b = new[j1 + k] if j1 + k < j2 else None
            left, right = _marked(a, b)
            rows.append({"kind": tag, "old": left, "new": right,
                         "a": i1 + k + 1 if a is not None else "",
                         "b": j1 + k + 1 if b is not None else ""})
    return rows


def _marked(a: str | None, b: str | None) -> tuple[Markup, Markup]:
    if a is None or b is None:
        return escape(a or ""), escape(b or "")
    left, right = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(escape(a[i1:i2]))
            right.append(escape(b[j1:j2]))
        else:
            if i2 > i1:
                left.append(Markup("<del>") + escape(a[i1:i2]) + Markup("</del>"))
            if j2 > j1:
                right.append(Markup("<ins>") + escape(b[j1:j2]) + Markup("</ins>"))
    return Markup("").join(left), Markup("").join(right)


async def diff(request, datasette):
    db = tilde_decode(request.url_vars["db"])
    url, a, b = request.args.get("url"), request.args.get("a"), request.args.get("b")
    rows = await _rows(datasette, db,
                       "SELECT id, fetched_at, text FROM report_versions WHERE url = ? AND id IN "
                       "(?, ?) ORDER BY id", [url, a, b])
    if len(rows) != 2:
        return Response.text("need two versions of one report: ?url=…&a=…&b=…", status=400)
    old, new = rows
    titles = await _rows(datasette, db, "SELECT title FROM reports WHERE url = ?", [url])
    return Response.html(await datasette.render_template(
        "report_diff.html", {
            "url": url, "old": old, "new": new,
            "title": titles[0]["title"] if titles else url,
            "report_link": datasette.urls.row(db, "reports", tilde_encode(url)),
            "rows": paragraph_diff(old["text"].split("\n"), new["text"].split("\n"))},
        request=request))


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
    db = tilde_decode(request.url_vars["db"])
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
        (r"^/-/capture/(?P<db>[^/]+)/(?P<id>\d+)/view$", capture_view),
        (r"^/-/diff/(?P<db>[^/]+)$", diff),
        (r"^/-/coverage/(?P<db>[^/]+)$", coverage),
    ]
