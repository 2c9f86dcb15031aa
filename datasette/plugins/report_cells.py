"""How cells read: report text as paragraphs, search snippets marked, headers as a list, coded
values with their Chinese labels, and in every list a link to the archived report page first
(SQL function `report_page(url)`) with the original URL beside it. Crawled text is always escaped.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from datasette import hookimpl
from datasette.utils import tilde_encode
from markupsafe import Markup, escape

from archive.export import value_label
from archive.search import SNIPPET_CLOSE, SNIPPET_OPEN

SUMMARY_CHARS = 80


@hookimpl
def prepare_connection(conn, database, datasette):
    conn.create_function(
        "report_page", 1,
        lambda url: datasette.urls.row(database, "reports", tilde_encode(url)) if url else None,
        deterministic=True)


def archived_link(path: str, text: str = "存档") -> Markup:
    return Markup(f'<a class="archived" href="{escape(path)}">{escape(text)}</a>')


def original_link(url: str) -> Markup:
    host = urlsplit(url).hostname or url
    return Markup(f'<a class="original" href="{escape(url)}" title="{escape(url)}" '
                  f'rel="noopener nofollow">原文 · {escape(host)}</a>')


@hookimpl
def render_cell(row, value, column, table):
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
    if table is None and isinstance(value, str):  # canned and custom queries
        archived = _get(row, "archived")
        if column == "archived" and value.startswith("/"):
            return archived_link(value)
        if column == "title" and isinstance(archived, str) and archived.startswith("/"):
            return archived_link(archived, value)
        if column == "url" and value.startswith(("http://", "https://")):
            return original_link(value)
    if table == "captures" and column == "headers" and isinstance(value, str):
        try:
            headers = json.loads(value)
        except ValueError:
            return None
        return Markup("<br>".join(f"<b>{escape(k)}</b>: {escape(v)}" for k, v in headers.items()))
    if table == "reports" and column == "provenance" and isinstance(value, str):
        try:
            fields = json.loads(value)
        except ValueError:
            return None
        return Markup("; ".join(f"{escape(k)} ← {escape(v)}" for k, v in fields.items()))
    label = value_label(column, value)
    return escape(label) if label else None


def _get(row, key: str):
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return None
