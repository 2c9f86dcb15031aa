"""The reports table as a reader wants it: title (linked to the archived copy), issuer, level,
year, published, on time?, province and the original link; a snippet under each title when
searching; every other column one click away (`?_all=1`, Datasette's own table).

Tolerant of the columns the ledger work adds (issuer, issuer_level, deadline_status): while they
are absent the issuer falls back to publisher/region, the level to the source's registry level
and "on time?" is computed from the publish date.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils import path_with_replaced_args, tilde_encode
from markupsafe import Markup, escape

from archive.export import DATASETS, value_label
from archive.search import SNIPPET_CLOSE, SNIPPET_OPEN, snippet

# (key, 中文, English, the column it sorts by)
READER_COLUMNS = (
    ("title", "标题", "Title", "title"),
    ("issuer", "发布主体", "Issuer", "issuer"),
    ("level", "级别", "Level", "issuer_level"),
    ("report_year", "年度", "Year", "report_year"),
    ("published", "发布日期", "Published", "published"),
    ("on_time", "是否按时", "On time?", "deadline_status"),
    ("province", "省份", "Province", "province"),
    ("original", "原文", "Original", None),
)
_LABELS = {c.name: (c.zh, c.en) for d in DATASETS.values() for c in d.columns}
# Columns of canned queries and other tables that the data dictionary does not cover.
_LABELS.update({name: (zh, "") for name, zh in {
    "archived": "存档", "snippet": "摘要", "reports": "报告数", "regions": "地区",
    "versions": "版本数", "status": "状态", "days_vs_deadline": "距截止日天数", "level": "级别",
    "sources": "来源数", "with_report": "有报告", "percent": "百分比", "summary": "说明",
    "last_success": "最近成功", "consecutive_failures": "连续失败次数",
    "latest_report_year": "最新报告年度", "due_year": "应发布年度", "name": "名称",
    "outcome": "结果", "result": "判定", "reason": "原因", "role": "角色", "fetched_at": "抓取时间",
    "cms": "网站系统", "level_label": "级别", "year": "年度", "term": "词语", "q": "搜索词",
    "order": "排序", "id": "编号"}.items()})


def column_label(name: str) -> str:
    """'发布日期 published' for a column name the dictionary knows, else the name."""
    zh = _LABELS.get(name, (None,))[0]
    return f"{zh} {name}" if zh else name


def deadline_status(report_year, published) -> str:
    """As the ledger will store it: on_time (by March 31 of the next year), late or undated."""
    if not published or not isinstance(report_year, int):
        return "undated"
    return "on_time" if published <= f"{report_year + 1}-03-31" else "late"


def marked_snippet(text: str | None, query: str) -> Markup:
    marked = str(escape(snippet(text, query)))
    return Markup(marked.replace(SNIPPET_OPEN, "<mark>").replace(SNIPPET_CLOSE, "</mark>"))


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    common = {"column_label": column_label, "value_label": value_label,
              "tilde_encode": tilde_encode}
    if view_name != "table" or table != "reports" or request is None:
        return common

    async def inner():
        db = datasette.get_database(database)
        present = set(await db.table_columns("reports"))
        levels = {}
        if "sources" in await db.table_names():
            levels = {r["name"]: r["level"] for r in
                      (await db.execute("SELECT name, level FROM sources")).rows}

        def reader_rows(display_rows, search: str | None) -> list[dict]:
            out = []
            for cells in display_rows:
                raw = {c["column"]: c["raw"] for c in cells}
                url = raw.get("url") or ""
                level = raw.get("issuer_level") or levels.get(raw.get("source"))
                status = raw.get("deadline_status") or deadline_status(raw.get("report_year"),
                                                                       raw.get("published"))
                out.append({
                    "archived": datasette.urls.row(database, "reports", tilde_encode(url)),
                    "title": raw.get("title") or url,
                    "issuer": raw.get("issuer") or raw.get("publisher") or raw.get("region"),
                    "level": value_label("issuer_level", level) or level,
                    "report_year": raw.get("report_year"),
                    "published": raw.get("published"),
                    "on_time": value_label("deadline_status", status) or status,
                    "on_time_class": status,
                    "province": raw.get("province"),
                    "original": url,
                    "snippet": marked_snippet(raw.get("text"), search) if search else None,
                })
            return out

        def reader_header() -> list[dict]:
            sort, sort_desc = request.args.get("_sort"), request.args.get("_sort_desc")
            header = []
            for key, zh, en, column in READER_COLUMNS:
                href = arrow = None
                if column in present:
                    if column == sort:
                        href = path_with_replaced_args(request, {"_sort_desc": column,
                                                                 "_sort": None, "_next": None})
                        arrow = "▼"
                    else:
                        href = path_with_replaced_args(request, {"_sort": column,
                                                                 "_sort_desc": None,
                                                                 "_next": None})
                        arrow = "▲" if column == sort_desc else None
                header.append({"key": key, "zh": zh, "en": en, "href": href, "arrow": arrow})
            return header

        all_columns = path_with_replaced_args(request, {"_all": "1"})
        return {**common, "reader": not request.args.get("_all"),
                "reader_rows": reader_rows, "reader_header": reader_header,
                "all_columns_url": all_columns,
                "reader_url": path_with_replaced_args(request, {"_all": None})}

    return inner
