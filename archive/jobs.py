"""Archive side of the distributed crawl (crawler.distributed): what its writer records beyond
the single-process path. Kept out of the crawler, which writes no SQL."""

from __future__ import annotations

import json

from archive.store import Archive


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
