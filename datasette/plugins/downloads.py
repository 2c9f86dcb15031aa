"""Downloads for researchers: whole years of reports, with text, as CSV (with BOM) or JSON Lines.

- /-/downloads/<db>: the years and files of every exportable dataset, and the data dictionary;
- /-/downloads/<db>/<dataset>-<year>.<csv|jsonl>: one file, no row cap (archive/export.py);
- every CSV Datasette itself serves (…/table.csv, …/query.csv) starts with a UTF-8 BOM, so
  Excel opens it with the Chinese text intact.
"""

from __future__ import annotations

import io

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import Response

from archive import export

BOM = export.BOM.encode("utf-8")


async def _archive(datasette, name: str):
    db = datasette.databases.get(tilde_decode(name))
    if db is None or "reports" not in await db.table_names():
        return None
    return db


async def downloads_page(request, datasette):
    db = await _archive(datasette, request.url_vars["db"])
    if db is None:
        return Response.html("没有这个档案 · no such archive", status=404)
    present = set(await db.table_names())
    datasets = []
    for dataset in export.DATASETS.values():
        if dataset.table not in present:
            continue
        years = await db.execute_fn(lambda conn, d=dataset: export.years(conn, d))
        datasets.append({"dataset": dataset, "years": years,
                         "total": sum(n for _, n in years)})
    return Response.html(await datasette.render_template(
        "downloads.html", {"database": db.name, "datasets": datasets,
                           "formats": list(export.FORMATS), "all_years": export.ALL_YEARS},
        request=request))


async def download_file(request, datasette):
    db = await _archive(datasette, request.url_vars["db"])
    dataset = export.DATASETS.get(request.url_vars["dataset"])
    year, fmt = request.url_vars["year"], request.url_vars["fmt"]
    if db is None or dataset is None or dataset.table not in await db.table_names():
        return Response.text("没有这个下载 · no such download", status=404)
    if year != export.ALL_YEARS and not year.isdigit():
        return Response.text("年度应为数字或 all · year must be a number or 'all'", status=400)

    def row_url(url: str) -> str:
        return datasette.absolute_url(request, datasette.urls.row(db.name, dataset.table,
                                                                  tilde_encode(url)))

    def build(conn) -> bytes:
        out = io.BytesIO()
        export.write(conn, dataset, year, fmt, out, row_url)
        return out.getvalue()

    body = await db.execute_fn(build)
    filename = f"{db.name}-{dataset.name}-{year}.{fmt}"
    return Response(body, content_type=export.FORMATS[fmt], headers={
        "content-disposition": f'attachment; filename="{filename}"'})


@hookimpl
def register_routes():
    return [
        (r"^/-/downloads/(?P<db>[^/]+)$", downloads_page),
        (r"^/-/downloads/(?P<db>[^/]+)/(?P<dataset>[a-z_]+)-(?P<year>\d+|all)\.(?P<fmt>csv|jsonl)$",
         download_file),
    ]


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def add_bom(scope, receive, send):
            if scope.get("type") != "http" or not scope.get("path", "").endswith(".csv"):
                return await app(scope, receive, send)
            state: dict = {}

            async def send_with_bom(event):
                # The start is held back until the first body chunk shows whether a BOM is
                # already there (our own downloads write one).
                if event["type"] == "http.response.start" and event.get("status") == 200:
                    state["start"] = event
                    return
                if event["type"] == "http.response.body" and "start" in state:
                    start, body = state.pop("start"), event.get("body", b"")
                    if not body.startswith(BOM):
                        body = BOM + body
                        start = {**start, "headers": [
                            (k, str(int(v) + len(BOM)).encode()
                             if k.lower() == b"content-length" else v)
                            for k, v in start.get("headers", [])]}
                    await send(start)
                    event = {**event, "body": body}
                await send(event)

            return await app(scope, receive, send_with_bom)

        return add_bom

    return wrap
