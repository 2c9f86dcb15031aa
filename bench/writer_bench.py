"""Writer-side cost of a crawl: CPU seconds the *crawl process* spends per report written.

Synthetic report pages (bench/synth.py) are derived first (not timed), then handed to the crawl's
own `ArchiveWriter` exactly as the item pipeline does (`submit(item, derived)`), and the run is
closed (run record, health, ledger). The crawl process's CPU time (every thread; a child process
is not counted) is measured for two run sizes, and the difference divided by the difference in
reports — the marginal cost of one more report, without the run's fixed costs. Also printed: the
archive's own write time per report (`archive.ingest`, wherever it runs) and that the archive is
complete and searchable when `close()` returns.

    .venv/bin/python -m bench.writer_bench [--small 150] [--large 450]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from archive.derive import Derived, derive
from archive.pages import Capture
from archive.store import Archive
from bench.synth import generate
from crawler.items import PageItem
from crawler.sources import Source
from crawler.writer import ArchiveWriter, WriterConfig


def corpus(root: Path, n: int) -> list[tuple[PageItem, Derived]]:
    portal = generate(root / "portal", n_sources=-(-n // 100), per_source=min(n, 100))
    out = []
    for site in portal.sites:
        for path in site.reports:
            body = (portal.root / path.lstrip("/")).read_bytes()
            url = f"http://{site.host}{path}"
            headers = {"Content-Type": "text/html; charset=utf-8"}
            cap = Capture(url=url, source=site.name, role="detail", status=200,
                          headers=headers, body=body)
            out.append((PageItem(cap, is_listing=False),
                        derive(body, headers, 200, url, False)))
    return out[:n]


async def run(db: Path, pages: list[tuple[PageItem, Derived]],
              process: bool) -> tuple[float, float, float]:
    """(crawl-process CPU s, wall s, child CPU s) for writing `pages` through a whole run."""
    names = sorted({item.capture.source for item, _ in pages})
    sources = {n: Source(name=n, region="城东区", start_urls=(f"http://127.0.0.1/{n}/",))
               for n in names}
    writer = ArchiveWriter(WriterConfig(str(db), workers=0, ledger_as_of="2026-12-01",
                                        writer_process=process), sources)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    writer.open()
    for item, derived in pages:
        await writer.submit(item, derived)
    writer.close()
    return (time.process_time() - cpu0, time.perf_counter() - wall0, writer.writer_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=150)
    parser.add_argument("--large", type=int, default=450)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; medians printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pages = corpus(root, args.large)
        reports = sum(1 for _, d in pages if d.extraction and d.extraction.kind == "report")
        print(f"{len(pages)} pages derived ({reports} reports)")
        for process in (False, True):
            runs = [measure(root, pages, args.small, args.large, process, i)
                    for i in range(args.repeat)]
            crawl, writer = (statistics.median(r[k] for r in runs) for k in (0, 1))
            print(f"== {'writer process' if process else 'writer thread'}: median of "
                  f"{args.repeat}: crawl process {crawl:.2f} ms CPU per report, writer process "
                  f"{writer:.2f} ms CPU per report")


def measure(root: Path, pages: list[tuple[PageItem, Derived]], small: int, large: int,
            process: bool, rep: int) -> tuple[float, float]:
    """(crawl-process, writer-process) marginal CPU ms per report."""
    where = "writer process" if process else "writer thread (in the crawl process)"
    print(f"-- {where}")
    run_sync(root / f"warm{process}{rep}.db", pages[:20], process)  # imports, tables: not timed
    results = {}
    for n in (small, large):
        db = root / f"w{n}{process}{rep}.db"
        cpu, wall, child = run_sync(db, pages[:n], process)
        archive = Archive(db)
        stored = archive.db.execute("SELECT count(*) FROM reports").fetchone()[0]
        hits = archive.db.execute("SELECT count(*) FROM reports_search "
                                  "WHERE reports_search MATCH 'bi:法治'").fetchone()[0]
        archive.close()
        assert stored == n and hits == n, (stored, hits, n)
        results[n] = (cpu, wall, child)
        print(f"{n} reports: crawl-process CPU {cpu:.2f} s, writer-process CPU {child:.2f} s, "
              f"wall {wall:.2f} s; {stored} stored, {hits} found by search")
    (c1, w1, k1), (c2, w2, k2) = results[small], results[large]
    dn = large - small
    print(f"marginal per report: crawl process {1000 * (c2 - c1) / dn:.2f} ms CPU, "
          f"writer process {1000 * (k2 - k1) / dn:.2f} ms CPU, "
          f"wall {1000 * (w2 - w1) / dn:.2f} ms")
    return 1000 * (c2 - c1) / dn, 1000 * (k2 - k1) / dn


def run_sync(db: Path, pages: list[tuple[PageItem, Derived]],
             process: bool) -> tuple[float, float, float]:
    return asyncio.run(run(db, pages, process))


if __name__ == "__main__":
    main()
