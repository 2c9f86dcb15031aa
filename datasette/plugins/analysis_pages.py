"""/-/compare/<db>: one indicator across a province's bodies for a year, as a chart and a table.
Also the descriptions of the analysis tables (report_sections, report_facts, report_parts).

Without parameters the page lists the (indicator, province, year) combinations the archive has
figures for. The chart is inline SVG (no script), horizontal bars so Chinese body names fit.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from archive.analysis_store import DICTIONARY, TABLE_DESCRIPTIONS
from archive.facts import INDICATORS


async def _rows(datasette, db: str, sql: str, params=None) -> list[dict]:
    if db not in datasette.databases:
        raise NotFound(f"no database {db!r}")
    result = await datasette.get_database(db).execute(sql, params or [])
    return [dict(r) for r in result.rows]


def hbars(values: list[tuple[str, float, str]], title: str, colour: str = "#3b6ea5") -> Markup:
    """Horizontal bars (label, value, shown value) as inline SVG."""
    label_w, bar_w, row_h = 220, 360, 22
    height = row_h * max(len(values), 1) + 10
    top = max((v for _, v, _ in values), default=1) or 1
    parts = [f'<svg role="img" aria-label="{escape(title)}" width="{label_w + bar_w + 90}" '
             f'height="{height}" xmlns="http://www.w3.org/2000/svg" '
             f'style="font: 12px sans-serif"><title>{escape(title)}</title>']
    for i, (label, value, shown) in enumerate(values):
        y = 5 + i * row_h
        w = bar_w * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}'
                     f'</text><rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}"'
                     f' fill="{colour}"><title>{escape(label)}: {escape(shown)}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 15}">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


async def compare(request, datasette):
    db = request.url_vars["db"]
    indicator = request.args.get("indicator", "")
    province = request.args.get("province", "")
    year = request.args.get("year", "")
    if indicator and indicator not in INDICATORS:
        return Response.text(f"unknown indicator {indicator!r}", status=400)
    rows: list[dict] = []
    chart = None
    if indicator and year.isdigit():
        rows = await _rows(datasette, db, """
            SELECT coalesce(r.issuer, r.region, r.source) AS body, f.value, f.value_text, f.unit,
              f.approx, f.check_status, f.check_detail, f.part, f.sentence, r.url, r.title,
              f.breakdown, f.seq
            FROM report_facts f JOIN reports r ON r.url = f.url
            WHERE f.indicator = ? AND (? = '' OR r.province LIKE '%' || ? || '%')
              AND r.report_year = ? AND r.copy_of IS NULL
            ORDER BY f.value DESC""", [indicator, province, province, int(year)])
        # One bar per report: its first figure that is not a 其中 breakdown (the table lists all).
        headline: dict[str, dict] = {}
        for r in rows:
            r["link"] = datasette.urls.row(db, "reports", tilde_encode(r["url"]))
            best = headline.get(r["url"])
            if not r["breakdown"] and (best is None or r["seq"] < best["seq"]):
                headline[r["url"]] = r
        for r in rows:
            r["headline"] = headline.get(r["url"]) is r
        bars = sorted(headline.values(), key=lambda r: -r["value"])
        title = f"{INDICATORS[indicator][1]} · {province or '全部'} · {year}"
        chart = hbars([(r["body"] or "?", r["value"],
                        ("约" if r["approx"] else "") + f"{r['value_text']}{r['unit']}")
                       for r in bars], title)
    combos = await _rows(datasette, db, """
        SELECT f.indicator, r.province, r.report_year, COUNT(DISTINCT r.url) AS bodies
        FROM report_facts f JOIN reports r ON r.url = f.url
        WHERE r.copy_of IS NULL AND r.report_year IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY bodies DESC, 1 LIMIT 300""")
    for c in combos:
        c["label"] = INDICATORS.get(c["indicator"], ("", c["indicator"]))[1]
    return Response.html(await datasette.render_template("compare.html", {
        "database": db, "indicator": indicator, "province": province, "year": year,
        "indicators": INDICATORS, "rows": rows, "chart": chart, "combos": combos},
        request=request))


@hookimpl
def get_metadata(datasette, key, database, table):
    """Descriptions of the analysis tables, from archive.analysis_store's data dictionary (one
    source for the docs, the downloads and Datasette; metadata.yml entries would win)."""
    tables = {name: {"description": TABLE_DESCRIPTIONS[name], "columns": columns}
              for name, columns in DICTIONARY.items()}
    return {"databases": {name: {"tables": tables} for name in datasette.databases
                          if name != "_internal"}}


@hookimpl
def register_routes():
    return [(r"^/-/compare/(?P<db>[^/]+)$", compare)]
