"""Issue #12 item 1: search, facets, canned queries, report pages and coverage work for an archive
of any file name, and for several archives served by one Datasette."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette
from datasette.utils import tilde_encode

from archive.search import terms
from tests.conftest import REPO, run_crawl
from tests.portal import SamplePortal, render_sources

METADATA = yaml.safe_load((REPO / "datasette" / "metadata.yml").read_text("utf-8"))
QUERIES = ["复议", "普法", "行政机关负责人出庭应诉率", "復議", "复议 普法", "規範性文件"]


@pytest.fixture(scope="module")
def two_archives(crawled_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        dict[str, Path]]:
    """A fresh crawl into `2024.db`, and the shared crawl copied to `other.db` with some
    reports removed (so the two archives answer differently)."""
    tmp = tmp_path_factory.mktemp("named")
    db = tmp / "2024.db"
    with SamplePortal() as server:
        sources = tmp / "sources.yaml"
        sources.write_text(render_sources(server.base_url), encoding="utf-8")
        result = run_crawl(sources, db)
    assert result.returncode == 0, result.output[-2000:]
    other = tmp / "other.db"
    shutil.copy(crawled_archive, other)
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("DELETE FROM reports WHERE source = 'gz-hp'")
    conn.close()
    yield {"2024": db, "other": other}


def get(dbs: dict[str, Path], path: str, **params: str):
    async def fetch():
        ds = Datasette([str(p) for p in dbs.values()], metadata=METADATA,
                       plugins_dir=str(REPO / "datasette" / "plugins"),
                       template_dir=str(REPO / "datasette" / "templates"))
        return await ds.client.get(path, params=params or None)

    return asyncio.run(fetch())


def substring_truth(db: Path, query: str) -> set[str]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT url, title, text FROM reports").fetchall()
    conn.close()
    return {url for url, title, text in rows if all(t in title or t in text for t in terms(query))}


@pytest.mark.parametrize("name", ["2024", "other"])
@pytest.mark.parametrize("query", QUERIES)
def test_search_is_exact_on_every_archive(two_archives: dict[str, Path], name: str,
                                          query: str) -> None:
    truth = substring_truth(two_archives[name], query)
    total = sqlite3.connect(two_archives[name]).execute("SELECT count(*) FROM reports").fetchone()
    assert 0 < len(truth) < total[0], query  # a search that returned every row would fail here
    rows = get(two_archives, f"/{name}/reports.json", _search=query, _shape="array",
               _col="title", _size="max").json()
    assert {r["url"] for r in rows} == truth
    canned = get(two_archives, f"/{name}/search.json", q=query, order="", _shape="array").json()
    assert {r["url"] for r in canned} == truth


@pytest.mark.parametrize("name", ["2024", "other"])
def test_facets_tables_queries_pages_on_every_archive(two_archives: dict[str, Path],
                                                      name: str) -> None:
    data = get(two_archives, f"/{name}/reports.json", _size="1").json()
    assert {"source", "province", "report_year"} <= set(data["facet_results"])
    tables = {t["name"]: t for t in get(two_archives, f"/{name}.json").json()["tables"]}
    raw = "payloads" if "payloads" in tables else "bodies"  # raw bytes (schema v10: payloads)
    assert tables[raw]["hidden"] and tables["reports_search"]["hidden"]
    assert not tables["reports"]["hidden"]
    year = get(two_archives, f"/{name}/reports_of_year.json", year="2022", _shape="array").json()
    assert year and {r["report_year"] for r in year} == {2022}
    coverage = get(two_archives, f"/{name}/coverage.json", _shape="array", _size="max").json()
    assert {r["status"] for r in coverage} == {"found", "missing"}
    page = get(two_archives, f"/-/coverage/{name}")
    assert page.status_code == 200 and "按时发布比例" in page.text
    row = year[0]
    report = get(two_archives, f"/{name}/reports/{tilde_encode(row['url'])}")
    assert report.status_code == 200 and "article class=\"report\"" in report.text
    assert row["title"] in report.text
    html = get(two_archives, f"/{name}").text
    assert f"/-/coverage/{name}" in html  # the database page links its own coverage page


def test_archives_answer_separately(two_archives: dict[str, Path]) -> None:
    urls = {name: {r["url"] for r in get(two_archives, f"/{name}/reports.json", _search="黄埔",
                                         _shape="array", _size="max").json()}
            for name in two_archives}
    assert urls["2024"] and not urls["other"]  # other.db has no gz-hp (黄埔) reports
