"""Downloader middlewares: keep each source on its own hosts; revalidate archived report pages."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.response import response_status_message

from archive.store import Archive
from archive.urls import host_of
from crawler.listing import looks_like_column
from crawler.redis_keys import RedisValidators, redis_client


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
        if urlsplit(request.url).scheme not in ("http", "https"):
            raise IgnoreRequest(f"not an http(s) URL: {request.url[:200]}")
        if not source.allows(request.url):
            self.crawler.stats.inc_value("archive/offsite_skipped")
            raise IgnoreRequest(f"off-source host {host_of(request.url)!r} "
                                f"(allowed: {', '.join(sorted(source.hosts))})")


class FreshEnough(IgnoreRequest):
    """A page confirmed within ARCHIVE_REVALIDATE_DAYS: not requested again this crawl."""


class Validators(Protocol):
    """Where revalidation data comes from: the archive, or Redis in a distributed crawl."""

    def days_since_confirmed(self, url: str) -> float | None: ...
    def validators(self, url: str) -> dict[str, str]: ...
    def linked_files(self, url: str) -> list[tuple[str, dict[str, Any]]]: ...


def open_validators(settings: BaseSettings) -> Validators:
    """The archive, or what the writer published to Redis for a distributed crawler (which may
    not see the archive file)."""
    if not settings.getbool("ARCHIVE_WRITER") and settings.get("ARCHIVE_REDIS_JOB"):
        # with timeouts: a lost Redis fails a lookup within seconds instead of hanging the crawl
        return RedisValidators(redis_client(settings["REDIS_URL"]), settings["ARCHIVE_REDIS_JOB"])
    return Archive(settings["ARCHIVE_DB"])


class ConditionalRequestMiddleware:
    """Revalidate pages already in the archive, and leave recently confirmed ones alone.

    Listing pages are fetched in full every crawl (they are where new reports appear). A report
    page confirmed (200 or 304) less than ARCHIVE_REVALIDATE_DAYS ago is not requested at all;
    an older one is revalidated with If-None-Match / If-Modified-Since, so if unchanged it costs
    a 304 with no body.
    """

    def __init__(self, archive: Validators, fresh_days: float) -> None:
        self.archive = archive
        self.fresh_days = fresh_days

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_REVALIDATE"):
            raise NotConfigured("ARCHIVE_REVALIDATE is off")
        return cls(open_validators(settings), settings.getfloat("ARCHIVE_REVALIDATE_DAYS"))

    def process_request(self, request: Request) -> None:
        role = request.meta.get("role")
        if request.meta.get("revalidate_listing") and not request.meta.get("revalidated"):
            # A discovered column's listing page: always asked, conditionally (crawler.discovery).
            request.meta["revalidated"] = True
            self._add_validators(request)
            return
        is_page = role == "detail" or (role == "start" and not looks_like_column(request.url))
        if not is_page or request.meta.get("revalidated"):
            return
        request.meta["revalidated"] = True
        if self.fresh_days > 0:
            age = self.archive.days_since_confirmed(request.url)
            if age is not None and age < self.fresh_days:
                raise FreshEnough(f"confirmed {age:.1f} days ago")
        self._add_validators(request)

    def _add_validators(self, request: Request) -> None:
        validators = self.archive.validators(request.url)
        if "etag" in validators:
            request.headers.setdefault("If-None-Match", validators["etag"])
        if "last-modified" in validators:
            request.headers.setdefault("If-Modified-Since", validators["last-modified"])


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, with exponential backoff and Retry-After honoured.

    Scrapy retries at once; an overloaded county server needs time. The wait happens in the
    middleware (an asyncio sleep), so other requests keep flowing while one waits.
    RETRY_BACKOFF_BASE (s) doubles per attempt, with ±20 % jitter, capped at RETRY_BACKOFF_MAX;
    a Retry-After longer than the cap means the server asked for more than we wait: give up.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX")

    def delay(self, request: Request, response: Response | None) -> float | None:
        attempt = request.meta.get("retry_times", 0)
        backoff = min(self.cap, self.base * 2**attempt) * random.uniform(0.8, 1.2)
        if response is not None:
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                return None if asked > self.cap else max(asked, backoff)
        return backoff

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = self.delay(request, response)
        if wait is None:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await asyncio.sleep(wait)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await asyncio.sleep(self.delay(request, None) or 0)
        return retry
