"""Optional distributed mode: many crawler processes, one archive writer (docs/distributed.md).

Crawler processes (on one machine or many) share a per-host request queue with leases
(`crawler.hostqueue`) and scrapy-redis's duplicate filter, so every URL is fetched once, every
crawler takes a fair share, and no host sees more requests in flight from the whole crawl than
CONCURRENT_REQUESTS_PER_DOMAIN. They do not touch SQLite: each page is derived in the crawler's
own process pool (the pure `archive.derive`) and pushed with its result to a Redis list; a single
writer process (SQLite keeps one writer) pops them and stores them through the same
`ArchiveWriter` as the single-process crawl. A result made by another extractor version is derived
again by the writer.

    python -m crawler.distributed writer  --redis redis://HOST:6379/0 --sources S --db A.db
    python -m crawler.distributed crawler --redis redis://HOST:6379/0 --sources S  # 1 or more

Protocol (keys under `fzzf:<job>:`): the writer takes the archive lock and the job's `writer`
claim, stores items a dead writer left in Redis, clears the job's other keys, publishes the
registry's digest (`digest`) and the archive's revalidation data (`validators`) and sets `ready`.
Crawlers whose registry digest differs are refused; the others register in `crawlers`, keep
`alive:<id>` and their leases fresh, set `busy:<id>` while working, and stay open while requests
are queued or leased or another crawler is busy. A crawler that closes pushes a `closed` record.
The writer keeps `ready` fresh (a crawler whose writer died closes itself, exit 4) and ends when
every registered crawler has closed (or stopped heart-beating) and the item list is empty. A run
that lost work, Redis or its writer is recorded as such with a non-zero exit status.
Redis must be private: requests are stored pickled.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any, Self

import redis
import redis.asyncio as aioredis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from scrapy.http import Request

from archive.derive import Derived
from archive.extract import EXTRACTOR_VERSION, Extraction
from archive.jobs import record_outcome
from archive.lock import LockHeld, crawl_lock
from archive.problems import Problem
from archive.store import Archive, Capture
from crawler import settings as project_defaults
from crawler.hostqueue import pending, queue_keys
from crawler.items import ExploreRecord, FailureItem, PageItem
from crawler.pipelines import redirect_loop
from crawler.redis_keys import RedisValidators, keys, redis_client  # noqa: F401 (RedisValidators: older home)
from crawler.sources import DEFAULT_SOURCES, Source, load_sources
from crawler.writer import derive_item, derive_pool, worker_count

logger = logging.getLogger(__name__)
EX_TEMPFAIL = 75
EXIT_SOURCES = 2        # bad sources file, or a crawler's registry differs from the writer's
EXIT_INCOMPLETE = 4     # work lost or left: a crawler died with nobody to finish, writer gone
EXIT_REDIS_LOST = 5     # Redis unreachable for longer than ARCHIVE_REDIS_TTL
HEARTBEAT_SECONDS = 2.0  # keep ARCHIVE_REDIS_TTL (settings) well above this
IDLE_CHECK_SECONDS = 0.25  # an idle crawler asks this often whether the whole job is done
SEP = b"\0"             # item = JSON header, NUL, raw body bytes (JSON never contains a raw NUL)
CRAWLER_EXIT = {"finished": 0, "writer_gone": EXIT_INCOMPLETE, "redis_lost": EXIT_REDIS_LOST,
                "no_writer": 1, "sources_refused": EXIT_SOURCES}


def job_keys(server: redis.Redis, job: str) -> list[str | bytes]:
    """Every key of a job but the writer's claim (the queue's per-host keys included)."""
    k = keys(job)
    fixed = [v for name, v in k.items() if not v.endswith(":") and name != "writer"]
    found = [*server.scan_iter(k["alive"] + "*"), *server.scan_iter(k["busy"] + "*")]
    return [*fixed, *found, *queue_keys(server, k["prefix"])]


def selected_sources(path: str | None, only: str | None) -> dict[str, Source]:
    """The sources a `reports` spider with these arguments crawls (its own selection rule)."""
    path_ = Path(path) if path else DEFAULT_SOURCES
    loaded = load_sources(path_)
    wanted = {n.strip() for n in only.split(",")} if only else None
    if wanted and (missing := wanted - {s.name for s in loaded}):
        raise ValueError(f"{path_}: no source named {', '.join(sorted(missing))}")
    return {s.name: s for s in loaded if wanted is None or s.name in wanted}


def sources_digest(sources: Mapping[str, Source]) -> str:
    """One job, one registry: a digest of every field of every selected source."""
    rows = [{**s.as_row(), "hints": s.hints, "notes": s.notes}
            for s in sorted(sources.values(), key=lambda s: s.name)]
    text = json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def crawler_settings(redis_url: str, job: str) -> dict[str, Any]:
    """What turns `reports` into a distributed crawler (applied over crawler.settings)."""
    return {
        "SCHEDULER": "crawler.hostqueue.HostQueueScheduler",
        "REDIS_URL": redis_url,
        "ARCHIVE_REDIS_JOB": job,
        "ARCHIVE_WRITER": False,
        "ITEM_PIPELINES": {"crawler.distributed.RedisItemsPipeline": 300},
        # robots.txt fetched once per host for the whole crawl (crawler.robots)
        "DOWNLOADER_MIDDLEWARES": {
            **project_defaults.DOWNLOADER_MIDDLEWARES,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.robots.SharedRobotsTxtMiddleware": 100},
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
                            "note": item.note, "links": item.links, "truncated": item.truncated}
    if derived is not None:
        d = asdict(derived)
        if d["index"] is not None:  # the pairs travel as UTF-8 bytes (archive.derive); JSON: text
            uni, bi = d["index"]
            d["index"] = [uni, bi.decode() if isinstance(bi, bytes) else bi]
        head["derived"] = {"extractor_version": EXTRACTOR_VERSION, **d}
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
                        note=obj["note"], links=obj["links"],
                        truncated=obj.get("truncated", False))
        d = obj.get("derived")
        if not d or d.pop("extractor_version") != EXTRACTOR_VERSION:
            return item, None
        derived = Derived(
            d["sha256"], Problem(**d["problem"]) if d["problem"] else None,
            Extraction(**d["extraction"]) if d["extraction"] else None,
            (d["index"][0], d["index"][1].encode()) if d["index"] else None)
        return item, derived
    return {"type": kind, **obj}


class RedisItemsPipeline:
    """Crawler side: derive each page here (extraction scales with the crawlers, not the writer)
    and hand item and result to the writer through the job's Redis list."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.server = redis_client(s["REDIS_URL"])
        self.key = keys(s["ARCHIVE_REDIS_JOB"])["items"]
        self.max_items = s.getint("ARCHIVE_REDIS_MAX_ITEMS")
        self.backlog = 0  # items waiting for the writer, as of this crawler's last push
        self.workers = worker_count(s.get("ARCHIVE_WORKERS"))
        self.pool: ProcessPoolExecutor | None = None
        from crawler.pipelines import file_limits  # pipelines imports this module's siblings

        self.file_limits = file_limits(s)

    def open_spider(self) -> None:
        self.pool = derive_pool(self.workers)
        if self.pool is not None:
            # Start the workers before the first page, from a thread: starting them waits for the
            # fork server's imports (~0.3 s), which would hold the event loop (and the crawl) back.
            threading.Thread(target=self._start_workers, args=(self.pool,), daemon=True,
                             name="start-extraction-workers").start()

    def _start_workers(self, pool: ProcessPoolExecutor) -> None:
        try:
            for _ in range(self.workers):
                pool.submit(importlib.import_module, "archive.derive")
        except RuntimeError:  # the crawler closed meanwhile (pool shut down)
            pass

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
            self._push(encode_item(item))

    def _push(self, data: bytes) -> int:
        """Push one encoded item; the list's length after it (0 when Redis is unreachable)."""
        try:
            return int(self.server.rpush(self.key, data))
        except redis.RedisError as exc:  # counted: the crawler's `closed` record reports it
            stats = self.crawler.stats
            stats.inc_value("distributed/lost_items")
            level = logging.ERROR if stats.get_value("distributed/lost_items") == 1 else \
                logging.DEBUG
            logger.log(level, "item lost, Redis unreachable (%s); later ones are counted", exc)
            return 0

    async def process_item(self, item: Any) -> Any:
        # Backpressure: a writer that falls behind slows the crawlers instead of filling Redis
        # (the length the last push returned; asked again only while it is too long).
        try:
            while self.backlog >= self.max_items:
                await asyncio.sleep(0.05)
                self.backlog = int(self.server.llen(self.key))
        except redis.RedisError:
            self.backlog = 0  # _push says so
        derived = None
        if isinstance(item, PageItem):
            try:
                derived = await derive_item(self.pool, item, self.file_limits)
            except Exception:  # the writer derives it again and records what goes wrong
                logger.exception("could not derive %s; the writer will", item.capture.url)
        self.backlog = self._push(encode_item(item, derived))
        return item


class DistributedCrawl:
    """Crawler side of the protocol: heartbeat, close only when the whole job is idle, close
    (one clear line) when the writer is gone or Redis has been unreachable for ARCHIVE_REDIS_TTL."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.k = keys(s["ARCHIVE_REDIS_JOB"])
        self.url = s["REDIS_URL"]
        self.server = redis_client(self.url)
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._beat: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.ttl = s.getint("ARCHIVE_REDIS_TTL")
        self.last_contact = time.monotonic()
        self.redis_down = False
        self.joined = False
        self.job = s["ARCHIVE_REDIS_JOB"]
        self.wait_writer = s.getfloat("ARCHIVE_REDIS_WAIT_WRITER", 300)
        self.digest = s.get("ARCHIVE_REDIS_SOURCES_DIGEST")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("ARCHIVE_REDIS_JOB"):
            raise NotConfigured("not a distributed crawl")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    async def spider_opened(self) -> None:
        """Wait for the writer (Scrapy has started meanwhile; no request is queued before the
        writer has cleared the job), check the registry's digest, then join."""
        deadline = time.monotonic() + self.wait_writer
        while (run := self.server.get(self.k["ready"])) is None:
            if time.monotonic() > deadline:
                print(f"error: no archive writer for job {self.job!r} at {self.url} after "
                      f"{self.wait_writer:.0f} s; start `python -m crawler.distributed writer` "
                      "first", file=sys.stderr)
                raise CloseSpider("no_writer")
            await asyncio.sleep(0.05)
        theirs = (self.server.get(self.k["digest"]) or b"").decode()
        if self.digest is not None and theirs != self.digest:
            print(f"error: refused: this crawler's sources ({self.crawler.spider.sources_path}; "
                  f"{len(self.crawler.spider.sources)} selected; digest {self.digest[:12]}) "
                  f"differ from the writer's for job {self.job!r} (digest {theirs[:12] or 'none'})"
                  "; start the crawler with the writer's --sources file and --only",
                  file=sys.stderr)
            raise CloseSpider("sources_refused")
        self.joined = True
        self.server.sadd(self.k["crawlers"], self.id)
        self._heartbeat_once()
        self._beat = asyncio.get_running_loop().create_task(self._heartbeat())
        logger.info("distributed crawler %s joined run %s", self.id,
                    run.decode() if run else "?")

    def _close(self, reason: str) -> None:
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(
                self.crawler.engine.close_spider_async(reason=reason))

    def _scheduler(self) -> Any:
        slot = getattr(self.crawler.engine, "_slot", None)
        return getattr(slot, "scheduler", None)

    def _heartbeat_once(self) -> None:
        self.server.set(self.k["alive"] + self.id, "1", ex=self.ttl)
        if (scheduler := self._scheduler()) is not None and hasattr(scheduler, "renew"):
            scheduler.renew()
        if not self.server.exists(self.k["ready"]) and self._closing is None:
            # The writer refreshes `ready`; gone means it died: stop instead of filling Redis.
            logger.error("the archive writer of job %s is gone; closing this crawler (exit %d)",
                         self.k["ready"], EXIT_INCOMPLETE)
            self._close("writer_gone")
            return
        engine = self.crawler.engine
        idle = engine is None or engine.spider is None or engine.spider_is_idle()
        if idle:
            self.server.delete(self.k["busy"] + self.id)
            if (scheduler := self._scheduler()) is not None and hasattr(scheduler, "wake"):
                scheduler.wake(0)  # ask again now whether the job is done (Scrapy: every 5 s)
        else:
            self.server.set(self.k["busy"] + self.id, "1", ex=self.ttl)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                self._heartbeat_once()
            except redis.RedisError as exc:
                lost = time.monotonic() - self.last_contact
                if not self.redis_down:
                    logger.warning("Redis unreachable (%s); this crawler closes if it stays so "
                                   "for %d s", exc, self.ttl)
                    self.redis_down = True
                if lost > self.ttl and self._closing is None:
                    logger.error("lost Redis at %s for %.0f s; closing this crawler (exit %d)",
                                 self.url, lost, EXIT_REDIS_LOST)
                    self._close("redis_lost")
            else:
                if self.redis_down:
                    logger.warning("Redis reachable again")
                self.redis_down = False
                self.last_contact = time.monotonic()

    def spider_idle(self) -> None:
        if self._closing is not None:
            return
        try:
            self.server.delete(self.k["busy"] + self.id)
            queued, leased = pending(self.server, self.k["prefix"])
            others = [k for k in self.server.scan_iter(self.k["busy"] + "*")
                      if not k.decode().endswith(self.id)]
        except redis.RedisError as exc:
            raise DontCloseSpider(f"Redis unreachable: {exc}") from None
        if queued or leased or others:
            # Ask again soon (Scrapy would in 5 s, the heartbeat in HEARTBEAT_SECONDS): the job
            # ends when the last crawler's last response is in, and every crawler should see it.
            if (scheduler := self._scheduler()) is not None and hasattr(scheduler, "wake"):
                scheduler.wake(IDLE_CHECK_SECONDS)
            raise DontCloseSpider(f"job not idle: {queued} queued, {leased} leased, "
                                  f"{len(others)} busy")

    def spider_closed(self, reason: str) -> None:
        if self._beat is not None:
            self._beat.cancel()
        if not self.joined:  # refused or no writer: nothing to tell
            return
        stats = self.crawler.stats
        record = {"type": "closed", "crawler": self.id, "reason": reason,
                  "not_revalidated": getattr(self.crawler.spider, "not_revalidated", 0),
                  "given_back": stats.get_value("distributed/given_back", 0),
                  "lost_links": stats.get_value("distributed/lost_links", 0),
                  "lost_items": stats.get_value("distributed/lost_items", 0)}
        try:
            self.server.rpush(self.k["items"], json.dumps(record).encode())
            self.server.delete(self.k["busy"] + self.id, self.k["alive"] + self.id)
        except redis.RedisError as exc:
            logger.error("could not tell the writer this crawler closed: %s", exc)
        logger.info("distributed crawler %s closed (%s)", self.id, reason)


# -- the writer ---------------------------------------------------------------------------------
def publish_validators(archive: Archive, server: redis.Redis, key: str) -> int:
    """Per archived URL: ETag / Last-Modified of its last 200, when it was last confirmed, and
    the files it linked (`archive.revalidation`, as `Archive.validators` and
    `Archive.linked_files` answer a single crawl)."""
    files = archive.linked_files_by_page()
    pipe = server.pipeline(transaction=False)
    n = 0
    for page in archive.all_validators():
        data: dict[str, Any] = dict(page.validators)
        if page.url in files:
            data["files"] = files[page.url]
        pipe.hset(key, page.url, json.dumps({**data, "confirmed": page.confirmed},
                                            ensure_ascii=False))
        n += 1
    pipe.execute()
    return n


async def stop_previous_run(server: redis.Redis, k: dict[str, str], wait: float) -> None:
    """Before touching the job's keys: let crawlers of a run whose writer died finish closing
    (they close once `ready` expires, pushing what they hold), up to `wait` seconds."""
    deadline = time.monotonic() + wait
    said = False
    while (alive := list(server.scan_iter(k["alive"] + "*"))) and time.monotonic() < deadline:
        if not said:
            logger.info("waiting for %d crawler(s) of the previous run to stop", len(alive))
            said = True
        await asyncio.sleep(0.5)


async def store_leftovers(server: redis.Redis, k: dict[str, str], writer: Any) -> int:
    """Items a dead writer left in Redis, stored in this run before anything is discarded."""
    old_run = server.get(k["run"])
    n = 0
    while (data := server.lpop(k["items"])) is not None:
        decoded = decode_item(data)
        if isinstance(decoded, dict):  # a `closed` record of the old run
            continue
        await writer.submit(*decoded)
        n += 1
    if n:
        logger.warning("stored %d item(s) left in Redis by run %s, whose writer died", n,
                       old_run.decode() if old_run else "?")
    return n


def verdict(closed: Mapping[str, Mapping[str, Any]], queued: int,
            leased: int) -> tuple[str, int, str]:
    """(status, exit status, reason) of a run whose crawlers have all closed or died."""
    died = sorted(c for c, rec in closed.items() if rec["reason"] == "died")
    lost = sum(int(rec.get("lost_links") or 0) + int(rec.get("lost_items") or 0)
               for rec in closed.values())
    if queued or leased:
        why = (f"{len(died)} crawler(s) died and no crawler was left to fetch "
               f"{queued + leased} request(s) ({queued} queued, {leased} leased)" if died else
               f"the crawlers closed ({', '.join(sorted({r['reason'] for r in closed.values()}))})"
               f" with {queued + leased} request(s) not fetched")
        return f"stopped: {why}", EXIT_INCOMPLETE, why
    if lost:
        why = f"{lost} link(s) or item(s) lost while Redis was unreachable"
        return f"stopped: {why}", EXIT_INCOMPLETE, why
    return "finished", 0, ""


async def run_writer(redis_url: str, job: str, db: str, sources_path: str | None,
                     only: str | None, overrides: dict[str, str], wait_crawlers: float) -> int:
    from crawler.pipelines import writer_config
    from crawler.writer import ArchiveWriter

    settings = project_settings(overrides | {"ARCHIVE_DB": db})
    sources = selected_sources(sources_path, only)
    k = keys(job)
    server = redis_client(redis_url)
    ttl = settings.getint("ARCHIVE_REDIS_TTL")
    me = f"{socket.gethostname()}-{os.getpid()}"
    if not server.set(k["writer"], me, nx=True, ex=ttl):
        holder = (server.get(k["writer"]) or b"?").decode()
        raise LockHeld(f"another writer ({holder}) runs job {job!r} on this Redis; if it died, "
                       f"its claim expires within {ttl} s")
    aserver = aioredis.Redis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=5)
    await stop_previous_run(server, k, ttl + settings.getfloat("DOWNLOAD_TIMEOUT") + 10)
    writer = ArchiveWriter(writer_config(settings, "distributed"), sources)
    run_id = writer.open()
    status, failure = "stopped: the writer was interrupted", (1, "the writer was interrupted")
    closed: dict[str, dict[str, Any]] = {}
    tasks: set[asyncio.Task[None]] = set()
    origin = {"crawlers": 0, "writer": 0}  # where pages were derived
    keeper: asyncio.Task[None] | None = None

    async def store(item: PageItem | FailureItem | ExploreRecord,
                    derived: Derived | None) -> None:
        try:
            await writer.submit(item, derived)
        finally:
            slots.release()

    async def keep_ready() -> None:  # `ready` and the job claim live as long as the writer does
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await aserver.set(k["ready"], run_id, ex=ttl)
                await aserver.set(k["writer"], me, ex=ttl)
            except redis.RedisError:
                pass  # the main loop notices and decides

    slots = asyncio.Semaphore(settings.getint("CONCURRENT_ITEMS"))
    try:
        recovered = await store_leftovers(server, k, writer)
        if recovered:
            writer.counts["recovered_items"] = recovered
        queued, leased = pending(server, k["prefix"])
        if queued or leased:
            logger.warning("discarded %d queued and %d leased request(s) of the previous run; "
                           "this run crawls from the start", queued, leased)
        server.delete(*job_keys(server, job))
        server.set(k["digest"], sources_digest(sources))
        server.set(k["run"], run_id)
        if settings.getbool("ARCHIVE_REVALIDATE"):
            archive = Archive(db)
            try:
                n = publish_validators(archive, server, k["validators"])
            finally:
                archive.close()
            logger.info("published revalidation data for %d archived pages", n)
        server.set(k["ready"], run_id, ex=ttl)
        keeper = asyncio.create_task(keep_ready())
        logger.info("writer ready: run %s, job %s; start crawlers with --redis %s --job %s "
                    "--sources %s", run_id, job, redis_url, job,
                    sources_path or DEFAULT_SOURCES)
        started = time.monotonic()
        lost_since: float | None = None
        registered: set[str] = set()
        while True:
            try:
                # once a crawler has closed, look for the end of the job more often; once all
                # have, at once
                wait = 1.0 if not closed else 0.05 if registered <= set(closed) else 0.25
                got = await aserver.blpop([k["items"]], timeout=wait)
                if got is None:
                    registered = {m.decode() for m in server.smembers(k["crawlers"])}
                    gone = {c for c in registered - set(closed)
                            if not server.exists(k["alive"] + c)}
                    queued, leased = pending(server, k["prefix"])
                    # A crawler pushes its `closed` record before it drops its `alive` key:
                    # read the list after the keys, or a clean close looks like a death.
                    left = server.llen(k["items"])
            except redis.RedisError as exc:
                now = time.monotonic()
                if lost_since is None:
                    lost_since = now
                    logger.warning("Redis unreachable (%s); the writer stops if it stays so "
                                   "for %d s", exc, ttl)
                if now - lost_since > ttl:
                    why = f"lost Redis at {redis_url} for {now - lost_since:.0f} s ({exc})"
                    status, failure = f"stopped: {why}", (EXIT_REDIS_LOST, why)
                    break
                await asyncio.sleep(1)
                continue
            lost_since = None
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
            if not registered:
                if time.monotonic() - started > wait_crawlers:
                    why = f"no crawler joined within {wait_crawlers:.0f} s"
                    status, failure = f"stopped: {why}", (EXIT_INCOMPLETE, why)
                    break
                continue
            for c in gone if not left else ():
                logger.error("crawler %s stopped heart-beating; taken for dead (its leased "
                             "requests return to the queue for the others)", c)
                closed[c] = {"crawler": c, "reason": "died"}
            if registered <= set(closed) and not left:
                status, code, why = verdict(closed, queued, leased)
                failure = (code, why) if code else None
                break
        if tasks:
            await asyncio.gather(*tasks)
    except redis.RedisError as exc:
        why = f"lost Redis at {redis_url} ({exc})"
        status, failure = f"stopped: {why}", (EXIT_REDIS_LOST, why)
    finally:
        if keeper is not None:
            keeper.cancel()
        logger.info("pages derived by the crawlers: %d, by the writer: %d", origin["crawlers"],
                    origin["writer"])
        spared = sum(int(c.get("not_revalidated") or 0) for c in closed.values())
        died = [c for c, rec in closed.items() if rec["reason"] == "died"]
        if died:
            writer.counts["crawlers_died"] = len(died)
        given_back = sum(int(c.get("given_back") or 0) for c in closed.values())
        if given_back:
            writer.counts["requests_given_back"] = given_back
        exit_status, bad = writer.close(status, spared)
        if failure is not None:
            exit_status = failure[0]
            archive = Archive(db)
            try:
                record_outcome(archive, run_id, status, exit_status, failure[1])
            finally:
                archive.close()
        try:
            if left_items := server.llen(k["items"]):
                logger.error("%d item(s) stay in Redis for the next writer of job %r",
                             left_items, job)
                server.delete(k["ready"], k["writer"])
            else:
                server.delete(*job_keys(server, job), k["writer"])
            await aserver.aclose()
        except redis.RedisError:
            pass
    for name, why in bad.items():
        print(f"unhealthy source {name}: {why}", file=sys.stderr)
    if failure is not None:
        print(f"error: run {run_id} {status} (exit {exit_status})", file=sys.stderr)
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

    # Scrapy starts at once, the writer is awaited in DistributedCrawl.spider_opened: the two
    # start-ups overlap.
    settings = project_settings({
        **overrides, **crawler_settings(redis_url, job),
        "ARCHIVE_REDIS_WAIT_WRITER": wait_writer,
        "ARCHIVE_REDIS_SOURCES_DIGEST": sources_digest(selected_sources(sources, only))})
    redis_client(redis_url).ping()  # unreachable: one line, exit 5 (main)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("reports")
    kwargs = {k: v for k, v in (("sources", sources), ("only", only)) if v}
    process.crawl(crawler, **kwargs)
    process.start()
    if process.bootstrap_failed:
        return 1
    reason = crawler.stats.get_value("finish_reason", "finished") if crawler.stats else "?"
    code = CRAWLER_EXIT.get(reason, 1)
    lost = sum(int(crawler.stats.get_value(f"distributed/{n}", 0)) for n in
               ("lost_links", "lost_items")) if crawler.stats else 0
    if code == 0 and lost:
        code = EXIT_INCOMPLETE
    if code and reason not in ("no_writer", "sources_refused"):  # those said so already
        print(f"error: crawler closed ({reason}; {lost} link(s)/item(s) lost), exit {code}",
              file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    from crawler.sources import SourcesError

    parser = argparse.ArgumentParser(prog="python -m crawler.distributed",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="role", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--redis", required=True, help="redis://host:port/db (private!)")
    common.add_argument("--job", default="reports", help="name of this crawl in Redis")
    common.add_argument("--sources", help="registry file (default crawler/sources.yaml); "
                        "crawlers must use the writer's")
    common.add_argument("--only", help="comma-separated source names (crawlers: the writer's)")
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
        selected_sources(args.sources, args.only)
    except (SourcesError, ValueError) as exc:
        print(f"error: bad sources file, nothing crawled:\n{exc}", file=sys.stderr)
        return EXIT_SOURCES
    try:
        if args.role == "crawler":
            return run_crawler(args.redis, args.job, args.sources, args.only, overrides,
                               args.wait_writer)
        logging.basicConfig(level=overrides.get("LOG_LEVEL", "INFO"),
                            format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
        with crawl_lock(args.db):
            return asyncio.run(run_writer(args.redis, args.job, args.db, args.sources,
                                          args.only, overrides, args.wait_crawlers))
    except LockHeld as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    except redis.RedisError as exc:
        print(f"error: Redis at {args.redis} unreachable: {exc}", file=sys.stderr)
        return EXIT_REDIS_LOST
