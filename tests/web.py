"""The sample web (tests/fixtures/build_web.py) served over real HTTP: one threaded server per site,
each on its own loopback address (127.0.2.x), so hosts differ as on the real web and requests are
counted per host at the servers.
"""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path
from types import TracebackType

from tests.fixtures.build_web import DEAD, SITE_KEYS, Web, build_web, sources_yaml
from tests.portal import SamplePortal

BASE_ADDRESS = "127.0.2.{}"


class SiteServer(SamplePortal):
    """A `SamplePortal` whose root is one site: files at the root are served too, and the
    gkmlpt API answers JSON."""

    def _resolve(self, path: str, query: str) -> Path | None:
        rel = path.lstrip("/")
        if rel == "" or path.endswith("/"):
            rel += "index.html"
        names = ([rel + "@" + query] if query else []) + [rel]
        for name in names:
            file = (self.root / name).resolve()
            if file.is_relative_to(self.root) and file.is_file() and file.name != "routes.json":
                return file
        return None

    def _content_type(self, path: str) -> str:
        if "/gkmlpt/api/" in path:
            return "application/json; charset=utf-8"
        return super()._content_type(path)


def _unused_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class SampleWeb:
    """Build the sample web into `root` and serve it; `hits_by_host()` counts requests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: dict[str, SiteServer] = {}
        self.urls: dict[str, str] = {}
        self.web: Web | None = None

    def start(self) -> SampleWeb:
        for i, key in enumerate(SITE_KEYS, start=1):
            host = BASE_ADDRESS.format(i)
            site_root = self.root / key
            site_root.mkdir(parents=True, exist_ok=True)
            if key in DEAD:  # a listed portal nobody answers for
                self.urls[key] = f"http://{host}:{_unused_port(host)}/"
                continue
            server = SiteServer(root=site_root, host=host).start()
            self.servers[key] = server
            self.urls[key] = server.base_url + "/"
        self.web = build_web(self.root, self.urls)
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> SampleWeb:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def sources_yaml(self) -> str:
        assert self.web is not None
        return sources_yaml(self.web)

    def hits(self, key: str) -> list[tuple[str, str, int]]:
        return self.servers[key].hits if key in self.servers else []

    def hits_by_host(self) -> Counter[str]:
        return Counter({key: len(self.hits(key)) for key in self.servers})

    def reset_hits(self) -> None:
        for server in self.servers.values():
            server.reset_hits()
