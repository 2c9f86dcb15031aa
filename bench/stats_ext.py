"""Scrapy extension: write the crawl's final stats as JSON to BENCH_STATS_FILE (for bench.perf).

Enabled on the command line (`-s EXTENSIONS={"bench.stats_ext.StatsToFile": 0}`), so a crawl can
run at LOG_LEVEL=WARNING and still report `downloader/response_bytes`.
"""

from __future__ import annotations

import json
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class StatsToFile:
    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("BENCH_STATS_FILE")
        if not path:
            raise NotConfigured("BENCH_STATS_FILE not set")
        ext = cls(crawler, path)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(stats, f, default=str, ensure_ascii=False, indent=1)
