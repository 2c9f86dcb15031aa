"""Many slow hosts: report columns on loopback addresses 127.0.3.N, every answer delayed, each host
counting the requests it has in flight at once (issue #20: the crawl's politeness as a whole).

Each host serves `/col/index.html` (a listing of `pages` report links) and `/art/K.html`; robots.txt
is a 404. Used by tests/test_distributed.py and `python -m bench.distributed`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

REGIONS = ("城东", "河西", "青山", "临江", "南湖", "北川", "西岭", "东港", "长宁", "平安")
PARAGRAPH = ("{y}年，{r}区坚持以习近平法治思想为指导，全面推进依法行政，健全重大行政决策程序，"
             "严格规范公正文明执法，行政复议案件{k}件，行政机关负责人出庭应诉率达到100%。")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hosts: SlowHosts
    index: int


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        hosts, i = self.server.hosts, self.server.index
        if self.path == "/robots.txt":
            self._send(404, b"not found")
            return
        hosts._enter(i)
        try:
            time.sleep(hosts.delay)
            body = hosts.page(i, self.path)
            self._send(200 if body else 404, body or b"not found")
        finally:
            hosts._leave(i)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SlowHosts:
    """`hosts` report columns of `pages` reports each, one per address 127.0.3.(first+i)."""

    def __init__(self, hosts: int = 4, pages: int = 10, delay: float = 0.5, first: int = 1):
        if not 1 <= first <= first + hosts - 1 <= 40:
            raise ValueError("addresses 127.0.3.1–127.0.3.40 only")
        self.n, self.pages, self.delay, self.first = hosts, pages, delay, first
        self.servers: list[_Server] = []
        self._lock = threading.Lock()
        self.now: Counter[int] = Counter()
        self.peak: Counter[int] = Counter()   # most requests one host had in flight at once
        self.hits: Counter[int] = Counter()
        self.first_hit = self.last_hit = 0.0  # monotonic times of the first and last request

    def reset(self) -> None:
        with self._lock:
            self.peak.clear()
            self.hits.clear()
            self.first_hit = self.last_hit = 0.0

    def __enter__(self) -> Self:
        for i in range(self.n):
            server = _Server((f"127.0.3.{self.first + i}", 0), _Handler)
            server.hosts, server.index = self, i
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def _enter(self, i: int) -> None:
        with self._lock:
            self.now[i] += 1
            self.hits[i] += 1
            self.last_hit = time.monotonic()
            self.first_hit = self.first_hit or self.last_hit
            self.peak[i] = max(self.peak[i], self.now[i])

    def _leave(self, i: int) -> None:
        with self._lock:
            self.now[i] -= 1

    def base(self, i: int) -> str:
        host, port = self.servers[i].server_address[:2]
        return f"http://{host}:{port}"

    def title(self, i: int, k: int) -> str:
        return f"{REGIONS[i % len(REGIONS)]}{i}区{2019 + k % 6}年法治政府建设年度报告（{k}）"

    def page(self, i: int, path: str) -> bytes | None:
        if path == "/col/index.html":
            items = "".join(f'<li><a href="/art/{k}.html" title="{self.title(i, k)}">'
                            f"{self.title(i, k)}</a></li>" for k in range(self.pages))
            return (f"<html><head><title>法治政府建设年度报告</title></head><body>"
                    f"<ul>{items}</ul></body></html>").encode()
        if path.startswith("/art/") and path.endswith(".html"):
            k = int(path[5:-5])
            if not 0 <= k < self.pages:
                return None
            text = "".join(f"<p>{PARAGRAPH.format(y=2019 + k % 6, r=REGIONS[i % 10], k=k + j)}"
                           "</p>" for j in range(6))
            return (f"<html><head><title>{self.title(i, k)}</title></head><body>"
                    f"<h1>{self.title(i, k)}</h1>{text}</body></html>").encode()
        return None

    def sources_yaml(self) -> str:
        lines = ["sources:"]
        for i in range(self.n):
            lines += [f"  - name: slow-{i}", f"    region: {REGIONS[i % 10]}{i}区",
                      "    level: county", "    cms: plain", "    start_urls:",
                      f"      - {self.base(i)}/col/index.html"]
        return "\n".join(lines) + "\n"

    @property
    def total_pages(self) -> int:
        return self.n * (self.pages + 1)
