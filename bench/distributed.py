"""`python -m bench.distributed`: two distributed crawlers vs one process on many slow hosts (#20).

Serves `--hosts` report columns of `--pages` reports each on 127.0.3.1…, every answer taking
`--delay` seconds (tests/slowhosts.py), starts a private redis-server on a free port in
9300–9399, then crawls the same registry (a) with one `scrapy crawl reports` process and
(b) with `python -m crawler.distributed` — one writer and `--crawlers` crawlers — each into a fresh
archive, with default settings. Prints wall time (launch to exit) and crawl time (first request
to last answer at the hosts), their ratios, CPU seconds (all processes), the highest number of
simultaneous requests any host saw, and how many requests each crawler made; `--runs` paired
rounds (default 3), the verdict being the median of their wall-time ratios (target ≤ 0.6).
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.slowhosts import SlowHosts

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.6  # #20: two crawlers ≤ 0.6 × the single-process time


def redis_port() -> int:
    for port in range(9300, 9400):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 9300-9399 for redis-server")


def cpu_seconds() -> float:
    """User + system CPU of every finished child process so far (their workers included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reports(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    finally:
        conn.close()


def single(sources: Path, db: Path, log: Path) -> float:
    start = time.monotonic()
    with open(log, "w") as out:
        code = subprocess.call([sys.executable, "-m", "scrapy", "crawl", "reports", "-a",
                                f"sources={sources}", "-s", f"ARCHIVE_DB={db}"], cwd=REPO,
                               stdout=out, stderr=subprocess.STDOUT)
    took = time.monotonic() - start
    if code:
        raise SystemExit(f"single-process crawl failed ({code}); see {log}")
    return took


def distributed(sources: Path, db: Path, logs: Path, url: str, crawlers: int) -> tuple[float,
                                                                                        list[int]]:
    cmd = [sys.executable, "-m", "crawler.distributed"]
    common = ["--redis", url, "--job", "bench", "--sources", str(sources)]
    start = time.monotonic()
    procs = []
    for i in range(crawlers):  # crawlers first: they wait for the writer and start together
        with open(logs / f"crawler{i}.log", "w") as out:
            procs.append(subprocess.Popen([*cmd, "crawler", *common], cwd=REPO, stdout=out,
                                          stderr=subprocess.STDOUT))
    with open(logs / "writer.log", "w") as out:
        writer = subprocess.Popen([*cmd, "writer", *common, "--db", str(db)], cwd=REPO,
                                  stdout=out, stderr=subprocess.STDOUT)
    codes = [p.wait() for p in procs]
    wcode = writer.wait()
    took = time.monotonic() - start
    if wcode or any(codes):
        raise SystemExit(f"distributed crawl failed (writer {wcode}, crawlers {codes}); see {logs}")
    made = []
    for i in range(crawlers):
        m = re.search(r"'downloader/request_count': (\d+)", (logs / f"crawler{i}.log").read_text())
        made.append(int(m.group(1)) if m else 0)
    return took, made


@dataclass(frozen=True, slots=True)
class Round:
    """One paired measurement: the single process, then the distributed set, on the same hosts."""

    one: float
    one_crawl: float
    one_cpu: float
    one_peak: int
    many: float
    many_crawl: float
    many_cpu: float
    many_peak: int
    made: list[int]
    reports: tuple[int, int]

    @property
    def ratio(self) -> float:
        return self.many / self.one


def paired_round(hosts: SlowHosts, work: Path, url: str, crawlers: int, delay: float) -> Round:
    sources = work / "sources.yaml"
    sources.write_text(hosts.sources_yaml(), encoding="utf-8")
    hosts.reset()
    cpu0 = cpu_seconds()
    one = single(sources, work / "single.db", work / "single.log")
    cpu_one = cpu_seconds() - cpu0
    peak_one = max(hosts.peak.values())
    phase_one = hosts.last_hit - hosts.first_hit + delay
    hosts.reset()
    logs = work / "logs"
    logs.mkdir()
    cpu0 = cpu_seconds()
    many, made = distributed(sources, work / "dist.db", logs, url, crawlers)
    cpu_many = cpu_seconds() - cpu0
    peak_many = max(hosts.peak.values())
    phase_many = hosts.last_hit - hosts.first_hit + delay
    return Round(one, phase_one, cpu_one, peak_one, many, phase_many, cpu_many, peak_many, made,
                 (reports(work / "single.db"), reports(work / "dist.db")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__)
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per answer")
    parser.add_argument("--crawlers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3,
                        help="paired rounds (one process, then the distributed set); the verdict "
                             "is the median of their wall-time ratios")
    parser.add_argument("--keep", action="store_true", help="keep the archives and logs")
    args = parser.parse_args(argv)
    server_bin = shutil.which("redis-server")
    if server_bin is None:
        raise SystemExit("redis-server not installed (make system-deps)")
    work = Path(tempfile.mkdtemp(prefix="fzzf-bench-dist-"))
    port = redis_port()
    redis = subprocess.Popen([server_bin, "--bind", "127.0.0.1", "--port", str(port), "--save",
                              "", "--appendonly", "no", "--dir", str(work)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    print(f"{args.hosts} hosts × {args.pages} pages, {args.delay:g} s per answer, default "
          "settings (CONCURRENT_REQUESTS 32, CONCURRENT_REQUESTS_PER_DOMAIN 2), "
          f"{args.runs} paired round(s)")
    print("wall = launch to exit (process start-up included); crawl = first request to last "
          "answer, as the hosts saw it")
    print(f"{'':28}{'wall s':>8}{'ratio':>7}{'crawl s':>9}{'ratio':>7}{'CPU s':>7}"
          f"{'peak/host':>11}  reports  requests per crawler", flush=True)
    rounds: list[Round] = []
    expected = args.hosts * args.pages
    try:
        with SlowHosts(hosts=args.hosts, pages=args.pages, delay=args.delay) as hosts:
            for i in range(args.runs):
                here = work / f"round-{i + 1}"
                here.mkdir()
                r = paired_round(hosts, here, f"redis://127.0.0.1:{port}/0", args.crawlers,
                                 args.delay)
                rounds.append(r)
                print(f"{f'{i + 1} one process':28}{r.one:8.1f}{1:7.2f}{r.one_crawl:9.1f}"
                      f"{1:7.2f}{r.one_cpu:7.1f}{r.one_peak:11d}  {r.reports[0]:7d}")
                print(f"{f'{i + 1} {args.crawlers} crawlers + writer':28}{r.many:8.1f}"
                      f"{r.ratio:7.2f}{r.many_crawl:9.1f}{r.many_crawl / r.one_crawl:7.2f}"
                      f"{r.many_cpu:7.1f}{r.many_peak:11d}  {r.reports[1]:7d}  "
                      f"{' / '.join(map(str, r.made))}", flush=True)
                if r.reports != (expected, expected):
                    print(f"warning: expected {expected} reports each")
    finally:
        redis.terminate()
        redis.wait(10)
    ratio = statistics.median(r.ratio for r in rounds)
    crawl = statistics.median(r.many_crawl / r.one_crawl for r in rounds)
    peak = max(max(r.one_peak, r.many_peak) for r in rounds)
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"median wall ratio {ratio:.2f} (crawl {crawl:.2f}); target ≤ {TARGET} {verdict}; "
          f"highest simultaneous requests any host saw: {peak} (limit 2)")
    if args.keep:
        print(f"archives and logs in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
