"""Chinese search for the `reports` table: the table's own search box, `?_search=` and the JSON API.

Datasette's search clause calls the SQL function `escape_fts(:search)`; this plugin replaces it
(registered last, so it wins over Datasette's own) with the archive's query form, and adds an exact
"every term is a substring of title or text" condition, so results are exactly the reports a
substring check would return. SQL functions for canned queries: search_fts(q),
search_matches(title, text, q), search_snippet(text, q).
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.filters import FilterArguments

from archive.search import fts_query, matches, needs_exact_check, snippet, terms


@hookimpl(trylast=True)
def prepare_connection(conn):
    conn.create_function("escape_fts", 1, lambda q: fts_query(q or ""), deterministic=True)
    conn.create_function("search_fts", 1, lambda q: fts_query(q or ""), deterministic=True)
    conn.create_function("search_matches", 3, lambda title, text, q: int(matches(title, text, q)),
                         deterministic=True)
    conn.create_function("search_snippet", 2, lambda text, q: snippet(text, q or ""),
                         deterministic=True)


@hookimpl
def filters_from_request(request, database, table, datasette):
    if table != "reports" or not request.args.get("_search"):
        return None
    # The FTS phrase is exact for plain CJK/digit terms; others also need a substring check.
    words = [w for w in terms(request.args["_search"]) if needs_exact_check(w)]
    if not words:
        return None
    clauses = [f"(instr(title, :_term{i}) > 0 OR instr(text, :_term{i}) > 0)"
               for i in range(len(words))]
    return FilterArguments(
        where_clauses=clauses,
        params={f"_term{i}": w for i, w in enumerate(words)},
        human_descriptions=[],
    )
