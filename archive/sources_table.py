"""The `sources` table: the registry as crawled, keyed by source name, with each source's division
resolved — and what the issuer attribution needs to know about a source."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from archive.constants import utcnow
from archive.divisions import resolve
from archive.issuer import Context, normalise_zone


class SourcesTable:
    """Writes `sources`; answers `source_info` from a cache dropped on every write."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._sources: dict[str, Context] = {}
        self._zone_map: dict[str, str] | None = None

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

    def save(self, rows: Iterable[Mapping[str, Any]]) -> None:
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
