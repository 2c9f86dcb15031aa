"""A fault-injection HTTP server for the crawler tests (127.0.0.1 only).

Every endpoint misbehaves the way some government portal does; tests/test_faults.py states what
the crawler must record for each. `/f/` is a listing column linking to every case; `/w/` is a
site behind a WAF.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.portal import PORTAL_ROOT

REPORT_PAGE = (PORTAL_ROOT / "cqjlp/zwgk_251/zfxxgkml_1/fzzfjsndbg/qzf/202303/"
               "t20230323_11800713.html").read_bytes().decode("utf-8")
TITLE = "重庆市九龙坡区人民政府关于2022年法治政府建设情况的报告"
MIB = 1024 * 1024

# (path, anchor text): the fault listing links to all of these as report candidates.
CASES = [
    "burst503", "retry429", "reset", "truncated", "slow", "huge", "huge-chunked", "gzip-bomb",
    "loop-a", "offhost", "ftp", "soft404", "soft404b", "empty", "waf412", "waf521",
    "waf403-yfh", "waf403-safedog", "utf8-as-gb2312", "gbk-as-utf8", "invalid-bytes",
    "malformed", "deep", "private/draft",
]


def report_html(tag: str) -> str:
    """The real report page, retitled so every case is a distinct report candidate."""
    return REPORT_PAGE.replace(TITLE, f"{TITLE}（{tag}）")


def listing_html(port: int) -> str:
    items = "".join(
        f'<li><a href="/f/{case}">九龙坡区2022年法治政府建设年度报告（案例{i}）</a></li>'
        for i, case in enumerate(CASES, 1))
    return (f"<html><head><meta charset='utf-8'><title>法治政府建设年度报告</title></head><body>"
            f"<ul>{items}</ul><a href='/f/repeat?page=2'>下一页</a></body></html>")


WAF_PAGES = {
    "waf412": (412, "<html><head><script>var x='__jsl_clearance';document.cookie='__jsl_clear"
                    "ance=1';location.href=location.pathname;</script></head><body></body></html>"),
    "waf521": (521, "<html><script>document.cookie='_wzws_cid=abc';"
                    "window.location.reload();</script></html>"),
    "waf403-yfh": (403, "<html><head><title>云防护</title></head><body><h1>您的访问被阻断</h1>"
                        "<p>当前访问疑似黑客攻击，已被网站管理员设置为拦截。云防护</p></body></html>"),
    "waf403-safedog": (403, "<html><head><title>网站防火墙</title></head><body><h2>您的请求带有"
                            "不合法参数，已被网站管理员设置拦截！</h2><p>安全狗 safedog</p></body></html>"),
}


class FaultServer:
    """Serve the fault cases; counts hits per path, with times, for the tests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault server binds to loopback only")
        self.hits: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer._handle(self)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultServer:
        gzip_bomb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, path: str) -> int:
        with self._lock:
            return self._counts.get(path, 0)

    def times(self, path: str) -> list[float]:
        with self._lock:
            return [t for p, t in self.hits if p == path]

    # -- responses ------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + 1
            self.hits.append((path, time.monotonic()))
            n = self._counts[path]
        handler = self._routes().get(path)
        if handler is None:
            return self._send(h, 404, "<html><title>404</title><body>页面不存在</body></html>")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler(h, n)

    def _routes(self) -> dict[str, Callable[[BaseHTTPRequestHandler, int], None]]:
        r: dict[str, Callable[[BaseHTTPRequestHandler, int], None]] = {
            "/robots.txt": lambda h, n: self._send(h, 200, "User-agent: *\nDisallow: /f/private/\n",
                                                   "text/plain"),
            "/f/index.html": lambda h, n: self._send(h, 200, listing_html(self.port)),
            "/f/repeat": lambda h, n: self._send(h, 200, listing_html(self.port)),
            "/f/burst503": lambda h, n: self._send(h, 503, "busy") if n <= 3
            else self._send(h, 200, report_html("burst503")),
            "/f/retry429": lambda h, n: self._send(h, 429, "slow down", headers={"Retry-After": "1"})
            if n == 1 else self._send(h, 200, report_html("retry429")),
            "/f/reset": self._reset,
            "/f/truncated": self._truncated,
            "/f/slow": self._slow,
            "/f/huge": lambda h, n: self._stream(h, 50 * MIB, declared=True),
            "/f/huge-chunked": lambda h, n: self._stream(h, 50 * MIB, declared=False),
            "/f/gzip-bomb": self._gzip_bomb,
            "/f/loop-a": lambda h, n: self._redirect(h, "/f/loop-b"),
            "/f/loop-b": lambda h, n: self._redirect(h, "/f/loop-a"),
            "/f/offhost": lambda h, n: self._redirect(h, f"http://localhost:{self.port}/f/x"),
            "/f/ftp": lambda h, n: self._redirect(h, "ftp://127.0.0.1/f/report.html"),
            "/f/soft404": lambda h, n: self._send(
                h, 200, "<html><head><title>页面不存在</title></head><body><div class='nav'>首页 政务公开"
                        " 互动交流</div><h1>404</h1><p>抱歉，您访问的页面不存在或已被删除。</p>"
                        "<a href='/'>返回首页</a></body></html>"),
            "/f/soft404b": lambda h, n: self._send(
                h, 200, "<html><body><p>您访问的页面不存在！5秒后返回首页</p></body></html>"),
            "/f/empty": lambda h, n: self._send(h, 200, ""),
            "/f/utf8-as-gb2312": lambda h, n: self._send(
                h, 200, report_html("utf8-as-gb2312"), "text/html; charset=gb2312"),
            "/f/gbk-as-utf8": lambda h, n: self._send_bytes(
                h, 200, report_html("gbk-as-utf8").replace("charset=utf-8", "charset=gbk")
                .encode("gbk", "replace"), "text/html; charset=utf-8"),
            "/f/invalid-bytes": lambda h, n: self._send_bytes(
                h, 200, report_html("invalid-bytes").encode("gbk", "replace")
                .replace("。".encode("gbk"), b"\xff\xfe", 5), "text/html; charset=gbk"),
            "/f/malformed": lambda h, n: self._send(
                h, 200, report_html("malformed").replace("</p>", "").replace("</div>", "")
                .replace("<body", "<body><table><tr><td><b><i>", 1)),
            "/f/deep": lambda h, n: self._send(
                h, 200, report_html("deep").replace(
                    "<body", "<body>" + "<div>" * 5000 + "<span", 1)),
            "/f/private/draft": lambda h, n: self._send(h, 200, report_html("private")),
            "/w/index.html": lambda h, n: self._send(h, *WAF_PAGES["waf403-safedog"]),
        }
        for case, (status, body) in WAF_PAGES.items():
            r[f"/f/{case}"] = lambda h, n, s=status, b=body: self._send(h, s, b)
        return r

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: str,
              ctype: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None
              ) -> None:
        FaultServer._send_bytes(h, status, body.encode("utf-8"), ctype, headers)

    @staticmethod
    def _send_bytes(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str,
                    headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    @staticmethod
    def _redirect(h: BaseHTTPRequestHandler, location: str) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    @staticmethod
    def _reset(h: BaseHTTPRequestHandler, n: int) -> None:
        body = report_html("reset").encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[:2000])
        h.wfile.flush()
        # SO_LINGER 0: close with a TCP RST, mid-body.
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
        h.close_connection = True

    @staticmethod
    def _truncated(h: BaseHTTPRequestHandler, n: int) -> None:
        body = report_html("truncated").encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body) + 50_000))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _slow(h: BaseHTTPRequestHandler, n: int) -> None:
        time.sleep(4)  # longer than the tests' DOWNLOAD_TIMEOUT
        FaultServer._send(h, 200, report_html("slow"))

    @staticmethod
    def _stream(h: BaseHTTPRequestHandler, size: int, declared: bool) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        if declared:
            h.send_header("Content-Length", str(size))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        chunk = ("<p>" + "法治政府建设" * 1000 + "</p>").encode()
        sent = 0
        while sent < size:
            h.wfile.write(chunk)
            sent += len(chunk)

    @staticmethod
    def _gzip_bomb(h: BaseHTTPRequestHandler, n: int) -> None:
        FaultServer._send_bytes(h, 200, gzip_bomb(), "text/html; charset=utf-8",
                                {"Content-Encoding": "gzip"})


@functools.cache
def gzip_bomb() -> bytes:
    """~100 KB on the wire, 100 MiB decompressed (built once: compressing takes a while)."""
    return gzip.compress(b"<html><body>" + b" " * (100 * MIB), compresslevel=9)


def write_sources(path: Path, server: FaultServer, dead_port: int) -> None:
    base = server.base_url
    path.write_text(
        "sources:\n"
        f"  - name: faults\n    region: 故障区\n    start_urls: ['{base}/f/index.html']\n"
        f"  - name: waf-site\n    region: 防火墙区\n    start_urls: ['{base}/w/index.html']\n"
        f"  - name: dead-host\n    region: 失联区\n    start_urls: ['http://127.0.0.1:{dead_port}/']\n",
        encoding="utf-8")
