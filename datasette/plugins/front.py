"""The front page and the about page: where to search, the ledger, downloads, and what each
archive holds (reports, issuing bodies, years, last crawl); about rendered as a page."""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import Response

from archive.export import holdings


@hookimpl
def extra_template_vars(view_name, datasette):
    if view_name != "index":
        return {}

    async def inner():
        archives = []
        for name, db in datasette.databases.items():
            if name.startswith("_") or "reports" not in await db.table_names():
                continue
            held = await db.execute_fn(holdings)
            tables = [{"name": t, "title": datasette.table_metadata(name, t).get("title") or t}
                      for t in await db.table_names()
                      if t not in await db.hidden_table_names()]
            archives.append({"name": name, "held": held, "tables": tables})
        return {"archives": archives}

    return inner


async def about(request, datasette):
    return Response.html(await datasette.render_template("about.html", {}, request=request))


@hookimpl
def register_routes():
    return [(r"^/-/about$", about)]
