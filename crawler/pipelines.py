"""The archive pipeline: every item lands in the SQLite archive, one transaction per page."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request

from archive.store import Archive
from crawler.items import FailureItem, PageItem

logger = logging.getLogger(__name__)
EXIT_UNHEALTHY = 3  # exit status of a crawl in which some source was entirely blocked or broken


class ArchivePipeline:
    """Store captures, derive reports and versions, log every outcome, record the run."""

    def __init__(self, crawler: Crawler, db_path: str) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.counts: Counter[str] = Counter()
        self.by_source: defaultdict[str, Counter[str]] = defaultdict(Counter)

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
        self.archive.log_failure(url=chain[0], source=request.meta["source"],
                                 role=request.meta.get("role", "detail"), outcome="skipped",
                                 reason=reason, run_id=self.run_id)
        self.counts["skipped"] += 1
        self.by_source[request.meta["source"]]["skipped"] += 1

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.archive = Archive(self.db_path)
        self.archive.save_sources(s.as_row() for s in spider.sources.values())
        self.run_id = self.archive.start_run(spider.sources)
        logger.info("archive %s: run %s over %d sources", self.db_path, self.run_id,
                    len(spider.sources))

    def close_spider(self) -> None:
        if self.archive is None:
            return
        reason = self.crawler.stats.get_value("finish_reason", "finished")
        status = "finished" if reason == "finished" else f"stopped: {reason}"
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

    def unhealthy_sources(self) -> dict[str, str]:
        """Sources whose every request was blocked or failed: a run that should not look fine."""
        out = {}
        for name in self.crawler.spider.sources:
            seen = self.by_source.get(name, Counter())
            if seen["ok"] or seen["not_modified"]:
                continue
            if seen["blocked"]:
                out[name] = f"blocked (WAF/challenge) on all {sum(seen.values())} requests"
            else:
                kinds = ", ".join(f"{k}={v}" for k, v in sorted(seen.items())) or "no response"
                out[name] = f"no usable response ({kinds})"
        return out

    def process_item(self, item: Any) -> Any:
        assert self.archive is not None
        if isinstance(item, PageItem):
            try:
                out = self.archive.ingest(item.capture, self.run_id, is_listing=item.is_listing,
                                          note=item.note, extraction=item.extraction)
            except Exception as exc:  # a page the cleaner cannot handle must not vanish
                logger.exception("could not archive %s", item.capture.url)
                self.archive.log_failure(
                    url=item.capture.url, source=item.capture.source, role=item.capture.role,
                    outcome="error", reason=f"archive error: {type(exc).__name__}: {exc}"[:500],
                    status=item.capture.status, run_id=self.run_id)
                self.counts["error"] += 1
                self.by_source[item.capture.source]["error"] += 1
                return item
            self.by_source[item.capture.source][out.outcome] += 1
            self.counts[out.outcome] += 1
            self.counts[out.result] += 1
            self.crawler.stats.inc_value(f"archive/{out.result}")
            if out.result in ("report_new", "report_changed"):
                logger.info("%s %s (%s)", out.result.replace("_", " "), item.capture.url,
                            item.capture.source)
            elif out.outcome == "http_error":
                logger.warning("HTTP %s for %s (%s)", item.capture.status, item.capture.url,
                               item.capture.source)
            return item
        if isinstance(item, FailureItem):
            self.archive.log_failure(url=item.url, source=item.source, role=item.role,
                                     outcome=item.outcome, reason=item.reason,
                                     retries=item.retries, run_id=self.run_id)
            self.counts[item.outcome] += 1
            self.by_source[item.source][item.outcome] += 1
            return item
        raise DropItem(f"unknown item type {type(item).__name__}")
