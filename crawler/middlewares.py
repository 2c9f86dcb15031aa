"""Downloader middlewares: keep each source on its own hosts; revalidate archived report pages."""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request

from archive.store import Archive
from archive.urls import host_of


class SourceHostsMiddleware:
    """Drop requests that leave the source's hosts, start URLs and redirects included.

    Scrapy's offsite filtering skips start requests and their redirects; a registry entry names
    its hosts, so every request (and every redirect, which comes back through here) is checked.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        name = request.meta.get("source")
        if name is None:  # robots.txt and other internal requests
            return
        source = self.crawler.spider.sources[name]
        if not source.allows(request.url):
            self.crawler.stats.inc_value("archive/offsite_skipped")
            raise IgnoreRequest(f"off-source host {host_of(request.url)!r} "
                                f"(allowed: {', '.join(sorted(source.hosts))})")


class ConditionalRequestMiddleware:
    """Send If-None-Match / If-Modified-Since for report pages already in the archive.

    Listing pages are fetched in full every crawl (they are where new reports appear); report
    pages are only revalidated, so an unchanged page costs a 304 with no body.
    """

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ARCHIVE_REVALIDATE"):
            raise NotConfigured("ARCHIVE_REVALIDATE is off")
        return cls(Archive(crawler.settings["ARCHIVE_DB"]))

    def process_request(self, request: Request) -> None:
        if request.meta.get("role") != "detail" or request.meta.get("revalidated"):
            return
        request.meta["revalidated"] = True
        validators = self.archive.validators(request.url)
        if "etag" in validators:
            request.headers.setdefault("If-None-Match", validators["etag"])
        if "last-modified" in validators:
            request.headers.setdefault("If-Modified-Since", validators["last-modified"])
