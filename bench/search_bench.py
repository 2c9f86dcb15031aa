"""Search latency at scale: grow the crawled reports into a ≥ N-report archive, time Datasette.

The big archive is written through the project's own API (`Archive.save_report`, which also
updates the Chinese search index), with every copy at a new URL and a distinct closing sentence,
so no two texts are equal. `python -m bench.search_bench build SRC DST N` runs the build alone
(bench.perf runs it as a child to read its peak RSS).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from archive.extract import Extraction
from archive.store import Archive

TERMS = ("复议", "普法", "调解", "诉讼", "执法", "公开", "备案", "听证", "仲裁", "信访")
PHRASES = ("行政机关负责人出庭应诉率", "规范性文件备案审查", "重大行政决策", "行政执法三项制度",
           "习近平法治思想", "法治政府建设", "行政复议案件", "综合行政执法")
_FIELDS = ("title", "report_year", "published", "written", "publisher", "index_no", "doc_no",
           "site_id_code", "icp", "adcode", "quality", "quality_reason", "text")
BATCH = 500


def _extraction(row: dict[str, object], text: str) -> Extraction:
    ex = Extraction("report", "report title", **{k: row[k] for k in _FIELDS if k != "text"})
    ex.year_inferred = bool(row.get("year_inferred"))
    ex.quality = str(row.get("quality") or "ok")
    ex.provenance = json.loads(str(row.get("provenance") or "{}"))
    ex.text = text
    ex.content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ex


def build(src: Path, dst: Path, n_reports: int, seed: int = 7) -> int:
    """Write ≥ n_reports reports into a fresh archive at dst; returns the count."""
    rng = random.Random(seed)
    source = Archive(src)
    cols = ", ".join(("url", "source", "region", "first_seen", "capture_id", "year_inferred",
                      "provenance", *_FIELDS))
    cur = source.db.execute(f"SELECT {cols} FROM reports ORDER BY url")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    source.close()
    if not rows:
        raise SystemExit(f"{src}: no reports to copy")
    out = Archive(dst)
    try:
        for start in range(0, n_reports, BATCH):
            with out.db.atomic():
                for i in range(start, min(n_reports, start + BATCH)):
                    row = rows[i % len(rows)]
                    copy = i // len(rows)
                    url, text = str(row["url"]), str(row["text"])
                    if copy:
                        stem, dot, ext = url.rpartition(".")
                        url = f"{stem}_c{copy}.{ext}" if dot else f"{url}_c{copy}"
                        text += (f"\n本报告副本{copy}号，编号{rng.randint(100000, 999999)}，"
                                 f"经第{i}次核对。")
                    out.save_report(url, str(row["source"]), str(row["first_seen"]),
                                    int(row["capture_id"] or 0), _extraction(row, text),
                                    region=str(row["region"] or ""))
        count = int(out.db.execute("SELECT COUNT(*) FROM reports").fetchone()[0])
    finally:
        out.close()
    return count


@dataclass(slots=True)
class Latency:
    p50_ms: float
    p95_ms: float
    requests: int
    mean_hits: float


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("datasette exited before serving")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"datasette did not answer at {url}")


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def time_queries(base: str, words: tuple[str, ...], rounds: int) -> Latency:
    """Time `rounds` requests per word (after one warm-up each) of the reports search JSON API."""
    times: list[float] = []
    hits: list[int] = []
    for word in words:  # warm-up: page cache and Datasette's first-query costs
        urllib.request.urlopen(_search_url(base, word), timeout=30).read()
    for _ in range(rounds):
        for word in words:
            start = time.perf_counter()
            with urllib.request.urlopen(_search_url(base, word), timeout=30) as r:
                body = r.read()
            times.append((time.perf_counter() - start) * 1000)
            hits.append(len(json.loads(body)))
    return Latency(_percentile(times, 50), _percentile(times, 95), len(times),
                   statistics.fmean(hits))


def _search_url(base: str, word: str) -> str:
    q = urllib.parse.urlencode({"_search": word, "_shape": "array", "_col": "title"})
    return f"{base}/archive/reports.json?{q}"


def latency(db: Path, repo: Path, datasette: str, port: int, requests_per_kind: int,
            log: Path) -> dict[str, Latency]:
    """Serve `db` (named archive.db) with the project's Datasette config; time both term kinds."""
    cmd = [datasette, "serve", str(db), "-m", "datasette/metadata.yml", "--plugins-dir",
           "datasette/plugins", "--template-dir", "datasette/templates", "-h", "127.0.0.1",
           "-p", str(port)]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=repo, stdout=err, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/-/versions.json", proc)
        out = {}
        for kind, words in (("2-char terms", TERMS), ("phrases", PHRASES)):
            rounds = max(1, -(-requests_per_kind // len(words)))
            out[kind] = time_queries(base, words, rounds)
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "build":
        sys.exit("usage: python -m bench.search_bench build SRC_DB DST_DB N_REPORTS")
    print(json.dumps({"reports": build(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))}))
