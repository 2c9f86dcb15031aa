"""The archive: one SQLite file, written through sqlite-utils.

Tables: `captures` (every response, raw bytes by sha256 in `payloads`), `fetch_log` (every
request's outcome), `reports` (latest clean record per canonical URL, attributed to its issuer),
`report_versions` (every distinct text a report has had), `sources` (the registry as crawled),
`crawl_runs`, and the ledger's `bodies` (everyone obliged to report) and `ledger` (archive.ledger).
Nothing is overwritten or deleted; each page is stored in one transaction.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from archive import ledger
from archive.analysis_store import ensure_schema as ensure_analysis_schema
from archive.analysis_store import save_analysis
from archive.derive import Derived, derive
from archive.divisions import resolve
from archive.extract import EXTRACTOR_VERSION, Extraction
from archive.issuer import Context, attribute, normalise_zone
from archive.ledger import deadline_status, ensure_ledger_schema
from archive.search import index_form
from archive.urls import canonical_url

SCHEMA_VERSION = 10
DEFAULT_DB = "data/archive.db"

# Fetch outcomes (the `outcome` column): what happened to the request.
OK, NOT_MODIFIED, HTTP_ERROR, NETWORK_ERROR, SKIPPED, BLOCKED = (
    "ok", "not_modified", "http_error", "network_error", "skipped", "blocked",
)


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    outcome: str                  # ok | not_modified | http_error | …
    result: str                   # report_new | report_changed | report_unchanged | not_report | …
    reason: str
    capture_id: int | None = None


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
        if self.path != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._sources: dict[str, Context] = {}
        self._zone_map: dict[str, str] | None = None
        # Search-index writes held back until the end of a write batch (see `deferred_index`).
        self._index_ops: list[tuple[str, list[Any]]] | None = None
        self.migrate()
        ensure_analysis_schema(self.db)  # #18: report_sections, report_facts, report_parts

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            self._ensure_file_columns()
            return
        with self.db.atomic():
            if version < 1:
                self._create_v1()
            if version < 2:
                self._migrate_v2()
            if version < 3:
                self._migrate_v3()
            if version < 4:
                self._migrate_v4()
            if version < 5:
                self._migrate_v5()
            if version < 8:
                self._migrate_v8()
            if version < 9:
                # v6 contentless; v7 run breaks in the index; v9 the ascii tokenizer
                self.rebuild_search_index()
            if version < 10:
                self._migrate_v10()
            self._ensure_file_columns()
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _ensure_file_columns(self) -> None:
        """#15, reports as files: the format, the linking page and the OCR confidence of a
        report; the link a capture was found by (so re-derivation needs no crawl). Additive and
        idempotent, whatever the schema version."""
        if "format" not in self.db["reports"].columns_dict:
            with self.db.atomic():
                for name, type_ in (("format", str), ("linked_from", str), ("confidence", float)):
                    self.db["reports"].add_column(name, type_)
                self.db.execute("UPDATE reports SET format = 'html' WHERE format IS NULL")
        if "link" not in self.db["captures"].columns_dict:
            self.db["captures"].add_column("link", str)

    def _create_v1(self) -> None:
        db = self.db
        db["payloads"].create({"sha256": str, "size": int, "body": bytes}, pk="sha256",
                              if_not_exists=True)
        db["captures"].create(
            {"id": int, "url": str, "canonical_url": str, "request_url": str, "source": str,
             "role": str, "status": int, "headers": str, "sha256": str, "size": int,
             "fetched_at": str, "run_id": int},
            pk="id", if_not_exists=True,
        )
        db["fetch_log"].create(
            {"id": int, "fetched_at": str, "run_id": int, "source": str, "url": str, "role": str,
             "outcome": str, "status": int, "result": str, "reason": str, "retries": int,
             "capture_id": int},
            pk="id", if_not_exists=True,
        )
        db["reports"].create(
            {"url": str, "source": str, "region": str, "title": str, "report_year": int,
             "published": str, "written": str, "publisher": str, "index_no": str, "doc_no": str,
             "site_id_code": str, "icp": str, "text": str, "content_hash": str,
             "first_seen": str, "last_seen": str, "changed_at": str, "capture_id": int,
             "extractor_version": str, "provenance": str},
            pk="url", not_null={"source", "title", "text", "content_hash"}, if_not_exists=True,
        )
        db["report_versions"].create(
            {"id": int, "url": str, "content_hash": str, "title": str, "text": str,
             "fetched_at": str, "capture_id": int},
            pk="id", if_not_exists=True,
        )
        db["sources"].create(
            {"name": str, "region": str, "adcode": str, "level": str, "cms": str,
             "start_urls": str, "hosts": str, "updated_at": str},
            pk="name", if_not_exists=True,
        )
        db["crawl_runs"].create(
            {"id": int, "started_at": str, "finished_at": str, "sources": str, "status": str,
             "stats": str},
            pk="id", if_not_exists=True,
        )
        db["captures"].create_index(["canonical_url", "id"], if_not_exists=True)
        db["fetch_log"].create_index(["source", "outcome"], if_not_exists=True)
        db["fetch_log"].create_index(["url"], if_not_exists=True)
        db["report_versions"].create_index(["url", "content_hash"], unique=True,
                                           if_not_exists=True)
        db["reports"].create_index(["source", "report_year"], if_not_exists=True)

    def _migrate_v2(self) -> None:
        """#3: division names, inferred-year flag, quality; capture kind; version stamps."""
        db = self.db
        for name, type_ in (("adcode", str), ("province", str), ("city", str), ("county", str),
                            ("year_inferred", int), ("quality", str), ("quality_reason", str)):
            if name not in db["reports"].columns_dict:
                db["reports"].add_column(name, type_)
        for name in ("extractor_version", "derived_at"):
            if name not in db["report_versions"].columns_dict:
                db["report_versions"].add_column(name, str)
        if "kind" not in db["captures"].columns_dict:
            db["captures"].add_column("kind", str)
            db.execute(
                "UPDATE captures SET kind = CASE WHEN id IN (SELECT capture_id FROM fetch_log "
                "WHERE result = 'listing') THEN 'listing' ELSE 'page' END")
        db["captures"].create_index(["kind", "status", "canonical_url"], if_not_exists=True)

    def _migrate_v3(self) -> None:
        """#4: the Chinese search index (rebuilt contentless in v6)."""

    def rebuild_search_index(self) -> None:
        """(Re)create the search index from `reports`. Contentless (#7): it stores no copy of the
        indexed pairs, only what MATCH needs, which roughly halves the archive's size.

        Tokenizer `ascii`: the indexed text is already tokens (lower-cased character pairs of
        [0-9a-z] and CJK, space-separated), which `ascii` splits exactly as `unicode61` does — every
        non-ASCII character is a token character — at two thirds of the CPU (measured)."""
        self.db.execute("DROP TABLE IF EXISTS reports_search")
        self.db.execute(
            "CREATE VIRTUAL TABLE reports_search USING fts5("
            "uni, bi, content = '', tokenize = 'ascii')")
        for rowid, title, text in self.db.execute(
                "SELECT rowid, title, text FROM reports").fetchall():
            self._index(rowid, title, text)

    def _migrate_v4(self) -> None:
        """#5: a fuller per-run record."""
        for name, type_ in (("pages_fetched", int), ("reports_new", int), ("reports_changed", int),
                            ("reports_unchanged", int), ("outcomes", str), ("exit_status", int),
                            ("unhealthy", str)):
            if name not in self.db["crawl_runs"].columns_dict:
                self.db["crawl_runs"].add_column(name, type_)

    def _migrate_v5(self) -> None:
        """#6: the registry as a table keyed by division: province/city/county and evidence."""
        for name in ("province", "city", "county", "evidence"):
            if name not in self.db["sources"].columns_dict:
                self.db["sources"].add_column(name, str)

    def _migrate_v8(self) -> None:
        """#8: which process ran a run (to tell a dead run), per-source run records, health."""
        for name, type_ in (("pid", int), ("host", str), ("mode", str)):
            if name not in self.db["crawl_runs"].columns_dict:
                self.db["crawl_runs"].add_column(name, type_)
        self.db["run_sources"].create(
            {"run_id": int, "source": str, "requests": int, "ok": int, "not_modified": int,
             "blocked": int, "http_error": int, "network_error": int, "skipped": int,
             "error": int, "soft_404": int, "listing_pages": int, "listing_items": int,
             "reports_new": int, "reports_changed": int, "reports_unchanged": int,
             "succeeded": int},
            pk=("run_id", "source"), if_not_exists=True)
        self.db["run_sources"].create_index(["source", "run_id"], if_not_exists=True)
        self.db["source_health"].create(
            {"source": str, "status": str, "summary": str, "problems": str,
             "last_attempt": str, "last_success": str, "consecutive_failures": int,
             "blocked": int, "listing_items": int, "listing_items_before": int,
             "shape_changed": int, "latest_report_year": int, "due_year": int, "overdue": int,
             "last_run_id": int, "computed_at": str},
            pk="source", if_not_exists=True)

    def _migrate_v10(self) -> None:
        """#10 (the ledger): raw bytes move to `payloads`; `bodies` becomes everyone obliged to
        report; reports gain their issuer, copies and deadline status; the `ledger` table."""
        db = self.db
        names = set(db.table_names())
        if "payloads" not in names and "bodies" in names and "body" in db["bodies"].columns_dict:
            db.execute("ALTER TABLE bodies RENAME TO payloads")
        elif "payloads" in names and "bodies" in names and "body" in db["bodies"].columns_dict:
            db.execute("INSERT OR IGNORE INTO payloads SELECT sha256, size, body FROM bodies")
            db.execute("DROP TABLE bodies")
        for name, type_ in (("issuer", str), ("issuer_id", str), ("issuer_adcode", str),
                            ("issuer_level", str), ("copy_of", str), ("deadline_status", str),
                            ("days_late", int)):
            if name not in db["reports"].columns_dict:
                db["reports"].add_column(name, type_)
        db["reports"].create_index(["issuer_id", "report_year"], if_not_exists=True)
        ensure_ledger_schema(db)

    def _index(self, rowid: int, title: str | None, text: str | None,
               index: tuple[str, str] | None = None,
               old: tuple[str | None, str | None] | None = None) -> None:
        """Index a report; `old` (title, text) removes its previous entry first. A contentless
        FTS5 table deletes by re-tokenising exactly what was inserted."""
        if old is not None:
            old_uni, old_bi = index_form(f"{old[0] or ''}\n{old[1] or ''}")
            self._index_op("INSERT INTO reports_search (reports_search, rowid, uni, bi) "
                           "VALUES ('delete', ?, ?, ?)", [rowid, old_uni, old_bi])
        uni, bi = index or index_form(f"{title or ''}\n{text or ''}")
        self._index_op("INSERT INTO reports_search (rowid, uni, bi) VALUES (?, ?, ?)",
                       [rowid, uni, bi])

    def _index_op(self, sql: str, params: list[Any]) -> None:
        if self._index_ops is None:
            self.db.execute(sql, params)
        else:
            self._index_ops.append((sql, params))

    # FTS5 flushes its pending terms to a new index segment at every SAVEPOINT, and a batch
    # opens several per page (its own, sqlite-utils' inserts): indexing page by page wrote ~one
    # segment per page and cost more than every other write together. Inside a batch the index
    # writes wait, in order, and go in at the end of the batch's transaction.
    def begin_deferred_index(self) -> None:
        """Hold search-index writes until `flush_index()` (call inside the batch transaction)."""
        self._index_ops = []

    def index_mark(self) -> int:
        return len(self._index_ops) if self._index_ops is not None else 0

    def drop_index_ops(self, mark: int) -> None:
        """Forget the index writes of a page whose savepoint was rolled back."""
        if self._index_ops is not None:
            del self._index_ops[mark:]

    def flush_index(self) -> None:
        ops, self._index_ops = self._index_ops, None
        for sql, params in ops or ():
            self.db.execute(sql, params)

    def _reindex(self, url: str, index: tuple[str, str] | None = None,
                 old: tuple[str | None, str | None] | None = None) -> None:
        row = self.db.execute("SELECT rowid, title, text FROM reports WHERE url = ?",
                              [url]).fetchone()
        if row:
            self._index(*row, index=index, old=old)

    def close(self) -> None:
        self.db.close()

    # -- runs and registry ----------------------------------------------------------------
    def start_run(self, sources: Iterable[str], *, mode: str = "single") -> int:
        with self.db.atomic():
            table = self.db["crawl_runs"]
            table.insert({"started_at": utcnow(), "sources": json.dumps(list(sources)),
                          "status": "running", "pid": os.getpid(),
                          "host": socket.gethostname(), "mode": mode})
            return int(table.last_pk)

    def mark_dead_runs(self) -> list[int]:
        """Close runs left 'running' by a process that died (SIGKILL, power loss, OOM): call
        only while holding the crawl lock, when no other run can be live."""
        with self.db.atomic():
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM crawl_runs WHERE status = 'running'").fetchall()]
            for run_id in ids:
                self.db["crawl_runs"].update(run_id, {
                    "status": "died", "exit_status": -1,
                    "unhealthy": json.dumps({"(run)": "the crawl process ended without closing "
                                             f"its run; noticed {utcnow()}"})})
            return ids

    def save_run_sources(self, run_id: int, rows: Iterable[Mapping[str, Any]]) -> None:
        with self.db.atomic():
            self.db["run_sources"].upsert_all(
                [{"run_id": run_id, **row} for row in rows], pk=("run_id", "source"), alter=True)

    def finish_run(self, run_id: int, status: str, stats: Mapping[str, Any], *,
                   exit_status: int = 0, unhealthy: Mapping[str, str] | None = None) -> None:
        """Close a run: outcome counts, report counts and the exit status the crawl returns."""
        outcomes = {k: v for k, v in stats.items()
                    if k in (OK, NOT_MODIFIED, HTTP_ERROR, NETWORK_ERROR, SKIPPED, BLOCKED)}
        with self.db.atomic():
            self.db["crawl_runs"].update(run_id, {
                "finished_at": utcnow(), "status": status,
                "stats": json.dumps(dict(stats), ensure_ascii=False, default=str),
                "pages_fetched": sum(v for k, v in outcomes.items() if k not in (SKIPPED,)),
                "reports_new": stats.get("report_new", 0),
                "reports_changed": stats.get("report_changed", 0),
                "reports_unchanged": stats.get("report_unchanged", 0),
                "outcomes": json.dumps(outcomes, ensure_ascii=False),
                "exit_status": exit_status,
                "unhealthy": json.dumps(dict(unhealthy or {}), ensure_ascii=False),
            })

    def refresh_ledger(self, as_of: str | date | None = None) -> dict[str, int]:
        """Copies, `bodies` and the `ledger` at `as_of` (a date or YYYY-MM-DD; None = today)."""
        when = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        return ledger.refresh(self.db, when)

    def source_info(self, name: str) -> Context:
        """What the registry says about a source (region, adcode, level, body), as last saved."""
        if name not in self._sources:
            body = ", body" if "body" in self.db["sources"].columns_dict else ", NULL"
            row = self.db.execute(f"SELECT region, adcode, level{body} FROM sources "
                                  "WHERE name = ?", [name]).fetchone()
            self._sources[name] = (Context(region=row[0], adcode=row[1], level=row[2],
                                           body=row[3], zones=self._zones())
                                   if row else Context())
        return self._sources[name]

    def _zones(self) -> dict[str, str]:
        """Zones the registry knows (normalised name → host division), shared by all sources."""
        if self._zone_map is None:
            body = "coalesce(body, region)" if "body" in self.db["sources"].columns_dict \
                else "region"
            self._zone_map = {normalise_zone(n): a for n, a in self.db.execute(
                f"SELECT {body}, adcode FROM sources WHERE level = 'zone' AND adcode IS NOT NULL "
                "ORDER BY name").fetchall() if n}
        return self._zone_map

    def save_sources(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._sources.clear()
        self._zone_map = None
        now = utcnow()
        records = []
        for row in rows:
            division = resolve(row.get("adcode"))
            records.append({
                **row,
                "start_urls": json.dumps(list(row.get("start_urls", [])), ensure_ascii=False),
                "hosts": json.dumps(sorted(row.get("hosts", [])), ensure_ascii=False),
                "evidence": json.dumps(list(row.get("evidence", [])), ensure_ascii=False),
                "covers": json.dumps(list(row.get("covers", [])), ensure_ascii=False),
                "province": division.province if division else None,
                "city": division.city if division else None,
                "county": division.county if division else None,
                "updated_at": now,
            })
        with self.db.atomic():
            self.db["sources"].upsert_all(records, pk="name", alter=True)

    # -- revalidation ---------------------------------------------------------------------
    def validators(self, url: str) -> dict[str, str]:
        """ETag / Last-Modified of the last 200 capture of this URL, for a conditional request."""
        row = self.db.execute(
            "SELECT headers FROM captures WHERE canonical_url = ? AND status = 200 "
            "ORDER BY id DESC LIMIT 1",
            [canonical_url(url)],
        ).fetchone()
        if not row:
            return {}
        headers = {k.lower(): v for k, v in json.loads(row[0] or "{}").items()}
        return {k: headers[k] for k in ("etag", "last-modified") if headers.get(k)}

    def linked_files(self, url: str) -> list[tuple[str, dict[str, Any]]]:
        """The files the page `url` linked when it was last fetched in full (a report page's 附件,
        a 详见附件 stub's report), each with its link context — whether or not the files were
        fetched then (a crash or a network error in between loses nothing)."""
        row = self.db.execute(
            "SELECT link FROM captures WHERE canonical_url = ? AND status = 200 "
            "ORDER BY id DESC LIMIT 1", [canonical_url(url)]).fetchone()
        files = json.loads(row[0]).get("files", []) if row and row[0] else []
        return [(file, link) for file, link in files]

    def linked_files_by_page(self) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """`linked_files` of every page at once, keyed by the page's canonical URL (what a
        distributed crawl's writer publishes to its crawlers)."""
        pages: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for page, link in self.db.execute(
                "SELECT canonical_url, link FROM captures WHERE status = 200 AND link LIKE "
                "'{\"files\"%' ORDER BY id").fetchall():
            pages[page] = [(file, context) for file, context in json.loads(link)["files"]]
        return pages

    def days_since_confirmed(self, url: str) -> float | None:
        """Days since this URL last answered 200 or 304, or None if it never did."""
        row = self.db.execute(
            "SELECT julianday('now') - julianday(fetched_at) FROM captures "
            "WHERE canonical_url = ? AND status IN (200, 304) ORDER BY id DESC LIMIT 1",
            [canonical_url(url)]).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    # -- writing --------------------------------------------------------------------------
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

    def ingest(self, cap: Capture, run_id: int | None = None, *, is_listing: bool = False,
               extraction: Extraction | None = None, note: str | None = None) -> Outcome:
        """Derive and store one response, atomically (the in-process path)."""
        derived = derive(cap.body, cap.headers, cap.status, cap.url, is_listing, extraction,
                         cap.link)
        with self.db.atomic():
            return self.commit(cap, derived, run_id, is_listing=is_listing, note=note)

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
            result = self._derive(cap, capture_id, is_listing, derived.extraction, derived.index)
            if note and result.result == "listing":
                result = Outcome(result.outcome, result.result, note, capture_id)
        self._log(url=cap.url, source=cap.source, role=cap.role, outcome=result.outcome,
                  result=result.result, reason=result.reason, status=cap.status,
                  retries=cap.retries, capture_id=capture_id, run_id=run_id,
                  fetched_at=cap.fetched_at)
        return result

    def _derive(self, cap: Capture, capture_id: int, is_listing: bool,
                ex: Extraction | None, index: tuple[str, str] | None = None) -> Outcome:
        if cap.status == 304:
            url = canonical_url(cap.url)
            hit = self.db.execute("UPDATE reports SET last_seen = ? WHERE url = ?",
                                  [cap.fetched_at, url]).rowcount
            result = "report_unchanged" if hit else "unchanged"
            return Outcome(NOT_MODIFIED, result, "304 Not Modified", capture_id)
        if not 200 <= cap.status < 300:
            location = {k.lower(): v for k, v in cap.headers.items()}.get("location")
            reason = f"HTTP {cap.status}" + (f": redirect to {location[:200]} not followed"
                                             if location else "")
            return Outcome(HTTP_ERROR, "error", reason, capture_id)
        if is_listing:
            return Outcome(OK, "listing", "listing page", capture_id)
        assert ex is not None
        if ex.kind != "report":
            result = ex.kind if ex.kind in ("empty", "rejected") else "not_report"
            return Outcome(OK, result, ex.reason, capture_id)
        result = self.save_report(cap.url, cap.source, cap.fetched_at, capture_id, ex,
                                  region=cap.region, index=index)
        return Outcome(OK, result, ex.reason, capture_id)

    def save_report(self, url: str, source: str, fetched_at: str, capture_id: int,
                    ex: Extraction, *, region: str | None = None, seen: bool = True,
                    index: tuple[str, str] | None = None) -> str:
        """Insert or update the report and its versions: report_new, _changed or _unchanged.

        `seen` is False when re-deriving from an old capture: last_seen then stays as it is.
        """
        url = canonical_url(url)
        ctx = self.source_info(source)
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
        old = self.db.execute("SELECT content_hash, title, text, first_seen FROM reports "
                              "WHERE url = ?", [url]).fetchone()
        row["deadline_status"], row["days_late"], _ = deadline_status(
            ex.report_year, ex.published, old[3] if old else fetched_at)
        self.db.execute(
            "INSERT OR IGNORE INTO report_versions (url, content_hash, title, text, fetched_at, "
            "capture_id, extractor_version, derived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [url, ex.content_hash, ex.title, ex.text, fetched_at, capture_id, EXTRACTOR_VERSION,
             utcnow()],
        )
        if old is None:
            self._insert("reports", {**row, "first_seen": fetched_at, "last_seen": fetched_at,
                                     "changed_at": fetched_at})
            self._reindex(url, index)
            return "report_new"
        if seen:
            row["last_seen"] = fetched_at
        if old[0] == ex.content_hash:
            self._update_report(url, row)
            if old[1] != ex.title:
                self._reindex(url, index, old=(old[1], old[2]))
            return "report_unchanged"
        self._update_report(url, {**row, "changed_at": utcnow() if not seen else fetched_at})
        self._reindex(url, index, old=(old[1], old[2]))
        return "report_changed"

    def log_failure(self, *, url: str, source: str, role: str, outcome: str, reason: str,
                    status: int | None = None, retries: int = 0,
                    run_id: int | None = None) -> None:
        """A request that produced no response worth keeping (network error, skipped)."""
        with self.db.atomic():
            self._log(url=url, source=source, role=role, outcome=outcome, result="error"
                      if outcome != SKIPPED else "skipped", reason=reason, status=status,
                      retries=retries, capture_id=None, run_id=run_id)
