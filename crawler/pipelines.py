"""The archive pipeline: every item lands in the SQLite archive.

CPU work (decoding, problem detection, extraction, search-index form) runs in a process pool and
SQLite writes run in a writer thread (sqlite3 releases the GIL while SQLite works), so the Scrapy
reactor thread only fetches. Writes are batched, one transaction per batch, with each page inside
its own savepoint (a page is stored whole or not at all).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request

from archive.derive import Derived, derive
from archive.health import save_health, unhealthy
from archive.store import Archive
from crawler.items import FailureItem, PageItem

logger = logging.getLogger(__name__)
EXIT_UNHEALTHY = 3  # exit status of a crawl in which some source was entirely blocked or broken


def _exit_with_parent(crawl_pid: int) -> None:
    """Worker initializer: end this worker when the crawl process is gone (even after SIGKILL,
    which gives the pool no chance to shut its workers down)."""

    def watch() -> None:
        while True:
            time.sleep(2)
            try:
                os.kill(crawl_pid, 0)
            except ProcessLookupError:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


@dataclass(slots=True)
class _Pending:
    item: PageItem | FailureItem
    derived: Derived | None = None
    error: str | None = None


class ArchivePipeline:
    """Store captures, derive reports and versions, log every outcome, record the run."""

    def __init__(self, crawler: Crawler, db_path: str) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.db_path = db_path
        workers = settings.get("ARCHIVE_WORKERS")
        self.workers = (os.cpu_count() or 1) if workers is None else int(workers)
        self.batch_size = settings.getint("ARCHIVE_BATCH_SIZE")
        self.flush_seconds = settings.getfloat("ARCHIVE_FLUSH_SECONDS")
        self.max_pending = 4 * self.batch_size
        self.fail_on = tuple(settings.getlist("ARCHIVE_HEALTH_FAIL_ON"))
        self.archive: Archive | None = None
        self.pool: Executor | None = None
        self.queue: queue.Queue[_Pending | None] = queue.Queue()
        self.writer: threading.Thread | None = None
        self.run_id: int | None = None
        self.counts: Counter[str] = Counter()
        self.by_source: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.results: Counter[str] = Counter()  # copied into the crawl stats at the end

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler, crawler.settings["ARCHIVE_DB"])
        crawler.signals.connect(pipeline.request_dropped, signal=signals.request_dropped)
        return pipeline

    def request_dropped(self, request: Request) -> None:
        """A redirect back to a URL already requested is a loop; Scrapy drops it silently."""
        chain = request.meta.get("redirect_urls")
        if not chain or self.archive is None or "source" not in request.meta:
            return
        reason = (f"redirect loop: {' → '.join([*chain, request.url])[:400]} "
                  "(target already requested)")
        logger.warning("%s: %s", chain[0], reason)
        self.queue.put(_Pending(FailureItem(chain[0], request.meta["source"],
                                            request.meta.get("role", "detail"), "skipped",
                                            reason)))

    # -- lifecycle ------------------------------------------------------------------------
    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.archive = Archive(self.db_path)
        self.archive.save_sources(s.as_row() for s in spider.sources.values())
        self.run_id = self.archive.start_run(spider.sources)
        if self.workers > 0:
            # forkserver: workers do not inherit the reactor's threads and sockets.
            self.pool = ProcessPoolExecutor(self.workers,
                                            mp_context=multiprocessing.get_context("forkserver"),
                                            initializer=_exit_with_parent, initargs=(os.getpid(),))
        # The writer thread owns the archive connection from here on.
        self.writer = threading.Thread(target=self._writer_loop, name="archive-writer",
                                       daemon=True)
        self.writer.start()
        logger.info("archive %s: run %s over %d sources, %d extraction worker(s)", self.db_path,
                    self.run_id, len(spider.sources), self.workers)

    def close_spider(self) -> None:
        if self.archive is None:
            return
        self.queue.put(None)  # end of items: the writer flushes and stops
        if self.writer is not None:
            self.writer.join()
        spared = getattr(self.crawler.spider, "not_revalidated", 0)
        if spared:
            self.counts["not_revalidated"] = spared
            logger.info("%d archived pages confirmed recently were not requested again", spared)
        for result, n in self.results.items():
            self.crawler.stats.set_value(f"archive/{result}", n)
        if self.pool is not None:
            self.pool.shutdown()
        reason = self.crawler.stats.get_value("finish_reason", "finished")
        status = "finished" if reason == "finished" else f"stopped: {reason}"
        self.archive.save_run_sources(self.run_id, self.run_source_rows())
        unhealthy = self.unhealthy_sources()
        exit_status = EXIT_UNHEALTHY if unhealthy else 0
        for name, why in unhealthy.items():
            logger.error("source %s: %s", name, why)
        self.crawler.stats.set_value("archive/exit_status", exit_status)
        self.archive.finish_run(self.run_id, status, dict(self.counts), exit_status=exit_status,
                                unhealthy=unhealthy)
        logger.info("archive %s: %s", self.db_path,
                    ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) or "nothing")
        self.archive.close()

    # -- items ----------------------------------------------------------------------------
    async def process_item(self, item: Any) -> Any:
        # Backpressure: while the writer is behind, hold this item (and so its response) without
        # blocking the reactor; Scrapy then slows the downloads. Without it the queue of pending
        # pages, bodies included, grows with the crawl.
        while self.queue.qsize() >= self.max_pending:
            await asyncio.sleep(0.02)
        if isinstance(item, PageItem):
            cap = item.capture
            args = (cap.body, cap.headers, cap.status, cap.url, item.is_listing, item.extraction)
            try:
                if self.pool is not None:
                    derived = await asyncio.wrap_future(self.pool.submit(derive, *args))
                else:
                    derived = derive(*args)
                self.queue.put(_Pending(item, derived))
            except Exception as exc:  # a page the cleaner cannot handle must not vanish
                logger.exception("could not derive %s", cap.url)
                self.queue.put(_Pending(item, None, f"{type(exc).__name__}: {exc}"))
        elif isinstance(item, FailureItem):
            self.queue.put(_Pending(item))
        else:
            raise DropItem(f"unknown item type {type(item).__name__}")
        return item

    def _writer_loop(self) -> None:
        """Writer thread: batches of up to ARCHIVE_BATCH_SIZE pages, or what arrived within
        ARCHIVE_FLUSH_SECONDS, in one transaction each, each page in its own savepoint."""
        done = False
        while not done:
            batch: list[_Pending] = []
            deadline = time.monotonic() + self.flush_seconds
            while len(batch) < self.batch_size:
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

    def _write_batch(self, batch: list[_Pending]) -> None:
        assert self.archive is not None
        try:
            with self.archive.db.atomic():
                for entry in batch:
                    self._write(entry)
        except Exception:  # never let the writer die: the crawl would lose every later page
            logger.exception("could not write a batch of %d pages", len(batch))

    def _write(self, entry: _Pending) -> None:
        assert self.archive is not None
        item = entry.item
        if isinstance(item, FailureItem):
            self.archive.log_failure(url=item.url, source=item.source, role=item.role,
                                     outcome=item.outcome, reason=item.reason,
                                     retries=item.retries, run_id=self.run_id)
            self._count(item.source, item.outcome)
            return
        cap = item.capture
        error = entry.error
        if entry.derived is not None:
            try:
                with self.archive.db.atomic():
                    out = self.archive.commit(cap, entry.derived, self.run_id,
                                              is_listing=item.is_listing, note=item.note)
            except Exception as exc:
                logger.exception("could not archive %s", cap.url)
                error = f"{type(exc).__name__}: {exc}"
            else:
                self._count(cap.source, out.outcome, out.result)
                if out.result == "listing":
                    self.by_source[cap.source]["listing_pages"] += 1
                    self.by_source[cap.source]["listing_items"] += item.links
                if out.result in ("report_new", "report_changed"):
                    logger.info("%s %s (%s)", out.result.replace("_", " "), cap.url, cap.source)
                elif out.outcome == "http_error":
                    logger.warning("HTTP %s for %s (%s)", cap.status, cap.url, cap.source)
                return
        self.archive.log_failure(url=cap.url, source=cap.source, role=cap.role, outcome="error",
                                 reason=f"archive error: {error}"[:500], status=cap.status,
                                 run_id=self.run_id)
        self._count(cap.source, "error")

    def _count(self, source: str, outcome: str, result: str | None = None) -> None:
        self.counts[outcome] += 1
        self.by_source[source][outcome] += 1
        self.by_source[source]["requests"] += 1
        if result:
            self.counts[result] += 1
            self.results[result] += 1
            self.by_source[source][f"result:{result}"] += 1

    def run_source_rows(self) -> list[dict[str, int | str]]:
        """One `run_sources` row per source of this run (zero requests: all pages were fresh)."""
        rows = []
        for name in self.crawler.spider.sources:
            seen = self.by_source.get(name, Counter())
            useless = seen["result:soft_404"] + seen["result:empty"]
            rows.append({
                "source": name, "requests": seen["requests"],
                **{k: seen[k] for k in ("ok", "not_modified", "blocked", "http_error",
                                         "network_error", "skipped", "error", "listing_pages",
                                         "listing_items")},
                "soft_404": seen["result:soft_404"],
                **{f"reports_{k}": seen[f"result:report_{k}"]
                   for k in ("new", "changed", "unchanged")},
                "succeeded": int(seen["ok"] - useless + seen["not_modified"] > 0),
            })
        return rows

    def unhealthy_sources(self) -> dict[str, str]:
        """Recompute source health (`source_health`) and return this run's unhealthy sources:
        blocked, failing or listing shape changed (ARCHIVE_HEALTH_FAIL_ON) — a run that should
        not look fine to cron or a monitor."""
        assert self.archive is not None
        health = save_health(self.archive.db)
        attempted = {n for n, seen in self.by_source.items() if seen["requests"]}
        bad = unhealthy(health, self.fail_on, sources=attempted)
        return {h.source: h.summary for h in bad}
