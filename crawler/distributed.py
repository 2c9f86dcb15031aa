"""Optional distributed mode on scrapy-redis: many crawler processes, one archive writer.

Crawler processes (on one machine or many) share scrapy-redis's request queue and duplicate filter,
so every URL is fetched once by whichever process is free. They do not touch SQLite: each page is
derived in the crawler's own process pool (the pure `archive.derive`, so extraction scales with the
crawlers) and pushed with its result to a Redis list; a single writer process (SQLite keeps one
writer) pops them and stores them through the same `ArchiveWriter` as the single-process crawl —
same records, run record, per-source results, health and exit status. A result made by another
extractor version is derived again by the writer.

    python -m crawler.distributed writer  --redis redis://HOST:6379/0 --db data/archive.db
    python -m crawler.distributed crawler --redis redis://HOST:6379/0      # one or more, anywhere

Protocol (keys under `fzzf:<job>:`): the writer takes the archive lock, clears the job's keys,
publishes the archive's revalidation data (`validators`) and sets `ready`; crawlers wait for
`ready`, register in `crawlers`, keep `alive:<id>` fresh and set `busy:<id>` while working, and
stay open while the queue has requests or another crawler is busy (its responses may add more).
A crawler that closes pushes a `closed` record. The writer keeps `ready` fresh (a crawler whose
writer died closes itself) and ends when every registered crawler has closed (or stopped
heart-beating) and the item list is empty, then clears the job's keys.
Redis must be private: scrapy-redis stores requests pickled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from typing import Any, Self

import redis
import redis.asyncio as aioredis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Request

from archive.derive import Derived
from archive.extract import EXTRACTOR_VERSION, Extraction
from archive.lock import LockHeld, crawl_lock
from archive.problems import Problem
from archive.store import Archive, Capture
from crawler.items import ExploreRecord, FailureItem, PageItem
from crawler.pipelines import redirect_loop
from crawler.redis_keys import RedisValidators, keys  # noqa: F401 (RedisValidators: older home)
from crawler.writer import derive_item, derive_pool, worker_count

logger = logging.getLogger(__name__)
EX_TEMPFAIL = 75
HEARTBEAT_SECONDS = 2.0  # keep ARCHIVE_REDIS_TTL (settings) well above this
SEP = b"\0"             # item = JSON header, NUL, raw body bytes (JSON never contains a raw NUL)


def crawler_settings(redis_url: str, job: str) -> dict[str, Any]:
    """What turns `reports` into a distributed crawler (applied over crawler.settings)."""
    k = keys(job)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,   # the queue is shared: one crawler closing must not flush it
        "SCHEDULER_QUEUE_KEY": k["requests"],
        "SCHEDULER_DUPEFILTER_KEY": k["dupefilter"],
        "REDIS_URL": redis_url,
        "ARCHIVE_REDIS_JOB": job,
        "ARCHIVE_WRITER": False,
        "ITEM_PIPELINES": {"crawler.distributed.RedisItemsPipeline": 300},
        "EXTENSIONS": {"crawler.distributed.DistributedCrawl": 500},
    }


# -- items over Redis ---------------------------------------------------------------------------
def encode_item(item: PageItem | FailureItem | ExploreRecord,
                derived: Derived | None = None) -> bytes:
    """A page's capture metadata and what the crawler derived from it as JSON, then its body."""
    if isinstance(item, ExploreRecord):
        return json.dumps({"type": "explore", **asdict(item)}, ensure_ascii=False).encode()
    if isinstance(item, FailureItem):
        return json.dumps({"type": "failure", **asdict(item)}, ensure_ascii=False).encode()
    cap = asdict(item.capture)
    body = cap.pop("body")
    head: dict[str, Any] = {"type": "page", "capture": cap, "is_listing": item.is_listing,
                            "note": item.note, "links": item.links}
    if derived is not None:
        head["derived"] = {"extractor_version": EXTRACTOR_VERSION, **asdict(derived)}
    return json.dumps(head, ensure_ascii=False).encode() + SEP + body


Decoded = tuple[PageItem | FailureItem | ExploreRecord, Derived | None] | dict[str, Any]


def decode_item(data: bytes) -> Decoded:
    """(item, derived) — derived None when absent or made by another extractor version, so the
    writer derives it again — or a control record ({"type": "closed", …})."""
    head, _, body = data.partition(SEP)
    obj = json.loads(head)
    kind = obj.pop("type")
    if kind == "failure":
        return FailureItem(**obj), None
    if kind == "explore":
        return ExploreRecord(**obj), None
    if kind == "page":
        item = PageItem(Capture(**obj["capture"], body=body), is_listing=obj["is_listing"],
                        note=obj["note"], links=obj["links"])
        d = obj.get("derived")
        if not d or d.pop("extractor_version") != EXTRACTOR_VERSION:
            return item, None
        derived = Derived(
            d["sha256"], Problem(**d["problem"]) if d["problem"] else None,
            Extraction(**d["extraction"]) if d["extraction"] else None,
            tuple(d["index"]) if d["index"] else None)  # type: ignore[arg-type]
        return item, derived
    return {"type": kind, **obj}


class RedisItemsPipeline:
    """Crawler side: derive each page here (extraction scales with the crawlers, not the writer)
    and hand item and result to the writer through the job's Redis list."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.server = redis.Redis.from_url(s["REDIS_URL"])
        self.key = keys(s["ARCHIVE_REDIS_JOB"])["items"]
        self.max_items = s.getint("ARCHIVE_REDIS_MAX_ITEMS")
        self.workers = worker_count(s.get("ARCHIVE_WORKERS"))
        self.pool: ProcessPoolExecutor | None = None
        from crawler.pipelines import file_limits  # pipelines imports this module's siblings

        self.file_limits = file_limits(s)

    def open_spider(self) -> None:
        self.pool = derive_pool(self.workers)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.request_dropped, signal=signals.request_dropped)
        return pipeline

    def request_dropped(self, request: Request) -> None:
        if (item := redirect_loop(request)) is not None:
            self.server.rpush(self.key, encode_item(item))

    async def process_item(self, item: Any) -> Any:
        # Backpressure: a writer that falls behind slows the crawlers instead of filling Redis.
        while self.server.llen(self.key) >= self.max_items:
            await asyncio.sleep(0.05)
        derived = None
        if isinstance(item, PageItem):
            try:
                derived = await derive_item(self.pool, item, self.file_limits)
            except Exception:  # the writer derives it again and records what goes wrong
                logger.exception("could not derive %s; the writer will", item.capture.url)
        self.server.rpush(self.key, encode_item(item, derived))
        return item


class DistributedCrawl:
    """Crawler side of the protocol: wait for the writer, heartbeat, and close only when the
    whole job is idle (no queued request, no other crawler busy)."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.k = keys(s["ARCHIVE_REDIS_JOB"])
        self.server = redis.Redis.from_url(s["REDIS_URL"])
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._beat: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.ttl = s.getint("ARCHIVE_REDIS_TTL")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("ARCHIVE_REDIS_JOB"):
            raise NotConfigured("not a distributed crawl")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        run = self.server.get(self.k["ready"])
        if run is None:  # run_crawler waits for it; only a writer that just ended gets here
            logger.error("no archive writer for job %s: items will wait in Redis", self.k["ready"])
        self.server.sadd(self.k["crawlers"], self.id)
        self._heartbeat_once()
        self._beat = asyncio.get_running_loop().create_task(self._heartbeat())
        logger.info("distributed crawler %s joined run %s", self.id,
                    run.decode() if run else "?")

    def _heartbeat_once(self) -> None:
        self.server.set(self.k["alive"] + self.id, "1", ex=self.ttl)
        if not self.server.exists(self.k["ready"]) and self._closing is None:
            # The writer refreshes `ready`; gone means it died: stop instead of filling Redis.
            logger.error("the archive writer of job %s is gone; closing this crawler",
                         self.k["ready"])
            self._closing = asyncio.get_running_loop().create_task(
                self.crawler.engine.close_spider_async(reason="writer_gone"))
            return
        engine = self.crawler.engine
        idle = engine is None or engine.spider is None or engine.spider_is_idle()
        if idle:
            self.server.delete(self.k["busy"] + self.id)
        else:
            self.server.set(self.k["busy"] + self.id, "1", ex=self.ttl)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                self._heartbeat_once()
            except redis.RedisError as exc:
                logger.warning("heartbeat failed: %s", exc)

    def spider_idle(self) -> None:
        self.server.delete(self.k["busy"] + self.id)
        queued = self.server.zcard(self.k["requests"])
        others = [k for k in self.server.scan_iter(self.k["busy"] + "*")
                  if not k.decode().endswith(self.id)]
        if queued or others:
            raise DontCloseSpider(f"job not idle: {queued} queued, {len(others)} busy")

    def spider_closed(self, reason: str) -> None:
        if self._beat is not None:
            self._beat.cancel()
        spared = getattr(self.crawler.spider, "not_revalidated", 0)
        record = {"type": "closed", "crawler": self.id, "reason": reason,
                  "not_revalidated": spared}
        self.server.rpush(self.k["items"], json.dumps(record).encode())
        self.server.delete(self.k["busy"] + self.id, self.k["alive"] + self.id)
        logger.info("distributed crawler %s closed (%s)", self.id, reason)


# -- the writer ---------------------------------------------------------------------------------
def publish_validators(archive: Archive, server: redis.Redis, key: str) -> int:
    """Per archived page: ETag / Last-Modified of its last 200, when it was last confirmed, and
    the files it linked (`Archive.linked_files`)."""
    rows = archive.db.execute(
        "SELECT c.canonical_url, "
        "(SELECT headers FROM captures h WHERE h.canonical_url = c.canonical_url "
        " AND h.status = 200 ORDER BY h.id DESC LIMIT 1), MAX(c.fetched_at) "
        "FROM captures c WHERE c.kind = 'page' AND c.status IN (200, 304) "
        "GROUP BY c.canonical_url").fetchall()
    files = archive.linked_files_by_page()
    pipe = server.pipeline(transaction=False)
    for url, headers, confirmed in rows:
        h = {k.lower(): v for k, v in json.loads(headers or "{}").items()}
        data: dict[str, Any] = {k: h[k] for k in ("etag", "last-modified") if h.get(k)}
        if url in files:
            data["files"] = files[url]
        pipe.hset(key, url, json.dumps({**data, "confirmed": confirmed}, ensure_ascii=False))
    pipe.execute()
    return len(rows)


async def run_writer(redis_url: str, job: str, db: str, sources_path: str | None,
                     only: str | None, overrides: dict[str, str], wait_crawlers: float) -> int:
    from crawler.pipelines import writer_config
    from crawler.spiders.reports import ReportsSpider
    from crawler.writer import ArchiveWriter

    settings = project_settings(overrides | {"ARCHIVE_DB": db})
    spider = ReportsSpider(sources=sources_path, only=only)  # loads and validates the registry
    k = keys(job)
    server = redis.Redis.from_url(redis_url)
    ttl = settings.getint("ARCHIVE_REDIS_TTL")
    me = f"{socket.gethostname()}-{os.getpid()}"
    if not server.set(k["writer"], me, nx=True, ex=ttl):
        holder = (server.get(k["writer"]) or b"?").decode()
        raise LockHeld(f"another writer ({holder}) runs job {job!r} on this Redis; if it died, "
                       f"its claim expires within {ttl} s")
    aserver = aioredis.Redis.from_url(redis_url)
    server.delete(*[key for key in k.values() if not key.endswith(":") and key != k["writer"]])
    if settings.getbool("ARCHIVE_REVALIDATE"):
        archive = Archive(db)
        try:
            n = publish_validators(archive, server, k["validators"])
        finally:
            archive.close()
        logger.info("published revalidation data for %d archived pages", n)
    writer = ArchiveWriter(writer_config(settings, "distributed"), spider.sources)
    run_id = writer.open()
    server.set(k["ready"], run_id, ex=ttl)

    async def keep_ready() -> None:  # `ready` and the job claim live as long as the writer does
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await aserver.set(k["ready"], run_id, ex=ttl)
            await aserver.set(k["writer"], me, ex=ttl)

    keeper = asyncio.create_task(keep_ready())
    logger.info("writer ready: run %s, job %s; start crawlers with --redis %s --job %s",
                run_id, job, redis_url, job)
    closed: dict[str, dict[str, Any]] = {}
    tasks: set[asyncio.Task[None]] = set()
    slots = asyncio.Semaphore(settings.getint("CONCURRENT_ITEMS"))
    started = time.monotonic()
    status = "finished"
    origin = {"crawlers": 0, "writer": 0}  # where pages were derived

    async def store(item: PageItem | FailureItem | ExploreRecord,
                    derived: Derived | None) -> None:
        try:
            await writer.submit(item, derived)
        finally:
            slots.release()

    try:
        while True:
            got = await aserver.blpop([k["items"]], timeout=1)
            if got is not None:
                decoded = decode_item(got[1])
                if isinstance(decoded, dict):
                    closed[decoded["crawler"]] = decoded
                    logger.info("crawler %s closed (%s)", decoded["crawler"], decoded["reason"])
                    continue
                if isinstance(decoded[0], PageItem):
                    origin["crawlers" if decoded[1] is not None else "writer"] += 1
                await slots.acquire()
                task = asyncio.create_task(store(*decoded))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                continue
            registered = {m.decode() for m in server.smembers(k["crawlers"])}
            if not registered:
                if time.monotonic() - started > wait_crawlers:
                    status = f"stopped: no crawler joined within {wait_crawlers:.0f} s"
                    break
                continue
            gone = {c for c in registered - set(closed)
                    if not server.exists(k["alive"] + c)}
            for c in gone - set(closed):
                logger.error("crawler %s stopped heart-beating; taken for dead", c)
                closed[c] = {"crawler": c, "reason": "died", "not_revalidated": 0}
            if registered <= set(closed) and not server.llen(k["items"]):
                left = server.zcard(k["requests"])
                if any(c["reason"] == "died" for c in closed.values()) or left:
                    status = (f"stopped: crawler(s) died, {left} queued request(s) left"
                              if left else "finished (a crawler died; its in-flight requests "
                              "are fetched next run)")
                break
        if tasks:
            await asyncio.gather(*tasks)
    finally:
        keeper.cancel()
        logger.info("pages derived by the crawlers: %d, by the writer: %d", origin["crawlers"],
                    origin["writer"])
        spared = sum(int(c.get("not_revalidated") or 0) for c in closed.values())
        exit_status, bad = writer.close(status, spared)
        for key in k.values():
            if not key.endswith(":"):
                server.delete(key)
        await aserver.aclose()
    for name, why in bad.items():
        print(f"unhealthy source {name}: {why}", file=sys.stderr)
    return exit_status


def project_settings(overrides: dict[str, Any]) -> Any:
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    return settings


def run_crawler(redis_url: str, job: str, sources: str | None, only: str | None,
                overrides: dict[str, str], wait_writer: float) -> int:
    from scrapy.crawler import CrawlerProcess

    settings = project_settings({**overrides, **crawler_settings(redis_url, job)})
    ready = keys(job)["ready"]
    server = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + wait_writer
    while not server.exists(ready):
        if time.monotonic() > deadline:
            print(f"error: no archive writer for job {job!r} at {redis_url} after "
                  f"{wait_writer:.0f} s; start `python -m crawler.distributed writer` first",
                  file=sys.stderr)
            return 1
        time.sleep(0.5)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("reports")
    kwargs = {k: v for k, v in (("sources", sources), ("only", only)) if v}
    process.crawl(crawler, **kwargs)
    process.start()
    return 1 if process.bootstrap_failed else 0


def main(argv: list[str] | None = None) -> int:
    from crawler.sources import SourcesError, load_sources

    parser = argparse.ArgumentParser(prog="python -m crawler.distributed",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="role", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--redis", required=True, help="redis://host:port/db (private!)")
    common.add_argument("--job", default="reports", help="name of this crawl in Redis")
    common.add_argument("--sources", help="registry file (default crawler/sources.yaml)")
    common.add_argument("--only", help="comma-separated source names")
    common.add_argument("-s", "--set", action="append", default=[], metavar="SETTING=VALUE")
    w = sub.add_parser("writer", parents=[common], help="the one process that writes the archive")
    w.add_argument("--db", default=os.environ.get("ARCHIVE_DB", "data/archive.db"))
    w.add_argument("--wait-crawlers", type=float, default=600,
                   help="seconds to wait for the first crawler")
    c = sub.add_parser("crawler", parents=[common], help="a crawler process (run one or more)")
    c.add_argument("--wait-writer", type=float, default=300,
                   help="seconds to wait for the writer to be ready")
    args = parser.parse_args(argv)
    overrides = dict(s.split("=", 1) for s in args.set)
    try:
        if args.sources:
            load_sources(args.sources)
        else:
            load_sources()
    except SourcesError as exc:
        print(f"error: bad sources file, nothing crawled:\n{exc}", file=sys.stderr)
        return 2
    if args.role == "crawler":
        return run_crawler(args.redis, args.job, args.sources, args.only, overrides,
                           args.wait_writer)
    logging.basicConfig(level=overrides.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    try:
        with crawl_lock(args.db):
            return asyncio.run(run_writer(args.redis, args.job, args.db, args.sources,
                                          args.only, overrides, args.wait_crawlers))
    except LockHeld as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EX_TEMPFAIL


if __name__ == "__main__":
    sys.exit(main())
