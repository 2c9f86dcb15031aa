"""The ledger: every body obliged to report × every report year — published on time, late, missing,
or not covered — and the `bodies` table it is built on.

A report for year Y is due by April 1 of Y+1 (厅字〔2019〕28号). `missing` is a claim the archive
can back: a source that covers the body (its own column, a collection column carrying its reports,
or a column that has yielded its reports in other years) was crawled successfully after the
deadline and no report for Y was found. Everything else the archive has not seen is `not_covered`:
never show a government as not having published when the archive did not look.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlite_utils

from archive.divisions import FIRST_REPORT_YEAR, Government, government, governments
from archive.issuer import Context, Issuer, attribute, government_name, registry_issuer

STATUSES = ("on_time", "late", "missing", "not_covered", "undated", "pending")
GOVERNMENT_LEVELS = ("province", "city", "county")


def deadline(year: int) -> date:
    """A report for `year` is due on or before April 1 of the next year."""
    return date(year + 1, 4, 1)


def due_years(as_of: date) -> tuple[list[int], int | None]:
    """(report years whose deadline has passed at `as_of`, the year currently due or None)."""
    last_passed = as_of.year - 1 if as_of > deadline(as_of.year - 1) else as_of.year - 2
    pending = as_of.year - 1 if as_of <= deadline(as_of.year - 1) else None
    return list(range(FIRST_REPORT_YEAR, last_passed + 1)), pending


def deadline_status(year: int | None, published: str | None,
                    first_seen: str | None) -> tuple[str | None, int | None, str]:
    """(status, days late, why) of one report against its deadline."""
    if year is None:
        return None, None, "no report year"
    due = deadline(year)
    if published:
        days = (date.fromisoformat(published[:10]) - due).days
        if days <= 0:
            return "on_time", None, f"published {published[:10]}, due {due}"
        return "late", days, f"published {published[:10]}, {days} days after {due}"
    if first_seen and date.fromisoformat(first_seen[:10]) <= due:
        return ("on_time", None,
                f"no date on the page; first archived {first_seen[:10]}, before {due}")
    return "undated", None, "no date on the page and first archived after the deadline"


# -- schema -------------------------------------------------------------------------------------
def ensure_ledger_schema(db: sqlite_utils.Database) -> None:
    db["bodies"].create(
        {"body_id": str, "adcode": str, "name": str, "level": str, "parent_adcode": str,
         "province": str, "city": str, "county": str, "portal": str, "portal_source": str,
         "first_year": int, "last_year": int, "origin": str},
        pk="body_id", if_not_exists=True)
    db["bodies"].create_index(["level", "province"], if_not_exists=True)
    db["ledger"].create(
        {"body_id": str, "adcode": str, "name": str, "level": str, "province": str, "city": str,
         "county": str, "report_year": int, "status": str, "published": str, "days_late": int,
         "url": str, "copies": int, "checked": str, "covered_by": str, "why": str, "as_of": str},
        pk=("body_id", "report_year"), if_not_exists=True)
    db["ledger"].create_index(["province", "level", "report_year", "status"], if_not_exists=True)
    db["ledger"].create_index(["report_year", "status"], if_not_exists=True)


# -- sources as the ledger sees them -------------------------------------------------------------
def source_context(row: dict[str, Any]) -> Context:
    return Context(adcode=row.get("adcode"), level=row.get("level"), region=row.get("region"),
                   body=row.get("body"))



def covers_bodies(row: dict[str, Any]) -> list[Issuer]:
    """The bodies a registry entry names: those its `covers:` lists (a collection column), else
    its own body."""
    out: list[Issuer] = []
    covers = json.loads(row.get("covers") or "[]")
    own = None if covers else registry_issuer(source_context(row))
    if own is not None:
        out.append(own)
    for item in covers:
        level, adcode, name = item.get("level"), item.get("adcode"), item.get("name") or ""
        ctx = Context(adcode=adcode or row.get("adcode"), level=level, region=name, body=name)
        if level in GOVERNMENT_LEVELS:
            gov = government(adcode) if adcode else None
            if gov is not None:
                out.append(Issuer(government_name(gov), gov.adcode, gov.adcode, gov.level, name,
                                  "registry"))
                continue
        found = attribute(name, None, ctx) if name else None
        if found is not None:
            out.append(found)
    return out


# -- bodies -------------------------------------------------------------------------------------
def _gov_row(gov: Government) -> dict[str, Any]:
    return {"body_id": gov.adcode, "adcode": gov.adcode, "name": government_name(gov),
            "level": gov.level, "parent_adcode": gov.parent_adcode, "province": gov.province,
            "city": gov.city, "county": gov.county, "first_year": gov.first_year,
            "last_year": gov.last_year, "origin": "divisions"}


def _issuer_row(issuer: Issuer, origin: str) -> dict[str, Any]:
    gov = government(issuer.adcode)
    return {"body_id": issuer.body_id, "adcode": issuer.adcode, "name": issuer.name,
            "level": issuer.level, "parent_adcode": issuer.adcode,
            "province": gov.province if gov else None, "city": gov.city if gov else None,
            "county": gov.county if gov else None, "first_year": FIRST_REPORT_YEAR,
            "last_year": None, "origin": origin}


def refresh_bodies(db: sqlite_utils.Database, last_year: int) -> int:
    """Rebuild `bodies`: every government valid in a report year since 2019, plus departments and
    zones met in the registry or as report issuers. Returns the number of rows."""
    rows: dict[str, dict[str, Any]] = {}
    for year in range(FIRST_REPORT_YEAR, last_year + 1):
        for gov in governments(year):
            row = _gov_row(gov)  # a renamed division: its latest name, over all its years
            if gov.adcode in rows:
                before = rows[gov.adcode]
                row["first_year"] = min(before["first_year"], row["first_year"])
                if before["last_year"] is None or row["last_year"] is None:
                    row["last_year"] = None
                else:
                    row["last_year"] = max(before["last_year"], row["last_year"])
            rows[gov.adcode] = row
    sources = list(db["sources"].rows) if db["sources"].exists() else []
    for src in sources:
        for issuer in covers_bodies(src):
            if issuer.body_id not in rows:
                rows[issuer.body_id] = _issuer_row(issuer, "registry")
            if src.get("kind") == "portal" and issuer.level in GOVERNMENT_LEVELS:
                urls = json.loads(src.get("start_urls") or "[]")
                if urls:
                    rows[issuer.body_id]["portal"] = urls[0]
                    rows[issuer.body_id]["portal_source"] = f"registry: {src['name']} (portal)"
    for body_id, name, adcode, level in db.execute(
            "SELECT DISTINCT issuer_id, issuer, issuer_adcode, issuer_level FROM reports "
            "WHERE issuer_id IS NOT NULL").fetchall():
        if body_id not in rows:
            rows[body_id] = _issuer_row(Issuer(name, body_id, adcode, level, name, "report"),
                                        "report issuer")
    if "body_portals" in db.table_names():  # portals proven by discovery (网站标识码 match)
        for adcode, url, evidence in db.execute(
                "SELECT adcode, url, evidence FROM body_portals ORDER BY rowid").fetchall():
            if adcode in rows:
                rows[adcode]["portal"] = url
                rows[adcode]["portal_source"] = f"discovery: {evidence}"[:300]
    with db.atomic():
        db.execute("DELETE FROM bodies")
        db["bodies"].insert_all(rows.values(), pk="body_id", alter=True)
    return len(rows)


# -- copies -------------------------------------------------------------------------------------
def refresh_copies(db: sqlite_utils.Database) -> int:
    """Group reports that are one document found on several hosts (same clean text, or same issuer
    + year + title) and mark all but the canonical copy with `copy_of`. The canonical copy is the
    one on the issuer's own site (a source whose own body is the issuer), else the first seen."""
    rows = db.execute(
        "SELECT r.url, r.content_hash, r.issuer_id, r.report_year, r.title, r.first_seen, "
        "r.source FROM reports r").fetchall()
    own: dict[str, set[str]] = defaultdict(set)
    for src in db["sources"].rows if db["sources"].exists() else []:
        mine = registry_issuer(source_context(src))
        if mine is not None:
            own[src["name"]].add(mine.body_id)
    parent = {r[0]: r[0] for r in rows}

    def find(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    by_key: dict[tuple, str] = {}
    for url, content_hash, issuer_id, year, title, _, _ in rows:
        keys = [("hash", content_hash)]
        if issuer_id and year:
            keys.append(("doc", issuer_id, year, "".join((title or "").split())))
        for key in keys:
            if key in by_key:
                parent[find(url)] = find(by_key[key])
            else:
                by_key[key] = url
    groups: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        groups[find(row[0])].append(row)
    updates = []
    for members in groups.values():
        def rank(r: tuple) -> tuple:
            on_own_site = bool(r[2] and r[2] in own.get(r[6], ()))
            return (not on_own_site, r[5] or "", r[0])

        canonical = min(members, key=rank)[0]
        updates += [(None if r[0] == canonical else canonical, r[0]) for r in members]
    with db.atomic():
        db.conn.executemany("UPDATE reports SET copy_of = ? WHERE url = ? AND copy_of IS NOT ?",
                       [(c, u, c) for c, u in updates])
    return sum(1 for c, _ in updates if c)


# -- the ledger ---------------------------------------------------------------------------------
@dataclass
class SourceState:
    name: str
    bodies: set[str] = field(default_factory=set)
    attempted: str | None = None          # when it last made requests
    failed: bool = False                  # that last attempt got no usable response
    succeeded: str | None = None          # when it last succeeded
    listing: bool = False                 # that success read listing pages (not a lone report)
    truncated: bool = False               # … and the listing was cut short by the page limit
    oldest_year: int | None = None        # oldest report year it yielded


def _source_states(db: sqlite_utils.Database) -> dict[str, SourceState]:
    states: dict[str, SourceState] = {}
    for src in db["sources"].rows if db["sources"].exists() else []:
        st = states[src["name"]] = SourceState(src["name"])
        st.bodies = {i.body_id for i in covers_bodies(src)}
    has_trunc = "listing_truncated" in db["run_sources"].columns_dict
    for name, finished, started, succeeded, listing_pages, truncated in db.execute(
            "SELECT s.source, r.finished_at, r.started_at, s.succeeded, s.listing_pages, "
            + ("s.listing_truncated " if has_trunc else "0 ")
            + "FROM run_sources s JOIN crawl_runs r ON r.id = s.run_id "
            "WHERE s.requests > 0 ORDER BY s.run_id").fetchall():
        st = states.setdefault(name, SourceState(name))
        when = finished or started
        st.attempted, st.failed = when, not succeeded
        if succeeded:
            st.succeeded, st.listing, st.truncated = when, bool(listing_pages), bool(truncated)
    for name, issuer_id, oldest in db.execute(
            "SELECT source, issuer_id, min(report_year) FROM reports "
            "WHERE issuer_id IS NOT NULL GROUP BY source, issuer_id").fetchall():
        st = states.setdefault(name, SourceState(name))
        st.bodies.add(issuer_id)  # a column that yielded this body's reports covers it
        st.oldest_year = oldest if st.oldest_year is None else min(st.oldest_year, oldest)
    return states


def build_ledger(db: sqlite_utils.Database, as_of: date) -> list[dict[str, Any]]:
    years, pending = due_years(as_of)
    all_years = years + ([pending] if pending else [])
    bodies = list(db.execute(
        "SELECT body_id, adcode, name, level, province, city, county, first_year, last_year "
        "FROM bodies").fetchall())
    found: dict[tuple[str, int], tuple] = {}
    # copies counted in one pass (a subquery per report scanned the table once per report:
    # 1.8 s at 2,000 reports, quadratic)
    for url, issuer_id, year, published, first_seen, copies in db.execute(
            "SELECT r.url, r.issuer_id, r.report_year, r.published, r.first_seen, "
            "coalesce(c.n, 0) FROM reports r LEFT JOIN (SELECT copy_of, count(*) AS n "
            "FROM reports WHERE copy_of IS NOT NULL GROUP BY copy_of) c ON c.copy_of = r.url "
            "WHERE r.copy_of IS NULL AND r.issuer_id IS NOT NULL AND r.report_year IS NOT NULL "
            "ORDER BY coalesce(r.published, r.first_seen)").fetchall():
        found.setdefault((issuer_id, year), (url, published, first_seen, copies))
    states = _source_states(db)
    by_body: dict[str, list[SourceState]] = defaultdict(list)
    for st in states.values():
        for body_id in st.bodies:
            by_body[body_id].append(st)
    out = []
    as_of_s = as_of.isoformat()
    for body_id, adcode, name, level, province, city, county, first, last in bodies:
        related = by_body.get(body_id, [])
        for year in all_years:
            if year < (first or FIRST_REPORT_YEAR) or (last is not None and year > last):
                continue
            row = {"body_id": body_id, "adcode": adcode, "name": name, "level": level,
                   "province": province, "city": city, "county": county, "report_year": year,
                   "published": None, "days_late": None, "url": None, "copies": None,
                   "checked": None, "covered_by": None, "as_of": as_of_s}
            hit = found.get((body_id, year))
            if hit is not None:
                url, published, first_seen, copies = hit
                status, days, why = deadline_status(year, published, first_seen)
                row.update(status=status, published=published, days_late=days, url=url,
                           copies=copies + 1, why=why)
            else:
                row.update(_absent(year, related, pending == year))
            out.append(row)
    return out


def _absent(year: int, related: list[SourceState], pending: bool) -> dict[str, Any]:
    """Status of a body-year with no report: missing only when a covering source looked."""
    due = deadline(year).isoformat()
    looked, reasons = [], []
    for st in related:
        if st.attempted is None:
            reasons.append(f"{st.name} not crawled yet")
        elif st.failed:
            reasons.append(f"{st.name}: last crawl failed ({st.attempted[:10]})")
        elif not st.listing:
            reasons.append(f"{st.name} is a single report page, not a column")
        elif st.succeeded is None or st.succeeded[:10] <= due:
            reasons.append(f"{st.name} last crawled before the deadline")
        elif st.truncated and st.oldest_year is not None and year < st.oldest_year:
            reasons.append(f"{st.name}'s listing was cut short before {year}")
        else:
            looked.append(st)
    if pending:
        return {"status": "pending", "why": f"due by {due}; not found yet",
                "checked": max((s.succeeded for s in looked), default=None)}
    if looked:
        return {"status": "missing", "checked": max(s.succeeded or "" for s in looked),
                "covered_by": ", ".join(sorted(s.name for s in looked)),
                "why": f"no report for {year} in {', '.join(sorted(s.name for s in looked))}, "
                       f"crawled after {due}"}
    return {"status": "not_covered", "checked": max((s.attempted for s in related if s.attempted),
                                                    default=None),
            "why": "; ".join(reasons) if reasons else "no source covers this body"}


def save_ledger(db: sqlite_utils.Database, rows: Iterable[dict[str, Any]]) -> int:
    rows = list(rows)
    with db.atomic():
        db.execute("DELETE FROM ledger")
        db["ledger"].insert_all(rows, pk=("body_id", "report_year"), batch_size=2000)
    return len(rows)


def today() -> date:
    return datetime.now(UTC).date()


def refresh(db: sqlite_utils.Database, as_of: date | None = None) -> dict[str, int]:
    """Copies, bodies and ledger, in that order (the crawl calls this when it closes)."""
    as_of = as_of or today()
    years, pending = due_years(as_of)
    copies = refresh_copies(db)
    n_bodies = refresh_bodies(db, pending or years[-1])
    rows = build_ledger(db, as_of)
    save_ledger(db, rows)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["status"]] += 1
    return {"bodies": n_bodies, "copies": copies, "rows": len(rows), **counts}
