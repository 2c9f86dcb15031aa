"""Crashes and concurrent readers (issue #5): a SIGKILLed crawl leaves a sound archive that a restart
completes exactly; readers see no lock errors and no torn writes while a crawl runs."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from archive.store import Archive
from tests.conftest import BIN, REPO, free_port, run_crawl
from tests.portal import N_REPORTS, SamplePortal, render_sources

CRAWL = [str(BIN / "scrapy"), "crawl", "reports", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", "LOGSTATS_INTERVAL=0", "-s", "RETRY_BACKOFF_BASE=0.05"]

REPORT_COLUMNS = ("url, source, title, report_year, published, written, publisher, index_no, "
                  "doc_no, text, content_hash, adcode, quality")


def snapshot(db: Path) -> tuple[list[tuple], list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        reports = conn.execute(f"SELECT {REPORT_COLUMNS} FROM reports ORDER BY url").fetchall()
        versions = conn.execute(
            "SELECT url, content_hash, text FROM report_versions ORDER BY url, content_hash"
        ).fetchall()
        return reports, versions
    finally:
        conn.close()


def consistency_problems(conn: sqlite3.Connection) -> list[str]:
    """Invariants that hold after every committed page; a torn write would break one."""
    checks = {
        "report without its version": "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 "
        "FROM report_versions v WHERE v.url = r.url AND v.content_hash = r.content_hash)",
        "report without its capture": "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 "
        "FROM captures c WHERE c.id = r.capture_id)",
        "capture without its body": "SELECT COUNT(*) FROM captures c WHERE c.sha256 IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM payloads b WHERE b.sha256 = c.sha256)",
        "capture without its log line": "SELECT COUNT(*) FROM captures c WHERE NOT EXISTS (SELECT "
        "1 FROM fetch_log f WHERE f.capture_id = c.id)",
        "report not in the search index": "SELECT COUNT(*) FROM reports r WHERE r.rowid NOT IN "
        "(SELECT rowid FROM reports_search)",
        "duplicate version": "SELECT COUNT(*) FROM (SELECT url, content_hash FROM report_versions "
        "GROUP BY 1, 2 HAVING COUNT(*) > 1)",
    }
    conn.execute("BEGIN")
    try:
        return [name for name, sql in checks.items() if conn.execute(sql).fetchone()[0]]
    finally:
        conn.execute("ROLLBACK")


def test_sigkill_part_way_then_restart_equals_an_uninterrupted_crawl(tmp_path: Path) -> None:
    with SamplePortal() as fast:
        ref_sources = tmp_path / "ref.yaml"
        ref_sources.write_text(render_sources(fast.base_url), encoding="utf-8")
        assert run_crawl(ref_sources, tmp_path / "ref.db").returncode == 0

    db = tmp_path / "crash.db"
    with SamplePortal(port=fast.port, delay=0.25) as slow:
        # One request at a time and a write every 0.2 s: the reports arrive one by one over ~10 s,
        # so the kill lands part-way even when a loaded machine delays the first writes.
        proc = subprocess.Popen([*CRAWL, "-a", f"sources={ref_sources}", "-s", f"ARCHIVE_DB={db}",
                                 "-s", "CONCURRENT_REQUESTS=1", "-s", "ARCHIVE_FLUSH_SECONDS=0.2"],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        reports = 0
        while time.monotonic() < deadline and reports < 4:
            time.sleep(0.05)
            if db.exists():
                try:
                    with sqlite3.connect(db, timeout=5) as conn:
                        reports = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
                except sqlite3.OperationalError:
                    pass  # the schema is still being created
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert 4 <= reports < N_REPORTS, "the kill must land part-way through the crawl"

        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert consistency_problems(conn) == []
        (run,) = conn.execute("SELECT status, finished_at FROM crawl_runs").fetchall()
        assert run == ("running", None)  # a killed run stays visible as such
        conn.close()

        slow.delay = 0.0
        assert run_crawl(ref_sources, db).returncode == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert consistency_problems(conn) == []
    assert conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == N_REPORTS
    # The restart (holding the crawl lock, so no other run can be live) marks the killed run died.
    assert conn.execute("SELECT id, status, exit_status FROM crawl_runs ORDER BY id").fetchall() \
        == [(1, "died", -1), (2, "finished", 0)]
    conn.close()
    assert snapshot(db) == snapshot(tmp_path / "ref.db")




def test_readers_see_no_locks_and_no_torn_writes_during_a_crawl(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    Archive(db).close()  # the schema exists before readers start
    port = free_port()
    datasette = subprocess.Popen(
        [str(BIN / "datasette"), "serve", str(db), "-m", str(REPO / "datasette/metadata.yml"),
         "--plugins-dir", str(REPO / "datasette/plugins"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[str] = []
    counts = {"sqlite": 0, "http": 0}
    done = threading.Event()

    def sqlite_reader() -> None:
        last = 0
        conn = sqlite3.connect(db, timeout=0.5)
        while not done.is_set():
            try:
                problems = consistency_problems(conn)
                n = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
            except sqlite3.Error as exc:
                errors.append(f"sqlite: {exc}")
                continue
            if problems:
                errors.append(f"torn read: {problems}")
            if n < last:
                errors.append(f"report count went back from {last} to {n}")
            last = n
            counts["sqlite"] += 1
        conn.close()

    def http_reader() -> None:
        base = f"http://127.0.0.1:{port}"
        while not done.is_set():
            for path in ("/archive/reports.json?_shape=array&_col=title&_search=%E6%B3%95%E6%B2%BB",
                         "/archive/fetch_log.json?_size=5", "/archive.json"):
                try:
                    with urllib.request.urlopen(base + path, timeout=10) as r:
                        body = r.read().decode()
                        if "database is locked" in body:
                            errors.append(f"http {path}: {body[:200]}")
                        json.loads(body)
                    counts["http"] += 1
                except OSError as exc:
                    if counts["http"] or "refused" not in str(exc):
                        errors.append(f"http {path}: {exc}")
                    time.sleep(0.1)

    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        readers = [threading.Thread(target=sqlite_reader), threading.Thread(target=http_reader)]
        for t in readers:
            t.start()
        with SamplePortal(delay=0.05) as portal:
            sources = tmp_path / "sources.yaml"
            sources.write_text(render_sources(portal.base_url), encoding="utf-8")
            result = run_crawl(sources, db)
        done.set()
        for t in readers:
            t.join(timeout=30)
    finally:
        done.set()
        datasette.terminate()
        datasette.wait(timeout=10)
    assert result.returncode == 0, result.output[-2000:]
    assert errors == []
    assert counts["sqlite"] > 20 and counts["http"] > 10, counts
    assert "database is locked" not in result.output


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_writer_thread_and_writer_process_build_the_same_archive(tmp_path: Path) -> None:
    # ARCHIVE_WRITER_PROCESS picks where the archive is written; the archive must not depend on it.
    with SamplePortal() as portal:
        sources = tmp_path / "sources.yaml"
        sources.write_text(render_sources(portal.base_url), encoding="utf-8")
        for mode in ("True", "False"):
            done = run_crawl(sources, tmp_path / f"{mode}.db", f"ARCHIVE_WRITER_PROCESS={mode}")
            assert done.returncode == 0, done.output[-2000:]
    assert snapshot(tmp_path / "True.db") == snapshot(tmp_path / "False.db")
    conn = sqlite3.connect(tmp_path / "False.db")
    assert conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == N_REPORTS
    conn.close()
