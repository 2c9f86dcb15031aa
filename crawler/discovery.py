"""The spider's discovery side: `portal` and `directory` registry entries.

A `portal` is explored (scored links, bounded requests and depth, `crawler.explore`) until its
report column(s) are found; a later crawl starts from the columns recorded in the archive and
explores again only when a column stops listing or changes shape. A `directory` page yields one
candidate portal per link naming a government; a candidate whose 网站标识码 carries that body's
division code becomes a portal source of its own (hosts: the candidate's host only), others are
recorded as rejected after their home page. Every result is an `ExploreRecord` item.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.constants import utcnow
from archive.decode import decode_body
from archive.divisions import resolve
from archive.exploration import ACTIVE, KnownState, read_known, stored_listing
from crawler.explore import (
    Candidate,
    check_site_id,
    column_shape,
    directory_candidates,
    directory_links,
    governments_named,
    links_to_explore,
    page_links,
    recognise_column,
    redirect_target,
    report_links,
    site_id_code,
)
from crawler.failures import describe_failure
from crawler.items import ExploreRecord, PageItem
from crawler.listing import discover, hanweb
from crawler.sources import Source

if TYPE_CHECKING:
    from crawler.spiders.reports import ReportsSpider


@dataclass(slots=True)
class PortalState:
    """One portal's exploration in this run."""

    home: str
    requests: int = 0          # exploration requests made (the budget counts these)
    seen: set[str] = field(default_factory=set)
    columns: set[str] = field(default_factory=set)
    over_budget: int = 0       # links worth a request that the budget did not allow
    explored: bool = False


def division_region(adcode: str, fallback: str) -> str:
    d = resolve(adcode)
    if d is None:
        return fallback
    return "".join(n for n in (d.province, d.city, d.county) if n) or fallback


def division_level(adcode: str) -> str:
    return "province" if adcode.endswith("0000") else "city" if adcode.endswith("00") else "county"


NEXT_PAGES = 2          # pages of a listing looked at when its first page shows no report
NEXT_PAGES_SCORE = 5    # … if the link to it scored at least this (通知公告 and better)


def _site_hosts(url: str) -> frozenset[str]:
    """A candidate's host, with and without `www.` (portals redirect between the two)."""
    host = (urlsplit(url).hostname or "").lower()
    other = host[4:] if host.startswith("www.") else f"www.{host}"
    return frozenset({host, other}) if "." in host and not host[-1].isdigit() else frozenset(
        {host})


def listing_meta(source: Source) -> dict[str, Any]:
    """Listing pages of discovered columns are asked for conditionally (a 304 is followed from the
    archived copy), so a re-crawl of an unchanged portal costs conditional requests only."""
    if source.kind == "column":
        return {}
    return {"revalidate_listing": True, "handle_httpstatus_list": [304]}


def _text(response: Response) -> str:
    content_type = response.headers.get("Content-Type", b"").decode("latin-1")
    return decode_body(response.body, content_type).text


class DiscoveryMixin:
    """Callbacks for `portal` and `directory` sources; mixed into `ReportsSpider`."""

    known: KnownState
    _portals: dict[str, PortalState]

    # -- start --------------------------------------------------------------------------------
    def discovery_start(self: ReportsSpider, source: Source) -> Iterator[Request]:
        if not hasattr(self, "_portals"):
            self._portals = {}
            self.known = read_known(self.settings["ARCHIVE_DB"])
        if source.kind == "directory":
            yield from self._directory_start(source)
        else:
            yield from self._portal_start(source, source.start_urls[0])

    def _portal_start(self: ReportsSpider, source: Source, home: str) -> Iterator[Request]:
        known = [c for c in self.known.columns.get(source.name, []) if c["status"] == ACTIVE]
        self._portals.setdefault(source.name, PortalState(home))
        if not known:
            yield from self._explore_home(source)
            return
        for column in known:
            self.logger.info("portal %s: starting from its known column %s", source.name,
                             column["url"])
            yield Request(column["url"], callback=self.parse_known_column,
                          errback=self.on_known_column_error,
                          meta={"source": source.name, "role": "listing", "listing_depth": 0,
                                "known_column": column, **listing_meta(source)})

    def _explore_home(self: ReportsSpider, source: Source) -> Iterator[Request]:
        state = self._portals[source.name]
        if state.explored:
            return
        state.explored = True
        yield from self._explore_request(source, state.home, 0, None, "", 0)

    def _explore_request(self: ReportsSpider, source: Source, url: str, depth: int,
                         via: str | None, text: str, score: int,
                         **extra: Any) -> Iterator[Request]:
        state = self._portals[source.name]
        if url in state.seen:
            return
        if state.requests >= self.settings.getint("EXPLORE_MAX_REQUESTS"):
            state.over_budget += 1
            return
        state.seen.add(url)
        state.requests += 1
        # dont_filter: exploration dedupes itself (state.seen), and a page it looked at must not
        # stop the listing crawl from requesting it later (a column's page 2, reached first).
        yield Request(url, callback=self.parse_explore, errback=self.on_explore_error,
                      priority=score, dont_filter=True,
                      meta={"source": source.name, "role": "explore", "explore_depth": depth,
                            "via": via, "link_text": text, "score": score, **extra})

    # -- portals --------------------------------------------------------------------------------
    def _page_record(self, response_or_url: Response | str, source: str, outcome: str,
                     reason: str, meta: dict[str, Any], status: int | None = None
                     ) -> ExploreRecord:
        url = response_or_url if isinstance(response_or_url, str) else response_or_url.url
        return ExploreRecord("page", source, {
            "source": source, "url": url, "depth": meta.get("explore_depth"),
            "score": meta.get("score"), "via": meta.get("via"), "link_text": meta.get("link_text"),
            "status": status, "outcome": outcome, "reason": reason, "fetched_at": utcnow()})

    def parse_explore(self: ReportsSpider, response: Response) -> Iterator[Any]:
        source = self.sources[response.meta["source"]]
        state = self._portals[source.name]
        depth = response.meta.get("explore_depth", 0)
        text = _text(response)
        column = recognise_column(text, response.url) if depth > 0 else None
        first_page = response.meta.get("pager_of")
        if column is not None and first_page and first_page in state.columns:
            yield self._page_record(response, source.name, "column",
                                    f"another page of the column {first_page}", response.meta,
                                    response.status)
            return
        if column is not None and first_page:
            # Reports on a later page of a general listing: the column is its first page, crawled
            # from there like any listing.
            state.columns.add(first_page)
            yield self._page_record(response, source.name, "column",
                                    f"a page of the column {first_page}, listing "
                                    f"{len(column.report_titles)} report title(s)",
                                    response.meta, response.status)
            shape = response.meta.get("pager_shape", column.shape)  # the first page's
            yield self._column_record(source, first_page, shape, column.report_titles,
                                      {**response.meta, "via": response.meta.get("pager_via"),
                                       "link_text": response.meta.get("pager_text")},
                                      "found by exploration (reports on a later page)")
            self.logger.info("portal %s: report column %s (%s; reports on its page %s)",
                             source.name, first_page, column.shape, response.url)
            yield self._request(first_page, source, "listing", 0)
            return
        if column is not None and not first_page and response.url not in state.columns:
            state.columns.add(response.url)
            yield self._page_record(response, source.name, "column",
                                    f"{column.shape} column listing {len(column.report_titles)} "
                                    "report title(s)", response.meta, response.status)
            yield self._column_record(source, response.url, column.shape, column.report_titles,
                                      response.meta, "found by exploration")
            self.logger.info("portal %s: report column %s (%s, %d report links) via %r on %s",
                             source.name, response.url, column.shape, len(column.report_titles),
                             response.meta.get("link_text"), response.meta.get("via"))
            # The column's first page is its first listing page: archive it and follow it.
            response.meta["role"] = "listing"
            yield from self.parse_page(response)
            return
        links = page_links(text, response.url, source.allows)
        if not links and (target := redirect_target(text, response.url)) and source.allows(target):
            # A redirect stub: its target stands in for it, at the same depth.
            yield self._page_record(response, source.name, "explored", f"redirect stub to {target}",
                                    response.meta, response.status)
            yield from self._explore_request(source, target, depth, response.url,
                                             response.meta.get("link_text", ""),
                                             response.meta.get("score", 0))
            return
        loose = [link for link in report_links(links) if link.url not in state.seen]
        to_explore = links_to_explore(links) if depth < self.settings.getint(
            "EXPLORE_MAX_DEPTH") else []
        pager: list[str] = []
        if (depth > 0 and not first_page and column is None
                and response.meta.get("score", 0) >= NEXT_PAGES_SCORE):
            # A listing without a report on its first page (a general 通知公告 column): its next
            # pages are worth a look.
            found = discover(text, response.url)
            pager = [p for p in found.pages[:NEXT_PAGES] if p not in state.seen]
            pager_shape = column_shape(text, response.url, found)
        yield self._page_record(response, source.name, "explored",
                                f"{len(links)} links, {len(to_explore)} worth exploring, "
                                f"{len(loose)} report links, {len(pager)} next pages",
                                response.meta, response.status)
        for page in pager:
            yield from self._explore_request(
                source, page, depth, response.url, "下一页", response.meta.get("score", 0),
                pager_of=response.url, pager_via=response.meta.get("via"),
                pager_text=response.meta.get("link_text"), pager_shape=pager_shape)
        for link in loose:
            # A report linked outside any column (a home page's news box): fetch it, on budget.
            if state.requests >= self.settings.getint("EXPLORE_MAX_REQUESTS"):
                state.over_budget += 1
                break
            state.seen.add(link.url)
            state.requests += 1
            yield self._request(link.url, source, "detail", 0, handle_httpstatus_list=[304],
                                link_text=link.text)
        for scored in to_explore:
            yield from self._explore_request(source, scored.url, depth + 1, response.url,
                                             scored.text, scored.score)

    def _column_record(self, source: Source, url: str, shape: str, titles: tuple[str, ...],
                       meta: dict[str, Any], reason: str, status: str = ACTIVE) -> ExploreRecord:
        """A column with its evidence; a column on a city or province site that carries other
        bodies' reports (区县法治政府建设年度报告) covers each body its titles name."""
        covers: dict[str, dict[str, str]] = {}
        for title in titles:
            for adcode, name in governments_named(title, source.adcode):
                if adcode != source.adcode:
                    covers[adcode] = {"adcode": adcode, "name": name,
                                      "level": division_level(adcode)}
        state = self._portals.get(source.name)
        return ExploreRecord("column", source.name, {
            "source": source.name, "url": url, "portal": state.home if state else None,
            "shape": shape, "name": meta.get("link_text"), "evidence_page": meta.get("via"),
            "evidence_text": meta.get("link_text"), "report_links": len(titles),
            "covers": sorted(covers.values(), key=lambda c: c["adcode"]), "status": status,
            "reason": reason, "checked_at": utcnow()})

    def parse_known_column(self: ReportsSpider, response: Response) -> Iterator[Any]:
        """A column recorded by an earlier run: crawl it; if it lists nothing any more or its
        CMS shape changed, mark it and explore the portal again."""
        source = self.sources[response.meta["source"]]
        column = response.meta["known_column"]
        if response.status == 304:
            record = self._column_record(source, response.url, column["shape"], (),
                                         {"link_text": column["evidence_text"],
                                          "via": column["evidence_page"]},
                                         "known column, not modified")
            record.row.update(report_links=column["report_links"], covers=column["covers"])
            yield record
            yield from self.parse_unchanged_listing(response)
            return
        text = _text(response)
        found = discover(text, response.url)
        shape = column_shape(text, response.url, found)
        problem = None
        if shape != column["shape"]:
            problem = f"shape changed: {column['shape']} → {shape}"
        elif not (found.items or found.pages or found.posts):
            problem = "column lists nothing any more"
        meta = {"link_text": column["evidence_text"], "via": column["evidence_page"]}
        if problem:
            self.logger.warning("portal %s: known column %s: %s; exploring the portal again",
                                source.name, response.url, problem)
            yield self._column_record(source, response.url, column["shape"], (), meta, problem,
                                      status="stale")
            yield from self._explore_home(source)
        else:
            titles = tuple(link.text for link in found.items)
            record = self._column_record(source, response.url, shape, titles, meta,
                                         "known column, still listing")
            record.row["report_links"] = column["report_links"]
            record.row["covers"] = record.row["covers"] or column["covers"]
            yield record
        yield from self.parse_page(response)

    def parse_unchanged_listing(self: ReportsSpider, response: Response) -> Iterator[Any]:
        """A listing page answered 304: its links are followed from the archived copy."""
        source = self.sources[response.meta["source"]]
        role = response.meta["role"]
        stored = stored_listing(self.settings["ARCHIVE_DB"], response.url)
        if stored is None:
            self.logger.warning("listing %s: 304 but no archived copy; fetching it in full",
                                response.url)
            keep = ("source", "role", "listing_depth", "known_column", "formdata")
            yield Request(response.url, callback=self.parse_page, errback=self.on_error,
                          dont_filter=True, meta={**{k: response.meta[k] for k in keep
                                                     if k in response.meta},
                                                  "revalidated": True})
            return
        body, content_type = stored
        text = decode_body(body, content_type).text
        found = hanweb(text, response.url) if role == "dataproxy" else discover(text,
                                                                                response.url)
        yield PageItem(self._capture(response, source, role), is_listing=True,
                       links=len(found.items))
        yield from self._follow(response, source, found)

    def on_known_column_error(self: ReportsSpider, failure: Failure) -> Iterator[Any]:
        yield from self.on_error(failure)
        request = failure.request
        source = self.sources[request.meta["source"]]
        column = request.meta["known_column"]
        reason = self._failure_reason(failure)
        self.logger.warning("portal %s: known column %s failed (%s); exploring the portal again",
                            source.name, request.url, reason)
        yield self._column_record(source, request.url, column["shape"], (),
                                  {"link_text": column["evidence_text"],
                                   "via": column["evidence_page"]}, reason, status="stale")
        yield from self._explore_home(source)

    def _failure_reason(self, failure: Failure) -> str:
        if failure.check(HttpError):
            return f"HTTP {failure.value.response.status}"
        if failure.check(IgnoreRequest):
            return f"skipped: {failure.value}"
        return describe_failure(failure)

    def on_explore_error(self: ReportsSpider, failure: Failure) -> Iterator[Any]:
        request = failure.request
        status = failure.value.response.status if failure.check(HttpError) else None
        outcome = "skipped" if failure.check(IgnoreRequest) else "failed"
        reason = self._failure_reason(failure)
        self.logger.info("exploring %s: %s", request.url, reason)
        yield self._page_record(request.url, request.meta["source"], outcome, reason,
                                request.meta, status)

    # -- directories ----------------------------------------------------------------------------
    def _directory_start(self: ReportsSpider, source: Source) -> Iterator[Request]:
        # Portals accepted by earlier runs start at once, from their known columns.
        for url, cand in self.known.candidates.get(source.name, {}).items():
            if cand["decision"] == "accepted" and cand["portal_source"]:
                child = self._child_source(source, Candidate(url, cand["link_text"] or "",
                                                             cand["adcode"], cand["name"] or ""),
                                           cand["portal_source"])
                yield from self._portal_start(child, url)
        for url in source.start_urls:
            yield Request(url, callback=self.parse_directory, errback=self.on_error,
                          meta={"source": source.name, "role": "directory",
                                "listing_depth": 0, **listing_meta(source)})

    def _child_source(self: ReportsSpider, directory: Source, cand: Candidate,
                      name: str | None = None) -> Source:
        if name is None:
            name = f"{directory.name}-{cand.adcode}"
            n = 2
            while name in self.sources and self.sources[name].start_urls[0] != cand.url:
                name, n = f"{directory.name}-{cand.adcode}-{n}", n + 1
        child = Source(
            name=name, region=division_region(cand.adcode, cand.name), start_urls=(cand.url,),
            adcode=cand.adcode, level=division_level(cand.adcode),
            hosts=_site_hosts(cand.url), kind="portal",
            evidence=({"url": directory.start_urls[0], "title": cand.text},))
        self.sources[name] = child
        return child

    def parse_directory(self: ReportsSpider, response: Response) -> Iterator[Any]:
        source = self.sources[response.meta["source"]]
        text = _text(response)
        if response.status == 304:  # unchanged: its links are read from the archived copy
            stored = stored_listing(self.settings["ARCHIVE_DB"], response.url)
            if stored is None:
                self.logger.warning("directory %s: 304 but no archived copy; fetching it in "
                                    "full", response.url)
                yield response.request.replace(dont_filter=True, meta={
                    **response.meta, "revalidated": True, "handle_httpstatus_list": []})
                return
            text = decode_body(*stored).text
        links = directory_links(text, response.url)
        candidates, unnamed = directory_candidates(links, governments_named, source.adcode)
        yield PageItem(self._capture(response, source, "directory"), is_listing=True,
                       links=len(candidates))
        self.logger.info("directory %s: %d links naming a government of its division, %d others "
                         "(not fetched)", response.url, len(candidates), len(unnamed))
        for link, why in unnamed:
            yield self._candidate_record(source, Candidate(link.url, link.text, "", ""),
                                         "not_fetched", why)
        known = self.known.candidates.get(source.name, {})
        started = {s.start_urls[0] for s in self.sources.values() if s.kind == "portal"}
        for cand in candidates:
            prev = known.get(cand.url)
            if cand.url in started or (prev and prev["decision"] == "accepted"):
                continue
            if prev and prev["decision"] == "rejected":
                yield self._candidate_record(source, cand, "rejected",
                                             f"rejected in run {prev['run_id']}: {prev['reason']}",
                                             site_id=prev["site_id_code"])
                continue
            child = self._child_source(source, cand)
            started.add(cand.url)
            yield Request(cand.url, callback=self.parse_candidate,
                          errback=self.on_candidate_error,
                          meta={"source": child.name, "role": "explore", "explore_depth": 0,
                                "via": response.url, "link_text": cand.text, "score": 0,
                                "candidate": cand, "directory": source.name})

    def _candidate_record(self, directory: Source, cand: Candidate, decision: str, reason: str,
                          site_id: str | None = None, portal: str | None = None
                          ) -> ExploreRecord:
        return ExploreRecord("candidate", directory.name, {
            "directory": directory.name, "url": cand.url, "link_text": cand.text,
            "adcode": cand.adcode or None, "name": cand.name or None, "site_id_code": site_id,
            "decision": decision, "reason": reason, "portal_source": portal,
            "decided_at": utcnow()})

    def parse_candidate(self: ReportsSpider, response: Response) -> Iterator[Any]:
        """A candidate's home page: accepted if its 网站标识码 carries the body's code."""
        child = self.sources[response.meta["source"]]
        directory = self.sources[response.meta["directory"]]
        cand: Candidate = response.meta["candidate"]
        text = _text(response)
        code = site_id_code(text)
        target = redirect_target(text, response.url)
        if (code is None and target and child.allows(target)
                and not response.meta.get("stub_followed")):
            # The listed URL is a redirect stub: the page it sends to is the home page.
            yield self._page_record(response, child.name, "explored",
                                    f"redirect stub to {target}", response.meta, response.status)
            yield response.request.replace(url=target, meta={**response.meta,
                                                             "stub_followed": True})
            return
        why = check_site_id(code, cand.adcode)
        if why:
            self.logger.warning("directory %s: %s (%s) rejected: %s", directory.name, cand.url,
                                cand.text, why)
            del self.sources[child.name]
            yield self._candidate_record(directory, cand, "rejected", why, site_id=code)
            return
        self.logger.info("directory %s: %s accepted as the portal of %s (%s, 网站标识码 %s)",
                         directory.name, cand.url, cand.name, cand.adcode, code)
        yield self._candidate_record(directory, cand, "accepted",
                                     f"网站标识码 {code} starts with {cand.adcode}", site_id=code,
                                     portal=child.name)
        yield ExploreRecord("portal", child.name, {
            "adcode": cand.adcode, "url": cand.url, "name": cand.name,
            "evidence": {"directory_page": response.meta["via"], "link_text": cand.text,
                         "site_id_code": code},
            "directory": directory.name, "portal_source": child.name, "found_at": utcnow()},
            source_row=child.as_row())
        # The home page is the portal's first exploration page.
        state = self._portals.setdefault(child.name, PortalState(cand.url))
        state.explored = True
        state.seen.update({cand.url, response.url})
        state.requests += 2 if response.meta.get("stub_followed") else 1
        yield from self.parse_explore(response)

    def on_candidate_error(self: ReportsSpider, failure: Failure) -> Iterator[Any]:
        request = failure.request
        directory = self.sources[request.meta["directory"]]
        cand: Candidate = request.meta["candidate"]
        reason = f"home page failed: {self._failure_reason(failure)}"
        self.logger.warning("directory %s: %s (%s) rejected: %s", directory.name, request.url,
                            cand.text, reason)
        yield self._candidate_record(directory, cand, "unreachable", reason)
        self.sources.pop(request.meta["source"], None)

    # -- end ------------------------------------------------------------------------------------
    def discovery_closed(self) -> None:
        for name, state in getattr(self, "_portals", {}).items():
            if state.explored and not state.columns:
                self.logger.warning("portal %s: no report column found in %d exploration "
                                    "requests", name, state.requests)
            if state.over_budget:
                self.logger.warning("portal %s: exploration budget spent; %d links worth a "
                                    "request were left", name, state.over_budget)
