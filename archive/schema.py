"""The archive's schema and its migrations (`PRAGMA user_version`).

Each migration is additive: columns and tables are added, never dropped, so an archive written by
any earlier version opens and keeps every capture.
"""

from __future__ import annotations

import sqlite_utils

from archive.analysis_store import ensure_schema as ensure_analysis_schema
from archive.fts import rebuild_search_index
from archive.ledger import ensure_ledger_schema

SCHEMA_VERSION = 10


def migrate(db: sqlite_utils.Database) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        _ensure_file_columns(db)
        return
    with db.atomic():
        if version < 1:
            _create_v1(db)
        if version < 2:
            _migrate_v2(db)
        if version < 3:
            _migrate_v3(db)
        if version < 4:
            _migrate_v4(db)
        if version < 5:
            _migrate_v5(db)
        if version < 8:
            _migrate_v8(db)
        if version < 9:
            # v6 contentless; v7 run breaks in the index; v9 the ascii tokenizer
            rebuild_search_index(db)
        if version < 10:
            _migrate_v10(db)
        _ensure_file_columns(db)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _ensure_file_columns(db: sqlite_utils.Database) -> None:
    """#15, reports as files: the format, the linking page and the OCR confidence of a
    report; the link a capture was found by (so re-derivation needs no crawl). Additive and
    idempotent, whatever the schema version."""
    if "format" not in db["reports"].columns_dict:
        with db.atomic():
            for name, type_ in (("format", str), ("linked_from", str), ("confidence", float)):
                db["reports"].add_column(name, type_)
            db.execute("UPDATE reports SET format = 'html' WHERE format IS NULL")
    if "link" not in db["captures"].columns_dict:
        db["captures"].add_column("link", str)


def _create_v1(db: sqlite_utils.Database) -> None:
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


def _migrate_v2(db: sqlite_utils.Database) -> None:
    """#3: division names, inferred-year flag, quality; capture kind; version stamps."""
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


def _migrate_v3(db: sqlite_utils.Database) -> None:
    """#4: the Chinese search index (rebuilt contentless in v6)."""


def _migrate_v4(db: sqlite_utils.Database) -> None:
    """#5: a fuller per-run record."""
    for name, type_ in (("pages_fetched", int), ("reports_new", int), ("reports_changed", int),
                        ("reports_unchanged", int), ("outcomes", str), ("exit_status", int),
                        ("unhealthy", str)):
        if name not in db["crawl_runs"].columns_dict:
            db["crawl_runs"].add_column(name, type_)


def _migrate_v5(db: sqlite_utils.Database) -> None:
    """#6: the registry as a table keyed by division: province/city/county and evidence."""
    for name in ("province", "city", "county", "evidence"):
        if name not in db["sources"].columns_dict:
            db["sources"].add_column(name, str)


def _migrate_v8(db: sqlite_utils.Database) -> None:
    """#8: which process ran a run (to tell a dead run), per-source run records, health."""
    for name, type_ in (("pid", int), ("host", str), ("mode", str)):
        if name not in db["crawl_runs"].columns_dict:
            db["crawl_runs"].add_column(name, type_)
    db["run_sources"].create(
        {"run_id": int, "source": str, "requests": int, "ok": int, "not_modified": int,
         "blocked": int, "http_error": int, "network_error": int, "skipped": int,
         "error": int, "soft_404": int, "listing_pages": int, "listing_items": int,
         "reports_new": int, "reports_changed": int, "reports_unchanged": int,
         "succeeded": int},
        pk=("run_id", "source"), if_not_exists=True)
    db["run_sources"].create_index(["source", "run_id"], if_not_exists=True)
    db["source_health"].create(
        {"source": str, "status": str, "summary": str, "problems": str,
         "last_attempt": str, "last_success": str, "consecutive_failures": int,
         "blocked": int, "listing_items": int, "listing_items_before": int,
         "shape_changed": int, "latest_report_year": int, "due_year": int, "overdue": int,
         "last_run_id": int, "computed_at": str},
        pk="source", if_not_exists=True)


def _migrate_v10(db: sqlite_utils.Database) -> None:
    """#10 (the ledger): raw bytes move to `payloads`; `bodies` becomes everyone obliged to
    report; reports gain their issuer, copies and deadline status; the `ledger` table."""
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


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Migrate to the current version, then the side tables every archive has."""
    migrate(db)
    ensure_analysis_schema(db)  # #18: report_sections, report_facts, report_parts
