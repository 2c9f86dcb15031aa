"""Nothing lost, nothing junk (issue #5): every fault has a recorded outcome, none crashes the
crawl, stalls it past its timeouts, or becomes a junk report."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from tests.conftest import run_crawl
from tests.faults import FaultServer, write_sources

# path → (outcome, result, words the reason must contain)
EXPECTED = {
    "/f/index.html": ("ok", "listing", ""),
    "/f/repeat?page=2": ("ok", "listing", "repeats an earlier listing page"),
    "/f/burst503": ("ok", "report_new", ""),
    "/f/retry429": ("ok", "report_new", ""),
    "/f/reset": ("network_error", "error", "truncated body"),
    "/f/truncated": ("network_error", "error", "truncated body"),
    "/f/slow": ("network_error", "error", "timeout"),
    "/f/huge": ("network_error", "error", "DOWNLOAD_MAXSIZE"),
    "/f/huge-chunked": ("network_error", "error", "DOWNLOAD_MAXSIZE"),
    "/f/gzip-bomb": ("skipped", "skipped", "DOWNLOAD_MAXSIZE"),
    "/f/loop-a": ("skipped", "skipped", "redirect loop"),
    "/f/x": ("skipped", "skipped", "off-source host 'localhost'"),
    "/f/ftp": ("http_error", "error", "ftp://127.0.0.1/f/report.html not followed"),
    "/f/soft404": ("ok", "soft_404", "soft 404"),
    "/f/soft404b": ("ok", "soft_404", "soft 404"),
    "/f/empty": ("ok", "empty", "empty"),
    "/f/waf412": ("blocked", "blocked", "HTTP 412"),
    "/f/waf521": ("blocked", "blocked", "HTTP 521"),
    "/f/waf403-yfh": ("blocked", "blocked", "云防护"),
    "/f/waf403-safedog": ("blocked", "blocked", "HTTP 403"),
    "/f/utf8-as-gb2312": ("ok", "report_new", ""),
    "/f/gbk-as-utf8": ("ok", "report_new", ""),
    "/f/invalid-bytes": ("ok", "report_new", ""),
    "/f/malformed": ("ok", "report_new", ""),
    "/f/deep": ("ok", "not_report", "body has only"),
    "/f/private/draft": ("skipped", "skipped", "robots.txt"),
    "/w/index.html": ("blocked", "blocked", "WAF"),
}


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("faults")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]  # closed again: nothing listens there
    with FaultServer() as server:
        write_sources(tmp / "sources.yaml", server, dead_port)
        started = time.monotonic()
        result = run_crawl(tmp / "sources.yaml", tmp / "archive.db", "DOWNLOAD_TIMEOUT=1",
                           timeout=120)
        elapsed = time.monotonic() - started
        yield server, tmp / "archive.db", result, elapsed, dead_port


def log(db: Path) -> dict[str, sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM fetch_log ORDER BY id").fetchall()
    conn.close()
    return {"/" + r["url"].split("/", 3)[3]: r for r in rows}


def test_every_fault_has_its_recorded_outcome(fault_crawl) -> None:
    _server, db, result, _, _ = fault_crawl
    entries = log(db)
    for path, (outcome, res, words) in EXPECTED.items():
        entry = entries.get(path)
        assert entry is not None, f"{path} not in the fetch log"
        assert (entry["outcome"], entry["result"]) == (outcome, res), (path, dict(entry))
        assert words in (entry["reason"] or ""), (path, entry["reason"])
    # No item or callback blew up (Scrapy's own download-error logs may carry tracebacks).
    for crash in ("Error processing", "Spider error processing", "Error caught on signal"):
        assert crash not in result.output, result.output[-3000:]


def test_retries_back_off_and_honour_retry_after(fault_crawl) -> None:
    server, db, *_ = fault_crawl
    entries = log(db)
    assert entries["/f/burst503"]["retries"] == 3
    assert entries["/f/retry429"]["retries"] == 1
    first, second = server.times("/f/retry429")
    assert second - first >= 1.0  # Retry-After: 1
    assert server.count("/f/gzip-bomb") == 1 and server.count("/f/ftp") == 1


def test_nothing_fetched_where_it_must_not_be(fault_crawl) -> None:
    server, *_ = fault_crawl
    assert server.count("/f/private/draft") == 0  # robots.txt
    assert server.count("/f/x") == 0  # the off-host redirect target (localhost ≠ 127.0.0.1)
    assert server.count("/f/repeat") == 1  # the self-repeating "next page" is not walked


def test_no_junk_reports(fault_crawl) -> None:
    _, db, *_ = fault_crawl
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT url, title, text, quality FROM reports").fetchall()
    conn.close()
    got = {url.split("/f/")[1]: (title, text, quality) for url, title, text, quality in rows}
    assert set(got) == {"burst503", "retry429", "utf8-as-gb2312", "gbk-as-utf8",
                        "invalid-bytes", "malformed"}
    for case, (title, text, quality) in got.items():
        assert title.startswith("重庆市九龙坡区人民政府关于2022年法治政府建设情况的报告"), case
        assert "九龙坡区坚持以习近平新时代中国特色社会主义思想为指导" in text, case
        assert quality == ("lossy" if case == "invalid-bytes" else "ok"), case


def test_run_record_and_exit_status(fault_crawl) -> None:
    _, db, result, elapsed, _ = fault_crawl
    assert result.returncode == 3
    assert elapsed < 90  # bounded by timeouts and retries, not stalled
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    (run,) = conn.execute("SELECT * FROM crawl_runs").fetchall()
    conn.close()
    assert run["status"] == "finished" and run["exit_status"] == 3 and run["finished_at"]
    unhealthy = json.loads(run["unhealthy"])
    assert set(unhealthy) == {"waf-site", "dead-host"}
    assert "blocked" in unhealthy["waf-site"] and "network_error" in unhealthy["dead-host"]
    # The same verdicts in the published per-source health (#8).
    conn = sqlite3.connect(db)
    health = dict(conn.execute("SELECT source, status FROM source_health "
                               "WHERE source IN ('waf-site', 'dead-host')").fetchall())
    blocked = conn.execute("SELECT blocked, consecutive_failures, last_success FROM "
                           "source_health WHERE source = 'waf-site'").fetchone()
    conn.close()
    assert health == {"waf-site": "blocked", "dead-host": "failing"}
    assert blocked == (1, 1, None)
    outcomes = json.loads(run["outcomes"])
    assert outcomes["blocked"] >= 5 and outcomes["network_error"] >= 6
    assert run["reports_new"] == 6 and run["pages_fetched"] >= 25
    assert "source waf-site: blocked" in result.output
