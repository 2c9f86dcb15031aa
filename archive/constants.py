"""The archive's shared constants, in one place: the timestamp form, the default archive path, the
exit statuses of a crawl, and the outcomes stored in `fetch_log` (as str-valued enums, so the
stored strings are the enum values)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum

# Every stored timestamp (captures.fetched_at, crawl_runs.started_at, …): UTC, second precision.
# It is also WARC 1.0's WARC-Date form (archive.warc).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DEFAULT_DB = "data/archive.db"

# Exit statuses of a crawl (and of `python -m archive health`).
EXIT_UNHEALTHY = 3   # some source of the run is blocked, failing or changed shape
EX_TEMPFAIL = 75     # sysexits.h "try again later": another crawl holds the archive


def utcnow() -> str:
    return datetime.now(UTC).strftime(TIMESTAMP_FORMAT)


def default_db() -> str:
    """The archive path: $ARCHIVE_DB, else data/archive.db."""
    return os.environ.get("ARCHIVE_DB", DEFAULT_DB)


class FetchOutcome(StrEnum):
    """`fetch_log.outcome`: what happened to the request."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    HTTP_ERROR = "http_error"
    NETWORK_ERROR = "network_error"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    ERROR = "error"            # the response could not be archived (recorded with the reason)


class PageResult(StrEnum):
    """`fetch_log.result`: what the archive made of the response."""

    REPORT_NEW = "report_new"
    REPORT_CHANGED = "report_changed"
    REPORT_UNCHANGED = "report_unchanged"
    UNCHANGED = "unchanged"            # 304 for a page that is not an archived report
    NOT_REPORT = "not_report"
    EMPTY = "empty"
    REJECTED = "rejected"
    SOFT_404 = "soft_404"
    BLOCKED = "blocked"
    LISTING = "listing"
    ERROR = "error"
    SKIPPED = "skipped"
    NO_LONGER_REPORT = "no_longer_report"  # reextract: an archived report the cleaner now rejects


class RunStatus(StrEnum):
    """`crawl_runs.status`."""

    RUNNING = "running"
    FINISHED = "finished"
    DIED = "died"
