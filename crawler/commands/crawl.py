"""`scrapy crawl`, with the sources file validated first.

A bad registry should read as one clear message naming file, line, entry and field — not as a
traceback from inside the reactor — and must stop the crawl before any request is made.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

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
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats is not None:
            # Non-zero when a source was entirely blocked or broken (see ArchivePipeline).
            self.exitcode = int(crawler.stats.get_value("archive/exit_status", 0) or 0)
