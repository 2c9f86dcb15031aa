"""Distributed mode: one robots.txt fetch per host for the whole crawl, shared through Redis.

Scrapy's RobotsTxtMiddleware keeps parsed robots.txt files per process, so each crawler would fetch
every host's robots.txt again: one more request per host and crawler, outside the crawl-wide host
limit (crawler.hostqueue), and a second of each crawler's concurrency per slow host. Here the first
crawler to fetch a host's robots.txt stores the body in the job's `robots` hash; the others parse
that copy. A failed fetch is not shared: each crawler tries for itself (and, as Scrapy does, then
obeys nothing for that host).
"""

from __future__ import annotations

import logging
from typing import Self

import redis
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

from crawler.redis_keys import keys, redis_client

logger = logging.getLogger(__name__)


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware whose robots.txt bodies come from, and go to, the job's Redis."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        s = crawler.settings
        self.server = redis_client(s["REDIS_URL"])
        self.key = keys(s["ARCHIVE_REDIS_JOB"])["robots"]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            try:
                body = self.server.hget(self.key, netloc)
            except redis.RedisError:
                body = None  # fetched here, as without Redis
            if body is not None:
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, body)
                self._stats.inc_value("robotstxt/shared")
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        await super()._parse_robots(response, netloc, request)
        try:
            self.server.hsetnx(self.key, netloc, response.body)
        except redis.RedisError as exc:
            logger.debug("robots.txt of %s not shared, Redis unreachable: %s", netloc, exc)
