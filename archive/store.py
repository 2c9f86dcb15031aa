"""The archive: one SQLite file, written through sqlite-utils. `Archive` is the façade the rest of
the project opens; the work lives in small modules:

- `archive.schema`: tables and migrations;    - `archive.fts`: the search index;
- `archive.pages`: a page's writes;           - `archive.ingest`: batches of them (the write path);
- `archive.runs`: run records;                - `archive.sources_table`: the registry table;
- `archive.revalidation`: conditional-request lookups.

Tables: `captures` (every response, raw bytes by sha256 in `payloads`), `fetch_log` (every
request's outcome), `reports` (latest clean record per canonical URL, attributed to its issuer),
`report_versions` (every distinct text a report has had), `sources` (the registry as crawled),
`crawl_runs`, and the ledger's `bodies` (everyone obliged to report) and `ledger` (archive.ledger).
Nothing is overwritten or deleted; each page is stored in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import sqlite_utils

from archive import ledger, revalidation, runs
from archive.constants import DEFAULT_DB, FetchOutcome, utcnow
from archive.derive import Derived, derive
from archive.extract import Extraction
from archive.fts import IndexForm, SearchIndex, rebuild_search_index
from archive.issuer import Context
from archive.pages import Capture, Outcome, PageWriter
from archive.schema import SCHEMA_VERSION, ensure_schema
from archive.sources_table import SourcesTable

__all__ = [
    "BLOCKED",
    "DEFAULT_DB",
    "HTTP_ERROR",
    "NETWORK_ERROR",
    "NOT_MODIFIED",
    "OK",
    "SCHEMA_VERSION",
    "SKIPPED",
    "Archive",
    "Capture",
    "Outcome",
    "utcnow",
]

# Fetch outcomes (the `outcome` column), under their older names.
OK, NOT_MODIFIED, HTTP_ERROR, NETWORK_ERROR, SKIPPED, BLOCKED = (
    FetchOutcome.OK, FetchOutcome.NOT_MODIFIED, FetchOutcome.HTTP_ERROR,
    FetchOutcome.NETWORK_ERROR, FetchOutcome.SKIPPED, FetchOutcome.BLOCKED,
)


# SQLite page size of a new archive. A report is ~55 KB of raw page and 3 × ~27 KB of text, so
# with SQLite's default 4 KiB pages every write is dozens of pages (and as many write calls, twice
# with the WAL): 16 KiB took the writer's CPU per report from ~3.4 to ~2.5 ms (user + system,
# measured on the bench's pages), for a 5 % larger file.
PAGE_SIZE = 16384


class Archive:
    """Read and write the archive file. Use from one thread at a time; one per process."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One thread at a time, but not always the same one: the crawl opens the archive on the
        # reactor thread and writes from its writer thread.
        conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                               check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        # Before anything is written; an existing archive keeps its page size.
        self.db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        if self.path != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.sources = SourcesTable(self.db)
        self.index = SearchIndex(self.db)
        self.pages = PageWriter(self.db, self.sources, self.index)
        ensure_schema(self.db)

    def migrate(self) -> None:
        ensure_schema(self.db)

    def rebuild_search_index(self) -> None:
        rebuild_search_index(self.db)

    def close(self) -> None:
        self.db.close()

    # -- runs and registry ----------------------------------------------------------------
    def start_run(self, sources: Iterable[str], *, mode: str = "single") -> int:
        return runs.start_run(self.db, sources, mode=mode)

    def mark_dead_runs(self) -> list[int]:
        """Close runs left 'running' by a process that died (see `archive.runs`)."""
        return runs.mark_dead_runs(self.db)

    def save_run_sources(self, run_id: int, rows: Iterable[Mapping[str, Any]]) -> None:
        runs.save_run_sources(self.db, run_id, rows)

    def finish_run(self, run_id: int, status: str, stats: Mapping[str, Any], *,
                   exit_status: int = 0, unhealthy: Mapping[str, str] | None = None) -> None:
        runs.finish_run(self.db, run_id, status, stats, exit_status=exit_status,
                        unhealthy=unhealthy)

    def refresh_ledger(self, as_of: str | date | None = None) -> dict[str, int]:
        """Copies, `bodies` and the `ledger` at `as_of` (a date or YYYY-MM-DD; None = today)."""
        when = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        return ledger.refresh(self.db, when)

    def source_info(self, name: str) -> Context:
        return self.sources.source_info(name)

    def save_sources(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.sources.save(rows)

    # -- revalidation ---------------------------------------------------------------------
    def validators(self, url: str) -> dict[str, str]:
        return revalidation.validators(self.db, url)

    def linked_files(self, url: str) -> list[tuple[str, dict[str, Any]]]:
        return revalidation.linked_files(self.db, url)

    def linked_files_by_page(self) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        return revalidation.linked_files_by_page(self.db)

    def days_since_confirmed(self, url: str) -> float | None:
        return revalidation.days_since_confirmed(self.db, url)

    def all_validators(self) -> Iterable[revalidation.PageValidators]:
        return revalidation.all_validators(self.db)

    # -- writing (one page at a time; batches go through archive.ingest) -------------------
    def ingest(self, cap: Capture, run_id: int | None = None, *, is_listing: bool = False,
               extraction: Extraction | None = None, note: str | None = None) -> Outcome:
        """Derive and store one response, atomically (the in-process path)."""
        derived = derive(cap.body, cap.headers, cap.status, cap.url, is_listing, extraction,
                         cap.link)
        with self.db.atomic():
            return self.pages.commit(cap, derived, run_id, is_listing=is_listing, note=note)

    def commit(self, cap: Capture, derived: Derived, run_id: int | None = None, *,
               is_listing: bool = False, note: str | None = None) -> Outcome:
        """Store a response and what was derived from it. Call inside `db.atomic()`: a page's
        capture, report, version, index entry and log line commit together or not at all."""
        return self.pages.commit(cap, derived, run_id, is_listing=is_listing, note=note)

    def save_report(self, url: str, source: str, fetched_at: str, capture_id: int,
                    ex: Extraction, *, region: str | None = None, seen: bool = True,
                    index: IndexForm | None = None) -> str:
        return self.pages.save_report(url, source, fetched_at, capture_id, ex, region=region,
                                      seen=seen, index=index)

    def log_failure(self, *, url: str, source: str, role: str, outcome: str, reason: str,
                    status: int | None = None, retries: int = 0,
                    run_id: int | None = None) -> None:
        """A request that produced no response worth keeping (network error, skipped)."""
        with self.db.atomic():
            self.pages.log_failure(url=url, source=source, role=role, outcome=outcome,
                                   reason=reason, status=status, retries=retries, run_id=run_id)
