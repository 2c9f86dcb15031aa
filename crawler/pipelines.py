"""The archive pipeline: Scrapy's side of `crawler.writer.ArchiveWriter`.

The writer does the work (derive in a process pool, batched writes in a writer thread, the run
record, source health); this class only ties it to the crawl's lifecycle, items and stats.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request
from scrapy.settings import BaseSettings

from archive.files import FileLimits
from archive.health import fail_on_states
from crawler.items import ExploreRecord, FailureItem, PageItem
from crawler.writer import EXIT_UNHEALTHY, ArchiveWriter, WriterConfig

logger = logging.getLogger(__name__)
__all__ = ["EXIT_UNHEALTHY", "ArchivePipeline", "redirect_loop"]


def redirect_loop(request: Request) -> FailureItem | None:
    """A redirect back to a URL already requested is a loop; Scrapy drops it silently."""
    chain = request.meta.get("redirect_urls")
    if not chain or "source" not in request.meta:
        return None
    reason = (f"redirect loop: {' → '.join([*chain, request.url])[:400]} "
              "(target already requested)")
    logger.warning("%s: %s", chain[0], reason)
    return FailureItem(chain[0], request.meta["source"], request.meta.get("role", "detail"),
                       "skipped", reason)


def file_limits(settings: BaseSettings) -> FileLimits:
    """ARCHIVE_FILE_* settings as the limits each report file is extracted under."""
    mib = 1024 * 1024
    return FileLimits(
        max_bytes=settings.getint("DOWNLOAD_MAXSIZE"),
        max_pages=settings.getint("ARCHIVE_FILE_MAX_PAGES"),
        max_ocr_pages=settings.getint("ARCHIVE_FILE_MAX_OCR_PAGES"),
        seconds=settings.getfloat("ARCHIVE_FILE_SECONDS"),
        memory=settings.getint("ARCHIVE_FILE_MEMORY_MB") * mib,
        max_unzipped=settings.getint("ARCHIVE_FILE_MAX_UNZIPPED_MB") * mib,
    )


def writer_config(settings: BaseSettings, mode: str = "single") -> WriterConfig:
    workers = settings.get("ARCHIVE_WORKERS")
    return WriterConfig(
        db_path=settings["ARCHIVE_DB"],
        workers=None if workers is None else int(workers),
        batch_size=settings.getint("ARCHIVE_BATCH_SIZE"),
        flush_seconds=settings.getfloat("ARCHIVE_FLUSH_SECONDS"),
        fail_on=fail_on_states(settings.getlist("ARCHIVE_HEALTH_FAIL_ON")),
        mode=mode,
        file_limits=file_limits(settings),
        ledger_as_of=settings.get("ARCHIVE_LEDGER_AS_OF") or None,
        writer_process=settings.getbool("ARCHIVE_WRITER_PROCESS"),
    )


class ArchivePipeline:
    """Store captures, derive reports and versions, log every outcome, record the run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: ArchiveWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.request_dropped, signal=signals.request_dropped)
        return pipeline

    def request_dropped(self, request: Request) -> None:
        if self.writer is not None and (item := redirect_loop(request)) is not None:
            self.writer.submit_failure(item)

    def open_spider(self) -> None:
        self.writer = ArchiveWriter(writer_config(self.crawler.settings),
                                    self.crawler.spider.sources)
        self.writer.open()

    def close_spider(self) -> None:
        if self.writer is None or self.writer.archive is None:
            return
        reason = self.crawler.stats.get_value("finish_reason", "finished")
        status = "finished" if reason == "finished" else f"stopped: {reason}"
        exit_status, _ = self.writer.close(
            status, getattr(self.crawler.spider, "not_revalidated", 0))
        for result, n in self.writer.results.items():
            self.crawler.stats.set_value(f"archive/{result}", n)
        self.crawler.stats.set_value("archive/exit_status", exit_status)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem | FailureItem | ExploreRecord):
            raise DropItem(f"unknown item type {type(item).__name__}")
        assert self.writer is not None
        await self.writer.submit(item)
        return item
