"""Render report text as paragraphs and raw-capture headers as a list; always escaped."""

from __future__ import annotations

import json

from datasette import hookimpl
from markupsafe import Markup, escape

PREVIEW_CHARS = 400


@hookimpl
def render_cell(value, column, table, request):
    if table in ("reports", "report_versions") and column == "text" and isinstance(value, str):
        # Full text on a row page (/db/table/pk); a preview in table and query listings.
        full = request is not None and len(request.path.strip("/").split("/")) >= 3
        paragraphs = value.split("\n")
        if not full and len(value) > PREVIEW_CHARS:
            head = value[:PREVIEW_CHARS].split("\n")
            return Markup("".join(f"<p>{escape(p)}</p>" for p in head)
                          + f"<p>… ({len(value)} 字 characters)</p>")
        return Markup("".join(f"<p>{escape(p)}</p>" for p in paragraphs))
    if table == "captures" and column == "headers" and isinstance(value, str):
        try:
            headers = json.loads(value)
        except ValueError:
            return None
        return Markup("<br>".join(f"<b>{escape(k)}</b>: {escape(v)}" for k, v in headers.items()))
    return None
