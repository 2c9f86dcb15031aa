"""Render report text as paragraphs and raw-capture headers as a list; always escaped."""

from __future__ import annotations

import json

from datasette import hookimpl
from markupsafe import Markup, escape

from archive.search import SNIPPET_CLOSE, SNIPPET_OPEN

SUMMARY_CHARS = 80


@hookimpl
def render_cell(value, column, table):
    if table in ("reports", "report_versions") and column == "text" and isinstance(value, str):
        paragraphs = [p for p in value.split("\n") if p]
        summary = escape(value[:SUMMARY_CHARS])
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        return Markup(
            f'<details class="report-text"><summary>{summary}… '
            f"({len(value)} 字 · {len(paragraphs)} 段)</summary>{body}</details>"
        )
    if column == "snippet" and isinstance(value, str):
        # Escape first, then turn the ⟦ ⟧ hit markers into <mark>: crawled text never becomes HTML.
        marked = str(escape(value))
        return Markup(marked.replace(SNIPPET_OPEN, "<mark>").replace(SNIPPET_CLOSE, "</mark>"))
    if table == "captures" and column == "headers" and isinstance(value, str):
        try:
            headers = json.loads(value)
        except ValueError:
            return None
        return Markup("<br>".join(f"<b>{escape(k)}</b>: {escape(v)}" for k, v in headers.items()))
    return None
