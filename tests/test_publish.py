"""Publishing (issue #4): Chinese search that is exact, report pages, coverage, feed, safety."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from archive.extract import extract_page
from archive.search import terms
from archive.store import Archive
from tests.conftest import REPO, datasette_get
from tests.portal import EXPECTED, N_REPORTS

METADATA = yaml.safe_load((REPO / "datasette" / "metadata.yml").read_text("utf-8"))


client_get = datasette_get


def substring_truth(db: Path, query: str) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT url, title, text FROM reports").fetchall()
    finally:
        conn.close()
    return {url for url, title, text in rows if all(t in title or t in text for t in terms(query))}


QUERIES = [
    "复议", "普法", "调解", "法治", "黄埔", "诉讼",                 # two-character words
    "行政机关负责人出庭应诉率", "规范性文件备案审查", "重庆高新区",    # phrases typed without spaces
    "复议 普法", "行政 2023年", "调解 出庭 普法",                    # several terms, all must match
    "復議", "黃埔區", "行政機關負責人",                              # traditional input
    "复", "（一）", "2021—2025", "不存在的词语组合",                # one character, punctuation, none
]


@pytest.mark.parametrize("query", QUERIES)
def test_search_is_exactly_the_substring_matches(crawled_archive: Path, query: str) -> None:
    response = client_get(crawled_archive, "/archive/reports.json", _search=query,
                          _shape="array", _col="title", _size="max")
    assert response.status_code == 200
    got = {row["url"] for row in response.json()}
    assert got == substring_truth(crawled_archive, query)


def test_search_box_on_the_table_page(crawled_archive: Path) -> None:
    html = client_get(crawled_archive, "/archive/reports", _search="复议").text
    assert 'name="_search"' in html and 'value="复议"' in html
    assert f"{len(substring_truth(crawled_archive, '复议'))} rows" in html


def test_relevance_and_recency_search_with_highlighted_snippets(crawled_archive: Path) -> None:
    recent = client_get(crawled_archive, "/archive/search.json", q="复议", order="recent",
                        _shape="array").json()
    assert {r["url"] for r in recent} == substring_truth(crawled_archive, "复议")
    dates = [r["published"] for r in recent]
    assert dates == sorted(dates, reverse=True)
    assert all("⟦复议⟧" in r["snippet"] for r in recent)
    relevant = client_get(crawled_archive, "/archive/search.json", q="复议", order="",
                          _shape="array").json()
    assert {r["url"] for r in relevant} == {r["url"] for r in recent}
    html = client_get(crawled_archive, "/archive/search", q="复议", order="").text
    assert "<mark>复议</mark>" in html


def test_index_follows_changes_and_reextract(crawled_archive: Path, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    src, dst = sqlite3.connect(crawled_archive), sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    archive = Archive(db)
    url, capture_id, source = archive.db.execute(
        "SELECT url, capture_id, source FROM reports ORDER BY url LIMIT 1").fetchone()
    (body,) = archive.db.execute(
        "SELECT b.body FROM captures c JOIN payloads b USING (sha256) WHERE c.id = ?",
        [capture_id]).fetchone()
    ex = extract_page(body, "text/html", url)
    ex.text += "\n新增一段：独一无二的检索词甲乙丙。"
    ex.content_hash = "changed"
    with archive.db.atomic():
        assert archive.save_report(url, source, "2030-01-01T00:00:00Z", capture_id, ex) == \
            "report_changed"
    archive.close()
    found = client_get(db, "/archive/reports.json", _search="甲乙丙", _shape="array").json()
    assert [r["url"] for r in found] == [url]
    versions = client_get(db, "/archive/report_versions.json", url=url, _shape="array").json()
    assert len(versions) == 2
    diff = client_get(db, "/-/diff/archive", url=url, a=str(versions[0]["id"]),
                      b=str(versions[1]["id"]))
    assert diff.status_code == 200 and "甲乙丙" in diff.text


def test_report_page(crawled_archive: Path) -> None:
    row = client_get(crawled_archive, "/archive/reports.json", report_year="2024",
                     _shape="array").json()[0]
    from datasette.utils import tilde_encode

    html = client_get(crawled_archive, f"/archive/reports/{tilde_encode(row['url'])}").text
    for expected in (row["title"], row["publisher"], row["published"], row["region"],
                     "版本 Versions (1)", f"/-/capture/archive/{row['capture_id']}",
                     f'href="{row["url"]}"'):
        assert expected in html, expected
    assert f"<p>{row['text'].split(chr(10))[0]}</p>" in html


def test_archived_capture_is_served_as_inert_text(crawled_archive: Path) -> None:
    (capture_id,) = sqlite3.connect(crawled_archive).execute(
        "SELECT capture_id FROM reports WHERE text LIKE '%XSS-FIXTURE%'").fetchone()
    response = client_get(crawled_archive, f"/-/capture/archive/{capture_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "&lt;script&gt;" in response.text  # the page's own escaped text, shown verbatim


def test_crawled_script_is_escaped_everywhere(crawled_archive: Path) -> None:
    (url,) = sqlite3.connect(crawled_archive).execute(
        "SELECT url FROM reports WHERE text LIKE '%XSS-FIXTURE%'").fetchone()
    from datasette.utils import tilde_encode

    pages = [
        client_get(crawled_archive, f"/archive/reports/{tilde_encode(url)}").text,
        client_get(crawled_archive, "/archive/reports", _search="XSS-FIXTURE").text,
        client_get(crawled_archive, "/archive/reports", _search="XSS", _all="1").text,
        client_get(crawled_archive, "/archive/search", q="XSS-FIXTURE", order="").text,
    ]
    for html in pages:
        assert "XSS-FIXTURE" in html
        assert "<script>document.title" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;document.title" in html


def test_coverage_query_and_page(crawled_archive: Path) -> None:
    rows = client_get(crawled_archive, "/archive/coverage.json", _shape="array",
                      _size="max").json()
    assert {r["source"] for r in rows} == {r["source"] for r in EXPECTED["reports"]}
    assert {r["report_year"] for r in rows} == {2020, 2021, 2022, 2023, 2024}
    jlp2022 = next(r for r in rows if r["source"] == "cq-jlp" and r["report_year"] == 2022)
    assert jlp2022["status"] == "found" and jlp2022["published"] == "2023-03-23"
    assert jlp2022["days_vs_deadline"] == -9
    missing = [r for r in rows if r["status"] == "missing"]
    assert any(r["source"] == "gz-hp" and r["report_year"] == 2020 for r in missing)
    html = client_get(crawled_archive, "/-/coverage/archive").text
    assert html.count("<svg") == 2 and "按时发布比例" in html and "缺 missing" in html
    assert "按省份与级别" in html and "1/1 (100%)" in html and "0/1 (0%)" in html
    share = client_get(crawled_archive, "/archive/coverage_by_province.json", _shape="array",
                       _size="max").json()
    cq_2023 = [r for r in share if r["province"] == "重庆市" and r["report_year"] == 2023]
    assert {(r["level"], r["sources"], r["with_report"]) for r in cq_2023} == {
        ("county", 1, 1), ("zone", 1, 0)}


def test_atom_feed_of_new_reports(crawled_archive: Path) -> None:
    response = client_get(crawled_archive, "/archive/new_reports.atom")
    assert response.status_code == 200
    feed = ET.fromstring(response.content)
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == N_REPORTS


def test_canned_queries_for_researchers(crawled_archive: Path) -> None:
    year = client_get(crawled_archive, "/archive/reports_of_year.json", year="2022",
                      _shape="array").json()
    assert len(year) == 9 and {r["report_year"] for r in year} == {2022}  # 2 of them files
    source = client_get(crawled_archive, "/archive/source_over_years.json", source="cq-jlp",
                        _shape="array").json()
    assert [r["report_year"] for r in source] == [2023, 2022, 2021, 2020]
    term = client_get(crawled_archive, "/archive/term_by_province_year.json", term="复议",
                      _shape="array").json()
    assert sum(r["reports"] for r in term) == len(substring_truth(crawled_archive, "复议"))
    assert client_get(crawled_archive, "/archive/recently_changed.json").status_code == 200


def test_read_only_publishing() -> None:
    settings = METADATA["settings"]
    assert settings["sql_time_limit_ms"] <= 5000 and settings["max_returned_rows"] <= 5000
    queries = {}
    for path in sorted((REPO / "datasette" / "queries").glob("*.yml")):
        queries.update(yaml.safe_load(path.read_text("utf-8")))
    assert {"search", "reports_of_year", "coverage", "new_reports"} <= set(queries)
    for name, query in queries.items():
        assert not query.get("write"), name
        assert query["sql"].lstrip().lower().startswith(("select", "with")), name
