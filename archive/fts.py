"""The search index `reports_search`: a contentless FTS5 table over each report's title and text
in index form (`archive.search.index_form`), with its writes deferred to the end of a batch."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from archive.search import index_form

# (unigrams, bigrams) as `index_form` returns them; the bigrams may be UTF-8 bytes (archive.derive)
IndexForm = tuple[str, str | bytes]


def rebuild_search_index(db: sqlite_utils.Database) -> None:
    """(Re)create the search index from `reports`. Contentless (#7): it stores no copy of the
    indexed pairs, only what MATCH needs, which roughly halves the archive's size.

    Tokenizer `ascii`: the indexed text is already tokens (lower-cased character pairs of
    [0-9a-z] and CJK, space-separated), which `ascii` splits exactly as `unicode61` does — every
    non-ASCII character is a token character — at two thirds of the CPU (measured)."""
    db.execute("DROP TABLE IF EXISTS reports_search")
    db.execute("CREATE VIRTUAL TABLE reports_search USING fts5("
               "uni, bi, content = '', tokenize = 'ascii')")
    index = SearchIndex(db)
    for rowid, title, text in db.execute("SELECT rowid, title, text FROM reports").fetchall():
        index.add(rowid, title, text)


_INSERT = "INSERT INTO reports_search (rowid, uni, bi) VALUES (?, ?, ?)"
_DELETE = "INSERT INTO reports_search (reports_search, rowid, uni, bi) VALUES ('delete', ?, ?, ?)"


class SearchIndex:
    """Writes to `reports_search`, immediate or deferred.

    FTS5 flushes its pending terms to a new index segment at every SAVEPOINT, and a batch opens
    one per page: indexing page by page wrote ~one segment per page and cost more than every
    other write together. Inside a batch (`defer()` … `flush()`) the index writes wait, in order,
    and go in at the end of the batch's transaction; a page rolled back drops its own (`mark()`,
    `drop()`)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._ops: list[tuple[str, list[Any]]] | None = None

    def add(self, rowid: int, title: str | None, text: str | None,
            index: IndexForm | None = None,
            old: tuple[str | None, str | None] | None = None) -> None:
        """Index a report; `old` (title, text) removes its previous entry first. A contentless
        FTS5 table deletes by re-tokenising exactly what was inserted."""
        if old is not None:
            old_uni, old_bi = index_form(f"{old[0] or ''}\n{old[1] or ''}")
            self._op(_DELETE, [rowid, old_uni, old_bi])
        uni, bi = index or index_form(f"{title or ''}\n{text or ''}")
        self._op(_INSERT, [rowid, uni, bi])

    def _op(self, sql: str, params: list[Any]) -> None:
        if self._ops is None:
            self.db.execute(sql, params)
        else:
            self._ops.append((sql, params))

    def defer(self) -> None:
        """Hold index writes until `flush()` (call inside the batch's transaction)."""
        self._ops = []

    def mark(self) -> int:
        return len(self._ops) if self._ops is not None else 0

    def drop(self, mark: int) -> None:
        """Forget the index writes made since `mark` (a page whose savepoint rolled back)."""
        if self._ops is not None:
            del self._ops[mark:]

    def flush(self) -> None:
        ops, self._ops = self._ops, None
        for sql, params in ops or ():
            self.db.execute(sql, params)
