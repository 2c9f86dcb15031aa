"""The crawl as a scheduled service (#8): the season's schedule, one-source runs, the crawl lock."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from archive.lock import ArchiveLock
from crawler.schedule import MONTHLY_OFF_SEASON, WEEKLY_IN_SEASON, Job, cron_file, systemd_units
from tests.conftest import FAST, REPO
from tests.portal import SamplePortal, render_sources


def season_2027() -> set[date]:
    """What the issue asks for: weekly January–May, monthly otherwise."""
    days = {date(2027, 1, 1) + timedelta(n) for n in range(365)}
    return {d for d in days if (d.month <= 5 and d.weekday() == 0) or (d.month > 5 and d.day == 1)}


def cron_field(spec: str, value: int) -> bool:
    for part in spec.split(","):
        if part == "*":
            return True
        lo, _, hi = part.partition("-")
        if int(lo) <= value <= int(hi or lo):
            return True
    return False


def cron_fires(line: str, day: date) -> bool:
    """Minimal cron day matching (dom/dow are OR-ed when both are restricted, as cron does)."""
    _, _, dom, month, dow = line.split()[:5]
    if not cron_field(month, day.month):
        return False
    dom_ok, dow_ok = cron_field(dom, day.day), cron_field(dow, (day.weekday() + 1) % 7)
    if dom != "*" and dow != "*":
        return dom_ok or dow_ok
    return dom_ok and dow_ok


def job(tmp_path: Path) -> Job:
    return Job(REPO, sys.executable, str(tmp_path / "a.db"), str(tmp_path / "s.yaml"))


def test_cron_file_runs_weekly_in_season_and_monthly_otherwise(tmp_path: Path) -> None:
    text = cron_file(job(tmp_path))
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#") and "=" not in ln[:6]]
    assert len(lines) == 2
    fired = {date(2027, 1, 1) + timedelta(n) for n in range(365)
             if any(cron_fires(ln, date(2027, 1, 1) + timedelta(n)) for ln in lines)}
    assert fired == season_2027()
    for ln in lines:
        fields = ln.split(None, 6)
        assert fields[5] == "root"
        assert f"cd {REPO} && {sys.executable} -m crawler.schedule run" in fields[6]
        assert f"--db {tmp_path / 'a.db'}" in fields[6] and "--log " in fields[6]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_timer_calendar_matches_the_season(tmp_path: Path) -> None:
    units = systemd_units(job(tmp_path))
    timer = units["fzzf-archive.timer"]
    specs = [ln.split("=", 1)[1] for ln in timer.splitlines() if ln.startswith("OnCalendar=")]
    assert specs == [WEEKLY_IN_SEASON[1], MONTHLY_OFF_SEASON[1]]
    fired: set[date] = set()
    for spec in specs:
        out = subprocess.run(["systemd-analyze", "calendar", "--iterations=60",
                              "--base-time=2026-12-31 12:00:00 UTC", spec],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if "Next elapse:" in line or "Iter. #" in line:
                stamp = line.split(":", 1)[1].split()[1]
                fired.add(datetime.strptime(stamp, "%Y-%m-%d").date())
    assert {d for d in fired if d.year == 2027} == season_2027()
    service = units["fzzf-archive.service"]
    assert f"WorkingDirectory={REPO}" in service and "Type=oneshot" in service
    assert "Persistent=true" in timer


def test_install_writes_what_it_prints(tmp_path: Path) -> None:
    for kind, names in (("cron", ["fzzf-archive"]),
                        ("systemd", ["fzzf-archive.service", "fzzf-archive.timer"])):
        dest = tmp_path / kind
        out = subprocess.run([sys.executable, "-m", "crawler.schedule", "install", kind,
                              "--dest", str(dest), "--db", str(tmp_path / "a.db")],
                             cwd=REPO, capture_output=True, text=True, check=True).stdout
        assert sorted(p.name for p in dest.iterdir()) == sorted(names)
        printed = subprocess.run([sys.executable, "-m", "crawler.schedule", kind, "--db",
                                  str(tmp_path / "a.db")], cwd=REPO, capture_output=True,
                                 text=True, check=True).stdout
        for name in names:
            assert f"wrote {dest / name}" in out
            assert (dest / name).read_text("utf-8").strip() in printed


def runs(db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM crawl_runs ORDER BY id").fetchall()
    finally:
        conn.close()


def test_on_demand_run_for_one_source_is_silent_when_healthy(portal: SamplePortal,
                                                              sources_file: Path,
                                                              tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    proc = subprocess.run([sys.executable, "-m", "crawler.schedule", "run", "--db", str(db),
                           "--sources", str(sources_file), "--source", "cq-gxq",
                           "--log", str(tmp_path / "crawl.log"), *FAST],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + (tmp_path / "crawl.log").read_text()[-2000:]
    assert proc.stdout == "" and proc.stderr == ""  # cron mails nothing when all is well
    assert "Spider closed (finished)" in (tmp_path / "crawl.log").read_text()
    (run,) = runs(db)
    assert json.loads(run["sources"]) == ["cq-gxq"] and run["status"] == "finished"
    conn = sqlite3.connect(db)
    assert {r[0] for r in conn.execute("SELECT source FROM reports")} == {"cq-gxq"}
    conn.close()


def test_lock_refuses_an_overlapping_crawl(tmp_path: Path) -> None:
    sources = tmp_path / "s.yaml"
    db = tmp_path / "lock.db"
    with SamplePortal(delay=0.2) as slow:
        sources.write_text(render_sources(slow.base_url), encoding="utf-8")
        first = subprocess.Popen([sys.executable, "-m", "crawler.schedule", "run", "--db",
                                  str(db), "--sources", str(sources), *FAST],
                                 cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if db.exists():
                    try:
                        if runs(db):
                            break
                    except sqlite3.OperationalError:
                        pass
                time.sleep(0.05)
            (running,) = runs(db)
            assert running["status"] == "running"
            second = subprocess.run([sys.executable, "-m", "crawler.schedule", "run", "--db",
                                     str(db), "--sources", str(sources),
                                     "--log", str(tmp_path / "second.log"), *FAST],
                                    cwd=REPO, capture_output=True, text=True, timeout=60)
            assert second.returncode == 75
            log = (tmp_path / "second.log").read_text()
            assert f"another crawl is writing {db} (pid {running['pid']} on " in log
            assert "crawl did not start a run" in second.stderr  # the summary cron mails
            assert len(runs(db)) == 1  # the refused crawl recorded nothing
            assert first.wait(timeout=120) == 0
        finally:
            if first.poll() is None:
                first.kill()
    (done,) = runs(db)
    assert done["status"] == "finished" and done["exit_status"] == 0


def test_lock_is_free_again_after_its_holder_exits(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; "
                               "from archive.lock import ArchiveLock; "
                               f"ArchiveLock({str(db)!r}).acquire(); print('held', flush=True); "
                               "time.sleep(60)"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RuntimeError, match=f"pid {holder.pid} on "):
            ArchiveLock(db).acquire()
    finally:
        holder.kill()  # SIGKILL: no chance to clean up; the kernel drops the flock
        holder.wait()
    with ArchiveLock(db):
        pass
