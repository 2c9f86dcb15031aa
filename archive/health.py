"""Per-source health after each run: is every portal still crawlable, and is its report in?

Computed from `run_sources` (one row per source per run) and `reports`; stored in `source_health`
for Datasette and for the crawl's exit status. A run in which a source made no request (all its
pages confirmed recently) says nothing about its health and is skipped.

States, worst first: `blocked` (the last attempt met only WAF/challenge pages), `failing` (the last
attempt got no usable response), `shape_changed` (the source answered, but its listing pages gave
no report links where an earlier run found some: the CMS changed its layout), `overdue` (no report
for year N after April 1 of year N+1), `never_crawled`, `ok`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlite_utils

from archive.constants import utcnow

# States that make a crawl exit non-zero by default. `overdue` is about the publisher (or a column
# not found yet), not the crawl; a monitor can ask for it: `python -m archive health --fail-on`.
DEFAULT_FAIL_ON = ("blocked", "failing", "shape_changed")
STATES = ("blocked", "failing", "shape_changed", "overdue", "never_crawled", "ok")
FAIL_ON_CHOICES = STATES[:-1]  # `ok` is no problem to fail on


def fail_on_states(values: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """States to fail on, from "a,b" or a list; an unknown name is refused with the accepted list
    (a typo would otherwise make a monitor silently never fail)."""
    items = values.split(",") if isinstance(values, str) else list(values)
    states = tuple(dict.fromkeys(s.strip() for s in items if s.strip()))
    unknown = [s for s in states if s not in FAIL_ON_CHOICES]
    if unknown:
        raise ValueError(f"unknown health state(s) {', '.join(map(repr, unknown))}; "
                         f"accepted: {', '.join(FAIL_ON_CHOICES)}")
    return states


def due_year(as_of: date) -> int:
    """The latest report year that must be published by `as_of` (reports are due by April 1)."""
    return as_of.year - 1 if as_of >= date(as_of.year, 4, 1) else as_of.year - 2


@dataclass(slots=True)
class SourceHealth:
    source: str
    status: str = "ok"
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    last_attempt: str | None = None
    last_success: str | None = None
    consecutive_failures: int = 0
    blocked: bool = False
    listing_items: int | None = None
    listing_items_before: int | None = None
    shape_changed: bool = False
    latest_report_year: int | None = None
    due_year: int | None = None
    overdue: bool = False
    last_run_id: int | None = None

    def row(self, computed_at: str) -> dict[str, object]:
        out = asdict(self)
        out["problems"] = json.dumps(self.problems, ensure_ascii=False)
        for flag in ("blocked", "shape_changed", "overdue"):
            out[flag] = int(out[flag])
        return {**out, "computed_at": computed_at}

    def line(self) -> str:
        """One line for cron mail or a monitor."""
        return f"{self.source}: {self.status} — {self.summary}"


def _runs(db: sqlite_utils.Database, source: str) -> list[dict[str, Any]]:
    """The source's attempted runs, latest first."""
    return list(db.query(
        "SELECT rs.*, cr.started_at FROM run_sources rs JOIN crawl_runs cr ON cr.id = rs.run_id "
        "WHERE rs.source = ? AND rs.requests > 0 ORDER BY rs.run_id DESC", [source]))


def source_health(db: sqlite_utils.Database, source: str, as_of: date) -> SourceHealth:
    h = SourceHealth(source, due_year=due_year(as_of))
    runs = _runs(db, source)
    years = {r[0] for r in db.execute(
        "SELECT DISTINCT report_year FROM reports WHERE source = ? AND report_year IS NOT NULL",
        [source]).fetchall()}
    h.latest_report_year = max(years) if years else None
    h.overdue = h.due_year not in years
    if runs:
        last = runs[0]
        h.last_attempt, h.last_run_id = str(last["started_at"]), int(last["run_id"])
        for run in runs:
            if run["succeeded"]:
                h.last_success = str(run["started_at"])
                break
            h.consecutive_failures += 1
        h.blocked = bool(not last["succeeded"] and last["blocked"])
        # Links found on listing pages: a source whose listings used to give report links and
        # now answer with none has changed its layout (or column). A failed run says nothing.
        h.listing_items = int(last["listing_items"] or 0)
        before = [int(r["listing_items"] or 0) for r in runs[1:]]
        h.listing_items_before = max(before) if before else None
        h.shape_changed = bool(last["succeeded"] and h.listing_items == 0
                               and h.listing_items_before)
    _judge(h, runs[0] if runs else None)
    return h


def _judge(h: SourceHealth, last: dict[str, Any] | None) -> None:
    since = f"last success {h.last_success[:10]}" if h.last_success else "never succeeded"
    if last is None:
        h.problems.append("never_crawled")
    else:
        if h.blocked:
            h.problems.append("blocked")
        elif h.consecutive_failures:
            h.problems.append("failing")
        if h.shape_changed:
            h.problems.append("shape_changed")
    if h.overdue:
        h.problems.append("overdue")
    h.status = next((s for s in STATES if s in h.problems), "ok")
    parts = []
    if last is not None and (h.blocked or h.consecutive_failures):
        kinds = ", ".join(f"{k}={last[k]}" for k in ("blocked", "http_error", "network_error",
                                                      "skipped", "error", "soft_404") if last[k])
        parts.append(f"{'blocked (WAF/challenge)' if h.blocked else 'no usable response'} in "
                     f"{h.consecutive_failures} consecutive run(s) ({kinds or 'no response'}); "
                     f"{since}")
    if h.shape_changed:
        parts.append(f"listing pages answered but gave 0 report links (up to "
                     f"{h.listing_items_before} before): the listing layout changed")
    if h.overdue:
        have = f"latest is {h.latest_report_year}" if h.latest_report_year else "none archived"
        parts.append(f"no report for {h.due_year} ({have})")
    if last is None:
        parts.append("not crawled yet")
    h.summary = "; ".join(parts) or f"ok ({since})"


def compute_health(db: sqlite_utils.Database, as_of: date | None = None,
                   sources: list[str] | None = None) -> list[SourceHealth]:
    as_of = as_of or datetime.now(UTC).date()
    names = sources if sources is not None else [
        r[0] for r in db.execute("SELECT name FROM sources ORDER BY name").fetchall()]
    return [source_health(db, name, as_of) for name in names]


def save_health(db: sqlite_utils.Database, as_of: date | None = None) -> list[SourceHealth]:
    """Recompute every registered source's health and replace the `source_health` rows."""
    health = compute_health(db, as_of)
    now = utcnow()
    with db.atomic():
        db["source_health"].upsert_all([h.row(now) for h in health], pk="source")
    return health


def unhealthy(health: list[SourceHealth], fail_on: tuple[str, ...] = DEFAULT_FAIL_ON,
              sources: set[str] | None = None) -> list[SourceHealth]:
    """Sources with a problem in `fail_on` (among `sources`, if given)."""
    return [h for h in health if set(h.problems) & set(fail_on)
            and (sources is None or h.source in sources)]
