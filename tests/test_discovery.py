"""Discovery end to end (#14): from one `directory` entry, the real spider finds every portal of the
sample web, explores each for its report column(s), and finds every report; a second crawl
starts from the recorded columns. Requests are counted per host at the servers."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.settings import RETRY_TIMES
from tests.conftest import CrawlResult, run_crawl
from tests.web import SampleWeb

PORTALS = {"sx": "140000", "dt": "140200", "lq": "140224", "hy": "140225", "pc": "140213"}
Hits = dict[str, list[tuple[str, str, int]]]


@dataclass
class Crawled:
    web: SampleWeb
    db: Path
    first: CrawlResult
    second: CrawlResult
    hits1: Hits
    hits2: Hits


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    tmp = tmp_path_factory.mktemp("discovery")
    with SampleWeb(tmp / "web") as web:
        sources = tmp / "sources.yaml"
        sources.write_text(web.sources_yaml(), encoding="utf-8")
        db = tmp / "archive.db"
        first = run_crawl(sources, db, timeout=300)
        hits1 = {k: web.hits(k) for k in web.servers}
        web.reset_hits()
        second = run_crawl(sources, db, timeout=300)
        hits2 = {k: web.hits(k) for k in web.servers}
        yield Crawled(web, db, first, second, hits1, hits2)


def test_crawls_succeed(crawled: Crawled) -> None:
    assert crawled.first.returncode == 0, crawled.first.output[-3000:]
    assert crawled.second.returncode == 0, crawled.second.output[-3000:]


def test_every_report_found_from_the_directory_alone(crawled: Crawled) -> None:
    assert crawled.web.web is not None
    expected = {(r.title, r.year) for r in crawled.web.web.reports}
    found = set(rows(crawled.db, "SELECT title, report_year FROM reports"))
    assert expected <= found, sorted(expected - found)
    # Nothing but reports: the decoys (实施方案, 工作要点, 考核通报, 信息公开年报) are not reports.
    assert found == expected
    by_body = {r.adcode for r in crawled.web.web.reports}
    assert by_body == {*PORTALS.values(), "140214"}  # 云冈区: only in 大同市's collection column


def test_no_off_scope_request(crawled: Crawled) -> None:
    for hits in (crawled.hits1, crawled.hits2):
        # 人民网 names no government: never fetched, not even robots.txt.
        assert hits["rmw"] == []
        # 广灵县's link leads to a site of another division: its home page and robots.txt only.
        assert {path for _, path, _ in hits["gl"]} <= {"/", "/robots.txt"}
    assert {path for _, path, _ in crawled.hits1["gl"]} == {"/", "/robots.txt"}
    assert crawled.hits2["gl"] == []  # rejected once: not asked again
    # Each portal's own pages only: every path requested exists on that site.
    for key, hits in crawled.hits1.items():
        assert all(status in (200, 304) or path == "/robots.txt" for _, path, status in hits), (
            key, [h for h in hits if h[2] not in (200, 304)])
    assert "offsite_skipped" not in crawled.first.output


def stat(output: str, name: str) -> int:
    found = re.search(rf"'{re.escape(name)}': (\d+)", output)
    return int(found.group(1)) if found else 0


def test_every_request_accounted_for_at_an_in_scope_host(crawled: Crawled) -> None:
    """0 off-scope requests, counted at both ends: every request the downloader made was answered
    by one of the web's servers, or refused by the dead portal's address (a candidate that names
    a government). A request to any other host (www.gov.cn in a footer, a CDN) would be neither."""
    dead = urlsplit(crawled.web.urls["yg"]).netloc
    for result, hits, run in ((crawled.first, crawled.hits1, 1), (crawled.second, crawled.hits2, 2)):
        made = stat(result.output, "downloader/request_count")
        refused = stat(result.output, "downloader/exception_type_count/"
                                      "scrapy.exceptions.DownloadConnectionRefusedError")
        answered = sum(len(h) for h in hits.values())
        assert made == answered + refused and answered > 0, (run, made, answered, refused)
        # the refusals are the dead 阳高县 portal's robots.txt and home page, each tried 1 + retries
        unreachable = {urlsplit(url).netloc for (url,) in rows(
            crawled.db, "SELECT url FROM explore_candidates WHERE run_id = ? AND decision = "
                        "'unreachable'", (run,))}
        assert unreachable == {dead} and refused == 2 * (1 + RETRY_TIMES), (unreachable, refused)


def test_candidates_recorded_with_decisions(crawled: Crawled) -> None:
    decided = {(text, decision): reason for text, decision, reason in rows(
        crawled.db, "SELECT link_text, decision, reason FROM explore_candidates WHERE run_id = 1")}
    for name in ("山西省人民政府", "大同市人民政府", "灵丘县人民政府", "浑源县人民政府", "平城区人民政府"):
        assert (name, "accepted") in decided
    assert "140105" in decided[("广灵县人民政府", "rejected")]
    assert "connection refused" in decided[("阳高县人民政府", "unreachable")]
    assert decided[("人民网", "not_fetched")] == "link text names no government"
    portals = {adcode: json.loads(evidence) for adcode, evidence in rows(
        crawled.db, "SELECT adcode, evidence FROM body_portals")}
    assert set(portals) == set(PORTALS.values())
    assert portals["140224"]["site_id_code"] == "1402240001"
    assert portals["140224"]["link_text"] == "灵丘县人民政府"
    # The ledger's bodies read them (archive/ledger.py).
    bodies = dict(rows(crawled.db, "SELECT adcode, portal FROM bodies WHERE portal_source "
                                   "LIKE 'discovery:%'"))
    assert bodies == {code: crawled.web.urls[key] for key, code in PORTALS.items()}


def test_columns_found_with_evidence_and_shapes(crawled: Crawled) -> None:
    columns = rows(crawled.db, "SELECT source, shape, url, evidence_text, covers "
                               "FROM explore_columns")
    shapes = {src.rsplit("-", 1)[-1]: shape for src, shape, *_ in columns}
    assert shapes["140000"] == "trs" and shapes["140224"] == "gkmlpt"
    assert shapes["140225"] == "trs-var" and shapes["140213"] == "paged"
    evidence = {src.rsplit("-", 1)[-1]: text for src, _, _, text, _ in columns}
    assert evidence["140225"] == "依法行政"
    assert evidence["140213"] == "通知公告"  # no report column there: the general one serves
    dt = {text: (shape, covers) for src, shape, _, text, covers in columns
          if src.endswith("140200")}
    assert set(dt) == {"法治政府建设", "区县法治政府建设年度报告"}
    assert {shape for shape, _ in dt.values()} == {"hanweb"}
    assert json.loads(dt["法治政府建设"][1]) == []
    collection = dt["区县法治政府建设年度报告"][1]
    assert {c["adcode"] for c in json.loads(collection)} == {"140214", "140224", "140225"}


def test_budget_holds(crawled: Crawled) -> None:
    explored = dict(rows(crawled.db, "SELECT source, count(*) FROM explore_pages "
                                     "WHERE run_id = 1 GROUP BY source"))
    for key, adcode in PORTALS.items():
        source = f"sx-zfwz-{adcode}"
        assert 0 < explored[source] <= 60
        # At the server: exploration + robots.txt + the columns' pages and reports, nothing else.
        kept = rows(crawled.db, "SELECT count(*) FROM fetch_log WHERE run_id = 1 AND source = ?",
                    (source,))[0][0]
        directory = 1 if key == "sx" else 0  # the directory page itself sits on sx
        assert len(crawled.hits1[key]) <= 1 + explored[source] + kept + directory


def test_second_crawl_starts_from_the_columns(crawled: Crawled) -> None:
    first = sum(len(h) for h in crawled.hits1.values())
    second = [h for hits in crawled.hits2.values() for h in hits if h[2] != 304]
    assert len(second) <= 0.15 * first, (first, second)
    assert rows(crawled.db, "SELECT count(*) FROM explore_pages WHERE run_id = 2")[0][0] == 0
    # Every archived report was revalidated (304), none lost.
    revalidated = {path for hits in crawled.hits2.values() for _, path, s in hits if s == 304}
    assert crawled.web.web is not None
    assert {r.path for r in crawled.web.web.reports} <= revalidated


def test_summary_printed(crawled: Crawled) -> None:
    assert "exploration, run 1:" in crawled.first.output
    assert "directory sx-zfwz: accepted 5" in crawled.first.output
    assert "[trs-var, 2 report links, active, known]" in crawled.second.output


def test_exploration_command(crawled: Crawled) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "archive", "exploration", "--db",
                          str(crawled.db), "--run", "1"], capture_output=True, text=True,
                         check=True).stdout
    assert "directory sx-zfwz: accepted 5, not_fetched" in out
    assert "portal sx-zfwz-140224:" in out and "[gkmlpt, 2 report links, active, new]" in out


def test_column_that_changes_shape_is_explored_again(tmp_path: Path) -> None:
    with SampleWeb(tmp_path / "web") as web:
        sources = tmp_path / "sources.yaml"
        sources.write_text(web.sources_yaml(), encoding="utf-8")
        db = tmp_path / "archive.db"
        assert run_crawl(sources, db, timeout=300).returncode == 0
        # 浑源县 moves its column: the old one now answers with a plain page listing nothing.
        old = tmp_path / "web/hy/zwgk/zfxxgk/fdzdgknr/yfxz/index.html"
        old.write_text("<html><body><p>栏目已迁移</p></body></html>", encoding="utf-8")
        web.reset_hits()
        result = run_crawl(sources, db, timeout=300)
        hy = [path for _, path, _ in web.hits("hy")]
    assert "known column" in result.output and "exploring the portal again" in result.output
    status = dict(rows(db, "SELECT url, status FROM explore_columns WHERE source = ?",
                       ("sx-zfwz-140225",)))
    assert list(status.values()) == ["stale"]
    assert "/" in hy and "/zwgk/" in hy  # explored again from the home page
    assert rows(db, "SELECT count(*) FROM explore_pages WHERE run_id = 2 AND source = ?",
                ("sx-zfwz-140225",))[0][0] > 0


def test_portal_entry_alone(tmp_path: Path) -> None:
    """A `portal` entry (no directory): 浑源县's site explored, its column four clicks deep."""
    with SampleWeb(tmp_path / "web") as web:
        sources = tmp_path / "sources.yaml"
        sources.write_text("sources:\n  - name: hy-portal\n    kind: portal\n    region: 山西省大同市浑源县\n"
                           f"    adcode: '140225'\n    start_urls: ['{web.urls['hy']}']\n",
                           encoding="utf-8")
        db = tmp_path / "archive.db"
        result = run_crawl(sources, db, timeout=300)
        hosts = {key for key, n in web.hits_by_host().items() if n}
    assert result.returncode == 0, result.output[-3000:]
    assert hosts == {"hy"}
    titles = {t for (t,) in rows(db, "SELECT title FROM reports WHERE source = 'hy-portal'")}
    assert titles == {f"浑源县{y}年度法治政府建设工作报告" for y in (2022, 2023, 2024)}
    assert rows(db, "SELECT shape, evidence_text FROM explore_columns") == [("trs-var", "依法行政")]


def test_small_budget_is_held_and_said(tmp_path: Path) -> None:
    with SampleWeb(tmp_path / "web") as web:
        sources = tmp_path / "sources.yaml"
        sources.write_text(web.sources_yaml(), encoding="utf-8")
        db = tmp_path / "archive.db"
        result = run_crawl(sources, db, "EXPLORE_MAX_REQUESTS=3", timeout=300)
        hits = {k: web.hits(k) for k in web.servers}
    assert result.returncode in (0, 3), result.output[-3000:]
    explored = dict(rows(db, "SELECT source, count(*) FROM explore_pages GROUP BY source"))
    assert explored and max(explored.values()) <= 3
    # 浑源县's column is four clicks deep: out of reach, and the log says why.
    assert "portal sx-zfwz-140225: exploration budget spent" in result.output
    assert all("/yfxz/" not in path for _, path, _ in hits["hy"])


def test_every_report_attributed_and_in_the_ledger(crawled: Crawled) -> None:
    """Reports found through the directory are filed under the government that issued them (a
    county's report on the city's collection column included), on time in the ledger."""
    assert crawled.web.web is not None
    issuers = dict(rows(crawled.db, "SELECT title, issuer_id FROM reports"))
    for report in crawled.web.web.reports:
        assert issuers.get(report.title) == report.adcode, report.title
    # 浑源县's 2023 report is also on 大同市's collection column: one report, canonical at home
    (copy,) = rows(crawled.db, "SELECT c.source, r.source FROM reports c JOIN reports r "
                               "ON r.url = c.copy_of WHERE c.issuer_id = '140225'")
    assert copy == ("sx-zfwz-140200", "sx-zfwz-140225")
    cells = {(b, y): s for b, y, s in rows(crawled.db,
                                           "SELECT body_id, report_year, status FROM ledger")}
    for report in crawled.web.web.reports:
        assert cells[(report.adcode, report.year)] == "on_time", (report.adcode, report.year)
