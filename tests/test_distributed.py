"""Distributed mode (#8): a real redis-server on 127.0.0.1, one archive writer and two crawler
processes sharing scrapy-redis's queue and duplicate filter; the archive must equal a
single-process crawl's, with nothing fetched twice."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import FAST, REPO, free_port, run_crawl
from tests.portal import N_REPORTS, SamplePortal, render_sources
from tests.test_resilience import snapshot

REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None:
    if os.environ.get("CI"):
        pytest.fail("CI must have redis-server (.ci/run installs it)", pytrace=False)
    pytest.skip("redis-server not installed (apt-get install redis-server)",
                allow_module_level=True)

# One request at a time per crawler, so that both crawlers take work from the shared queue.
CRAWLER = ["-s", "CONCURRENT_REQUESTS=1"]




@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([str(REDIS_SERVER), "--bind", "127.0.0.1", "--port", str(port),
                             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def distributed_crawl(redis_url: str, sources: Path, db: Path, logs: Path,
                      crawlers: int = 2) -> tuple[int, list[int], list[str]]:
    cmd = [sys.executable, "-m", "crawler.distributed"]
    common = ["--redis", redis_url, "--sources", str(sources), *FAST]
    logs.mkdir(exist_ok=True)
    with open(logs / "writer.log", "w") as wlog:
        writer = subprocess.Popen([*cmd, "writer", *common, "--db", str(db)], cwd=REPO,
                                  stdout=wlog, stderr=subprocess.STDOUT)
        procs = []
        for i in range(crawlers):
            with open(logs / f"crawler{i}.log", "w") as clog:
                procs.append(subprocess.Popen([*cmd, "crawler", *common, *CRAWLER], cwd=REPO,
                                              stdout=clog, stderr=subprocess.STDOUT))
        try:
            codes = [p.wait(timeout=180) for p in procs]
            wcode = writer.wait(timeout=60)
        finally:
            for p in [*procs, writer]:
                if p.poll() is None:
                    p.kill()
    texts = [(logs / f"crawler{i}.log").read_text() for i in range(crawlers)]
    return wcode, codes, [(logs / "writer.log").read_text(), *texts]


def fetch_log(db: Path) -> Counter[tuple]:
    conn = sqlite3.connect(db)
    try:
        return Counter(conn.execute("SELECT url, role, outcome, result, status FROM fetch_log"))
    finally:
        conn.close()


def one(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def requests_made(log: str) -> int:
    m = re.search(r"'downloader/request_count': (\d+)", log)
    return int(m.group(1)) if m else 0


@pytest.fixture(scope="module")
def crawls(redis_url: str, portal: SamplePortal, sources_file: Path,
           tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("distributed")
    ref = run_crawl(sources_file, tmp / "single.db")
    assert ref.returncode == 0, ref.output[-2000:]
    first = distributed_crawl(redis_url, sources_file, tmp / "dist.db", tmp / "logs1")
    keys_after = redis.Redis.from_url(redis_url).keys("*")
    second = distributed_crawl(redis_url, sources_file, tmp / "dist.db", tmp / "logs2")
    return {"single": tmp / "single.db", "dist": tmp / "dist.db", "first": first,
            "second": second, "keys_after": keys_after}


def test_processes_finish_cleanly(crawls: dict) -> None:
    wcode, codes, logs = crawls["first"]
    assert wcode == 0 and codes == [0, 0], logs[0][-3000:]
    assert not any("Traceback" in log for log in logs), [log[-2000:] for log in logs]
    # Both crawlers took work from the shared queue.
    made = [requests_made(log) for log in logs[1:]]
    assert all(n > 0 for n in made), made
    # Extraction ran in the crawlers' worker pools (every response), not in the writer.
    derived = re.search(r"pages derived by the crawlers: (\d+), by the writer: (\d+)", logs[0])
    assert derived and int(derived[1]) > N_REPORTS and derived[2] == "0", logs[0][-2000:]
    assert crawls["keys_after"] == []  # the writer cleared the job's keys


def test_archive_equals_the_single_process_crawl(crawls: dict) -> None:
    single, dist = crawls["single"], crawls["dist"]
    # After the first distributed run only (the second added 304 rows): compare run 1's rows.
    assert snapshot(dist) == snapshot(single)
    got = Counter({k: v for k, v in Counter(one(
        dist, "SELECT url, role, outcome, result, status FROM fetch_log WHERE run_id = 1")).items()})
    assert got == fetch_log(single)
    assert len(snapshot(dist)[0]) == N_REPORTS


def test_nothing_fetched_twice(crawls: dict) -> None:
    dist, single = crawls["dist"], crawls["single"]
    dupes = one(dist, "SELECT url, COUNT(*) FROM captures WHERE run_id = 1 GROUP BY url "
                      "HAVING COUNT(*) > 1")
    assert dupes == []
    assert one(dist, "SELECT COUNT(*) FROM captures WHERE run_id = 1") == one(
        single, "SELECT COUNT(*) FROM captures")


def test_run_record_and_health_as_a_single_crawl(crawls: dict) -> None:
    dist, single = crawls["dist"], crawls["single"]
    runs = one(dist, "SELECT id, status, mode, exit_status, reports_new FROM crawl_runs")
    assert runs == [(1, "finished", "distributed", 0, N_REPORTS), (2, "finished", "distributed", 0, 0)]
    cols = "source, requests, ok, listing_pages, listing_items, reports_new, succeeded"
    assert one(dist, f"SELECT {cols} FROM run_sources WHERE run_id = 1 ORDER BY source") == one(
        single, f"SELECT {cols} FROM run_sources ORDER BY source")
    assert one(dist, "SELECT source, status FROM source_health ORDER BY source") == one(
        single, "SELECT source, status FROM source_health ORDER BY source")


def test_second_run_revalidates_through_redis(crawls: dict) -> None:
    wcode, codes, logs = crawls["second"]
    assert wcode == 0 and codes == [0, 0], logs[0][-3000:]
    assert "published revalidation data for" in logs[0]
    # Every archived report answered 304 to the crawlers' conditional requests.
    rows = one(crawls["dist"], "SELECT result, COUNT(*) FROM fetch_log WHERE run_id = 2 "
                               "AND outcome = 'not_modified' GROUP BY result")
    assert dict(rows)["report_unchanged"] == N_REPORTS
    assert one(crawls["dist"], "SELECT COUNT(*) FROM report_versions") == [(N_REPORTS,)]


def test_crawler_without_writer_says_so(redis_url: str, sources_file: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "crawler.distributed", "crawler", "--redis",
                           redis_url, "--job", "nobody", "--sources", str(sources_file),
                           "--wait-writer", "1"], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert "no archive writer for job 'nobody'" in proc.stderr


def test_writer_refuses_while_the_archive_is_locked(redis_url: str, sources_file: Path,
                                                    tmp_path: Path) -> None:
    from archive.lock import ArchiveLock

    db = tmp_path / "locked.db"
    with ArchiveLock(db):
        proc = subprocess.run([sys.executable, "-m", "crawler.distributed", "writer", "--redis",
                               redis_url, "--db", str(db), "--sources", str(sources_file)],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 75 and "another crawl is writing" in proc.stderr


def test_items_carry_what_the_crawler_derived_unless_versions_differ() -> None:
    from archive.derive import derive
    from archive.store import Capture
    from crawler.distributed import decode_item, encode_item
    from crawler.items import PageItem
    from tests.portal import PORTAL_ROOT

    path = "zzgxq/zwgk/fzzfjs/202303/t20230330_1021.htm"   # GBK bytes
    body = (PORTAL_ROOT / path).read_bytes()
    headers = {"Content-Type": "text/html"}
    item = PageItem(Capture(url=f"http://127.0.0.1/{path}", source="zz-gxq", role="detail",
                            status=200, headers=headers, body=body), is_listing=False)
    derived = derive(body, headers, 200, item.capture.url, False)
    assert derived.extraction is not None and derived.extraction.kind == "report"
    got_item, got = decode_item(encode_item(item, derived))
    assert got_item == item and got_item.capture.body == body   # bytes untouched
    assert got == derived
    # A crawler running another extractor version: the writer must derive the page itself.
    stale = encode_item(item, derived).replace(b'"extractor_version": "', b'"extractor_version": "0', 1)
    assert decode_item(stale) == (item, None)
    assert decode_item(encode_item(item)) == (item, None)


def test_writer_killed_mid_crawl_stops_the_crawlers_and_the_run_shows_died(
        redis_url: str, tmp_path: Path) -> None:
    import signal

    db = tmp_path / "killed.db"
    ttl = ["-s", "ARCHIVE_REDIS_TTL=3"]
    cmd = [sys.executable, "-m", "crawler.distributed"]
    with SamplePortal(delay=0.3) as slow:
        sources = tmp_path / "s.yaml"
        sources.write_text(render_sources(slow.base_url), encoding="utf-8")
        common = ["--redis", redis_url, "--job", "killed", "--sources", str(sources), *FAST, *ttl]
        writer = subprocess.Popen([*cmd, "writer", *common, "--db", str(db)], cwd=REPO,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        crawler = subprocess.Popen([*cmd, "crawler", *common, *CRAWLER], cwd=REPO,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if one(db, "SELECT COUNT(*) FROM fetch_log")[0][0] >= 3:
                        break
                except sqlite3.Error:
                    pass
                time.sleep(0.1)
            else:
                pytest.fail("the writer stored nothing")
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
            out, _ = crawler.communicate(timeout=60)   # it notices and closes by itself
        finally:
            for p in (writer, crawler):
                if p.poll() is None:
                    p.kill()
    assert "the archive writer of job fzzf:killed:ready is gone" in out
    assert "Spider closed (writer_gone)" in out
    assert one(db, "SELECT status FROM crawl_runs") == [("running",)]
    # The next writer takes the lock and marks the dead run.
    nxt = subprocess.run([*cmd, "writer", "--redis", redis_url, "--job", "killed", "--db", str(db),
                          "--sources", str(sources), "--wait-crawlers", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert "run 1 in" in nxt.stderr and "marked died" in nxt.stderr
    assert one(db, "SELECT id, status FROM crawl_runs ORDER BY id") == [
        (1, "died"), (2, "stopped: no crawler joined within 1 s")]


def test_one_writer_per_job(redis_url: str, sources_file: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "crawler.distributed", "writer", "--redis", redis_url,
           "--job", "twice", "--sources", str(sources_file), "--wait-crawlers", "8"]
    first = subprocess.Popen([*cmd, "--db", str(tmp_path / "a.db")], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 30
        while not client.exists("fzzf:twice:ready") and time.monotonic() < deadline:
            time.sleep(0.1)
        second = subprocess.run([*cmd, "--db", str(tmp_path / "b.db")], cwd=REPO,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 75
        assert "another writer (" in second.stderr and "runs job 'twice'" in second.stderr
        assert client.exists("fzzf:twice:ready")  # the first writer's job was left alone
    finally:
        first.kill()
        first.wait()
