"""The archive's one write path: batches of entries in, one outcome per entry out.

Everything that writes crawled data goes through here — the single-process crawl's writer, the
distributed writer, `reextract`, reports as files (they arrive as pages with their link) — so
transactions, savepoints and the search index are handled in one place:

- a batch is one transaction; each page is one savepoint inside it (stored whole or not at all;
  a page that fails is recorded as an `error` outcome with the reason, the rest of the batch
  commits);
- search-index writes wait until the end of the batch (`archive.fts.SearchIndex.defer`): FTS5
  writes a new index segment at every savepoint, which used to cost more than every other write.

Entries are plain dataclasses: the caller derives (`archive.derive`, in worker processes), this
module only writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from archive import exploration
from archive.constants import FetchOutcome, PageResult
from archive.derive import Derived
from archive.pages import Capture, Outcome
from archive.process import exit_with_parent
from archive.store import Archive

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class PageEntry:
    """A response to store with what was derived from it (`derived` None: deriving failed, and
    `error` says why — the capture is then logged as an error, never dropped)."""

    capture: Capture
    derived: Derived | None
    is_listing: bool = False
    note: str | None = None       # reason to record instead of the default (listings)
    error: str | None = None


@dataclass(slots=True)
class FailureEntry:
    """A request that ended without a usable response: network error, or skipped on purpose."""

    url: str
    source: str
    role: str
    outcome: str      # FetchOutcome: network_error | skipped
    reason: str
    retries: int = 0


@dataclass(slots=True)
class ExploreEntry:
    """An exploration result (`archive.exploration`): kind page | column | candidate | portal."""

    kind: str
    source: str
    row: dict[str, Any]
    source_row: dict[str, Any] | None = None  # a portal found in a directory, as a source row


Entry = PageEntry | FailureEntry | ExploreEntry


@dataclass(frozen=True, slots=True)
class Rederived:
    """A stored capture derived again (`reextract`): where it came from and the new result."""

    capture_id: int
    url: str
    source: str
    fetched_at: str
    derived: Derived


@dataclass(slots=True)
class Ingest:
    """Writes entries of one run (`run_id`, None outside a crawl) into `archive`."""

    archive: Archive
    run_id: int | None = None
    batches: int = field(default=0, init=False)

    def write_batch(self, entries: Sequence[Entry]) -> list[Outcome | None]:
        """Store `entries` in one transaction; one outcome per entry, in order (None for an
        exploration record). If the transaction itself fails, nothing of the batch is stored
        and every page entry's outcome is an `error` (logged)."""
        db, index = self.archive.db, self.archive.index
        self.batches += 1
        try:
            with db.atomic():
                index.defer()
                try:
                    return [self._write(entry) for entry in entries]
                finally:
                    index.flush()
        except Exception as exc:  # never raise into the crawl: it would lose every later page
            logger.exception("could not write a batch of %d entries", len(entries))
            why = f"archive error: batch not stored: {type(exc).__name__}: {exc}"[:500]
            return [None if isinstance(e, ExploreEntry) else
                    Outcome(FetchOutcome.ERROR, PageResult.ERROR, why) for e in entries]

    def _write(self, entry: Entry) -> Outcome | None:
        pages = self.archive.pages
        if isinstance(entry, ExploreEntry):
            exploration.record(self.archive.db, entry.kind, entry.row, self.run_id)
            if entry.source_row is not None:
                self.archive.save_sources([entry.source_row])
            return None
        if isinstance(entry, FailureEntry):
            pages.log_failure(url=entry.url, source=entry.source, role=entry.role,
                              outcome=entry.outcome, reason=entry.reason,
                              retries=entry.retries, run_id=self.run_id)
            result = PageResult.SKIPPED if entry.outcome == FetchOutcome.SKIPPED \
                else PageResult.ERROR
            return Outcome(entry.outcome, result, entry.reason)
        cap, error = entry.capture, entry.error
        if entry.derived is not None:
            mark = self.archive.index.mark()
            try:
                with self.archive.db.atomic():  # a savepoint: this page, whole or not at all
                    return pages.commit(cap, entry.derived, self.run_id,
                                        is_listing=entry.is_listing, note=entry.note)
            except Exception as exc:
                self.archive.index.drop(mark)
                logger.exception("could not archive %s", cap.url)
                error = f"{type(exc).__name__}: {exc}"
        reason = f"archive error: {error}"[:500]
        pages.log_failure(url=cap.url, source=cap.source, role=cap.role,
                          outcome=FetchOutcome.ERROR, reason=reason, status=cap.status,
                          run_id=self.run_id)
        return Outcome(FetchOutcome.ERROR, PageResult.ERROR, reason)

    def rederive_batch(self, results: Iterable[Rederived]) -> list[PageResult]:
        """Store reports derived again from their captures (`reextract`), in one transaction:
        the same report writes as a crawl, except that last_seen stays (nothing was fetched)."""
        out: list[PageResult] = []
        db, index = self.archive.db, self.archive.index
        with db.atomic():
            index.defer()
            try:
                for r in results:
                    out.append(self._rederive(r))
            finally:
                index.flush()
        return out

    def _rederive(self, r: Rederived) -> PageResult:
        ex = r.derived.extraction
        if r.derived.problem is None and ex is not None and ex.kind == "report":
            return self.archive.pages.save_report(r.url, r.source, r.fetched_at, r.capture_id,
                                                  ex, seen=False, index=r.derived.index)
        known = self.archive.db.execute("SELECT 1 FROM reports WHERE capture_id = ?",
                                        [r.capture_id]).fetchone()
        if known:
            why = r.derived.problem.reason if r.derived.problem else ex.reason if ex else "?"
            logger.warning("%s no longer classifies as a report: %s", r.url, why)
            return PageResult.NO_LONGER_REPORT
        return PageResult.NOT_REPORT


def write_batch(archive: Archive, entries: Sequence[Entry],
                run_id: int | None = None) -> list[Outcome | None]:
    """`Ingest(archive, run_id).write_batch(entries)`."""
    return Ingest(archive, run_id).write_batch(entries)


def serve(db_path: str, run_id: int | None, inbox: Any, outbox: Any, parent_pid: int) -> None:
    """A writer process: batches of entries from `inbox` (a multiprocessing queue; None ends),
    each batch's outcomes to `outbox`, in order. It runs the SQLite and search-index work in a
    process of its own, so none of it takes the crawl process's CPU or its GIL."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    exit_with_parent(parent_pid)
    archive = Archive(db_path)
    ingest = Ingest(archive, run_id)
    try:
        while (batch := inbox.get()) is not None:
            outbox.put(ingest.write_batch(batch))
    finally:
        archive.close()
        outbox.put(("cpu", time.process_time()))  # the last message: this process's CPU seconds
