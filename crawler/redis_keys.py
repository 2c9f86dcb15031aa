"""The distributed crawl's Redis keys, and the crawler side of revalidation there — what the
downloader middlewares need from distributed mode, without importing it (and so Scrapy's whole
distributed machinery, which imports the spider, which imports the middlewares)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from archive.constants import TIMESTAMP_FORMAT
from archive.revalidation import VALIDATOR_HEADERS
from archive.urls import canonical_url

if TYPE_CHECKING:
    import redis


def keys(job: str) -> dict[str, str]:
    """The job's keys: `prefix` and `alive:` / `busy:` (+ crawler id) end in ":"; the
    queue's per-host keys are `prefix` + "q:<host>" (crawler.hostqueue)."""
    p = f"fzzf:{job}:"
    return {name: f"{p}{name}" for name in
            ("dupefilter", "items", "ready", "validators", "crawlers", "writer", "digest", "run",
             "queued", "hosts", "inflight", "leases", "expiry", "seq", "held", "starved",
             "slotfree", "robots")} | {
        "prefix": p, "alive": f"{p}alive:", "busy": f"{p}busy:"}



def redis_client(url: str) -> redis.Redis:
    """A client that fails within seconds instead of hanging when Redis is gone. (redis is
    imported here: a single-process crawl, which imports this module, never loads it.)"""
    import redis

    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


class RedisValidators:
    """Crawler side of revalidation: what the writer published from the archive (ETag,
    Last-Modified, last confirmed) instead of reading SQLite, which may be on another machine."""

    def __init__(self, server: redis.Redis, job: str) -> None:
        import redis

        self.server = server
        self.key = keys(job)["validators"]
        self.errors = redis.RedisError

    def _get(self, url: str) -> dict[str, Any]:
        try:
            raw = self.server.hget(self.key, canonical_url(url))
        except self.errors:  # fetched unconditionally: nothing lost, only not revalidated
            return {}  # (the crawler's heartbeat reports a lost Redis and ends the crawler)
        return json.loads(raw) if raw else {}

    def days_since_confirmed(self, url: str) -> float | None:
        confirmed = self._get(url).get("confirmed")
        if not confirmed:
            return None
        then = datetime.strptime(confirmed, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        return (datetime.now(UTC) - then).total_seconds() / 86400

    def validators(self, url: str) -> dict[str, str]:
        return {k: v for k, v in self._get(url).items() if k in VALIDATOR_HEADERS}

    def linked_files(self, url: str) -> list[tuple[str, dict[str, Any]]]:
        return [(file, link) for file, link in self._get(url).get("files", [])]
