"""The archive writer: every crawled item lands in the SQLite archive, the same way wherever it came
from — Scrapy's item pipeline in a single-process crawl (`crawler.pipelines`), or the Redis item
list in a distributed one (`crawler.distributed`). No Scrapy here.

CPU work (decoding, problem detection, extraction, search-index form) runs in a process pool, and
the archive's writes (`archive.ingest`: one transaction per batch, each page in its own savepoint,
the search index at the end of the batch) run in a writer process of their own: the crawl process
only batches items and hands them over, from a thread that mostly waits. The writer process has
written everything when `close()` returns (nothing is deferred past the crawl).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from archive import exploration
from archive.constants import EXIT_UNHEALTHY, FetchOutcome, PageResult
from archive.derive import Derived, derive
from archive.files import DEFAULT_LIMITS, FileLimits
from archive.health import DEFAULT_FAIL_ON, save_health, unhealthy
from archive.ingest import Entry, ExploreEntry, Ingest, PageEntry, serve
from archive.pages import Outcome
from archive.process import TRIM_SECONDS, exit_with_parent, release_free_memory
from archive.store import Archive
from crawler.items import ExploreRecord, FailureItem, PageItem
from crawler.sources import Source

logger = logging.getLogger(__name__)

# What the fork server imports before it forks the extraction workers and the writer process:
# one list for both, as the first process started fixes it for the crawl.
FORKSERVER_PRELOAD = ["archive.workers"]


def worker_count(workers: int | str | None) -> int:
    """ARCHIVE_WORKERS: None = one per core; 0 = derive in the calling thread."""
    return (os.cpu_count() or 1) if workers is None else int(workers)


def derive_pool(workers: int) -> ProcessPoolExecutor | None:
    """The extraction process pool (None for 0 workers). forkserver: workers do not inherit the
    event loop's threads and sockets; they end with the process that started them."""
    if workers <= 0:
        return None
    context = multiprocessing.get_context("forkserver")
    # The fork server imports the extraction modules once; each worker forks with them loaded
    # instead of importing them itself (~0.5 s of CPU per worker at start-up).
    context.set_forkserver_preload(FORKSERVER_PRELOAD)
    return ProcessPoolExecutor(workers, mp_context=context,
                               initializer=exit_with_parent, initargs=(os.getpid(),))


async def derive_item(pool: Executor | None, item: PageItem,
                      limits: FileLimits = DEFAULT_LIMITS) -> Derived:
    """`archive.derive` for one page, in the pool without blocking the event loop."""
    cap = item.capture
    args = (cap.body, cap.headers, cap.status, cap.url, item.is_listing, item.extraction,
            cap.link, limits)
    if pool is None:
        return derive(*args)
    return await asyncio.wrap_future(pool.submit(derive, *args))


@dataclass(slots=True)
class _Pending:
    item: PageItem | FailureItem | ExploreRecord
    derived: Derived | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class WriterConfig:
    db_path: str
    workers: int | None = None            # None = one per core; 0 = derive in this thread
    batch_size: int = 50
    flush_seconds: float = 1.0
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    mode: str = "single"                  # recorded in crawl_runs: single | distributed
    file_limits: FileLimits = DEFAULT_LIMITS  # report files (ARCHIVE_FILE_* settings)
    ledger_as_of: str | None = None       # the ledger's date; None = today
    writer_process: bool = True           # False: write from a thread of this process


class ArchiveWriter:
    """Store captures, derive reports and versions, log every outcome, record the run."""

    def __init__(self, config: WriterConfig, sources: dict[str, Source]) -> None:
        self.config = config
        self.db_path = config.db_path
        self.sources = sources
        self.workers = worker_count(config.workers)
        self.max_pending = config.batch_size
        self.archive: Archive | None = None
        self.ingest: Ingest | None = None
        self.pool: Executor | None = None
        self.queue: queue.Queue[_Pending | None] = queue.Queue()
        self.writer: threading.Thread | None = None
        self.proc: multiprocessing.process.BaseProcess | None = None
        self.writer_cpu = 0.0                 # CPU seconds of the writer process(es)
        self.in_flight: deque[tuple[list[_Pending], list[Entry]]] = deque()
        self.inbox: Any = None
        self.outbox: Any = None
        self.run_id: int | None = None
        self.counts: Counter[str] = Counter()
        self.by_source: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.results: Counter[str] = Counter()

    # -- lifecycle ------------------------------------------------------------------------
    def open(self) -> int:
        self.archive = Archive(self.db_path)
        exploration.ensure_schema(self.archive.db)
        self.archive.save_sources(s.as_row() for s in self.sources.values())
        self.run_id = self.archive.start_run(self.sources, mode=self.config.mode)
        self.ingest = Ingest(self.archive, self.run_id)
        if self.config.writer_process:
            self._start_process()
        self.pool = derive_pool(self.workers)
        # The writer thread hands batches over (or writes them itself) from here on.
        self.writer = threading.Thread(target=self._writer_loop, name="archive-writer",
                                       daemon=True)
        self.writer.start()
        logger.info("archive %s: run %s over %d sources, %d extraction worker(s)", self.db_path,
                    self.run_id, len(self.sources), self.workers)
        return self.run_id

    def close(self, status: str = "finished", not_revalidated: int = 0) -> tuple[int, dict]:
        """Flush, record the run and per-source results, recompute health.
        Returns (exit status, {unhealthy source: why})."""
        assert self.archive is not None and self.run_id is not None
        self.queue.put(None)  # end of items: the writer flushes and stops
        if self.writer is not None:
            self.writer.join()
        self._stop_process()
        if not_revalidated:
            self.counts["not_revalidated"] = not_revalidated
            logger.info("%d archived pages confirmed recently were not requested again",
                        not_revalidated)
        if self.pool is not None:
            self.pool.shutdown()
        self.archive.save_run_sources(self.run_id, self.run_source_rows())
        bad = self.unhealthy_sources()
        exit_status = EXIT_UNHEALTHY if bad else 0
        for name, why in bad.items():
            logger.error("source %s: %s", name, why)
        self.archive.finish_run(self.run_id, status, dict(self.counts), exit_status=exit_status,
                                unhealthy=bad)
        try:
            summary = self.archive.refresh_ledger(self.config.ledger_as_of)
        except Exception:  # the run's captures are stored; a ledger bug must not hide that
            logger.exception("ledger not refreshed (run it again: python -m archive ledger)")
        else:
            logger.info("ledger: %s", ", ".join(f"{k}={v}" for k, v in summary.items()))
        logger.info("archive %s: %s", self.db_path,
                    ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) or "nothing")
        for line in exploration.summary(self.archive.db, self.run_id):
            logger.info("%s", line)
        self.archive.close()
        return exit_status, bad

    # -- items ----------------------------------------------------------------------------
    async def submit(self, item: PageItem | FailureItem | ExploreRecord,
                     derived: Derived | None = None) -> None:
        """Derive (in the pool, unless `derived` is given) and queue one item for writing."""
        # Backpressure: while the writer is behind, hold this item (and so its response) without
        # blocking the event loop; the crawl then slows down. Without it the queue of pending
        # pages, bodies included, grows with the crawl.
        while self.queue.qsize() >= self.max_pending:
            await asyncio.sleep(0.02)
        if isinstance(item, FailureItem | ExploreRecord):
            self.queue.put(_Pending(item))
            return
        if derived is not None:
            self.queue.put(_Pending(item, derived))
            return
        try:
            self.queue.put(_Pending(item, await derive_item(self.pool, item,
                                                            self.config.file_limits)))
        except Exception as exc:  # a page the cleaner cannot handle must not vanish
            logger.exception("could not derive %s", item.capture.url)
            self.queue.put(_Pending(item, None, f"{type(exc).__name__}: {exc}"))

    def submit_failure(self, item: FailureItem) -> None:
        self.queue.put(_Pending(item))

    def _writer_loop(self) -> None:
        """Writer thread: batches of up to batch_size pages, or what arrived within
        flush_seconds, in one transaction each, each page in its own savepoint."""
        done = False
        trimmed = time.monotonic()
        while not done:
            if time.monotonic() - trimmed > TRIM_SECONDS:
                release_free_memory()
                trimmed = time.monotonic()
            batch: list[_Pending] = []
            deadline = time.monotonic() + self.config.flush_seconds
            while len(batch) < self.config.batch_size:
                try:
                    entry = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if entry is None:
                    done = True
                    break
                batch.append(entry)
            if batch:
                self._write_batch(batch)
        while self.in_flight:  # every batch written before close() goes on
            self._collect()

    def _write_batch(self, batch: list[_Pending]) -> None:
        assert self.ingest is not None
        entries = [self._entry(p) for p in batch]
        if not self.config.writer_process:
            self._account_batch(batch, self.ingest.write_batch(entries))
            return
        # Two batches in flight: the writer process has the next one queued when it finishes
        # one, while this thread collects the outcomes of the last.
        if self.proc is None or not self.proc.is_alive():
            self._writer_died()
            self._start_process()
        self.inbox.put(entries)
        self.in_flight.append((batch, entries))
        while len(self.in_flight) > 1:
            self._collect()

    def _account_batch(self, batch: list[_Pending], outcomes: list[Outcome | None]) -> None:
        for pending, out in zip(batch, outcomes, strict=True):
            if out is not None:
                self._account(pending.item, out)

    # -- the writer process ---------------------------------------------------------------
    def _start_process(self) -> None:
        """The writer process (forkserver, as the pool: it inherits no threads or sockets)."""
        ctx = multiprocessing.get_context("forkserver")
        # Imported once in the forkserver, not in every process it starts: the writer (and each
        # extraction worker) is ready in milliseconds. No effect once the forkserver runs.
        ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
        self.inbox, self.outbox = ctx.Queue(), ctx.Queue()
        self.proc = ctx.Process(target=serve, name="archive-writer", daemon=True,
                                args=(self.db_path, self.run_id, self.inbox, self.outbox,
                                      os.getpid()))
        self.proc.start()

    def _collect(self) -> None:
        """The outcomes of the oldest batch in flight (or, if the writer process died, every
        batch in flight recorded as not stored)."""
        assert self.proc is not None
        while True:
            try:
                outcomes = self.outbox.get(timeout=1.0)
            except queue.Empty:
                if not self.proc.is_alive():
                    self._writer_died()
                    return
            else:
                batch, _ = self.in_flight.popleft()
                self._account_batch(batch, outcomes)
                return

    def _writer_died(self) -> None:
        """Record the batches a dead writer process left unwritten as errors, from here."""
        while self.in_flight:  # outcomes it sent before it died are real: take them first
            try:
                outcomes = self.outbox.get(timeout=0.5)
            except queue.Empty:
                break
            if isinstance(outcomes, list):
                self._account_batch(self.in_flight.popleft()[0], outcomes)
        if not self.in_flight:
            return
        assert self.archive is not None and self.proc is not None
        why = f"archive error: the writer process ended (exit {self.proc.exitcode})"
        logger.error("%s with %d batch(es) unwritten; their entries are logged as errors", why,
                     len(self.in_flight))
        while self.in_flight:
            batch, entries = self.in_flight.popleft()
            failed: list[Outcome | None] = []
            with self.archive.db.atomic():
                for e in entries:
                    if isinstance(e, ExploreEntry):
                        failed.append(None)
                        continue
                    url, source, role = (e.capture.url, e.capture.source, e.capture.role) \
                        if isinstance(e, PageEntry) else (e.url, e.source, e.role)
                    self.archive.log_failure(url=url, source=source, role=role,
                                             outcome=FetchOutcome.ERROR, reason=why,
                                             run_id=self.run_id)
                    failed.append(Outcome(FetchOutcome.ERROR, PageResult.ERROR, why))
            self._account_batch(batch, failed)
        self.proc = None

    def _stop_process(self) -> None:
        if self.proc is None or not self.proc.is_alive():
            return
        self.inbox.put(None)
        try:
            last = self.outbox.get(timeout=60)
            self.writer_cpu += last[1]
        except (queue.Empty, TypeError, IndexError):
            logger.warning("the archive writer process did not report its end")
        self.proc.join(timeout=60)
        if self.proc.is_alive():
            logger.error("the archive writer process did not end; terminating it")
            self.proc.terminate()
            self.proc.join()
        self.proc = None

    @staticmethod
    def _entry(pending: _Pending) -> Entry:
        item = pending.item
        if isinstance(item, FailureItem | ExploreRecord):
            return item
        return PageEntry(item.capture, pending.derived, item.is_listing, item.note,
                         pending.error if pending.derived is None else None)

    def _account(self, item: PageItem | FailureItem | ExploreRecord, out: Outcome) -> None:
        """Count an outcome for the run record and log what an operator wants to see."""
        if isinstance(item, ExploreRecord):
            return
        if isinstance(item, FailureItem):
            self._count(item.source, out.outcome)
            return
        cap = item.capture
        if out.outcome == FetchOutcome.ERROR:
            self._count(cap.source, out.outcome)
            return
        self._count(cap.source, out.outcome, out.result)
        if out.result == PageResult.LISTING or (item.is_listing
                                                and out.outcome == FetchOutcome.NOT_MODIFIED):
            self.by_source[cap.source]["listing_pages"] += 1
            self.by_source[cap.source]["listing_items"] += item.links
            self.by_source[cap.source]["listing_truncated"] += int(item.truncated)
        if out.result in (PageResult.REPORT_NEW, PageResult.REPORT_CHANGED):
            logger.info("%s %s (%s)", out.result.replace("_", " "), cap.url, cap.source)
        elif out.outcome == FetchOutcome.HTTP_ERROR:
            logger.warning("HTTP %s for %s (%s)", cap.status, cap.url, cap.source)

    def _count(self, source: str, outcome: str, result: str | None = None) -> None:
        self.counts[outcome] += 1
        self.by_source[source][outcome] += 1
        self.by_source[source]["requests"] += 1
        if result:
            self.counts[result] += 1
            self.results[result] += 1
            self.by_source[source][f"result:{result}"] += 1

    # -- the run's record -----------------------------------------------------------------
    def run_source_rows(self, names: Iterable[str] | None = None) -> list[dict[str, int | str]]:
        """One `run_sources` row per source of this run (zero requests: all pages were fresh)."""
        rows = []
        for name in names if names is not None else self.sources:
            seen = self.by_source.get(name, Counter())
            useless = seen["result:soft_404"] + seen["result:empty"]
            rows.append({
                "source": name, "requests": seen["requests"],
                **{k: seen[k] for k in ("ok", "not_modified", "blocked", "http_error",
                                         "network_error", "skipped", "error", "listing_pages",
                                         "listing_items", "listing_truncated")},
                "soft_404": seen["result:soft_404"],
                **{f"reports_{k}": seen[f"result:report_{k}"]
                   for k in ("new", "changed", "unchanged")},
                "succeeded": int(seen["ok"] - useless + seen["not_modified"] > 0),
            })
        return rows

    def unhealthy_sources(self) -> dict[str, str]:
        """Recompute source health (`source_health`) and return this run's unhealthy sources:
        those in `fail_on` (blocked, failing, listing shape changed by default) among the sources
        this run requested — a run that should not look fine to cron or a monitor."""
        assert self.archive is not None
        health = save_health(self.archive.db)
        attempted = {n for n, seen in self.by_source.items() if seen["requests"]}
        bad = unhealthy(health, self.config.fail_on, sources=attempted)
        return {h.source: h.summary for h in bad}
