"""Chinese full-text search that means "contains": index form, query form, exact check, snippet.

SQLite FTS5's tokenizers do not split Chinese, and `trigram` misses terms under three characters.
So the archive indexes, for every run of CJK letters and digits, each character (`uni`) and each
overlapping pair of characters (`bi`). A term of two or more characters becomes an FTS phrase of its
pairs — which matches exactly the texts containing that run — and a single character a `uni`
token. FTS narrows the candidates; `matches()` (SQL `instr`) makes the result exact for terms that
also contain punctuation. Traditional input is converted to simplified first, like the archive.
"""

from __future__ import annotations

import re
from itertools import chain
from operator import add

from archive.script import to_simplified

_RUN = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
ALL_ROWS = "zzallrows"
BREAK = "zzbreak"
# ⟦ ⟧ mark a hit in a snippet; the renderer escapes the text, then turns them into <mark>.
SNIPPET_OPEN, SNIPPET_CLOSE = "\u27e6", "\u27e7"


def index_form(text: str) -> tuple[str, str]:
    """(uni, bi) token strings for the FTS table: characters, and overlapping character pairs."""
    runs = [run for run in _RUN.findall((text or "").lower()) if len(run) > 1]
    pairs = chain.from_iterable(chain(map(add, run, run[1:]), (BREAK,)) for run in runs)
    # `uni` holds only ALL_ROWS: single-character and letterless queries match every row and
    # `matches`/instr decides. Indexing every character too would double the index for a rare
    # query kind. BREAK between runs keeps a phrase from matching across punctuation, so a phrase
    # of one run's pairs matches exactly the texts containing that run.
    return ALL_ROWS, " ".join(pairs)


def needs_exact_check(term: str) -> bool:
    """Whether the FTS phrase alone could over-match `term`: anything but one run of CJK
    characters and digits, two or more long (Latin letters: the index ignores case)."""
    runs = _RUN.findall(term)
    return not (len(runs) == 1 and runs[0] == term and len(term) > 1
                and not re.search(r"[A-Za-z]", term))


def terms(query: str) -> list[str]:
    """The user's terms, simplified: whitespace separates terms, all of which must match."""
    return [t for t in to_simplified(query or "").split() if t]


def fts_query(query: str) -> str:
    """An FTS5 expression whose matches are a superset of the texts containing every term."""
    parts: list[str] = []
    for term in terms(query):
        for run in _RUN.findall(term):
            run = run.lower()
            if len(run) == 1:
                continue  # answered by the exact check alone
            else:
                pairs = " ".join(run[i : i + 2] for i in range(len(run) - 1))
                parts.append(f'bi : "{pairs}"')
    # A query with no letters at all cannot use the index: match every row, `matches` decides.
    return " AND ".join(parts) if parts else f'uni : "{ALL_ROWS}"'


def matches(title: str | None, text: str | None, query: str) -> bool:
    """Exact semantics: every term is a substring of the title or of the text."""
    title, text = title or "", text or ""
    return all(t in title or t in text for t in terms(query))


def snippet(text: str | None, query: str, width: int = 60) -> str:
    """Plain text around the first hit, hits wrapped in ⟦ ⟧ (escaped and marked up on display)."""
    text = text or ""
    found = [t for t in terms(query) if t in text]
    if not found:
        return text[: width * 2]
    first = min(text.index(t) for t in found)
    start = max(0, first - width)
    piece = text[start : first + width * 2].replace("\n", " ")
    for t in sorted(found, key=len, reverse=True):
        piece = piece.replace(t, f"{SNIPPET_OPEN}{t}{SNIPPET_CLOSE}")
    return ("…" if start else "") + piece + ("…" if first + width * 2 < len(text) else "")
