"""Re-derive every report from stored captures, with no network.

Takes the latest 200 capture of every page URL (listings excluded), runs the current extractor,
and stores the result exactly as a crawl would: an unchanged text only refreshes the metadata and
`extractor_version`; a changed text becomes a new version with the old one kept.

Extraction runs in worker processes (one per core by default) that read their captures from the
archive themselves; the main process only writes, one transaction per batch.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from tqdm import tqdm

from archive.constants import PageResult
from archive.derive import derive
from archive.ingest import Ingest, Rederived
from archive.store import Archive

logger = logging.getLogger(__name__)
BATCH = 64  # captures per worker task and per write transaction

_LATEST_PAGES = (
    "SELECT MAX(id) FROM captures WHERE status = 200 AND kind = 'page' AND sha256 IS NOT NULL "
    "GROUP BY canonical_url ORDER BY 1"
)


def _extract_batch(db_path: str, ids: list[int]) -> list[Rederived]:
    """Worker: read a batch of captures (read-only) and derive each one — `archive.derive`, the
    step a crawl runs on every response."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    out: list[Rederived] = []
    try:
        for capture_id in ids:
            row = conn.execute(
                "SELECT c.url, c.source, c.headers, c.fetched_at, b.body, c.link FROM captures c "
                "JOIN payloads b ON b.sha256 = c.sha256 WHERE c.id = ?", [capture_id]).fetchone()
            if row is None:
                continue
            url, source, headers, fetched_at, body, link = row
            derived = derive(body, json.loads(headers or "{}"), 200, url, False,
                             link=json.loads(link) if link else None)
            out.append(Rederived(capture_id, url, source, fetched_at, derived))
    finally:
        conn.close()
    return out


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _store(ingest: Ingest, derived: list[Rederived], counts: Counter[str]) -> None:
    counts.update(PageResult(r).value for r in ingest.rederive_batch(derived))


def reextract(archive: Archive, *, progress: bool = True, workers: int | None = None
              ) -> Counter[str]:
    """Re-run extraction over the archive; returns counts by result.

    `workers` = 0 runs in this process (the single-process baseline the benchmark compares with).
    """
    ids = [r[0] for r in archive.db.execute(_LATEST_PAGES).fetchall()]
    workers = (os.cpu_count() or 1) if workers is None else workers
    counts: Counter[str] = Counter()
    ingest = Ingest(archive)
    bar = tqdm(total=len(ids), unit="page", desc="reextract", disable=not progress)
    try:
        if workers <= 0:
            for batch in _batches(ids, BATCH):
                derived = _extract_batch(archive.path, batch)
                _store(ingest, derived, counts)
                bar.update(len(batch))
        else:
            # Workers fork from this process: load the extractors once (trafilatura too) and
            # freeze them first, as the crawl's fork server does (archive.workers).
            importlib.import_module("archive.workers")

            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_extract_batch, archive.path, batch)
                           for batch in _batches(ids, BATCH)]
                for future, batch in zip(futures, _batches(ids, BATCH), strict=True):
                    _store(ingest, future.result(), counts)
                    bar.update(len(batch))
    finally:
        bar.close()
    return counts
