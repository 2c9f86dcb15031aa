"""`scrapy crawl`, with the sources file validated first and the archive locked.

A bad registry should read as one clear message naming file, line, entry and field — not as a
traceback from inside the reactor — and must stop the crawl before any request is made.
Only one crawl writes an archive at a time (cron, Scrapyd and an operator's on-demand run may
overlap): a second one exits 75 (EX_TEMPFAIL) naming the running one. Runs left `running` by a
crawl that died are marked `died` once the lock is ours.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from archive.constants import EX_TEMPFAIL
from archive.lock import LockHeld, crawl_lock
from crawler.sources import DEFAULT_SOURCES, SourcesError, load_sources


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args and args[0] == "reports":
            path = opts.spargs.get("sources") or DEFAULT_SOURCES
            try:
                load_sources(path)
            except SourcesError as exc:
                print(f"error: bad sources file, nothing crawled:\n{exc}", file=sys.stderr)
                self.exitcode = 2
                return
        if len(args) != 1:
            raise UsageError("scrapy crawl takes exactly one spider name")
        if args[0] != "reports" or not self.settings.getbool("ARCHIVE_WRITER"):
            self._crawl(args, opts)
            return
        db = self.settings["ARCHIVE_DB"]
        try:
            with crawl_lock(db):
                self._crawl(args, opts)
        except LockHeld as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = EX_TEMPFAIL

    def _crawl(self, args: list[str], opts: argparse.Namespace) -> None:
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats is not None:
            # Non-zero when a source was entirely blocked or broken (see ArchivePipeline).
            self.exitcode = int(crawler.stats.get_value("archive/exit_status", 0) or 0)
