"""Revalidation lookups: what a crawl needs to ask a server "has this changed?" and to skip pages
confirmed recently (`ARCHIVE_REVALIDATE_DAYS`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archive.urls import canonical_url

VALIDATOR_HEADERS = ("etag", "last-modified")


def _validators_of(headers_json: str | None) -> dict[str, str]:
    headers = {k.lower(): v for k, v in json.loads(headers_json or "{}").items()}
    return {k: headers[k] for k in VALIDATOR_HEADERS if headers.get(k)}


def validators(db: sqlite_utils.Database, url: str) -> dict[str, str]:
    """ETag / Last-Modified of the last 200 capture of this URL, for a conditional request."""
    row = db.execute("SELECT headers FROM captures WHERE canonical_url = ? AND status = 200 "
                     "ORDER BY id DESC LIMIT 1", [canonical_url(url)]).fetchone()
    return _validators_of(row[0]) if row else {}


def days_since_confirmed(db: sqlite_utils.Database, url: str) -> float | None:
    """Days since this URL last answered 200 or 304, or None if it never did."""
    row = db.execute(
        "SELECT julianday('now') - julianday(fetched_at) FROM captures "
        "WHERE canonical_url = ? AND status IN (200, 304) ORDER BY id DESC LIMIT 1",
        [canonical_url(url)]).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def linked_files(db: sqlite_utils.Database, url: str) -> list[tuple[str, dict[str, Any]]]:
    """The files the page `url` linked when it was last fetched in full (a report page's 附件,
    a 详见附件 stub's report), each with its link context — whether or not the files were
    fetched then (a crash or a network error in between loses nothing)."""
    row = db.execute("SELECT link FROM captures WHERE canonical_url = ? AND status = 200 "
                     "ORDER BY id DESC LIMIT 1", [canonical_url(url)]).fetchone()
    files = json.loads(row[0]).get("files", []) if row and row[0] else []
    return [(file, link) for file, link in files]


def linked_files_by_page(db: sqlite_utils.Database) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """`linked_files` of every page at once, keyed by the page's canonical URL (what a
    distributed crawl's writer publishes to its crawlers)."""
    pages: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for page, link in db.execute(
            "SELECT canonical_url, link FROM captures WHERE status = 200 AND link LIKE "
            "'{\"files\"%' ORDER BY id").fetchall():
        pages[page] = [(file, context) for file, context in json.loads(link)["files"]]
    return pages


@dataclass(frozen=True, slots=True)
class PageValidators:
    url: str                      # canonical URL
    validators: dict[str, str]    # ETag / Last-Modified of its last 200
    confirmed: str                # when it last answered 200 or 304 (TIMESTAMP_FORMAT)


def all_validators(db: sqlite_utils.Database) -> Iterator[PageValidators]:
    """Per archived page (listings excluded): its validators and when it was last confirmed —
    everything `validators` and `days_since_confirmed` answer, for every page at once (what a
    distributed crawl publishes to its crawlers)."""
    rows = db.execute(
        "SELECT c.canonical_url, "
        "(SELECT headers FROM captures h WHERE h.canonical_url = c.canonical_url "
        " AND h.status = 200 ORDER BY h.id DESC LIMIT 1), MAX(c.fetched_at) "
        "FROM captures c WHERE c.kind = 'page' AND c.status IN (200, 304) "
        "GROUP BY c.canonical_url")
    for url, headers, confirmed in rows:
        yield PageValidators(url, _validators_of(headers), confirmed)
