"""Page writes: a response's capture, payload and log line, and the report, version and search
entry derived from it — together, inside the caller's transaction (see `archive.ingest`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from archive.analysis_store import save_analysis
from archive.constants import FetchOutcome, PageResult, utcnow
from archive.derive import Derived
from archive.divisions import resolve
from archive.extract import EXTRACTOR_VERSION, Extraction
from archive.fts import IndexForm, SearchIndex
from archive.issuer import attribute
from archive.ledger import deadline_status
from archive.sources_table import SourcesTable
from archive.urls import canonical_url


@dataclass(slots=True)
class Capture:
    """One HTTP response as received, with the crawl context it was fetched in."""

    url: str
    source: str
    role: str                     # start | listing | detail
    status: int
    headers: dict[str, str]
    body: bytes
    region: str | None = None
    fetched_at: str = field(default_factory=utcnow)
    retries: int = 0
    request_url: str | None = None
    # files: the link that led here (archive.attachments); a page that links files: {"files":
    # [[url, link], …]}, so a re-crawl revalidates them when the page answers 304
    link: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str                  # a FetchOutcome: ok | not_modified | http_error | …
    result: str                   # a PageResult: report_new | report_changed | not_report | …
    reason: str
    capture_id: int | None = None


class PageWriter:
    """The per-page writes. Every method runs inside the caller's transaction."""

    def __init__(self, db: sqlite_utils.Database, sources: SourcesTable,
                 index: SearchIndex) -> None:
        self.db = db
        self.sources = sources
        self.index = index

    def _store_capture(self, cap: Capture, run_id: int | None, kind: str,
                       sha: str | None) -> int:
        if sha:
            self.db.execute(
                "INSERT OR IGNORE INTO payloads (sha256, size, body) VALUES (?, ?, ?)",
                [sha, len(cap.body), cap.body],
            )
        return self._insert("captures", {
            "url": cap.url, "canonical_url": canonical_url(cap.url),
            "request_url": cap.request_url or cap.url, "source": cap.source, "role": cap.role,
            "status": cap.status, "headers": json.dumps(cap.headers, ensure_ascii=False),
            "sha256": sha, "size": len(cap.body), "fetched_at": cap.fetched_at, "run_id": run_id,
            "kind": kind, "link": json.dumps(cap.link, ensure_ascii=False) if cap.link else None,
        })

    # The per-page writes use plain INSERT/UPDATE statements: sqlite-utils' insert() and update()
    # check the table, open a savepoint and look the row up again on every call, which was a third
    # of the writer thread's time (py-spy) — time it held the GIL the crawl's event loop needs.
    def _insert(self, table: str, row: Mapping[str, Any]) -> int:
        cols = ", ".join(f"[{c}]" for c in row)
        marks = ", ".join("?" * len(row))
        cur = self.db.execute(f"INSERT INTO [{table}] ({cols}) VALUES ({marks})",
                              list(row.values()))
        return int(cur.lastrowid or 0)

    def _update_report(self, url: str, row: Mapping[str, Any]) -> None:
        sets = ", ".join(f"[{c}] = ?" for c in row)
        self.db.execute(f"UPDATE reports SET {sets} WHERE url = ?", [*row.values(), url])

    def _log(self, *, url: str, source: str, role: str, outcome: str, result: str, reason: str,
             status: int | None, retries: int, capture_id: int | None, run_id: int | None,
             fetched_at: str | None = None) -> None:
        self._insert("fetch_log", {
            "fetched_at": fetched_at or utcnow(), "run_id": run_id, "source": source, "url": url,
            "role": role, "outcome": outcome, "status": status, "result": result,
            "reason": reason, "retries": retries, "capture_id": capture_id,
        })

    def commit(self, cap: Capture, derived: Derived, run_id: int | None = None, *,
               is_listing: bool = False, note: str | None = None) -> Outcome:
        """Store a response and what was derived from it. Call inside `db.atomic()`: a page's
        capture, report, version, index entry and log line commit together or not at all."""
        capture_id = self._store_capture(cap, run_id, "listing" if is_listing else "page",
                                         derived.sha256)
        if derived.problem is not None:
            p = derived.problem
            result = Outcome(p.outcome, p.result, p.reason, capture_id)
        else:
            result = self._outcome(cap, capture_id, is_listing, derived.extraction,
                                   derived.index)
            if note and result.result == PageResult.LISTING:
                result = Outcome(result.outcome, result.result, note, capture_id)
        self._log(url=cap.url, source=cap.source, role=cap.role, outcome=result.outcome,
                  result=result.result, reason=result.reason, status=cap.status,
                  retries=cap.retries, capture_id=capture_id, run_id=run_id,
                  fetched_at=cap.fetched_at)
        return result

    def _outcome(self, cap: Capture, capture_id: int, is_listing: bool,
                 ex: Extraction | None, index: IndexForm | None = None) -> Outcome:
        if cap.status == 304:
            url = canonical_url(cap.url)
            hit = self.db.execute("UPDATE reports SET last_seen = ? WHERE url = ?",
                                  [cap.fetched_at, url]).rowcount
            result = PageResult.REPORT_UNCHANGED if hit else PageResult.UNCHANGED
            return Outcome(FetchOutcome.NOT_MODIFIED, result, "304 Not Modified", capture_id)
        if not 200 <= cap.status < 300:
            location = {k.lower(): v for k, v in cap.headers.items()}.get("location")
            reason = f"HTTP {cap.status}" + (f": redirect to {location[:200]} not followed"
                                             if location else "")
            return Outcome(FetchOutcome.HTTP_ERROR, PageResult.ERROR, reason, capture_id)
        if is_listing:
            return Outcome(FetchOutcome.OK, PageResult.LISTING, "listing page", capture_id)
        assert ex is not None
        if ex.kind != "report":
            result = PageResult(ex.kind) if ex.kind in ("empty", "rejected") \
                else PageResult.NOT_REPORT
            return Outcome(FetchOutcome.OK, result, ex.reason, capture_id)
        result = self.save_report(cap.url, cap.source, cap.fetched_at, capture_id, ex,
                                  region=cap.region, index=index)
        return Outcome(FetchOutcome.OK, result, ex.reason, capture_id)

    def save_report(self, url: str, source: str, fetched_at: str, capture_id: int,
                    ex: Extraction, *, region: str | None = None, seen: bool = True,
                    index: IndexForm | None = None) -> PageResult:
        """Insert or update the report and its versions: report_new, _changed or _unchanged.

        `seen` is False when re-deriving from an old capture: last_seen then stays as it is.
        """
        url = canonical_url(url)
        ctx = self.sources.source_info(source)
        reg_region, reg_adcode = ctx.region, ctx.adcode
        adcode = reg_adcode or ex.adcode
        provenance = dict(ex.provenance)
        if reg_adcode:
            provenance["adcode"] = "registry"
        issuer = attribute(ex.title, ex.text, replace(ctx, site_id_code=ex.site_id_code),
                           ex.report_year, ex.publisher)
        if issuer is not None:
            adcode = issuer.adcode
            provenance["issuer"] = issuer.source
            provenance["adcode"] = f"issuer ({issuer.source})"
        division = resolve(adcode)
        row = {
            "url": url, "source": source, "region": reg_region or region, "title": ex.title,
            "report_year": ex.report_year, "year_inferred": int(ex.year_inferred),
            "published": ex.published, "written": ex.written, "publisher": ex.publisher,
            "index_no": ex.index_no, "doc_no": ex.doc_no, "site_id_code": ex.site_id_code,
            "icp": ex.icp, "adcode": adcode,
            "province": division.province if division else None,
            "city": division.city if division else None,
            "county": division.county if division else None,
            "text": ex.text, "content_hash": ex.content_hash, "capture_id": capture_id,
            "extractor_version": EXTRACTOR_VERSION, "quality": ex.quality,
            "quality_reason": ex.quality_reason, "format": ex.format,
            "linked_from": ex.linked_from, "confidence": ex.confidence,
            "provenance": json.dumps(provenance, ensure_ascii=False, sort_keys=True),
            "issuer": issuer.name if issuer else None,
            "issuer_id": issuer.body_id if issuer else None,
            "issuer_adcode": issuer.adcode if issuer else None,
            "issuer_level": issuer.level if issuer else None,
        }
        save_analysis(self.db, url, ex.text, ex.content_hash, ex.analysis)  # #18, if changed
        old = self.db.execute("SELECT content_hash, title, text, first_seen, rowid FROM reports "
                              "WHERE url = ?", [url]).fetchone()
        row["deadline_status"], row["days_late"], _ = deadline_status(
            ex.report_year, ex.published, old[3] if old else fetched_at)
        self.db.execute(
            "INSERT OR IGNORE INTO report_versions (url, content_hash, title, text, fetched_at, "
            "capture_id, extractor_version, derived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [url, ex.content_hash, ex.title, ex.text, fetched_at, capture_id, EXTRACTOR_VERSION,
             utcnow()],
        )
        # The search entry is written from what is in hand (the row's id, this title and text),
        # not read back from `reports`: reading a report's text back cost a lookup per page.
        if old is None:
            rowid = self._insert("reports", {**row, "first_seen": fetched_at,
                                             "last_seen": fetched_at, "changed_at": fetched_at})
            self.index.add(rowid, ex.title, ex.text, index=index)
            return PageResult.REPORT_NEW
        if seen:
            row["last_seen"] = fetched_at
        if old[0] == ex.content_hash:
            self._update_report(url, row)
            if old[1] != ex.title:
                self.index.add(old[4], ex.title, ex.text, index=index, old=(old[1], old[2]))
            return PageResult.REPORT_UNCHANGED
        self._update_report(url, {**row, "changed_at": utcnow() if not seen else fetched_at})
        self.index.add(old[4], ex.title, ex.text, index=index, old=(old[1], old[2]))
        return PageResult.REPORT_CHANGED

    def log_failure(self, *, url: str, source: str, role: str, outcome: str, reason: str,
                    status: int | None = None, retries: int = 0,
                    run_id: int | None = None) -> None:
        """A request that produced no response worth keeping (network error, skipped). Inside the
        caller's transaction."""
        self._log(url=url, source=source, role=role, outcome=outcome,
                  result=PageResult.SKIPPED if outcome == FetchOutcome.SKIPPED
                  else PageResult.ERROR, reason=reason, status=status, retries=retries,
                  capture_id=None, run_id=run_id)
