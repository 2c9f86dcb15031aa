"""Per-source health (#8) over real crawls of the sample portal: a portal goes down, a listing
changes shape, one source is re-crawled on demand, everything recovers; published in Datasette."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette

from archive.health import due_year
from tests.conftest import FAST as BASE_FAST
from tests.conftest import REPO, free_port
from tests.portal import EXPECTED, SamplePortal, render_sources

FAST = [*BASE_FAST, "-s", "RETRY_TIMES=1"]
CQ_GXQ_LISTING = "gxq/zwgk/fzzfjsndbg/index.html"




def crawl(db: Path, sources: Path, log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler.schedule", "run", "--db", str(db),
                           "--sources", str(sources), "--log", str(log), *args, *FAST],
                          cwd=REPO, capture_output=True, text=True, timeout=180)


def health(db: Path) -> dict[str, dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return {r["source"]: dict(r) for r in conn.execute("SELECT * FROM source_health")}
    finally:
        conn.close()


def run_starts(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT started_at FROM crawl_runs ORDER BY id")]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def history(portal: SamplePortal, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Four runs over one archive: healthy; nb-gxq down + cq-gxq's listing emptied; nb-gxq alone
    (still down); all restored."""
    tmp = tmp_path_factory.mktemp("health")
    db, log = tmp / "archive.db", tmp / "crawl.log"
    good = tmp / "good.yaml"
    good.write_text(render_sources(portal.base_url), encoding="utf-8")
    down = tmp / "down.yaml"
    down.write_text(good.read_text("utf-8").replace(
        f"{portal.base_url.rstrip('/')}/nbhtz/", f"http://127.0.0.1:{free_port()}/nbhtz/"),
        encoding="utf-8")
    listing = portal.root / CQ_GXQ_LISTING
    original = listing.read_bytes()
    out: dict = {"db": db}
    out["run1"] = crawl(db, good, log)
    out["h1"] = health(db)
    # The column now answers with chrome only: no report links, no pager.
    listing.write_bytes(original.split(b"<body", 1)[0] + "<body><div class='header'>重庆高新区"
                        "</div><p>栏目建设中</p></body></html>".encode())
    try:
        out["run2"] = crawl(db, down, log)
        out["h2"] = health(db)
        out["run3"] = crawl(db, down, log, "--source", "nb-gxq")
        out["h3"] = health(db)
    finally:
        listing.write_bytes(original)
    out["run4"] = crawl(db, good, log)
    out["h4"] = health(db)
    out["starts"] = run_starts(db)
    out["log"] = log.read_text("utf-8")
    return out


def test_healthy_first_run(history: dict) -> None:
    run1, h1 = history["run1"], history["h1"]
    assert run1.returncode == 0, run1.stderr + history["log"][-3000:]
    assert run1.stderr == ""
    assert set(h1) == {r["source"] for r in EXPECTED["reports"]}
    for name, h in h1.items():
        assert h["consecutive_failures"] == 0 and not h["blocked"] and not h["shape_changed"], h
        assert h["last_success"] == history["starts"][0], name
        assert h["listing_items"] > 0, name
        assert h["status"] in ("ok", "overdue")
        # Today the due year is at least 2025; the sample portal's newest report is 2024.
        assert h["overdue"] == 1 and h["due_year"] >= 2025 and h["status"] == "overdue"


def test_down_portal_and_changed_listing_fail_the_run(history: dict) -> None:
    run2, h2 = history["run2"], history["h2"]
    assert run2.returncode == 3
    lines = run2.stderr.splitlines()
    assert lines[0].startswith("crawl run 2 (finished) in ") and "2 unhealthy source(s)" in lines[0]
    assert sorted(lines[1:]) == [
        f"unhealthy source cq-gxq: {h2['cq-gxq']['summary']}",
        f"unhealthy source nb-gxq: {h2['nb-gxq']['summary']}",
    ]
    nb = h2["nb-gxq"]
    assert nb["status"] == "failing" and nb["consecutive_failures"] == 1
    assert nb["last_success"] == history["starts"][0]
    assert "network_error=" in nb["summary"] and "1 consecutive run" in nb["summary"]
    gxq = h2["cq-gxq"]
    assert gxq["status"] == "shape_changed" and gxq["shape_changed"] == 1
    assert gxq["listing_items"] == 0 and gxq["listing_items_before"] == history["h1"]["cq-gxq"][
        "listing_items"]
    assert "listing layout changed" in gxq["summary"]
    for name in ("cq-jlp", "zz-gxq", "gz-hp"):
        assert h2[name]["status"] == "overdue", name


def test_on_demand_run_counts_consecutive_failures(history: dict) -> None:
    run3, h3 = history["run3"], history["h3"]
    assert run3.returncode == 3 and "unhealthy source nb-gxq:" in run3.stderr
    assert "cq-gxq" not in run3.stderr  # not crawled in this run: not reported by it
    assert h3["nb-gxq"]["consecutive_failures"] == 2
    assert h3["nb-gxq"]["last_success"] == history["starts"][0]
    assert h3["cq-gxq"]["status"] == "shape_changed"  # its own last attempt still says so


def test_recovery(history: dict) -> None:
    run4, h4 = history["run4"], history["h4"]
    assert run4.returncode == 0 and run4.stderr == ""
    for name, h in h4.items():
        assert h["consecutive_failures"] == 0 and not h["shape_changed"], name
        assert h["last_success"] == history["starts"][3], name
        assert h["status"] == "overdue", name


def test_overdue_follows_april_first(history: dict, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"  # `health` rewrites source_health: leave the shared archive alone
    src = sqlite3.connect(history["db"])
    src.backup(dst := sqlite3.connect(db))
    src.close()
    dst.close()

    def check(as_of: str, *flags: str) -> tuple[int, str]:
        p = subprocess.run([sys.executable, "-m", "archive", "health", "--db", str(db),
                            "--as-of", as_of, *flags], cwd=REPO, capture_output=True,
                           text=True, timeout=60)
        return p.returncode, p.stdout

    # Before 2024-04-01 the 2022 reports are due: the sources whose columns hold only 2023
    # reports are overdue for 2022 (nb-bm is not: 司法局's 2022 report is a PDF on it). Then 2023
    # reports are due: only cq-gxq and zz-gxq (newest 2022) are overdue.
    code, out = check("2024-03-31")
    assert code == 0 and out.splitlines() == [
        "nb-hs: overdue — no report for 2022 (latest is 2023)"]
    code, out = check("2024-04-01")
    assert code == 0  # overdue alone does not fail a run by default …
    assert out.splitlines() == ["cq-gxq: overdue — no report for 2023 (latest is 2022)",
                                "zz-gxq: overdue — no report for 2023 (latest is 2022)"]
    code, _ = check("2024-04-01", "--fail-on", "overdue")
    assert code == 3  # … but a monitor can ask for it
    assert due_year(__import__("datetime").date(2027, 3, 31)) == 2025


def test_health_is_published_in_datasette(history: dict) -> None:
    metadata = yaml.safe_load((REPO / "datasette/metadata.yml").read_text("utf-8"))

    async def fetch(path: str):
        ds = Datasette([str(history["db"])], metadata=metadata,
                       plugins_dir=str(REPO / "datasette/plugins"),
                       template_dir=str(REPO / "datasette/templates"))
        return await ds.client.get(path)

    rows = asyncio.run(fetch("/archive/source_health.json?_shape=array")).json()
    assert {r["source"] for r in rows} == set(history["h4"])
    page = asyncio.run(fetch("/archive/source_health"))
    assert page.status_code == 200 and "来源健康状况 · Source health" in page.text
    got = asyncio.run(fetch("/archive/unhealthy_sources.json?_shape=array&status=overdue")).json()
    assert {r["source"] for r in got} == set(history["h4"]) and all(r["region"] for r in got)
    per_run = asyncio.run(fetch("/archive/run_sources.json?_shape=array&source=nb-gxq")).json()
    assert [r["succeeded"] for r in sorted(per_run, key=lambda r: r["run_id"])] == [1, 0, 0, 1]
    assert json.loads(rows[0]["problems"])


def _table(db: Path, table: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        conn.close()


def test_as_of_is_a_what_if_that_publishes_nothing(history: dict, tmp_path: Path) -> None:
    """Issue #12 item 10: `--as-of` prints a hypothetical judgement; source_health stays."""
    db = tmp_path / "copy.db"
    src = sqlite3.connect(history["db"])
    src.backup(dst := sqlite3.connect(db))
    src.close()
    dst.close()
    published = _table(db, "source_health")
    assert published and {r["due_year"] for r in history["h4"].values()} != {2023}
    p = subprocess.run([sys.executable, "-m", "archive", "health", "--db", str(db),
                        "--as-of", "2024-04-01"], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert "cq-gxq: overdue — no report for 2023" in p.stdout  # judged as of the given date …
    assert _table(db, "source_health") == published           # … and nothing published changed


def test_unknown_fail_on_state_is_refused(history: dict) -> None:
    p = subprocess.run([sys.executable, "-m", "archive", "health", "--db", str(history["db"]),
                        "--fail-on", "blocked,bogus"], cwd=REPO, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert ("unknown health state(s) 'bogus'; accepted: blocked, failing, shape_changed, "
            "overdue, never_crawled") in p.stderr
    # The crawl's setting goes through the same check.
    from scrapy.settings import Settings

    from crawler.pipelines import writer_config
    with pytest.raises(ValueError, match="accepted: blocked"):
        writer_config(Settings({"ARCHIVE_HEALTH_FAIL_ON": ["overdue", "bogus"]}))
    assert writer_config(Settings({"ARCHIVE_HEALTH_FAIL_ON": "overdue,blocked"})).fail_on == (
        "overdue", "blocked")
