"""Run records: `crawl_runs` (one row per crawl) and `run_sources` (one row per source and run)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from archive.constants import FetchOutcome, PageResult, RunStatus, utcnow

_FETCH_OUTCOMES = {o.value for o in FetchOutcome} - {FetchOutcome.ERROR.value}


def start_run(db: sqlite_utils.Database, sources: Iterable[str], *, mode: str = "single") -> int:
    with db.atomic():
        table = db["crawl_runs"]
        table.insert({"started_at": utcnow(), "sources": json.dumps(list(sources)),
                      "status": RunStatus.RUNNING.value, "pid": os.getpid(),
                      "host": socket.gethostname(), "mode": mode})
        return int(table.last_pk)


def mark_dead_runs(db: sqlite_utils.Database) -> list[int]:
    """Close runs left 'running' by a process that died (SIGKILL, power loss, OOM): call only
    while holding the crawl lock, when no other run can be live."""
    with db.atomic():
        ids = [r[0] for r in db.execute("SELECT id FROM crawl_runs WHERE status = ?",
                                        [RunStatus.RUNNING.value]).fetchall()]
        for run_id in ids:
            db["crawl_runs"].update(run_id, {
                "status": RunStatus.DIED.value, "exit_status": -1,
                "unhealthy": json.dumps({"(run)": "the crawl process ended without closing "
                                         f"its run; noticed {utcnow()}"})})
        return ids


def save_run_sources(db: sqlite_utils.Database, run_id: int,
                     rows: Iterable[Mapping[str, Any]]) -> None:
    with db.atomic():
        db["run_sources"].upsert_all([{"run_id": run_id, **row} for row in rows],
                                     pk=("run_id", "source"), alter=True)


def finish_run(db: sqlite_utils.Database, run_id: int, status: str, stats: Mapping[str, Any], *,
               exit_status: int = 0, unhealthy: Mapping[str, str] | None = None) -> None:
    """Close a run: outcome counts, report counts and the exit status the crawl returns."""
    outcomes = {k: v for k, v in stats.items() if k in _FETCH_OUTCOMES}
    with db.atomic():
        db["crawl_runs"].update(run_id, {
            "finished_at": utcnow(), "status": status,
            "stats": json.dumps(dict(stats), ensure_ascii=False, default=str),
            "pages_fetched": sum(v for k, v in outcomes.items() if k != FetchOutcome.SKIPPED),
            "reports_new": stats.get(PageResult.REPORT_NEW, 0),
            "reports_changed": stats.get(PageResult.REPORT_CHANGED, 0),
            "reports_unchanged": stats.get(PageResult.REPORT_UNCHANGED, 0),
            "outcomes": json.dumps(outcomes, ensure_ascii=False),
            "exit_status": exit_status,
            "unhealthy": json.dumps(dict(unhealthy or {}), ensure_ascii=False),
        })


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    status: str
    unhealthy: dict[str, str]


def last_run_of_process(path: str | Path, pid: int) -> RunRecord | None:
    """The latest run the crawl process `pid` recorded in the archive at `path`, read-only (None
    if there is no archive, no such run, or the file is not an archive)."""
    if not Path(path).exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT id, status, unhealthy FROM crawl_runs WHERE pid = ? "
                           "ORDER BY id DESC LIMIT 1", [pid]).fetchone()
    except sqlite3.Error:
        row = None
    finally:
        conn.close()
    return RunRecord(row[0], row[1], json.loads(row[2] or "{}")) if row else None
