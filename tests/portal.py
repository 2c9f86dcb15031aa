"""Sample portal: serves the fixture sites in tests/fixtures/portal/ over real HTTP on loopback.

Files are raw response bytes (the GBK site stays GBK). Besides static files the server does what
the crawler meets on real portals: conditional GET (ETag / Last-Modified → 304), query pagers
(``list.aspx?page=2`` → file ``list.aspx@page=2``), per-prefix header overrides and flaky paths
from ``routes.json``, and the Hanweb jpage data proxy (POST …/module/web/jpage/dataproxy.jsp).

    python -m tests.portal --port 8700 --write-sources /tmp/sources.yaml
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import re
import signal
import socket
import sys
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def ensure_portal(root: Path = FIXTURES / "portal") -> Path:
    """Build the sample portal from the seeds unless it is already built from the same inputs.

    The pages embed the seed reports (third-party text, read from ../shared/seeds), so they are
    generated here rather than committed; a stamp of the inputs' hash avoids rebuilding every run."""
    from tests.fixtures import build_portal

    inputs = [FIXTURES / "build_portal.py", FIXTURES.parent / "filemaker.py",
              *sorted((FIXTURES / "portal_src").glob("*")), *sorted(build_portal.SEEDS.glob("*.txt"))]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)).hexdigest()
    stamp = root.parent / f".{root.name}-built-from"
    if not (stamp.is_file() and stamp.read_text() == digest):
        build_portal.main(root)
        stamp.write_text(digest)
    return root


PORTAL_ROOT = ensure_portal()
EXPECTED = json.loads((PORTAL_ROOT / "expected.json").read_text(encoding="utf-8"))
N_REPORTS = len(EXPECTED["reports"])  # report rows a crawl of the whole sample portal archives
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
HTML_SUFFIXES = {"", ".html", ".htm", ".shtml", ".aspx", ".jsp"}
TYPES = {
    ".xml": "text/xml; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".pdf": "application/pdf",
}
NOT_FOUND = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>404</title></head>'
    "<body><h1>页面不存在</h1></body></html>"
).encode()
RECORD = re.compile(r"<record>.*?</record>", re.S)

Hit = tuple[str, str, int]


def render_sources(base_url: str, root: Path = PORTAL_ROOT) -> str:
    """The crawl registry for a running portal: sources.yaml.tmpl with {base} filled in."""
    text = (root / "sources.yaml.tmpl").read_text(encoding="utf-8")
    return text.replace("{base}", base_url.rstrip("/"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    portal: SamplePortal


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive like a real portal; every response below sets Content-Length.
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "SamplePortal/1.0"
    sys_version = ""

    # -- logging: quiet unless verbose; every status goes into hits

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = int(code) if isinstance(code, int) else 0  # HTTPStatus is an int
        self.server.portal._record(self.command or "-", self.path or "-", status)
        if self.server.portal.verbose:
            super().log_request(code, size)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.portal.verbose:
            super().log_message(format, *args)

    # -- methods

    def do_GET(self) -> None:
        if self.server.portal.delay:
            time.sleep(self.server.portal.delay)
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = unquote(urlsplit(self.path).path)
        if path.endswith(DATAPROXY):
            self._dataproxy(path, body)
        else:
            self._send(405, b"", {"Allow": "GET, HEAD"})

    # -- helpers

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)

    def _not_found(self, head: bool) -> None:
        self._send(404, NOT_FOUND, {"Content-Type": "text/html; charset=utf-8"}, head)

    def _serve(self, head: bool) -> None:
        portal = self.server.portal
        split = urlsplit(self.path)
        path = unquote(split.path)
        if not path.endswith("/") and (portal.root / path.lstrip("/")).is_dir():
            # Like a real portal: a column folder without its slash redirects to the slash.
            return self._send(301, b"", {"Location": path + "/"}, head)
        file = portal._resolve(path, split.query)
        if file is None:
            return self._not_found(head)
        if portal._take_flaky(path):
            body = b"<html><body>503 Service Temporarily Unavailable</body></html>"
            return self._send(503, body, {"Content-Type": "text/html", "Retry-After": "1"}, head)
        data = file.read_bytes()
        mtime = int(file.stat().st_mtime)
        etag = '"' + hashlib.sha1(data).hexdigest() + '"'
        headers = {
            "Content-Type": portal._content_type(path),
            "ETag": etag,
            "Last-Modified": formatdate(mtime, usegmt=True),
        }
        headers.update(portal._overrides(path))
        if self._not_modified(etag, mtime):
            return self._send(304, b"", {"ETag": etag, "Last-Modified": headers["Last-Modified"]})
        self._send(200, data, headers, head)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # takes precedence over If-Modified-Since (RFC 9110 13.2.2)
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or f"W/{etag}" in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return mtime <= int(parsedate_to_datetime(ims).timestamp())
            except (TypeError, ValueError):
                return False
        return False

    def _dataproxy(self, path: str, body: bytes) -> None:
        query = parse_qs(urlsplit(self.path).query)
        form = parse_qs(body.decode("utf-8", "replace"))

        def arg(name: str, default: int) -> int:
            values = query.get(name) or form.get(name)
            try:
                return int(values[0]) if values else default
            except ValueError:
                return default

        column = (form.get("columnid") or query.get("columnid") or [""])[0]
        records = self.server.portal._records(path.removesuffix(DATAPROXY), column)
        perpage = arg("perpage", 15)
        start = max(arg("startrecord", 1), 1)
        end = arg("endrecord", start + perpage - 1)
        chosen = records[start - 1 : end]  # 1-based, inclusive
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><datastore>'
            f"<totalrecord>{len(records)}</totalrecord><recordset>"
            + "".join(chosen)
            + "</recordset></datastore>"
        )
        self._send(200, xml.encode(), {"Content-Type": "text/xml; charset=utf-8"})


class SamplePortal:
    """The fixture sites behind a threaded HTTP server on a loopback address."""

    def __init__(
        self,
        root: Path = PORTAL_ROOT,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        delay: float = 0.0,
    ) -> None:
        if host == "localhost":
            host = "127.0.0.1"
        # The portal is test scaffolding: refuse anything that is not a loopback address.
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"SamplePortal binds to loopback only, not {host!r}")
        self.root = Path(root).resolve()
        self.host = host
        self.verbose = verbose
        self.delay = delay  # seconds before every GET answer: a slow portal, for crash tests
        self._port = port
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._flaky_seen: dict[str, int] = {}
        routes_file = self.root / "routes.json"
        routes = json.loads(routes_file.read_text("utf-8")) if routes_file.exists() else {}
        self._headers: dict[str, dict[str, str]] = routes.get("headers", {})
        self._flaky: dict[str, int] = routes.get("flaky", {})
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> SamplePortal:
        if self._server is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_cls = type("_BoundServer", (_Server,), {"address_family": family})
        server = server_cls((self.host, self._port), _Handler)
        server.portal = self
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, name="sample-portal")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SamplePortal:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- public state

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def reset_hits(self) -> None:
        with self._lock:
            self._hits.clear()

    @property
    def sites(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def sources_yaml(self) -> str:
        return render_sources(self.base_url, self.root)

    # -- used by the handler

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._hits.append((method, path, status))

    def _resolve(self, path: str, query: str) -> Path | None:
        rel = path.lstrip("/")
        if rel == "" or path.endswith("/"):
            rel += "index.html"
        candidates = [rel + "@" + unquote(query)] if query else []
        for name in [*candidates, rel]:
            file = (self.root / name).resolve()
            if not file.is_relative_to(self.root) or not file.is_file():
                continue
            # Only robots.txt and the site folders are public; root-level metadata is not.
            if file.parent != self.root or file.name == "robots.txt":
                return file
        return None

    def _take_flaky(self, path: str) -> bool:
        limit = self._flaky.get(path, 0)
        with self._lock:
            seen = self._flaky_seen.get(path, 0)
            if seen >= limit:
                return False
            self._flaky_seen[path] = seen + 1
            return True

    def _content_type(self, path: str) -> str:
        name = path.rsplit("/", 1)[-1]
        if name == "robots.txt":
            return "text/plain; charset=utf-8"
        suffix = Path(name).suffix.lower() if name else ""
        if suffix in HTML_SUFFIXES:
            return "text/html; charset=utf-8"
        return TYPES.get(suffix, "application/octet-stream")

    def _overrides(self, path: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for prefix in sorted(self._headers, key=len):  # longer prefixes win
            if path.startswith(prefix):
                merged.update(self._headers[prefix])
        return merged

    def _records(self, site_path: str, column: str) -> list[str]:
        if not column.isdigit():
            return []
        file = self.root / site_path.lstrip("/") / "module/web/jpage" / f"records-{column}.xml"
        if not file.resolve().is_relative_to(self.root) or not file.is_file():
            return []
        return RECORD.findall(file.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.portal", description=__doc__)
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--root", type=Path, default=PORTAL_ROOT)
    parser.add_argument("--write-sources", type=Path, metavar="PATH")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    try:
        portal = SamplePortal(args.root, args.host, args.port, args.verbose).start()
    except (ValueError, OSError) as exc:
        print(f"sample portal: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if args.write_sources:
            args.write_sources.write_text(portal.sources_yaml(), encoding="utf-8")
        print(f"sample portal on {portal.base_url}/ ({len(portal.sites)} sites)", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
