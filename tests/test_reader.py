"""Issue #17: publishing for researchers — archived copy first, readable tables, Chinese labels,
front page, report pages with citation and a sandboxed capture, diff and query pages."""

from __future__ import annotations

import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import lxml.html
import pytest
import yaml
from datasette.utils import tilde_encode

from archive.extract import extract_page
from archive.store import Archive
from tests.conftest import REPO, datasette_get

QUERIES: dict[str, dict] = {}
for _path in sorted((REPO / "datasette" / "queries").glob("*.yml")):
    QUERIES.update(yaml.safe_load(_path.read_text("utf-8")))
PARAMS = {"q": "复议", "order": "", "year": "2022", "source": "cq-jlp", "term": "复议",
          "status": ""}
REPORT_PAGE = "/archive/reports/"


get = datasette_get


def rows_of(html: str, selector: str = "table.rows-and-columns tbody tr") -> list:
    return lxml.html.fromstring(html).cssselect(selector)


def assert_archived_first(row, where: str) -> None:
    links = row.cssselect("a")
    assert links, where
    assert links[0].get("href").startswith(REPORT_PAGE), (where, links[0].get("href"))
    original = row.cssselect("a.original")
    assert original and original[0].get("href").startswith("http://127.0.0.1:"), where


@pytest.mark.parametrize("name", sorted(n for n, q in QUERIES.items()
                                        if re.search(r"\burl\b", q["sql"])))
def test_every_list_query_links_the_archived_page_first(crawled_archive: Path, name: str) -> None:
    params = {p: PARAMS[p] for p in re.findall(r":(\w+)", QUERIES[name]["sql"]) if p in PARAMS}
    data = get(crawled_archive, f"/archive/{name}.json", **params).json()
    if name == "new_reports":  # the Atom feed: its entry link is the archived page
        assert data["columns"][:4] == ["atom_id", "atom_title", "atom_updated", "atom_link"]
        assert all(r[3].startswith(REPORT_PAGE) for r in data["rows"])
        return
    columns = data["columns"]
    if "url" not in columns:
        return  # an aggregate: lists no reports
    assert "archived" in columns and columns.index("archived") < columns.index("url"), name
    html = get(crawled_archive, f"/archive/{name}", **params).text
    linked = [row for row in rows_of(html) if row.cssselect("a.original")]
    for row in linked:
        assert_archived_first(row, name)
    if name in ("search", "reports_of_year", "source_over_years", "coverage"):
        assert linked, name


def test_table_coverage_grid_and_feed_link_the_archived_page(crawled_archive: Path) -> None:
    for params in ({}, {"_search": "复议"}, {"province": "重庆市"}):
        rows = rows_of(get(crawled_archive, "/archive/reports", **params).text,
                       "table.reader tbody tr")
        assert rows, params
        for row in rows:
            assert_archived_first(row, f"reports table {params}")
    cells = rows_of(get(crawled_archive, "/-/coverage/archive").text,
                    "table.coverage td.ontime, table.coverage td.late")
    assert len(cells) >= 10
    for cell in cells:
        assert_archived_first(cell, "coverage grid")
    feed = ET.fromstring(get(crawled_archive, "/archive/new_reports.atom").content)
    ns = "{http://www.w3.org/2005/Atom}"
    entries = feed.findall(f"{ns}entry")
    assert feed.find(f"{ns}title").text == QUERIES["new_reports"]["title"]
    assert entries and all(e.find(f"{ns}link").get("href").startswith(REPORT_PAGE)
                           for e in entries)
    assert all("原文 Original: http://127.0.0.1:" in e.find(f"{ns}content").text
               for e in entries)


def test_reports_table_reads_as_a_list(crawled_archive: Path) -> None:
    html = get(crawled_archive, "/archive/reports").text
    doc = lxml.html.fromstring(html)
    headers = [re.match(r"[^\x00-\x7f]+", th.text_content().strip()).group(0)
               for th in doc.cssselect("table.reader th")]
    assert headers == ["标题", "发布主体", "级别", "年度", "发布日期", "是否按时", "省份", "原文"]
    assert not doc.cssselect("dl.column-descriptions")
    body = doc.cssselect("table.reader tbody")[0].text_content()
    assert "{" not in body and "sha256" not in body.lower()  # no raw JSON, no hashes
    assert "县级 county" in body and "开发区 zone" in body and "按时 on_time" in body
    facets = [p.text_content() for p in doc.cssselect(".facet-info-name")]
    assert any(f.startswith("省份 province") for f in facets)
    assert doc.cssselect("a.all-columns")
    everything = lxml.html.fromstring(get(crawled_archive, "/archive/reports", _all="1").text)
    columns = {th.get("data-column") for th in everything.cssselect("table.rows-and-columns th")}
    assert {"provenance", "content_hash", "site_id_code", "text"} <= columns


def test_table_search_shows_snippets(crawled_archive: Path) -> None:
    doc = lxml.html.fromstring(get(crawled_archive, "/archive/reports", _search="复议").text)
    snippets = doc.cssselect("table.reader p.snippet")
    assert snippets and all(s.cssselect("mark") for s in snippets)
    assert all(m.text == "复议" for s in snippets for m in s.cssselect("mark"))


def test_front_page_and_about(crawled_archive: Path) -> None:
    html = get(crawled_archive, "/").text
    for link in ("/archive/reports", "/archive/search", "/-/ledger/archive",
                 "/-/downloads/archive", "/-/coverage/archive", "/-/about"):
        assert f'href="{link}' in html, link
    (reports,) = sqlite3.connect(crawled_archive).execute(
        "SELECT count(*) FROM reports").fetchone()
    assert f"收录 <b>{reports}</b> 份报告" in html
    assert "个报告年度（2020–2024）" in html and "最近抓取 20" in html
    assert "报告 · Reports" in html and "原始抓取 · Raw captures" in html  # tables by title
    about = get(crawled_archive, "/-/about")
    assert about.status_code == 200 and "<h1>关于本档案 · About this archive</h1>" in about.text


def report_path(db: Path, where: str) -> tuple[dict, str]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute(f"SELECT * FROM reports WHERE {where} LIMIT 1").fetchone())
    conn.close()
    return row, REPORT_PAGE + tilde_encode(row["url"])


def test_report_page_citation_and_sandboxed_capture(crawled_archive: Path) -> None:
    row, path = report_path(crawled_archive, "text LIKE '%XSS-FIXTURE%'")
    doc = lxml.html.fromstring(get(crawled_archive, path).text)
    gbt = doc.cssselect(".cite-gbt")[0].text_content()
    archived = "http://localhost" + path
    issuer = row.get("issuer") or row["publisher"]
    assert gbt.startswith(f"{issuer}. {row['title']}[EB/OL]. ({row['published']})[")
    assert row["url"] in gbt and archived in gbt
    plain = doc.cssselect(".cite-plain")[0].text_content()
    for part in (issuer, row["title"], str(row["report_year"]), row["url"], archived,
                 row["content_hash"]):
        assert part in plain, part
    assert "已存档 · Archived " + row["first_seen"][:10] in doc.text_content()
    (frame,) = doc.cssselect("iframe")
    assert frame.get("sandbox") == ""
    assert frame.get("src") == f"/-/capture/archive/{row['capture_id']}/view"
    view = get(crawled_archive, frame.get("src"))
    assert view.status_code == 200 and view.headers["content-type"].startswith("text/html")
    csp = view.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp.split(";")[-1]
    assert "XSS-FIXTURE" in view.text  # the page itself; the CSP keeps its scripts from running


def test_diff_links_back_and_keeps_paragraphs_whole(crawled_archive: Path, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled_archive, db)
    archive = Archive(db)
    url, capture_id, source = archive.db.execute(
        "SELECT url, capture_id, source FROM reports ORDER BY url LIMIT 1").fetchone()
    (body,) = archive.db.execute(
        "SELECT b.body FROM captures c JOIN payloads b USING (sha256) WHERE c.id = ?",
        [capture_id]).fetchone()
    ex = extract_page(body, "text/html", url)
    long = "新增段落：" + "依法行政、严格规范公正文明执法，" * 8
    assert len(long) > 100
    ex.text += "\n" + long
    ex.content_hash = "changed"
    with archive.db.atomic():
        archive.save_report(url, source, "2030-01-01T00:00:00Z", capture_id, ex)
    archive.close()
    a, b = (r[0] for r in sqlite3.connect(db).execute(
        "SELECT id FROM report_versions WHERE url = ? ORDER BY id", [url]))
    doc = lxml.html.fromstring(get(db, "/-/diff/archive", url=url, a=str(a), b=str(b)).text)
    back = doc.cssselect("a.archived")[0].get("href")
    assert back == REPORT_PAGE + tilde_encode(url)
    cells = [td.text_content() for td in doc.cssselect("table.pdiff td")]
    assert long in cells  # one cell holds the whole paragraph


def test_query_pages_are_titled_in_words(crawled_archive: Path) -> None:
    doc = lxml.html.fromstring(get(crawled_archive, "/archive/search", q="复议",
                                   order="recent").text)
    assert doc.findtext(".//title") == QUERIES["search"]["title"]
    (select,) = doc.cssselect("select[name=order]")
    assert [o.get("value") for o in select.cssselect("option")] == ["", "recent"]
    assert select.cssselect("option[selected]")[0].get("value") == "recent"
    for name in ("reports_of_year", "coverage"):
        title = lxml.html.fromstring(get(crawled_archive, f"/archive/{name}",
                                         year="2022").text).findtext(".//title")
        assert title == QUERIES[name]["title"] and "select" not in title.lower()
