"""`make bench`'s own parts (issue #19): CPU time of a step's whole process tree, the 33 KiB-page
portal, and the check that a timed crawl left the archive current."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from bench import synth
from bench.perf import archive_current
from bench.procs import run

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"


def test_cpu_time_counts_the_workers_of_a_step(tmp_path: Path) -> None:
    # The child burns 0.3 s itself and 0.6 s in a grandchild that it waits for.
    script = ("import subprocess, sys\n"
              f"child = subprocess.Popen([sys.executable, '-c', {BURN.format(s=0.6)!r}])\n"
              + BURN.format(s=0.3) + "child.wait()\n")
    r = run([sys.executable, "-c", script], log_dir=tmp_path, name="burn")
    assert r.returncode == 0, r.stderr
    assert 0.85 <= r.cpu_s < 0.85 + r.seconds  # both processes, whatever the machine's load
    assert 0.25 <= r.cpu_main_s <= 0.5         # the child alone (sampled every 0.2 s)


def test_33_kib_portal_has_the_same_reports_at_one_size(tmp_path: Path) -> None:
    own = synth.generate(tmp_path / "own", 2, 4)
    small = synth.generate(tmp_path / "small", 2, 4, page_kib=33)
    assert [s.reports for s in own.sites] == [s.reports for s in small.sites]
    sizes = [f.stat().st_size / 1024 for f in small.report_files()]
    assert all(31 <= kib <= 35 for kib in sizes), sizes
    assert max(f.stat().st_size for f in own.report_files()) / 1024 > 40


def test_a_crawl_is_current_only_when_searchable_analysed_and_in_the_ledger(
        tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE reports (url TEXT);"
        "CREATE VIRTUAL TABLE reports_search USING fts5(uni, bi);"
        "CREATE TABLE report_parts (url TEXT, error TEXT);"
        "CREATE TABLE ledger (url TEXT);"
        "INSERT INTO reports VALUES ('a'), ('b');"
        "INSERT INTO reports_search VALUES ('zzallrows', 'ab'), ('zzallrows', 'cd');"
        "INSERT INTO report_parts VALUES ('a', NULL), ('b', NULL);"
        "INSERT INTO ledger VALUES ('a');")
    conn.commit()
    assert archive_current(db, 2) == []
    assert archive_current(db, 3) == ["2/3 reports archived"]
    conn.execute("DELETE FROM reports_search WHERE bi = 'cd'")
    conn.execute("UPDATE report_parts SET error = 'x' WHERE url = 'b'")
    conn.execute("DELETE FROM ledger")
    conn.commit()
    conn.close()
    assert archive_current(db, 2) == ["1/2 reports searchable",
                                      "1/2 reports with parts and figures",
                                      "no report in the ledger"]
