"""The write path (`archive.ingest`, #19): a batch commits whole pages, a failing page is an
`error` outcome and never takes the rest of the batch (or the search index) with it, and the
crawl's writer process is replaced when it dies, its batches logged as errors."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from archive.constants import FetchOutcome, PageResult
from archive.derive import derive
from archive.ingest import ExploreEntry, FailureEntry, Ingest, PageEntry
from archive.pages import Capture
from archive.store import Archive
from crawler.items import PageItem
from crawler.sources import Source
from crawler.writer import ArchiveWriter, WriterConfig

HEADERS = {"Content-Type": "text/html; charset=utf-8"}
PARAGRAPH = ("为深入贯彻落实法治政府建设实施纲要，本区坚持依法行政，推进严格规范公正文明执法，"
             "完善行政决策程序，加强行政复议和应诉工作，法治政府建设取得新成效。")


def page(n: int) -> bytes:
    paras = "".join(f"<p>{n}. {PARAGRAPH}</p>" for _ in range(12))
    title = f"城东区{2015 + n}年法治政府建设年度报告"
    return (f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
            f"<div class='TRS_Editor'>{paras}</div></body></html>").encode()


def entry(n: int) -> PageEntry:
    url = f"http://127.0.0.1:9/r{n}.html"
    cap = Capture(url=url, source="synthetic", role="detail", status=200, headers=HEADERS,
                  body=page(n))
    return PageEntry(cap, derive(cap.body, HEADERS, 200, url, False))


def searchable(archive: Archive) -> int:
    return archive.db.execute("SELECT count(*) FROM reports_search "
                              "WHERE reports_search MATCH 'bi:法治'").fetchone()[0]


def test_a_failing_page_is_an_error_outcome_and_the_batch_commits(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    broken = entry(2)
    assert broken.derived is not None and broken.derived.extraction is not None
    broken.derived.extraction.title = None  # reports.title is NOT NULL: this page cannot commit
    failure = FailureEntry("http://127.0.0.1:9/down", "synthetic", "detail",
                           FetchOutcome.NETWORK_ERROR, "connection refused")
    explore = ExploreEntry("page", "synthetic", {"source": "synthetic", "url": "http://x/"})
    outcomes = Ingest(archive, None).write_batch([entry(1), broken, failure, explore, entry(3)])

    assert [o.result if o else None for o in outcomes] == [
        PageResult.REPORT_NEW, PageResult.ERROR, PageResult.ERROR, None, PageResult.REPORT_NEW]
    assert outcomes[1] is not None and outcomes[1].outcome == FetchOutcome.ERROR
    assert "archive error" in outcomes[1].reason
    assert archive.db.execute("SELECT count(*) FROM reports").fetchone()[0] == 2
    assert searchable(archive) == 2  # the broken page's index writes went with its savepoint
    log = dict(archive.db.execute("SELECT url, outcome FROM fetch_log").fetchall())
    assert log == {"http://127.0.0.1:9/r1.html": "ok", "http://127.0.0.1:9/r2.html": "error",
                   "http://127.0.0.1:9/down": "network_error", "http://127.0.0.1:9/r3.html": "ok"}
    # the broken page's capture went with its savepoint: only its error line remains
    assert archive.db.execute("SELECT count(*) FROM captures").fetchone()[0] == 2
    archive.close()


def test_the_writer_process_is_replaced_when_it_dies(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    sources = {"synthetic": Source(name="synthetic", region="城东区",
                                   start_urls=("http://127.0.0.1:9/",))}
    writer = ArchiveWriter(WriterConfig(str(db), workers=0, flush_seconds=0.2,
                                        ledger_as_of="2026-12-01"), sources)

    async def crawl() -> None:
        writer.open()
        first = writer.proc
        assert first is not None and first.pid != os.getpid()
        os.kill(first.pid, signal.SIGSTOP)  # it takes the first batch but never writes it
        for n in range(1, 4):
            e = entry(n)
            await writer.submit(PageItem(e.capture, is_listing=False), e.derived)
        await asyncio.sleep(1.5)  # the first batch is handed over
        assert writer.in_flight
        os.kill(first.pid, signal.SIGKILL)
        first.join(10)
        for n in range(4, 7):
            e = entry(n)
            await writer.submit(PageItem(e.capture, is_listing=False), e.derived)
        writer.close()
        assert first.exitcode == -signal.SIGKILL

    asyncio.run(crawl())
    archive = Archive(db)
    stored = archive.db.execute("SELECT count(*) FROM reports").fetchone()[0]
    errors = archive.db.execute("SELECT count(*) FROM fetch_log WHERE outcome = 'error' AND "
                                "reason LIKE '%writer process ended%'").fetchone()[0]
    # the dead process's batch is logged as not stored; the next one is stored by its successor
    assert (stored, errors) == (3, 3) and searchable(archive) == 3
    assert writer.counts["report_new"] == 3 and writer.counts["error"] == 3
    (status,) = archive.db.execute("SELECT status FROM crawl_runs").fetchone()
    assert status == "finished"
    archive.close()


def test_a_new_archive_has_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """New archives use PAGE_SIZE (fewer, larger writes per report); an archive made with
    SQLite's default 4 KiB pages is opened and written as it is, and stays searchable."""
    import sqlite3

    from archive.store import PAGE_SIZE

    new = Archive(tmp_path / "new.db")
    assert new.db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE > 4096
    new.close()
    old_path = tmp_path / "old.db"
    conn = sqlite3.connect(old_path)
    conn.execute("PRAGMA page_size=4096")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE earlier (x)")
    conn.close()
    old = Archive(old_path)
    outcomes = Ingest(old).write_batch([entry(1), entry(2)])
    assert [o.result for o in outcomes] == [PageResult.REPORT_NEW] * 2
    assert old.db.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert searchable(old) == 2
    old.close()
