"""Archive side of the distributed crawl (crawler.distributed): what its writer reads and records
beyond the single-process path. Kept out of the crawler, which writes no SQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from archive.store import Archive


def all_validators(archive: Archive) -> Iterator[tuple[str, dict[str, Any]]]:
    """(canonical URL, {etag, last-modified, confirmed}) for every URL a crawler may revalidate,
    by the rules of `Archive.validators` (last 200 capture, any kind) and
    `Archive.days_since_confirmed` (fetched_at of the last 200 or 304)."""
    rows = archive.db.execute(
        "SELECT c.canonical_url, "
        " (SELECT h.headers FROM captures h WHERE h.canonical_url = c.canonical_url "
        "  AND h.status = 200 ORDER BY h.id DESC LIMIT 1), "
        " (SELECT f.fetched_at FROM captures f WHERE f.canonical_url = c.canonical_url "
        "  AND f.status IN (200, 304) ORDER BY f.id DESC LIMIT 1) "
        "FROM (SELECT DISTINCT canonical_url FROM captures WHERE status IN (200, 304)) c")
    for url, headers, confirmed in rows:
        h = {k.lower(): v for k, v in json.loads(headers or "{}").items()}
        data: dict[str, Any] = {k: h[k] for k in ("etag", "last-modified") if h.get(k)}
        yield url, {**data, "confirmed": confirmed}


def record_outcome(archive: Archive, run_id: int, status: str, exit_status: int,
                   reason: str) -> None:
    """A distributed run that ended incomplete (lost work, Redis or its writer): its status,
    exit status and the reason beside the unhealthy sources already recorded."""
    row = archive.db.execute("SELECT unhealthy FROM crawl_runs WHERE id = ?",
                             [run_id]).fetchone()
    unhealthy = json.loads(row[0] or "{}") if row else {}
    with archive.db.atomic():
        archive.db["crawl_runs"].update(run_id, {
            "status": status, "exit_status": exit_status,
            "unhealthy": json.dumps({**unhealthy, "(run)": reason}, ensure_ascii=False)})
