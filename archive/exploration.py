"""Exploration results in the archive: pages tried, report columns found, directory candidates
accepted or rejected, and each body's portal — per source and run. No Scrapy here.

Tables (created by `ensure_schema`, idempotent):
- `explore_pages`: every page an exploration requested, with the link that led there and what
  came of it (explored / column / failed);
- `explore_columns`: the report columns found per source, with their evidence (page + link text),
  CMS shape and the bodies they carry reports of (`covers`); later crawls start from these;
- `explore_candidates`: every link of a directory page, fetched or not, and the decision on it;
- `body_portals`: the accepted portal of each government (adcode, url, evidence, run).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

# Columns whose state says "start here next time"; other states mean: explore the portal again.
ACTIVE = "active"


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the exploration tables if they are missing (safe to call on every open)."""
    db["explore_pages"].create(
        {"id": int, "run_id": int, "source": str, "url": str, "depth": int, "score": int,
         "via": str, "link_text": str, "status": int, "outcome": str, "reason": str,
         "fetched_at": str},
        pk="id", if_not_exists=True)
    db["explore_columns"].create(
        {"source": str, "url": str, "portal": str, "shape": str, "name": str,
         "evidence_page": str, "evidence_text": str, "report_links": int, "covers": str,
         "status": str, "reason": str, "found_run_id": int, "last_run_id": int,
         "found_at": str, "checked_at": str},
        pk=("source", "url"), if_not_exists=True)
    db["explore_candidates"].create(
        {"id": int, "run_id": int, "directory": str, "url": str, "link_text": str,
         "adcode": str, "name": str, "site_id_code": str, "decision": str, "reason": str,
         "portal_source": str, "decided_at": str},
        pk="id", if_not_exists=True)
    db["body_portals"].create(
        {"adcode": str, "url": str, "name": str, "evidence": str, "directory": str,
         "portal_source": str, "found_at": str, "run_id": int},
        pk=("adcode", "url"), if_not_exists=True)
    db["explore_pages"].create_index(["source", "run_id"], if_not_exists=True)
    db["explore_candidates"].create_index(["directory", "url"], if_not_exists=True)


def record(db: sqlite_utils.Database, kind: str, row: Mapping[str, Any],
           run_id: int | None) -> None:
    """Store one exploration result (kind: page | column | candidate | portal)."""
    row = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v)
           for k, v in row.items()}
    if kind == "page":
        db["explore_pages"].insert({**row, "run_id": run_id})
    elif kind == "candidate":
        db["explore_candidates"].insert({**row, "run_id": run_id})
    elif kind == "column":
        old = db.execute("SELECT found_run_id, found_at FROM explore_columns "
                         "WHERE source = ? AND url = ?", [row["source"], row["url"]]).fetchone()
        found = {"found_run_id": old[0], "found_at": old[1]} if old else {
            "found_run_id": run_id, "found_at": row.get("checked_at")}
        db["explore_columns"].upsert({**row, **found, "last_run_id": run_id},
                                     pk=("source", "url"), alter=True)
    elif kind == "portal":
        old = db.execute("SELECT found_at, run_id FROM body_portals WHERE adcode = ? AND url = ?",
                         [row["adcode"], row["url"]]).fetchone()
        keep = {"found_at": old[0], "run_id": old[1]} if old else {"run_id": run_id}
        db["body_portals"].upsert({**row, **keep}, pk=("adcode", "url"), alter=True)
    else:
        raise ValueError(f"unknown exploration record kind {kind!r}")


@dataclass(slots=True)
class KnownState:
    """What earlier runs learnt, for the spider's start: columns per source, candidates per
    directory (latest decision per URL)."""

    columns: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    candidates: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict))


def read_known(path: str | Path) -> KnownState:
    """Read the exploration state of an archive file (an empty state if there is none yet)."""
    state = KnownState()
    if str(path) != ":memory:" and not Path(path).exists():
        return state
    conn = sqlite3.connect(str(path), timeout=30)
    try:
        db = sqlite_utils.Database(conn)
        if not db["explore_columns"].exists():
            return state
        for row in db["explore_columns"].rows_where(order_by="source, url"):
            row["covers"] = json.loads(row["covers"] or "[]")
            state.columns[row["source"]].append(row)
        for row in db["explore_candidates"].rows_where(order_by="id"):
            state.candidates[row["directory"]][row["url"]] = row  # latest decision wins
    finally:
        conn.close()
    return state


def stored_listing(path: str | Path, url: str) -> tuple[bytes, str] | None:
    """(body, Content-Type) of the last 200 capture of a listing page, for a 304 answer: the
    links of an unchanged listing are followed from the archived copy."""
    from archive.urls import canonical_url

    conn = sqlite3.connect(str(path), timeout=30)
    try:
        db = sqlite_utils.Database(conn)
        # Raw bytes live in `bodies` (renamed `payloads` by the bodies-of-governments schema).
        table = next((t for t in ("payloads", "bodies")
                      if db[t].exists() and "body" in db[t].columns_dict
                      and "sha256" in db[t].columns_dict), None)
        if table is None:
            return None
        row = conn.execute(
            f"SELECT c.headers, p.body FROM captures c JOIN [{table}] p ON p.sha256 = c.sha256 "
            "WHERE c.canonical_url = ? AND c.status = 200 ORDER BY c.id DESC LIMIT 1",
            [canonical_url(url)]).fetchone()
    finally:
        conn.close()
    if row is None or row[1] is None:
        return None
    headers = {k.lower(): v for k, v in json.loads(row[0] or "{}").items()}
    return bytes(row[1]), headers.get("content-type", "")


def body_portals(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Each government's accepted portal with its evidence (for the `bodies` table)."""
    if not db["body_portals"].exists():
        return []
    return [{**r, "evidence": json.loads(r["evidence"] or "{}")}
            for r in db["body_portals"].rows_where(order_by="adcode, url")]


def summary(db: sqlite_utils.Database, run_id: int | None = None) -> list[str]:
    """A run's exploration, one line per source (the latest run with exploration if None)."""
    if not db["explore_pages"].exists():
        return []
    if run_id is None:
        last = [r[0] for r in db.execute(
            "SELECT max(run_id) FROM (SELECT run_id FROM explore_pages UNION ALL "
            "SELECT run_id FROM explore_candidates UNION ALL SELECT last_run_id FROM "
            "explore_columns)").fetchall()]
        run_id = last[0] if last else None
        if run_id is None:
            return []
    pages: dict[str, Counter[str]] = defaultdict(Counter)
    for source, outcome, n in db.execute(
            "SELECT source, outcome, count(*) FROM explore_pages WHERE run_id = ? "
            "GROUP BY source, outcome", [run_id]).fetchall():
        pages[source][outcome] = n
    columns: dict[str, list[str]] = defaultdict(list)
    for source, url, shape, status, n, found in db.execute(
            "SELECT source, url, shape, status, report_links, found_run_id FROM explore_columns "
            "WHERE last_run_id = ? OR found_run_id = ? ORDER BY source, url",
            [run_id, run_id]).fetchall():
        new = "new" if found == run_id else "known"
        columns[source].append(f"{url} [{shape}, {n} report links, {status}, {new}]")
    decisions: dict[str, Counter[str]] = defaultdict(Counter)
    for directory, decision, n in db.execute(
            "SELECT directory, decision, count(*) FROM explore_candidates WHERE run_id = ? "
            "GROUP BY directory, decision", [run_id]).fetchall():
        decisions[directory][decision] = n
    lines = [f"exploration, run {run_id}:"]
    for directory, counts in sorted(decisions.items()):
        lines.append(f"  directory {directory}: " + ", ".join(
            f"{k} {v}" for k, v in sorted(counts.items())))
    for source in sorted(set(pages) | set(columns)):
        tried = sum(pages[source].values())
        lines.append(f"  portal {source}: {tried} pages explored"
                     + "".join(f", {k} {v}" for k, v in sorted(pages[source].items())
                               if k != "explored")
                     + f"; {len(columns[source])} column(s)")
        lines.extend(f"    {c}" for c in columns[source])
    return lines if len(lines) > 1 else []
