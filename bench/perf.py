"""`python -m bench.perf`: crawl and archive performance on a synthetic portal served by nginx.

On the same URLs, in one go: (1) a bare Scrapy crawl that fetches and drops the pages (the
ceiling) and (3) the project's full crawl into a fresh archive, paired, `--runs` times (3) on the
portal's own pages (31–79 KiB) and as many on the same portal with 33 KiB pages: the verdict is the
median of the paired ratios; then (2) plain `trafilatura.extract` over the saved report files in
one process, (4) the same crawl again with nothing changed, (5) `python -m archive reextract`
single-process vs workers, (6) Datasette search latency on an archive grown to ≥ 10,000 reports,
(7) report-file extraction pages/s per format (bench.files_bench). Each step is a child process,
so its peak RSS and CPU time are its own. A timed crawl ends when the crawl process ends, with the
archive searchable and its ledger, parts and figures current (checked after each crawl).
`--rss-check` instead runs the full crawl at N×M and N×10M pages (default 20×100, 20×1000) and
compares peak RSS.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import files_bench, nginx, perf_report, search_bench, synth
from bench.procs import REPO, Run, run, tool

STATS_EXT = '{"bench.stats_ext.StatsToFile": 0}'
RSS_CHECK_FACTOR = 10  # --rss-check: the full crawl at M and 10×M pages per source


def _rate(pages: int, seconds: float) -> float:
    return pages / seconds if seconds > 0 else 0.0


def _stats(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _step(r: Run, pages: int, **extra: Any) -> dict[str, Any]:
    return {"seconds": round(r.seconds, 2), "pages": pages,
            "pages_per_s": round(_rate(pages, r.seconds), 1),
            "cpu_seconds": round(r.cpu_s, 2),
            "cpu_ms_per_page": round(1000 * r.cpu_s / pages, 2) if pages else 0.0,
            "main_cpu_ms_per_page": round(1000 * r.cpu_main_s / pages, 2) if pages else 0.0,
            "peak_rss_mb": round(r.peak_tree_mb, 1), "largest_process_mb": round(r.peak_rss_mb, 1),
            "returncode": r.returncode, **extra}


def _check(r: Run, what: str) -> None:
    if r.returncode != 0:
        print(f"warning: {what} exited with {r.returncode}; last stderr:\n{r.stderr[-1500:]}",
              file=sys.stderr)


def bare_crawl(sources: Path, work: Path, logs: Path, pages: int,
               name: str = "bare") -> dict[str, Any]:
    stats = work / f"{name}-stats.json"
    # Run outside the project directory, so scrapy.cfg (the project's pipeline) is not loaded.
    r = run([tool("scrapy"), "runspider", str(REPO / "bench" / "bare_spider.py"),
             "-a", f"sources={sources}", "-s", "LOG_LEVEL=WARNING", "-s", f"EXTENSIONS={STATS_EXT}",
             "-s", f"BENCH_STATS_FILE={stats}"], cwd=work, log_dir=logs, name=name)
    _check(r, "bare crawl")
    s = _stats(stats)
    return _step(r, pages, bytes=s.get("downloader/response_bytes", 0),
                 responses=s.get("response_received_count", 0))


CRAWL_SETTINGS: list[str] = []  # extra `-s KEY=VALUE` for the project crawls (--set)


def project_crawl(sources: Path, db: Path, logs: Path, pages: int, name: str) -> dict[str, Any]:
    stats = logs / f"{name}-stats.json"
    extra = [a for kv in CRAWL_SETTINGS for a in ("-s", kv)]
    r = run([tool("scrapy"), "crawl", "reports", "-a", f"sources={sources}", *extra,
             "-s", f"ARCHIVE_DB={db}", "-s", "AUTOTHROTTLE_ENABLED=False",
             "-s", "ROBOTSTXT_OBEY=False", "-s", "LOG_LEVEL=WARNING",
             "-s", f"EXTENSIONS={STATS_EXT}", "-s", f"BENCH_STATS_FILE={stats}"],
            log_dir=logs, name=name)
    _check(r, f"project crawl ({name})")
    s = _stats(stats)
    return _step(r, pages, bytes=s.get("downloader/response_bytes", 0),
                 responses=s.get("response_received_count", 0),
                 status_304=s.get("downloader/response_status_count/304", 0))


def archive_current(db: Path, reports: int) -> list[str]:
    """What the timed crawl left undone: every report searchable, with its parts and figures
    analysed, and the ledger refreshed by this run. An empty list when nothing is."""
    conn = sqlite3.connect(db)
    try:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        stored = one("SELECT COUNT(*) FROM reports")
        found = one("SELECT COUNT(*) FROM reports_search WHERE reports_search MATCH "
                    "'uni : \"zzallrows\"'")
        analysed = one("SELECT COUNT(*) FROM report_parts WHERE error IS NULL")
        ledger = one("SELECT COUNT(*) FROM ledger WHERE url IS NOT NULL")
    except sqlite3.Error as exc:
        return [f"archive not readable: {exc}"]
    finally:
        conn.close()
    missing = []
    if stored != reports:
        missing.append(f"{stored}/{reports} reports archived")
    if found != stored:
        missing.append(f"{found}/{stored} reports searchable")
    if analysed != stored:
        missing.append(f"{analysed}/{stored} reports with parts and figures")
    if not ledger:
        missing.append("no report in the ledger")
    return missing


def paired_runs(portal: synth.Portal, work: Path, logs: Path, runs: int, label: str,
                port: int | None = None) -> dict[str, Any]:
    """`runs` × (bare fetch, then the full crawl into a fresh archive) on one portal; the ratio
    of each pair, and the pair with the median ratio. Keeps the last run's archive (its URLs
    name the port: a re-crawl of it must be served on the same one)."""
    pages = portal.n_reports + portal.n_listings
    out: list[dict[str, Any]] = []
    with nginx.serve(portal, work, port) as port:
        sources = work / "sources.yaml"
        synth.write_sources(portal, port, sources)
        print(f"portal {label}: {portal.n_reports} reports + {portal.n_listings} listing pages "
              f"on {len(portal.sites)} hosts, port {port}; work dir {work}", file=sys.stderr)
        for i in range(runs):
            print(f"… {label} run {i + 1}/{runs}: bare, crawl", file=sys.stderr)
            bare = bare_crawl(sources, work, logs, pages, f"bare-{label}-{i}")
            if bare["responses"] < pages:
                raise SystemExit(f"the bare crawl got {bare['responses']} of {pages} pages: "
                                 f"is the portal served? see {work / 'nginx-error.log'}")
            db = work / f"crawl-{i}" / "archive.db"
            db.parent.mkdir()
            crawl = project_crawl(sources, db, logs, pages, f"crawl-{label}-{i}")
            crawl["not_current"] = archive_current(db, portal.n_reports)
            ratio = crawl["pages_per_s"] / bare["pages_per_s"] if bare["pages_per_s"] else 0.0
            out.append({"bare": bare, "crawl": crawl, "ratio": round(ratio, 3), "db": str(db)})
            if i + 1 < runs:
                shutil.rmtree(db.parent, ignore_errors=True)  # ~300 MB each; the last one stays
    median = sorted(out, key=lambda r: r["ratio"])[len(out) // 2]
    return {"label": label, "pages": pages, "runs": out, "median_ratio": median["ratio"],
            "median": median, "db": out[-1]["db"], "port": port}


def trafilatura_loop(portal: synth.Portal, work: Path, logs: Path) -> dict[str, Any]:
    listing = work / "report-files.txt"
    listing.write_text("\n".join(map(str, portal.report_files())) + "\n", encoding="utf-8")
    r = run([tool("python"), "-m", "bench.traf_loop", str(listing)], log_dir=logs,
            name="trafilatura")
    _check(r, "trafilatura loop")
    out = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
    seconds = float(out.get("seconds", r.seconds))
    step = _step(r, portal.n_reports, extracted=out.get("extracted", 0))
    step.update(seconds=round(seconds, 2), pages_per_s=round(_rate(portal.n_reports, seconds), 1))
    return step


def reextract(db: Path, logs: Path, workers: int | None) -> dict[str, Any]:
    cmd = [tool("python"), "-m", "archive", "reextract", "--db", str(db), "--quiet"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    r = run(cmd, log_dir=logs, name=f"reextract-{'default' if workers is None else workers}")
    _check(r, "reextract")
    m = re.search(r"^reextract: (.*)$", r.stdout, re.MULTILINE)
    counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))} if m else {}
    return _step(r, sum(counts.values()), counts=counts)


def archive_size(db: Path) -> dict[str, Any]:
    """File size after a WAL checkpoint, and the largest tables/indexes (when dbstat exists)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        reports = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        try:
            rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name "
                                "ORDER BY 2 DESC LIMIT 6").fetchall()
        except sqlite3.OperationalError:
            rows = []
    finally:
        conn.close()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return {"bytes": size, "reports": reports,
            "bytes_per_report": round(size / reports) if reports else None,
            "largest": {name: int(n) for name, n in rows}}


def analysis_cost(db: Path) -> dict[str, Any]:
    """Parts and figures (#18): `archive.analysis.analyse` timed on every archived report text
    (in this process; the crawl ran it in its derive workers), and what it stored."""
    from archive.analysis import analyse

    conn = sqlite3.connect(db)
    try:
        texts = [r[0] for r in conn.execute("SELECT text FROM reports")]
        facts = conn.execute("SELECT COUNT(*) FROM report_facts").fetchone()[0]
        sections = conn.execute("SELECT COUNT(*) FROM report_sections").fetchone()[0]
    finally:
        conn.close()
    times = []
    for text in texts:
        t0 = time.perf_counter()
        analyse(text)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    n = len(times)
    return {"reports": n, "mean_ms": round(sum(times) / n, 2) if n else 0.0,
            "p95_ms": round(times[int(0.95 * (n - 1))], 2) if n else 0.0,
            "mean_chars": round(sum(map(len, texts)) / n) if n else 0,
            "facts": facts, "sections": sections}


def search_step(crawled: Path, work: Path, logs: Path, n_reports: int,
                requests: int) -> dict[str, Any]:
    big = work / "search" / "archive.db"   # the name gives Datasette's /archive/ path
    big.parent.mkdir(parents=True, exist_ok=True)
    r = run([tool("python"), "-m", "bench.search_bench", "build", str(crawled), str(big),
             str(n_reports)], log_dir=logs, name="search-build")
    _check(r, "search archive build")
    built = json.loads(r.stdout.strip().splitlines()[-1])["reports"] if r.returncode == 0 else 0
    kinds = search_bench.latency(big, REPO, tool("datasette"), nginx.free_port(), requests,
                                 logs / "datasette.log") if built else {}
    return {"reports": built, "build_seconds": round(r.seconds, 1),
            "build_peak_rss_mb": round(r.peak_tree_mb, 1),
            "archive_bytes": sum(p.stat().st_size for p in big.parent.glob("archive.db*")),
            "returncode": r.returncode,
            "kinds": {k: {"p50_ms": round(v.p50_ms, 1), "p95_ms": round(v.p95_ms, 1),
                          "requests": v.requests, "mean_hits": round(v.mean_hits, 1)}
                      for k, v in kinds.items()}}


def default_run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    logs = work / "logs"
    logs.mkdir()
    t0 = time.perf_counter()
    portal = synth.generate(work / "portal", args.sources, args.pages_per_source)
    res: dict[str, Any] = {"portal": perf_report.portal_info(portal, time.perf_counter() - t0)}
    pages = portal.n_reports + portal.n_listings
    ratio = paired_runs(portal, work / "own", logs, args.runs, "own", nginx.free_port())
    res["ratio_runs"] = [ratio]
    res["bare"], res["crawl"] = ratio["median"]["bare"], ratio["median"]["crawl"]
    db = Path(ratio["db"])
    res["archive"] = archive_size(db)
    res["analysis"] = analysis_cost(db)
    if "33kib" not in args.skip:
        portal33 = synth.generate(work / "portal33", args.sources, args.pages_per_source,
                                  page_kib=33)
        res["portal33"] = perf_report.portal_info(portal33, 0.0)
        small = paired_runs(portal33, work / "p33", logs, args.runs, "33kib")
        shutil.rmtree(Path(small["db"]).parent, ignore_errors=True)
        shutil.rmtree(work / "portal33", ignore_errors=True)
        res["ratio_runs"].append(small)
    with nginx.serve(portal, work, ratio["port"]) as port:  # the archive's URLs name the port
        sources = work / "sources.yaml"
        synth.write_sources(portal, port, sources)
        steps = (("trafilatura", lambda: trafilatura_loop(portal, work, logs)),
                 ("recrawl", lambda: project_crawl(sources, db, logs, pages, "recrawl")))
        for name, step in steps:
            if name in args.skip:
                continue
            print(f"… {name}", file=sys.stderr)
            res[name] = step()
    for name, workers in (("reextract_single", 0), ("reextract_workers", None)):
        if "reextract" in args.skip:
            break
        print(f"… {name}", file=sys.stderr)
        res[name] = reextract(db, logs, workers)
    if "search" not in args.skip:
        print("… search", file=sys.stderr)
        res["search"] = search_step(db, work, logs, args.search_reports, args.search_requests)
    if "files" not in args.skip:
        print("… files", file=sys.stderr)
        res["files"] = files_bench.run()
    return res


def rss_check(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    res: dict[str, Any] = {"rss_check": []}
    for per_source in (args.pages_per_source, args.pages_per_source * RSS_CHECK_FACTOR):
        sub = work / f"p{per_source}"
        (sub / "logs").mkdir(parents=True)
        portal = synth.generate(sub / "portal", args.sources, per_source)
        pages = portal.n_reports + portal.n_listings
        with nginx.serve(portal, sub) as port:
            sources = sub / "sources.yaml"
            synth.write_sources(portal, port, sources)
            print(f"… crawl {args.sources}×{per_source} ({pages} pages)", file=sys.stderr)
            step = project_crawl(sources, sub / "archive.db", sub / "logs", pages, "crawl")
        step.update(sources=args.sources, per_source=per_source, reports=portal.n_reports,
                    archive=archive_size(sub / "archive.db"))
        res["rss_check"].append(step)
        if not args.keep:
            shutil.rmtree(sub, ignore_errors=True)
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--pages-per-source", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3,
                        help="paired bare/full crawls per page size (the ratio is their median)")
    parser.add_argument("--search-reports", type=int, default=10_000)
    parser.add_argument("--search-requests", type=int, default=60, help="per term kind")
    parser.add_argument("--rss-check", action="store_true",
                        help="only the full crawl, at M and 10×M pages per source "
                             "(20×100 and 20×1000 by default): peak RSS of each")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="extra Scrapy setting for the project crawls (repeatable)")
    parser.add_argument("--skip", type=lambda s: set(s.split(",")), default=set(),
                        help="steps to leave out: 33kib,trafilatura,recrawl,reextract,search,"
                             "files (for experiments)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    CRAWL_SETTINGS.extend(args.set)
    # SIGTERM unwinds like Ctrl-C, so nginx and Datasette are stopped and the work dir removed.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    work = Path(tempfile.mkdtemp(prefix="fzzf-perf-"))
    work.chmod(0o755)  # nginx's worker process may run as another user (www-data)
    start = time.perf_counter()
    try:
        res = rss_check(args, work) if args.rss_check else default_run(args, work)
        res["total_seconds"] = round(time.perf_counter() - start, 1)
        if args.skip and not args.rss_check:  # an experiment: the steps that ran, no verdict
            perf_report.ratio_table(res)
            for name in ("recrawl",):
                if name in res:
                    r = res[name]
                    print(f"{name:8s} {r['pages']:6d} pages {r['seconds']:7.1f} s "
                          f"{r['pages_per_s']:7.1f} pages/s  RSS {r['peak_rss_mb']:.0f} MB")
            for name in ("reextract_single", "reextract_workers"):
                if name in res:
                    r = res[name]
                    print(f"{name:17s} {r['pages']:6d} pages {r['seconds']:7.1f} s "
                          f"{r['pages_per_s']:7.1f} pages/s")
            if {"reextract_single", "reextract_workers"} <= res.keys():
                one, pool = res["reextract_single"], res["reextract_workers"]
                print(f"reextract speedup (workers) {one['seconds'] / pool['seconds']:.2f}×")
            if "files" in res:
                files_bench.report(res["files"])
            failures = []
        else:
            failures = perf_report.print_report(res)
            if "files" in res:
                files_bench.report(res["files"])
        if args.json:
            args.json.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    finally:
        if args.keep:
            print(f"work dir kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if (args.strict and failures) else 0


if __name__ == "__main__":
    sys.exit(main())
