"""The distributed crawl's request queue: one queue per host, leases, a crawl-wide host limit.

Replaces scrapy-redis's single priority queue (its duplicate filter stays). A crawler takes a
request only when it can start it now: `next_request` leases one from a host that has fewer than
CONCURRENT_REQUESTS_PER_DOMAIN leases *across all crawlers* and whose download slot in this
crawler is not waiting out a delay (AutoThrottle's pause, or a request of ours on its way there):
such a lease would hold a crawl-wide slot idle while another crawler could use it. So
- work is shared: a crawler never hoards requests it would only queue in its own downloader, so
  with default settings every crawler takes a fair share of the hosts that are free;
- politeness holds for the whole crawl: no host has more requests in flight, from all crawlers
  together, than the per-host limit (shared through Redis, not split between crawlers);
- nothing dequeued is lost: a lease lives until the engine is done with its request (response
  scraped, items pushed, new links queued), and the holder renews it with its heartbeat; the
  host's slot is freed as soon as the response is in (`slotfree`). A
  crawler that dies stops renewing; its leases expire after ARCHIVE_REDIS_TTL and the next pop
  (by any crawler) puts their requests back in their hosts' queues.

All changes are Lua scripts, atomic in Redis, with Redis's clock (crawlers' clocks may differ).
Keys under `fzzf:<job>:`: `q:<host>` (sorted set: request per priority, FIFO within one),
`hosts` (hosts with queued requests and a free slot, served round-robin), `queued` (count),
`inflight` (hash host → leases), `leases` (hash token → request), `expiry` (token → ms),
`held` (crawler → host slots in use) and `starved` (crawlers that recently found no free host).
Across hosts requests are served round-robin rather than strictly by priority. When hosts are
scarcer than the crawlers' concurrency, a crawler using 2+ more host slots than one that just found
nothing free lets that one take the next free slot (otherwise the crawler that finishes a request
always takes its slot again first).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import socket
import time
import uuid
from typing import Any, Self

import redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request
from scrapy.utils.request import request_from_dict
from scrapy_redis.dupefilter import RFPDupeFilter

from archive.urls import host_of
from crawler.redis_keys import keys, redis_client

logger = logging.getLogger(__name__)
IN_TRANSIT_SECONDS = 2.0  # a leased request not in the downloader by then was dropped on its way

_LIB = """
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- a lease: score, host, crawler, request (the request may hold any byte)
local function parse(v)
  local out, at = {}, 1
  for _ = 1, 3 do
    local i = string.find(v, '\\n', at, true)
    table.insert(out, string.sub(v, at, i - 1))
    at = i + 1
  end
  return out[1], out[2], out[3], string.sub(v, at)
end
local function ready(host, limit)
  local n = tonumber(redis.call('HGET', P .. 'inflight', host) or '0')
  if n < limit and redis.call('ZCARD', P .. 'q:' .. host) > 0 then
    redis.call('ZADD', P .. 'hosts', 'NX', redis.call('INCR', P .. 'seq'), host)
  end
end
-- a host slot given up: by the host's count and by its crawler's (`held`: slots in use)
local function free(host, owner)
  if redis.call('HINCRBY', P .. 'inflight', host, -1) <= 0 then
    redis.call('HDEL', P .. 'inflight', host)
  end
  if redis.call('HINCRBY', P .. 'held', owner, -1) <= 0 then
    redis.call('HDEL', P .. 'held', owner)
  end
end
-- end a lease; requeue = put its request back in its host's queue
local function unlease(tok, limit, requeue)
  redis.call('ZREM', P .. 'expiry', tok)
  local v = redis.call('HGET', P .. 'leases', tok)
  if not v then return 0 end
  redis.call('HDEL', P .. 'leases', tok)
  local score, host, owner, member = parse(v)
  if requeue then
    redis.call('ZADD', P .. 'q:' .. host, score, member)
    redis.call('INCR', P .. 'queued')
  end
  if redis.call('SREM', P .. 'slotfree', tok) == 0 then free(host, owner) end
  ready(host, limit)
  return 1
end
"""

# ARGV: prefix, host, score, data, limit, duplicate filter key, fingerprint ('' = no filter)
# → 1 queued, 0 seen before
PUSH = _LIB + """
local host, limit = ARGV[2], tonumber(ARGV[5])
if ARGV[7] ~= '' and redis.call('SADD', ARGV[6], ARGV[7]) == 0 then return 0 end
local member = string.format('%014d', redis.call('INCR', P .. 'seq')) .. ARGV[4]
redis.call('ZADD', P .. 'q:' .. host, ARGV[3], member)
redis.call('INCR', P .. 'queued')
ready(host, limit)
return 1
"""

# ARGV: prefix, token, limit, ttl_ms, crawler, n, n finished tokens…, hosts to skip…
# → {requests given back from expired leases, request (bytes) or the queued count (integer)}
POP = _LIB + """
local tok, limit, ttl, me = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local ndone = tonumber(ARGV[6])
for i = 7, 6 + ndone do unlease(ARGV[i], limit, false) end  -- this crawler's finished requests
local first_skip = 7 + ndone
local now = now_ms()
local back = 0
local function none()
  return {back, tonumber(redis.call('GET', P .. 'queued') or '0')}
end
for _, old in ipairs(redis.call('ZRANGEBYSCORE', P .. 'expiry', '-inf', now)) do
  back = back + unlease(old, limit, true)
end
-- fair share: while another crawler found no free host (in the last 2 s), a crawler using more
-- host slots than it (by 2 or more) lets it have the next free slot
local mine = tonumber(redis.call('HGET', P .. 'held', me) or '0')
for _, other in ipairs(redis.call('ZRANGEBYSCORE', P .. 'starved', now - 2000, '+inf')) do
  if other ~= me and tonumber(redis.call('HGET', P .. 'held', other) or '0') + 1 < mine then
    return none()
  end
end
-- the first host in round-robin order that this crawler can start now (the hosts after the
-- finished tokens: their download slot here still waits out its delay, or a request for them is
-- on its way there; another crawler may take them meanwhile)
local skip = {}
for i = first_skip, #ARGV do skip[ARGV[i]] = true end
local host = nil
local candidates = redis.call('ZRANGE', P .. 'hosts', 0, #ARGV - first_skip + 1)
for _, h in ipairs(candidates) do
  if not skip[h] then host = h; break end
end
if host == nil then
  if #candidates == 0 and tonumber(redis.call('GET', P .. 'queued') or '0') > 0 then
    redis.call('ZADD', P .. 'starved', now, me)
  else  -- free hosts, but all waiting out a delay here: not starved, let the others take them
    redis.call('ZREM', P .. 'starved', me)
  end
  return none()
end
redis.call('ZREM', P .. 'starved', me)
local q = P .. 'q:' .. host
local top = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
if #top == 0 then
  redis.call('ZREM', P .. 'hosts', host)
  return none()
end
redis.call('ZREM', q, top[1])
redis.call('DECR', P .. 'queued')
local n = redis.call('HINCRBY', P .. 'inflight', host, 1)
if n >= limit or redis.call('ZCARD', q) == 0 then
  redis.call('ZREM', P .. 'hosts', host)
else
  redis.call('ZADD', P .. 'hosts', redis.call('INCR', P .. 'seq'), host)
end
redis.call('HINCRBY', P .. 'held', me, 1)
redis.call('HSET', P .. 'leases', tok, top[2] .. '\\n' .. host .. '\\n' .. me .. '\\n' .. top[1])
redis.call('ZADD', P .. 'expiry', now + ttl, tok)
return {back, string.sub(top[1], 15)}
"""

# ARGV: prefix, limit, requeue (0/1), token… → leases ended
RELEASE = _LIB + """
local limit, requeue, n = tonumber(ARGV[2]), ARGV[3] == '1', 0
for i = 4, #ARGV do n = n + unlease(ARGV[i], limit, requeue) end
return n
"""

# ARGV: prefix, limit, token → 1 if the host slot was freed (the response is in; the lease stays
# until its items are pushed)
FREE = _LIB + """
local tok, limit = ARGV[2], tonumber(ARGV[3])
local v = redis.call('HGET', P .. 'leases', tok)
if not v or redis.call('SADD', P .. 'slotfree', tok) == 0 then return 0 end
local _, host, owner = parse(v)
free(host, owner)
ready(host, limit)
return 1
"""

# ARGV: prefix, ttl_ms, token… → leases still held (a missing one expired and was given back)
RENEW = _LIB + """
local at, n = now_ms() + tonumber(ARGV[2]), 0
for i = 3, #ARGV do n = n + redis.call('ZADD', P .. 'expiry', 'XX', 'CH', at, ARGV[i]) end
return n
"""


def pending(server: redis.Redis, prefix: str) -> tuple[int, int]:
    """(queued requests, leased requests) of a job: the crawl is done when both are 0."""
    queued, leased = server.get(prefix + "queued"), server.hlen(prefix + "leases")
    return int(queued or 0), int(leased)


def queue_keys(server: redis.Redis, prefix: str) -> list[bytes]:
    """Every key of the job's queue (per-host queues included), to clear it."""
    return list(server.scan_iter(prefix + "q:*"))


class HostQueueScheduler:
    """Scrapy scheduler over the job's per-host Redis queues, with leases (module docstring)."""

    def __init__(self, crawler: Crawler, server: redis.Redis, prefix: str,
                 dupefilter: RFPDupeFilter) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.server = server
        self.prefix = prefix
        self.df = dupefilter
        self.limit = s.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.ttl_ms = s.getint("ARCHIVE_REDIS_TTL") * 1000
        self.leased: dict[str, Request] = {}
        self.id = f"{socket.gethostname()}-{os.getpid()}"  # this crawler, for its fair share
        self.redis_down = False
        self.spider: Any = None
        self._push = server.register_script(PUSH)
        self._pop = server.register_script(POP)
        self._release = server.register_script(RELEASE)
        self._renew = server.register_script(RENEW)
        self._free = server.register_script(FREE)
        self.tokens: dict[Request, str] = {}
        # requests leased but not yet in their download slot (the downloader middlewares run
        # first): a second request for the same host would wait there for the slot's delay
        self.in_transit: dict[Request, tuple[str, float]] = {}
        self._wake_at: float | None = None
        self._wake_timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        k = keys(s["ARCHIVE_REDIS_JOB"])
        server = redis_client(s["REDIS_URL"])
        df = RFPDupeFilter(server, k["dupefilter"], debug=s.getbool("DUPEFILTER_DEBUG"))
        scheduler = cls(crawler, server, k["prefix"], df)
        crawler.signals.connect(scheduler.left_downloader,
                                signal=signals.request_left_downloader)
        crawler.signals.connect(scheduler.reached_downloader,
                                signal=signals.request_reached_downloader)
        return scheduler

    # -- Scrapy's scheduler interface -------------------------------------------------------
    def open(self, spider: Any) -> None:
        self.spider = spider

    def close(self, reason: str) -> None:
        """Give back what this crawler still holds (a request it never finished)."""
        self.settle()
        if self.leased:
            try:
                n = self._release(args=[self.prefix, self.limit, 1, *self.leased])
                logger.info("gave back %d unfinished request(s) to the shared queue", n)
            except redis.RedisError as exc:
                logger.error("could not give back %d leased request(s): %s (they return to the "
                             "queue when their lease expires)", len(self.leased), exc)
        self.leased.clear()
        self.tokens.clear()

    def enqueue_request(self, request: Request) -> bool:
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        try:
            data = pickle.dumps(request.to_dict(spider=self.spider), protocol=4)
            # the duplicate filter (scrapy-redis's key and fingerprint) checked in the same call
            if not self._push(args=[self.prefix, host_of(request.url), -request.priority, data,
                                    self.limit, self.df.key, fingerprint]):
                self.df.log(request, self.spider)
                return False
        except redis.RedisError as exc:  # counted: the crawler's `closed` record reports it
            self.crawler.stats.inc_value("distributed/lost_links")
            logger.debug("link lost, Redis unreachable: %s %s", request.url, exc)
            self._down(exc)
            return False
        self.crawler.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        token = uuid.uuid4().hex
        waiting, ready_in = self.waiting_here()
        done = self._finished()  # ended in the same call (one round trip to Redis per request)
        try:
            got = self._pop(args=[self.prefix, token, self.limit, self.ttl_ms, self.id,
                                  len(done), *done, *waiting])
        except redis.RedisError as exc:
            self._down(exc)
            return None
        self._forget(done)
        self.redis_down = False
        if got[0]:
            self.crawler.stats.inc_value("distributed/given_back", int(got[0]))
            logger.warning("gave back %d request(s) whose crawler stopped renewing its lease",
                           got[0])
        if not isinstance(got[1], bytes):
            if got[1] or waiting:  # requests wait for a host slot another crawler holds, or
                self.wake(min(0.1, ready_in))  # for a delay here: ask again soon
            return None
        request = request_from_dict(pickle.loads(got[1]), spider=self.spider)
        self.in_transit[request] = (host_of(request.url), time.monotonic())
        self.leased[token] = request
        self.tokens[request] = token
        self.crawler.stats.inc_value("scheduler/dequeued/redis")
        return request

    def waiting_here(self) -> tuple[list[str], float]:
        """Hosts whose download slot in this crawler cannot start a request now (queued requests,
        or AutoThrottle's / DOWNLOAD_DELAY's pause since its last request), and the seconds until
        the first of them can. A request leased for such a host would hold a crawl-wide host slot
        while it waits here, where another crawler could start it at once."""
        downloader = getattr(self.crawler.engine, "downloader", None)
        slots = getattr(downloader, "slots", None) or {}
        now, waiting, ready_in = time.monotonic(), set(), 1.0
        for key, slot in slots.items():
            pause = slot.delay - (now - slot.lastseen) if slot.delay else 0.0
            if slot.queue or slot.latercall is not None or pause > 0:
                waiting.add(key)
                ready_in = min(ready_in, max(pause, 0.01))
        for request, (host, since) in list(self.in_transit.items()):
            if now - since > IN_TRANSIT_SECONDS:  # dropped on its way (robots.txt, fresh enough…)
                del self.in_transit[request]
            else:
                waiting.add(host)
                ready_in = min(ready_in, 0.05)
        return sorted(waiting), ready_in

    def reached_downloader(self, request: Request) -> None:
        self.in_transit.pop(request, None)

    def has_pending_requests(self) -> bool:
        try:
            return int(self.server.get(self.prefix + "queued") or 0) > 0
        except redis.RedisError:
            return False

    def __len__(self) -> int:
        try:
            return int(self.server.get(self.prefix + "queued") or 0)
        except redis.RedisError:
            return 0

    # -- leases -----------------------------------------------------------------------------
    def _finished(self) -> list[str]:
        """Tokens of leased requests the engine is done with (scraped, items pushed)."""
        if not self.leased:
            return []
        slot = getattr(self.crawler.engine, "_slot", None)  # Scrapy keeps no public list
        inprogress = slot.inprogress if slot is not None else set()
        return [t for t, r in self.leased.items() if r not in inprogress]

    def _forget(self, done: list[str]) -> None:
        for t in done:
            self.tokens.pop(self.leased.pop(t), None)

    def settle(self) -> None:
        """End the leases of requests the engine is done with."""
        if not (done := self._finished()):
            return
        try:
            self._release(args=[self.prefix, self.limit, 0, *done])
        except redis.RedisError as exc:
            self._down(exc)
            return
        self._forget(done)

    def left_downloader(self, request: Request) -> None:
        """The host's slot is free once the response is in (or the download failed); the lease
        itself stays until the engine is done with the request."""
        self.in_transit.pop(request, None)
        if (token := self.tokens.pop(request, None)) is None:
            return
        try:
            self._free(args=[self.prefix, token, self.limit])
        except redis.RedisError as exc:
            self._down(exc)

    def renew(self) -> None:
        """Heartbeat: keep this crawler's leases from expiring (raises RedisError)."""
        self.settle()
        if self.leased:
            held = self._renew(args=[self.prefix, self.ttl_ms, *self.leased])
            if held < len(self.leased):
                logger.warning("%d lease(s) expired before renewal (this crawler stalled for "
                               "more than ARCHIVE_REDIS_TTL); those requests may be fetched twice",
                               len(self.leased) - held)

    def wake(self, delay: float) -> None:
        """Have the engine ask for requests (and whether it is idle) after `delay` s.

        A timer of our own calls `nextcall.schedule()` then: `nextcall.schedule(delay)` would hold
        every earlier call of the engine's back until the delay is over (it runs once), and the
        engine feeds start() requests one per `nextcall`: 0.1 s each.
        """
        if delay <= 0:
            self._wake_now()
            return
        loop = asyncio.get_running_loop()
        at = loop.time() + delay
        if self._wake_at is not None and self._wake_at <= at:
            return  # an earlier wake-up is already set
        if self._wake_timer is not None:
            self._wake_timer.cancel()
        self._wake_at, self._wake_timer = at, loop.call_at(at, self._wake_now)

    def _wake_now(self) -> None:
        self._wake_at = self._wake_timer = None
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def _down(self, exc: Exception) -> None:
        if not self.redis_down:
            logger.warning("Redis unreachable (%s); retrying", exc)
        self.redis_down = True
