"""The ledger page: who published their report for each year, when, and who did not.

/-/ledger/<db>: by province × level × year, counts and shares of on time / late / missing / not
covered (the year currently due included), with a national chart; ?province=… drills down to that
province's bodies, one cell per year, each linking to the archived report or saying why it is
missing or unknown. Works for any database that has a `ledger` table.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from archive.divisions import find_governments

STATUS_LABELS = {
    "on_time": ("按时", "on time", "#4a9a5b"),
    "late": ("逾期", "late", "#e0a030"),
    "undated": ("日期不明", "undated", "#9b8ec4"),
    "pending": ("待发布", "due, not yet found", "#8fb8de"),
    "missing": ("缺失", "missing", "#c0392b"),
    "not_covered": ("未覆盖", "not covered", "#d9d9d9"),
}
LEVEL_LABELS = {"province": "省级", "city": "市级", "county": "县级", "zone": "开发区",
                "department": "部门"}
LEVEL_ORDER = list(LEVEL_LABELS)


async def _rows(datasette, db: str, sql: str, params=None) -> list[dict]:
    if db not in datasette.databases:
        raise NotFound(f"no database {db!r}")
    database = datasette.get_database(db)
    if not await database.table_exists("ledger"):
        raise NotFound(f"database {db!r} has no ledger (run a crawl or python -m archive ledger)")
    result = await database.execute(sql, params or [])
    return [dict(r) for r in result.rows]


def _stack(counts: Counter, total: int, width: int = 120) -> Markup:
    """One horizontal bar of status shares (inline SVG: no script, renders anywhere)."""
    x, parts = 0.0, []
    for status, (zh, en, colour) in STATUS_LABELS.items():
        n = counts.get(status, 0)
        if not n or not total:
            continue
        w = width * n / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="10" fill="{colour}">'
                     f"<title>{zh} {en}: {n}</title></rect>")
        x += w
    return Markup(f'<svg width="{width}" height="10" role="img" aria-label="status shares">'
                  + "".join(parts) + "</svg>")


def _year_chart(by_year: dict[int, Counter]) -> Markup:
    """Stacked bars per report year: how many bodies are in each status (national)."""
    years = sorted(by_year)
    height, bar, gap, pad = 200, 34, 14, 30
    width = pad + len(years) * (bar + gap) + 10
    top = max((sum(c.values()) for c in by_year.values()), default=1) or 1
    parts = [f'<svg role="img" aria-label="各年度状态 · Status per report year" width="{width}" '
             f'height="{height + 20}" style="font: 11px sans-serif">'
             "<title>各年度状态 · Status per report year</title>"]
    for i, year in enumerate(years):
        x, y = pad + i * (bar + gap), float(height)
        for status, (zh, en, colour) in STATUS_LABELS.items():
            n = by_year[year].get(status, 0)
            if not n:
                continue
            h = (height - 20) * n / top
            y -= h
            parts.append(f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{year} {zh} {en}: {n}</title></rect>')
        parts.append(f'<text x="{x + bar / 2}" y="{height + 14}" text-anchor="middle">'
                     f"{year}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _share(c: Counter) -> str:
    covered = sum(v for k, v in c.items() if k != "not_covered")
    published = c.get("on_time", 0) + c.get("late", 0) + c.get("undated", 0)
    return f"{published}/{covered}" if covered else "—"


def _province_code(name: str) -> str | None:
    """The two-digit code of a province-level division, by name (unchanged since 2019)."""
    g = next((g for g in find_governments(name, 2025) if g.adcode.endswith("0000")), None)
    return g.adcode[:2] if g else None


def _bad_filter(message: str) -> Response:
    """A filter that matches nothing the ledger could hold is an error, not an empty page."""
    return Response.html(f"<!DOCTYPE html><meta charset='utf-8'><title>Bad filter</title>"
                         f"<p>{escape(message)}</p>", status=400)


async def ledger_page(request, datasette):
    db = request.url_vars["db"]
    province = request.args.get("province") or None
    level = request.args.get("level") or None
    known = [r["province"] for r in await _rows(
        datasette, db, "SELECT DISTINCT province FROM ledger WHERE province IS NOT NULL "
                       "ORDER BY province")]
    if province and province.isdigit():  # a division code (33 or 330000) names its province
        province = next((p for p in known if province[:2] == _province_code(p)), province)
    if province and province not in known:
        return _bad_filter(f"province={province}: no such province in this archive's ledger; "
                           f"use a name ({', '.join(known) or 'the ledger is empty'}) or its code")
    if level and level not in LEVEL_LABELS:
        return _bad_filter(f"level={level}: use one of {', '.join(LEVEL_LABELS)}")
    where, params = [], []
    if province:
        where.append("province = ?")
        params.append(province)
    if level:
        where.append("level = ?")
        params.append(level)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    counts = await _rows(datasette, db,
                         "SELECT province, level, report_year, status, count(*) AS n, "
                         f"max(as_of) AS as_of FROM ledger {clause} "
                         "GROUP BY province, level, report_year, status", params)
    years = sorted({r["report_year"] for r in counts})
    as_of = max((r["as_of"] for r in counts), default=None)
    by_year: dict[int, Counter] = defaultdict(Counter)
    groups: dict[tuple[str, str], dict[int, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for r in counts:
        by_year[r["report_year"]][r["status"]] += r["n"]
        groups[(r["province"] or "?", r["level"])][r["report_year"]][r["status"]] += r["n"]
    summary = []
    for (prov, lvl), per_year in sorted(
            groups.items(), key=lambda kv: (kv[0][0], LEVEL_ORDER.index(kv[0][1])
                                            if kv[0][1] in LEVEL_ORDER else 9)):
        cells = []
        for y in years:
            c = per_year.get(y, Counter())
            total = sum(c.values())
            cells.append({"counts": c, "total": total, "bar": _stack(c, total),
                          "share": _share(c)})
        summary.append({"province": prov, "level": lvl,
                        "level_label": LEVEL_LABELS.get(lvl, lvl), "cells": cells})
    totals = [{"year": y, "counts": by_year[y], "total": sum(by_year[y].values())}
              for y in years]
    bodies = []
    if province:  # drill-down: one row per body, one cell per year
        rows = await _rows(datasette, db,
                           "SELECT body_id, name, level, report_year, status, published, "
                           f"days_late, url, copies, checked, why FROM ledger {clause}", params)
        per_body: dict[str, dict] = {}
        for r in sorted(rows, key=lambda r: (LEVEL_ORDER.index(r["level"])
                                             if r["level"] in LEVEL_ORDER else 9, r["body_id"])):
            b = per_body.setdefault(r["body_id"], {"name": r["name"], "level": r["level"],
                                                   "level_label": LEVEL_LABELS.get(r["level"]),
                                                   "cells": {}})
            link = (datasette.urls.row(db, "reports", tilde_encode(r["url"]))
                    if r["url"] else None)
            b["cells"][r["report_year"]] = {**r, "link": link}
        bodies = list(per_body.values())
    provinces = known
    return Response.html(await datasette.render_template(
        "ledger.html",
        {"database": db, "years": years, "as_of": as_of, "summary": summary, "totals": totals,
         "chart": _year_chart(by_year), "bodies": bodies, "province": province, "level": level,
         "provinces": provinces, "statuses": STATUS_LABELS, "levels": LEVEL_LABELS,
         "csv": datasette.urls.table(db, "ledger", format="csv")},
        request=request))


@hookimpl
def register_routes():
    return [(r"^/-/ledger/(?P<db>[^/]+)$", ledger_page)]
