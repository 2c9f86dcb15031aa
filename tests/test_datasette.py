"""Datasette publishes the crawled archive with the project's metadata and plugins."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette
from markupsafe import Markup

from tests.conftest import BIN, REPO
from tests.portal import EXPECTED, N_REPORTS

METADATA = REPO / "datasette" / "metadata.yml"
PLUGINS = REPO / "datasette" / "plugins"
TEMPLATES = REPO / "datasette" / "templates"


@pytest.fixture(scope="module")
def archive(crawled_archive: Path) -> Path:
    return crawled_archive


def get(db: Path, path: str):
    async def fetch():
        ds = Datasette([str(db)], metadata=yaml.safe_load(METADATA.read_text("utf-8")),
                       plugins_dir=str(PLUGINS), template_dir=str(TEMPLATES))
        return await ds.client.get(path)

    return asyncio.run(fetch())


def test_reports_json_api(archive: Path) -> None:
    response = get(archive, "/archive/reports.json?_shape=array&_size=max")
    assert response.status_code == 200
    reports = response.json()
    assert len(reports) == N_REPORTS
    assert {r["source"] for r in reports} == {r["source"] for r in EXPECTED["reports"]}
    assert all(r["report_year"] and r["text"] for r in reports)


def test_table_page_uses_metadata_and_facets(archive: Path) -> None:
    response = get(archive, "/archive/reports")
    assert response.status_code == 200
    html = response.text
    assert "报告 · Reports" in html
    assert "report_year" in html and "facet" in html.lower()


def test_report_row_page_shows_paragraphs(archive: Path) -> None:
    (row,) = get(archive, "/archive/reports.json?_shape=array&report_year=2024").json()
    path = "/archive/reports/" + row["url"].replace("/", "~2F").replace(":", "~3A").replace(
        ".", "~2E").replace("_", "~5F")
    response = get(archive, path)
    assert response.status_code == 200, path
    first = row["text"].split("\n")[0]
    assert f"<p>{first}</p>" in response.text


def test_payloads_hidden_and_fetch_log_published(archive: Path) -> None:
    tables = {t["name"]: t for t in get(archive, "/archive.json").json()["tables"]}
    assert tables["payloads"]["hidden"]
    log = get(archive, "/archive/fetch_log.json?_shape=array&outcome=http_error").json()
    assert [entry["status"] for entry in log] == [404]


def test_datasette_get_smoke(archive: Path) -> None:
    for path in ("/", "/archive", "/archive/reports", "/archive/reports?_search=复议",
                 "/archive/fetch_log", "/archive/captures", "/archive/search?q=普法&order=",
                 "/archive/coverage", "/-/coverage/archive", "/archive/new_reports.atom",
                 "/archive/reports_of_year?year=2022", "/archive/recently_changed"):
        proc = subprocess.run(
            [str(BIN / "datasette"), str(archive), "-m", str(METADATA), "--plugins-dir",
             str(PLUGINS), "--template-dir", str(TEMPLATES), "--get", path],
            capture_output=True, text=True, timeout=60, cwd=REPO)
        assert proc.returncode == 0, (path, proc.stderr[-500:])
        assert "法治政府建设年度报告档案" in proc.stdout or path != "/"


def test_metadata_describes_every_report_column(archive: Path) -> None:
    meta = yaml.safe_load(METADATA.read_text("utf-8"))
    described = set(meta["databases"]["archive"]["tables"]["reports"]["columns"])
    columns = set(get(archive, "/archive/reports.json?_size=1").json()["columns"])
    assert columns <= described


def test_crawled_markup_is_escaped() -> None:
    """Report text is rendered as paragraphs, never as live HTML."""
    spec = importlib.util.spec_from_file_location("report_cells", PLUGINS / "report_cells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    html = module.render_cell("第一段<script>alert(1)</script>\n第二段", "text", "reports")
    assert isinstance(html, Markup)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<p>第二段</p>" in html
