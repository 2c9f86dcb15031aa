"""Bulk downloads: every row of an exportable dataset for one report year, as CSV or JSON Lines,
and the data dictionary that documents each column.

`DATASETS` is the table of what can be exported: a further table (report_sections, report_facts…)
is one more entry. Columns the dictionary lists but the archive lacks are left out; columns the
archive has but the dictionary lacks are exported after the documented ones (nothing is lost) and
logged, so the dictionary can catch up. CSV is UTF-8 with a BOM so that Excel reads the Chinese
text correctly. Run `python -m archive.export --help`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from archive.constants import default_db

log = logging.getLogger(__name__)

BOM = "\ufeff"
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
ALL_YEARS = "all"
ARCHIVED_URL = "archived_url"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    zh: str           # short Chinese label (table headers, downloads)
    en: str           # short English label
    about: str = ""   # what the value means, where it comes from


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    title: str
    table: str
    year_column: str
    order_by: str
    columns: tuple[Column, ...]
    link_column: str | None = None   # the column whose value names the archive's row page

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


REPORT_COLUMNS = (
    Column("title", "标题", "Title", "Title in simplified script"),
    Column("issuer", "发布主体", "Issuer",
           "The government or department that issued the report (title, else registry)"),
    Column("issuer_level", "级别", "Level",
           "省级 province · 市级 city · 县级 county · 开发区 zone · 部门 department"),
    Column("report_year", "报告年度", "Report year",
           "The year the report covers (title, else the body's opening, else 成文日期 − 1)"),
    Column("published", "发布日期", "Published", "Publication date on the page (YYYY-MM-DD)"),
    Column("deadline_status", "是否按时", "On time?",
           "按时 on_time (on or before April 1 of the next year) · 逾期 late · 日期不明 undated"),
    Column("days_late", "逾期天数", "Days late", "Days after the April 1 deadline (late reports)"),
    Column("province", "省份", "Province", "Province-level division"),
    Column("city", "地市", "City", "City-level division (empty for municipalities)"),
    Column("county", "区县", "County", "County-level division"),
    Column("region", "地区", "Region", "Region of the issuing government (registry)"),
    Column(ARCHIVED_URL, "存档网址", "Archived URL",
           "This archive's page for the report (exports only)"),
    Column("url", "原文网址", "Original URL",
           "Canonical URL of the report page on the government portal (no tracking parameters)"),
    Column("text", "正文", "Text", "Clean body, simplified script, one paragraph per line"),
    Column("publisher", "发布机构", "Publisher", "发布机构 as printed on the page"),
    Column("written", "成文日期", "Written", "Date written (成文日期)"),
    Column("index_no", "索引号", "Index no.", "Government-information index number"),
    Column("doc_no", "文号", "Document no.", "Document number (发文字号)"),
    Column("year_inferred", "年度为推断", "Year inferred",
           "1 when report_year was inferred from the 成文日期 minus one"),
    Column("issuer_id", "主体编号", "Issuer id", "Key of the issuing body in the bodies table"),
    Column("copy_of", "转载自", "Copy of",
           "Set when this is a copy of another archived report (the canonical copy's URL)"),
    Column("issuer_adcode", "主体区划代码", "Issuer division code",
           "Division code of the issuing body (a department: its government's)"),
    Column("adcode", "行政区划代码", "Division code",
           "6-digit division code (registry, else the SiteIDCode prefix)"),
    Column("format", "格式", "Format",
           "html, or a report file's format as its bytes show it (pdf/docx/doc/wps/ofd/image)"),
    Column("linked_from", "链接页", "Linked from",
           "For report files, the listing or report page that linked the file"),
    Column("confidence", "识别置信度", "OCR confidence",
           "OCR only: mean tesseract confidence per character (0–100)"),
    Column("source", "来源", "Source",
           "Registry entry (crawler/sources.yaml) the report was found by"),
    Column("quality", "质量", "Quality",
           "ok; mirror (content-farm artifacts); lossy (a few bad bytes); ocr (read from a scan)"),
    Column("quality_reason", "质量说明", "Quality note", "Why the quality flag was set"),
    Column("site_id_code", "网站标识码", "Site ID code", "Site ID code (网站标识码) of the portal"),
    Column("icp", "ICP备案号", "ICP number", "ICP registration of the portal"),
    Column("content_hash", "正文哈希", "Content hash", "SHA-256 of the text"),
    Column("first_seen", "首次存档", "First archived", "When the archive first stored it (UTC)"),
    Column("last_seen", "最近确认", "Last confirmed",
           "Last time the page was confirmed present (UTC)"),
    Column("changed_at", "最近变更", "Last changed", "Last time the text changed (UTC)"),
    Column("capture_id", "原始抓取编号", "Capture id",
           "The raw capture (captures.id) the current text was derived from"),
    Column("extractor_version", "提取器版本", "Extractor version",
           "Version of the cleaner that produced the text"),
    Column("provenance", "字段来源", "Provenance",
           "Where each metadata value came from (JSON object: field → source)"),
)

LEVELS = {"province": "省级", "city": "市级", "county": "县级", "zone": "开发区",
          "department": "部门"}
# Coded values as readers see them, Chinese first (the stored value stays English).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "issuer_level": LEVELS,
    "level": LEVELS,
    "deadline_status": {"on_time": "按时", "late": "逾期", "missing": "缺失",
                        "not_covered": "未覆盖",
                        "undated": "日期不明"},
    "status": {"ok": "正常", "blocked": "被拦截", "failing": "连续失败",
               "shape_changed": "列表结构变化", "overdue": "逾期未发布", "never_crawled": "未抓取",
               "found": "已找到", "missing": "缺失"},
    "quality": {"ok": "正常", "mirror": "转载站", "lossy": "有乱码", "ocr": "扫描识别"},
}


def value_label(column: str, value: object) -> str | None:
    """'县级 county' for ('issuer_level', 'county'); None when the value has no label."""
    label = VALUE_LABELS.get(column, {}).get(value) if isinstance(value, str) else None
    return f"{label} {value}" if label else None


_CONTEXT = (Column("report_year", "报告年度", "Report year", "The year the report covers"),
            Column("issuer", "发布主体", "Issuer", "The body that issued the report"),
            Column("issuer_id", "主体编号", "Issuer id", "Key of the issuing body in bodies"),
            Column("issuer_level", "级别", "Level", "province · city · county · zone · department"),
            Column("province", "省份", "Province", "Province-level division"))


def _analysis_columns(table: str) -> tuple[Column, ...]:
    """The parts/figures tables' columns, documented in archive.analysis_store.DICTIONARY."""
    from archive.analysis_store import DICTIONARY

    own = tuple(Column(name, name, name, about) for name, about in DICTIONARY[table].items())
    return (*_CONTEXT, Column("id", "编号", "Row id", "the row's id in its table"), *own)


DATASETS: dict[str, Dataset] = {
    "reports": Dataset("reports", "报告 · Reports", "reports", "report_year",
                       "province, city, county, published, url", REPORT_COLUMNS,
                       link_column="url"),
    "parts": Dataset("parts", "五部分完整性 · Parts present (#18)", "report_parts_by_year",
                     "report_year", "province, issuer, url", _analysis_columns("report_parts")),
    "facts": Dataset("facts", "报告披露的数字 · Figures (#18)", "report_facts_by_year",
                     "report_year", "province, issuer, url, seq",
                     _analysis_columns("report_facts")),
    "sections": Dataset("sections", "报告各部分 · Sections (#18)", "report_sections_by_year",
                        "report_year", "province, issuer, url, seq",
                        _analysis_columns("report_sections")),
}


_TILDE_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def tilde_encode(value: str) -> str:
    """Datasette's row-path encoding (its `tilde_encode`), so exports can link row pages."""
    return "".join("+" if b == 32 else chr(b) if b in _TILDE_SAFE else f"~{b:02X}"
                   for b in value.encode("utf-8"))


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")]


def export_columns(conn: sqlite3.Connection, dataset: Dataset, *, linked: bool) -> list[str]:
    """Documented columns the archive has (in dictionary order), then undocumented ones."""
    present = table_columns(conn, dataset.table)
    if not present:
        raise LookupError(f"no table {dataset.table!r} in this archive")
    documented = [c.name for c in dataset.columns
                  if c.name in present or (c.name == ARCHIVED_URL and linked)]
    extra = [name for name in present if dataset.column(name) is None]
    if extra:
        log.warning("export %s: columns missing from the data dictionary, exported last: %s",
                    dataset.name, ", ".join(extra))
    return documented + extra


def years(conn: sqlite3.Connection, dataset: Dataset) -> list[tuple[int | None, int]]:
    """(year, rows) for every year of the dataset, newest first; None = year unknown."""
    return [(y, n) for y, n in conn.execute(
        f"SELECT [{dataset.year_column}], count(*) FROM [{dataset.table}] "
        f"GROUP BY 1 ORDER BY 1 IS NULL, 1 DESC")]


def rows(conn: sqlite3.Connection, dataset: Dataset, year: int | str,
         row_url: Callable[[str], str] | None = None) -> tuple[list[str], Iterator[dict]]:
    """Column names and the dataset's rows of one year (`ALL_YEARS` for all of them)."""
    columns = export_columns(conn, dataset, linked=row_url is not None)
    stored = [c for c in columns if c != ARCHIVED_URL]
    select = ", ".join(f"[{c}]" for c in stored)
    link = dataset.link_column
    if link and row_url and link not in stored:
        select += f", [{link}]"
    sql = f"SELECT {select} FROM [{dataset.table}]"
    params: list[object] = []
    if year != ALL_YEARS:
        sql += f" WHERE [{dataset.year_column}] = ?"
        params.append(int(year))
    sql += f" ORDER BY {dataset.order_by}"

    def generate() -> Iterator[dict]:
        cursor = conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            record = dict(zip(names, values, strict=True))
            if row_url and link:
                record[ARCHIVED_URL] = row_url(record[link])
            yield {c: record.get(c) for c in columns}

    return columns, generate()


def write(conn: sqlite3.Connection, dataset: Dataset, year: int | str, fmt: str, out: BinaryIO,
          row_url: Callable[[str], str] | None = None) -> int:
    """Write one year of `dataset` to `out` as `fmt` (csv or jsonl); returns the row count."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    columns, records = rows(conn, dataset, year, row_url)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    count = 0
    try:
        if fmt == "csv":
            text.write(BOM)  # Excel reads UTF-8 only when the file starts with a BOM
            writer = csv.writer(text)
            writer.writerow(columns)
            for record in records:
                writer.writerow(["" if record[c] is None else record[c] for c in columns])
                count += 1
        else:
            for record in records:
                text.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    finally:
        text.detach()
    return count


def holdings(conn: sqlite3.Connection) -> dict[str, object]:
    """What an archive holds, for its front page: reports, issuing bodies, years, last crawl."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = set(table_columns(conn, "reports"))
    reports, first, last = conn.execute(
        "SELECT count(*), min(report_year), max(report_year) FROM reports").fetchone()
    years = conn.execute("SELECT count(DISTINCT report_year) FROM reports").fetchone()[0]
    issuer = "issuer" if "issuer" in columns else "coalesce(publisher, region, source)"
    issuers = conn.execute(f"SELECT count(DISTINCT {issuer}) FROM reports").fetchone()[0]
    # `bodies` lists the governments obliged to report once raw bytes live in `payloads`.
    bodies = (conn.execute("SELECT count(*) FROM bodies").fetchone()[0]
              if "payloads" in tables and "bodies" in tables else None)
    sources = (conn.execute("SELECT count(*) FROM sources").fetchone()[0]
               if "sources" in tables else None)
    last_crawl = (conn.execute("SELECT max(coalesce(finished_at, started_at)) FROM crawl_runs")
                  .fetchone()[0] if "crawl_runs" in tables else None)
    return {"reports": reports, "issuers": issuers, "bodies": bodies, "sources": sources,
            "years": years,
            "first_year": first, "last_year": last, "last_crawl": last_crawl}


def dictionary_markdown() -> str:
    """docs/data-dictionary.md: every exportable dataset and its columns."""
    lines = ["# Data dictionary · 数据字典", "",
             "Generated by `python -m archive.export --dictionary` from `archive/export.py` "
             "(a test keeps this file in step).", "",
             "Downloads: `/-/downloads/<database>` in the published archive, or "
             "`python -m archive.export --db data/archive.db --year 2023 --format csv`. "
             "CSV is UTF-8 with a byte-order mark (Excel opens it with the Chinese text intact); "
             "JSON Lines has one object per line. Empty cells are NULL. Excel holds at most "
             "32,767 characters in a cell: a longer `text` is complete in the file but cut "
             "in Excel; use the JSON Lines file for full texts.", ""]
    for dataset in DATASETS.values():
        lines += [f"## {dataset.title} (`{dataset.name}`)", "",
                  f"One file per `{dataset.year_column}`; rows ordered by {dataset.order_by}.", "",
                  "| column | 中文 | English | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.zh} | {c.en} | {c.about} |" for c in dataset.columns]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive.export", description=__doc__)
    parser.add_argument("--db", default=default_db())
    parser.add_argument("--dataset", default="reports", choices=sorted(DATASETS))
    parser.add_argument("--year", default=ALL_YEARS, help="a report year, or 'all' (default)")
    parser.add_argument("--format", default="csv", choices=sorted(FORMATS))
    parser.add_argument("--out", type=Path, default=None, help="file to write (default stdout)")
    parser.add_argument("--base-url", default=None,
                        help="published archive, e.g. https://host/archive: adds archived_url")
    parser.add_argument("--dictionary", action="store_true",
                        help="print the data dictionary (Markdown) and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.dictionary:
        print(dictionary_markdown())
        return 0
    if not Path(args.db).exists():
        print(f"error: no archive at {args.db} (pass --db)", file=sys.stderr)
        return 2
    if args.year != ALL_YEARS and not args.year.isdigit():
        print(f"error: --year {args.year!r}: a year such as 2023, or 'all'", file=sys.stderr)
        return 2
    row_url = None
    if args.base_url:
        base = args.base_url.rstrip("/")
        row_url = lambda url: f"{base}/{args.dataset}/{tilde_encode(url)}"  # noqa: E731
    conn = sqlite3.connect(Path(args.db).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        if args.out:
            with args.out.open("wb") as out:
                n = write(conn, DATASETS[args.dataset], args.year, args.format, out, row_url)
        else:
            n = write(conn, DATASETS[args.dataset], args.year, args.format, sys.stdout.buffer,
                      row_url)
    finally:
        conn.close()
    print(f"export: {n} rows of {args.dataset}, year {args.year}, {args.format}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
