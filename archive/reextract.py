"""Re-derive every report from stored captures, with no network.

Takes the latest 200 capture of every page URL (listings excluded), runs the current extractor,
and stores the result exactly as a crawl would: an unchanged text only refreshes the metadata and
`extractor_version`; a changed text becomes a new version with the old one kept.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator

from tqdm import tqdm

from archive.extract import extract_page
from archive.store import Archive

logger = logging.getLogger(__name__)

_LATEST_PAGES = (
    "SELECT MAX(id) FROM captures WHERE status = 200 AND kind = 'page' AND sha256 IS NOT NULL "
    "GROUP BY canonical_url ORDER BY 1"
)


def _captures(archive: Archive, ids: list[int]) -> Iterator[tuple[int, str, str, str, str, bytes]]:
    for capture_id in ids:
        row = archive.db.execute(
            "SELECT c.id, c.url, c.source, c.headers, c.fetched_at, b.body FROM captures c "
            "JOIN bodies b ON b.sha256 = c.sha256 WHERE c.id = ?", [capture_id]).fetchone()
        if row:
            yield row


def reextract(archive: Archive, *, progress: bool = True) -> Counter[str]:
    """Re-run extraction over the archive; returns counts by result."""
    ids = [r[0] for r in archive.db.execute(_LATEST_PAGES).fetchall()]
    counts: Counter[str] = Counter()
    bar = tqdm(total=len(ids), unit="page", desc="reextract", disable=not progress)
    for capture_id, url, source, headers, fetched_at, body in _captures(archive, ids):
        content_type = {k.lower(): v for k, v in json.loads(headers or "{}").items()}.get(
            "content-type")
        ex = extract_page(body, content_type, url)
        if ex.kind == "report":
            with archive.db.atomic():
                result = archive.save_report(url, source, fetched_at, capture_id, ex, seen=False)
        else:
            known = archive.db.execute("SELECT 1 FROM reports WHERE capture_id = ?",
                                       [capture_id]).fetchone()
            result = "no_longer_report" if known else "not_report"
            if known:
                logger.warning("%s no longer classifies as a report: %s", url, ex.reason)
        counts[result] += 1
        bar.update(1)
    bar.close()
    return counts
