"""Shared fixtures: the sample portal on 127.0.0.1 and a helper that runs the real spider."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.portal import PORTAL_ROOT, SamplePortal, render_sources

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class CrawlResult:
    returncode: int
    output: str


# Crawl settings for tests: no start delay, short backoff, every archived page revalidated, and
# the ledger judged on a fixed date (2019–2025 due) so its cells do not move with the calendar.
LEDGER_AS_OF = "2026-12-01"
FAST = ["-s", "AUTOTHROTTLE_START_DELAY=0.05", "-s", "LOGSTATS_INTERVAL=0",
        "-s", "RETRY_BACKOFF_BASE=0.05", "-s", "ARCHIVE_REVALIDATE_DAYS=0",
        "-s", f"ARCHIVE_LEDGER_AS_OF={LEDGER_AS_OF}"]


def datasette_get(db: Path, path: str, **params: str):
    """GET `path` from the published archive `db` (metadata, plugins and templates of the repo),
    in process through Datasette's own client."""
    import asyncio

    import yaml
    from datasette.app import Datasette

    metadata = yaml.safe_load((REPO / "datasette" / "metadata.yml").read_text("utf-8"))

    async def fetch():
        ds = Datasette([str(db)], metadata=metadata,
                       plugins_dir=str(REPO / "datasette" / "plugins"),
                       template_dir=str(REPO / "datasette" / "templates"))
        return await ds.client.get(path, params=params or None)

    return asyncio.run(fetch())


def free_port() -> int:
    """A loopback port nothing listens on (until someone binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_crawl(sources: Path, db: Path, *settings: str, timeout: float = 120,
              only: str | None = None) -> CrawlResult:
    """Run `scrapy crawl reports` exactly as a user would, in a subprocess."""
    cmd = [str(BIN / "scrapy"), "crawl", "reports", "-a", f"sources={sources}",
           "-s", f"ARCHIVE_DB={db}", *FAST]
    if only:
        cmd += ["-a", f"only={only}"]
    for s in settings:
        cmd += ["-s", s]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    return CrawlResult(proc.returncode, proc.stdout + proc.stderr)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamplePortal]:
    """A private copy of the sample portal (tests may edit pages), served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("portal") / "portal"
    shutil.copytree(PORTAL_ROOT, root)
    with SamplePortal(root=root) as server:
        yield server


@pytest.fixture(scope="module")
def sources_file(portal: SamplePortal, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sources") / "sources.yaml"
    path.write_text(render_sources(portal.base_url), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def crawled_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample portal crawled once into `archive.db` (read-only for the tests that use it)."""
    tmp = tmp_path_factory.mktemp("crawled")
    db = tmp / "archive.db"
    with SamplePortal() as server:
        sources = tmp / "sources.yaml"
        sources.write_text(render_sources(server.base_url), encoding="utf-8")
        result = run_crawl(sources, db)
    assert result.returncode == 0, result.output[-2000:]
    return db
