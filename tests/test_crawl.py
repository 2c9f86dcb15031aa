"""End to end on the sample portal: the real spider, a real HTTP server, a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from archive.derive import extract_any
from tests.conftest import run_crawl
from tests.portal import PORTAL_ROOT, SamplePortal

EXPECTED = json.loads((PORTAL_ROOT / "expected.json").read_text(encoding="utf-8"))


def rows(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def first_crawl(portal: SamplePortal, sources_file: Path, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("archive") / "archive.db"
    portal.reset_hits()
    result = run_crawl(sources_file, db)
    assert result.returncode == 0, result.output[-3000:]
    return db


def test_every_report_archived_with_its_metadata(first_crawl: Path, portal: SamplePortal) -> None:
    got = {r["url"]: r for r in rows(first_crawl, "SELECT * FROM reports")}
    assert len(got) == len(EXPECTED["reports"])
    for want in EXPECTED["reports"]:
        row = got[portal.base_url + want["path"]]
        assert row["source"] == want["source"]
        for key in ("title", "report_year", "published", "publisher", "index_no", "format"):
            assert row[key] == want[key], (want["path"], key)
        lines = row["text"].split("\n")
        assert lines[0] == want["first_paragraph"], want["path"]
        assert lines[-1] == want["last_paragraph"], want["path"]
        assert row["region"] and row["content_hash"] and row["first_seen"] and row["last_seen"]


def test_no_distractor_and_no_duplicate(first_crawl: Path, portal: SamplePortal) -> None:
    urls = [r["url"] for r in rows(first_crawl, "SELECT url FROM reports")]
    assert len(urls) == len(set(urls))
    for path in EXPECTED["distractors"]:
        assert portal.base_url + path not in urls
    versions = rows(first_crawl, "SELECT url, COUNT(*) n FROM report_versions GROUP BY url")
    assert {r["url"] for r in versions} == set(urls)
    assert all(r["n"] == 1 for r in versions)


def test_text_is_simplified_and_clean(first_crawl: Path) -> None:
    for row in rows(first_crawl, "SELECT url, title, text FROM reports"):
        for noise in ("扫一扫在手机打开当前页", "网站标识码", "ICP备", "上一篇", "版权所有"):
            assert noise not in row["text"], (row["url"], noise)
        assert "區" not in row["text"] and "報告" not in row["title"]


def test_fetch_log_records_every_outcome(first_crawl: Path, portal: SamplePortal) -> None:
    log = {r["url"]: r for r in rows(first_crawl, "SELECT * FROM fetch_log")}
    (dead,) = EXPECTED["dead"]
    assert log[portal.base_url + dead]["outcome"] == "http_error"
    assert log[portal.base_url + dead]["status"] == 404
    (flaky,) = EXPECTED["flaky"]
    assert log[portal.base_url + flaky]["outcome"] == "ok"
    assert log[portal.base_url + flaky]["retries"] == 2
    for path in EXPECTED["distractors"]:
        entry = log.get(portal.base_url + path)
        if entry is not None:  # distractors that were fetched say why they are not reports
            assert entry["result"] == "not_report" and entry["reason"]
    for path in EXPECTED["listings"]:
        assert log[portal.base_url + path]["result"] == "listing", path
    for path in EXPECTED.get("disallowed", []):
        assert not any(h[1].startswith(path) for h in portal.hits)


def test_raw_captures_rederive_every_report(first_crawl: Path) -> None:
    formats = set()
    for row in rows(first_crawl,
                    "SELECT r.url, r.text, r.format, c.headers, c.link, b.body FROM reports r "
                    "JOIN captures c ON c.id = r.capture_id JOIN payloads b ON b.sha256 = c.sha256"):
        headers = json.loads(row["headers"])
        link = json.loads(row["link"]) if row["link"] else None  # a file: the link that led to it
        again = extract_any(row["body"], headers.get("Content-Type"), row["url"], link)
        assert again.kind == "report" and again.text == row["text"], row["url"]
        formats.add(row["format"])
    assert formats == {"html", *(f["format"] for f in EXPECTED["files"])}
    statuses = {r["status"] for r in rows(first_crawl, "SELECT status FROM captures")}
    assert {200, 404} <= statuses


def test_gbk_capture_kept_as_gbk_bytes(first_crawl: Path) -> None:
    (row,) = rows(first_crawl,
                  "SELECT b.body FROM captures c JOIN payloads b USING (sha256) "
                  "WHERE c.url LIKE '%/zzgxq/%t20230330_1021.htm'")
    assert "漳州高新区".encode("gbk") in row["body"]


def test_second_crawl_adds_nothing_and_revalidates(first_crawl: Path, portal: SamplePortal,
                                                   sources_file: Path) -> None:
    before = rows(first_crawl, "SELECT url, content_hash, first_seen FROM reports ORDER BY url")
    portal.reset_hits()
    result = run_crawl(sources_file, first_crawl)
    assert result.returncode == 0, result.output[-3000:]
    after = rows(first_crawl, "SELECT url, content_hash, first_seen FROM reports ORDER BY url")
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    assert rows(first_crawl, "SELECT COUNT(*) n FROM report_versions")[0]["n"] == len(before)
    report_paths = {r["path"] for r in EXPECTED["reports"]}
    report_hits = [h for h in portal.hits if h[1] in report_paths]
    assert len(report_hits) == len(report_paths)
    assert sum(h[2] == 304 for h in report_hits) >= 0.8 * len(report_hits)
    listing_hits = [h for h in portal.hits if h[1] in EXPECTED["listings"]]
    assert listing_hits and all(h[2] == 200 for h in listing_hits)
    run = rows(first_crawl, "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]
    assert run["status"] == "finished" and json.loads(run["stats"])["report_unchanged"] >= 1


def test_changed_page_gets_a_new_version(first_crawl: Path, portal: SamplePortal,
                                         sources_file: Path) -> None:
    want = next(r for r in EXPECTED["reports"] if r["source"] == "cq-jlp")
    page = portal.root / want["path"].lstrip("/")
    raw = page.read_bytes()
    added = "（五）新增段落：本报告于发布后更正了一处数据。"
    marker = want["last_paragraph"].encode("utf-8")
    assert marker in raw
    page.write_bytes(raw.replace(marker, marker + f"</p>\n<p>{added}".encode()))
    try:
        result = run_crawl(sources_file, first_crawl)
        assert result.returncode == 0, result.output[-3000:]
    finally:
        page.write_bytes(raw)
    url = portal.base_url + want["path"]
    versions = rows(first_crawl, "SELECT * FROM report_versions WHERE url = ? ORDER BY id", url)
    assert len(versions) == 2
    assert versions[0]["text"].split("\n")[-1] == want["last_paragraph"]
    assert versions[1]["text"].split("\n")[-1] == added
    (report,) = rows(first_crawl, "SELECT * FROM reports WHERE url = ?", url)
    assert report["content_hash"] == versions[1]["content_hash"]
    assert report["first_seen"] < report["changed_at"]


def test_bad_sources_file_fails_before_any_request(portal: SamplePortal, tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: ok-name\n    region: 某区\n    start_urls:\n"
                   f"      - {portal.base_url}/cqjlp/\n    level: village\n", encoding="utf-8")
    portal.reset_hits()
    result = run_crawl(bad, tmp_path / "a.db")
    assert result.returncode != 0
    assert f"{bad}:6: entry #1 (ok-name): field 'level'" in result.output
    assert portal.hits == []


def test_redirects_off_the_source_hosts_are_not_followed(portal: SamplePortal,
                                                         tmp_path: Path) -> None:
    """Scrapy does not offsite-filter start URLs or their redirects; the crawler must."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    target = f"http://localhost:{portal.port}/gxq/zwgk/fzzfjsndbg/index.html"

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start = f"http://127.0.0.1:{server.server_address[1]}/moved/"
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  - name: moved\n    region: 某区\n    start_urls: [{start}]\n",
                       encoding="utf-8")
    portal.reset_hits()
    try:
        result = run_crawl(sources, tmp_path / "a.db")
    finally:
        server.shutdown()
        server.server_close()
    # The only source got nothing usable: the run says so with its exit status.
    assert result.returncode == 3, result.output[-2000:]
    assert "source moved: no usable response" in result.output
    assert portal.hits == []
    (entry,) = rows(tmp_path / "a.db", "SELECT * FROM fetch_log WHERE url = ?", target)
    assert entry["outcome"] == "skipped"
    assert "off-source host 'localhost'" in entry["reason"]
    assert rows(tmp_path / "a.db", "SELECT COUNT(*) n FROM reports")[0]["n"] == 0


def test_report_url_as_start_url(portal: SamplePortal, tmp_path: Path) -> None:
    """Registry entries keep their evidence report as a start URL: archived, then revalidated."""
    want = next(r for r in EXPECTED["reports"] if r["source"] == "zz-gxq")
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: one-report\n    region: 漳州高新区\n    cms: other\n"
                       f"    start_urls: ['{portal.base_url}{want['path']}']\n", encoding="utf-8")
    db = tmp_path / "a.db"
    assert run_crawl(sources, db).returncode == 0
    (row,) = rows(db, "SELECT title, report_year FROM reports")
    assert (row["title"], row["report_year"]) == (want["title"], want["report_year"])
    portal.reset_hits()
    assert run_crawl(sources, db).returncode == 0
    assert [h[2] for h in portal.hits if h[1] == want["path"]] == [304]


def test_recently_confirmed_pages_are_not_requested_again(portal: SamplePortal,
                                                          sources_file: Path,
                                                          tmp_path: Path) -> None:
    """ARCHIVE_REVALIDATE_DAYS: a re-crawl within the window fetches listings only."""
    db = tmp_path / "a.db"
    assert run_crawl(sources_file, db, "ARCHIVE_REVALIDATE_DAYS=6").returncode == 0
    portal.reset_hits()
    assert run_crawl(sources_file, db, "ARCHIVE_REVALIDATE_DAYS=6").returncode == 0
    report_paths = {r["path"] for r in EXPECTED["reports"]}
    assert not [h for h in portal.hits if h[1] in report_paths]
    assert {h[1] for h in portal.hits} >= set(EXPECTED["listings"])
    run = rows(db, "SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]
    assert json.loads(run["stats"])["not_revalidated"] >= len(report_paths)
    assert rows(db, "SELECT COUNT(*) n FROM reports")[0]["n"] == len(report_paths)


def test_a_listing_that_contradicts_the_registry_cms_is_recorded_and_still_read(
        portal: SamplePortal, tmp_path: Path) -> None:
    """`cms` is checked against every listing page: a TRS column registered as Hanweb is read as
    what it is (nothing lost), and the fetch log and the log say the registry is wrong."""
    text = portal.sources_yaml()
    entry = text.index("  - name: cq-jlp")
    cms_at = text.index("cms: trs", entry)
    sources = tmp_path / "sources.yaml"
    sources.write_text(text[:cms_at] + "cms: hanweb" + text[cms_at + len("cms: trs"):],
                       encoding="utf-8")
    db = tmp_path / "a.db"
    result = run_crawl(sources, db, only="cq-jlp")
    assert result.returncode == 0, result.output[-3000:]
    want = {r["title"] for r in EXPECTED["reports"] if r["source"] == "cq-jlp"}
    got = {r["title"] for r in rows(db, "SELECT title FROM reports WHERE source = 'cq-jlp'")}
    assert want and got == want
    reasons = [r["reason"] for r in rows(db, "SELECT reason FROM fetch_log WHERE result = "
                                             "'listing' AND source = 'cq-jlp'")]
    assert reasons and all("the registry says cms: hanweb, but this listing page is trs"
                           in r for r in reasons), reasons
    assert "cq-jlp: the registry says cms: hanweb" in result.output
    # the registry as it is: no complaint
    right = tmp_path / "right.yaml"
    right.write_text(text, encoding="utf-8")
    result = run_crawl(right, tmp_path / "b.db", only="cq-jlp")
    assert "the registry says cms" not in result.output
