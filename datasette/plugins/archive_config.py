"""Publishing configuration for every archive Datasette serves, whatever its file name.

A database is an archive when it has a `reports` table. For each one this plugin supplies the table
settings of `datasette/tables.yml` (search, facets, sort, labels, hidden tables) through the
`get_metadata` hook and the canned queries of `datasette/queries/*.yml` (one file per topic)
through `canned_queries`. `metadata.yml` keeps only what is the same for the whole instance.
"""

from __future__ import annotations

import copy
import sqlite3
import time
from pathlib import Path
from typing import Any

import yaml
from datasette import hookimpl
from datasette.utils import tilde_encode

CONFIG = Path(__file__).resolve().parent.parent
TABLES_FILE = CONFIG / "tables.yml"
QUERIES_DIR = CONFIG / "queries"
RECHECK_SECONDS = 5.0  # a crawl or migration may add `reports` or its columns while served

_yaml_cache: dict[Path, tuple[float, Any]] = {}
_archives: dict[str, tuple[bool, float]] = {}
_columns: dict[str, set[str]] = {}  # database -> columns of its reports table


def _load(path: Path) -> Any:
    mtime = path.stat().st_mtime
    cached = _yaml_cache.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, yaml.safe_load(path.read_text("utf-8")) or {})
        _yaml_cache[path] = cached
    return cached[1]


def table_settings() -> dict[str, dict]:
    return _load(TABLES_FILE)


def canned_query_files() -> dict[str, dict]:
    """Every canned query of datasette/queries/*.yml; a name defined twice is an error."""
    queries: dict[str, dict] = {}
    origin: dict[str, str] = {}
    for path in sorted(QUERIES_DIR.glob("*.yml")):
        for name, query in _load(path).items():
            if name in queries:
                raise ValueError(f"canned query {name!r} defined in {origin[name]} and {path.name}")
            queries[name], origin[name] = query, path.name
    return queries


def is_archive(datasette, name: str) -> bool:
    """Whether database `name` has a `reports` table (re-checked every few seconds)."""
    if name.startswith("_"):
        return False
    known = _archives.get(name)
    if known and time.monotonic() - known[1] < RECHECK_SECONDS:
        return known[0]
    db = datasette.databases.get(name)
    found = False
    if db is not None and db.path:
        try:
            conn = sqlite3.connect(Path(db.path).resolve().as_uri() + "?mode=ro", uri=True)
            try:
                columns = {r[1] for r in conn.execute("PRAGMA table_info(reports)")}
                found = bool(columns)
                _columns[name] = columns
            finally:
                conn.close()
        except sqlite3.Error:
            found = False
    _archives[name] = (found, time.monotonic())
    return found


def archive_names(datasette) -> list[str]:
    return [name for name in datasette.databases if is_archive(datasette, name)]


def settings_for(name: str) -> dict[str, dict]:
    """tables.yml with each facet list cut to the columns the database's reports table has."""
    tables = copy.deepcopy(table_settings())
    columns = _columns.get(name)
    if columns and "facets" in tables.get("reports", {}):
        tables["reports"]["facets"] = [f for f in tables["reports"]["facets"] if f in columns]
    return tables


def database_description(datasette, name: str) -> str:
    path = tilde_encode(name)
    links = [
        (datasette.urls.table(name, "reports"), "报告 · Reports"),
        (datasette.urls.path(f"/-/ledger/{path}"), "台账 · Ledger"),
        (datasette.urls.path(f"/-/coverage/{path}"), "覆盖情况与图表 · Coverage and charts"),
        (datasette.urls.path(f"/-/downloads/{path}"), "下载 · Downloads"),
        (datasette.urls.database(name) + "/new_reports.atom",
         "Atom 订阅 · feed of newly archived reports"),
    ]
    return ("<p>报告、原始抓取与抓取日志 · Reports, raw captures and the fetch log.</p><p>"
            + " · ".join(f'<a href="{href}">{label}</a>' for href, label in links) + "</p>")


@hookimpl
def get_metadata(datasette, key, database, table):
    # Fresh copies every call: Datasette merges later metadata sources into these dicts in place.
    # Query titles here too: plugins such as datasette-atom read them from metadata (the
    # canned_queries hook replaces these entries with the full queries).
    titles = {name: {"title": q.get("title", name)} for name, q in canned_query_files().items()}
    return {"databases": {
        name: {"description_html": database_description(datasette, name),
               "tables": settings_for(name), "queries": copy.deepcopy(titles)}
        for name in archive_names(datasette)}}


@hookimpl
def canned_queries(datasette, database, actor):
    if not is_archive(datasette, database):
        return None
    return copy.deepcopy(canned_query_files())
