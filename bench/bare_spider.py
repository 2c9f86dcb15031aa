"""The ceiling: a bare Scrapy spider that walks the same listings and fetches every report page.

Listings are parsed with the project's pure `crawler.listing.discover`; report pages are fetched
and dropped. Same concurrency as the project; AutoThrottle and robots.txt off (as in the bench's
project crawl). Run: `scrapy runspider bench/bare_spider.py -a sources=PATH` outside the project
directory (so the project's pipeline and middlewares are not loaded).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import scrapy
import yaml
from scrapy.http import Request, Response

from crawler import settings as project
from crawler.listing import discover


class BareSpider(scrapy.Spider):
    name = "bare"
    custom_settings: ClassVar[dict[str, Any]] = {
        "CONCURRENT_REQUESTS": project.CONCURRENT_REQUESTS,
        "CONCURRENT_REQUESTS_PER_DOMAIN": project.CONCURRENT_REQUESTS_PER_DOMAIN,
        "COOKIES_ENABLED": project.COOKIES_ENABLED,
        "DOWNLOAD_TIMEOUT": project.DOWNLOAD_TIMEOUT,
        "DOWNLOAD_MAXSIZE": project.DOWNLOAD_MAXSIZE,
        "TELNETCONSOLE_ENABLED": False,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "LOG_LEVEL": "WARNING",
    }

    def __init__(self, sources: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with open(sources, encoding="utf-8") as f:
            self.urls = [u for s in yaml.safe_load(f)["sources"] for u in s["start_urls"]]

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:  # filterable, like the project's start requests
            yield Request(url, callback=self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Request]:
        found = discover(response.text, response.url)
        for link in found.items:
            yield Request(link.url, callback=self.drop)
        for page in found.pages:
            yield Request(page, callback=self.parse)

    def drop(self, response: Response) -> None:
        self.crawler.stats.inc_value("bare/report_pages")
