"""The `reports` spider: from each source's start URLs, walk listing pages and fetch report pages.

Listing discovery is delegated to the pure adapters in `crawler.listing`; every response and every
failure becomes an item for the archive pipeline, which keeps the capture and derives the record.
"""

from __future__ import annotations

import hashlib
import inspect
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import FormRequest, Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.attachments import is_stub
from archive.classify import classify_title
from archive.constants import FetchOutcome
from archive.decode import decode_body
from archive.extract import Extraction, extract_page
from archive.files import sniff
from archive.pages import Capture
from crawler.attachments import date_near, file_links, has_file_links, is_file_url
from crawler.discovery import DiscoveryMixin, listing_meta
from crawler.explore import cms_mismatch, column_shape
from crawler.failures import describe_failure
from crawler.items import FailureItem, PageItem
from crawler.listing import Discovery, discover, hanweb, looks_like_column, next_dataproxy
from crawler.middlewares import FreshEnough, Validators, open_validators
from crawler.sources import DEFAULT_SOURCES, Source, load_sources

LISTING_ROLES = ("start", "listing", "dataproxy")


def response_headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): b", ".join(v).decode("utf-8", "replace")
        for k, v in response.headers.items()
    }


class ReportsSpider(DiscoveryMixin, scrapy.Spider):
    name = "reports"

    def __init__(self, sources: str | None = None, only: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.sources_path = Path(sources) if sources else DEFAULT_SOURCES
        loaded = load_sources(self.sources_path)  # raises SourcesError before any request
        wanted = {n.strip() for n in only.split(",")} if only else None
        if wanted and (missing := wanted - {s.name for s in loaded}):
            raise ValueError(f"{self.sources_path}: no source named {', '.join(sorted(missing))}")
        self.sources: dict[str, Source] = {
            s.name: s for s in loaded if wanted is None or s.name in wanted
        }
        # Listing bodies already seen per source: a "next page" that repeats a page is not followed.
        self._listing_hashes: defaultdict[str, set[str]] = defaultdict(set)
        self._listing_urls: defaultdict[str, set[str]] = defaultdict(set)
        self.not_revalidated = 0
        self._validators: Validators | None = None  # opened on the first unchanged report page
        self._cms_warned: set[str] = set()  # sources whose `cms` a listing contradicted
        self._pin_generator_callbacks()

    def _pin_generator_callbacks(self) -> None:
        """Keep one bound method per generator callback on the spider.

        On every response Scrapy checks a generator callback for `return value` by parsing its
        source (`is_generator_with_return_value`: ~1.9 ms for parse_page, ~0.9 for on_error) and
        caches the answer in a weak-keyed dict. A bound method is made afresh for each Request and
        dies with it, so that cache never hit: ~2 ms of the event loop's CPU per page. A bound
        method kept here outlives the requests and the answer is computed once.
        """
        for name, _ in inspect.getmembers(type(self), inspect.isgeneratorfunction):
            setattr(self, name, getattr(self, name))

    async def start(self) -> AsyncIterator[Request]:
        for source in list(self.sources.values()):
            if source.kind != "column":  # portal / directory: crawler.discovery
                for request in self.discovery_start(source):
                    yield request
                continue
            for url in source.start_urls:
                self._listing_urls[source.name].add(url)
                if looks_like_column(url):
                    yield self._request(url, source, "start", 0)
                else:  # a report page: revalidated like any archived report
                    yield self._request(url, source, "start", 0, handle_httpstatus_list=[304])

    def _request(self, url: str, source: Source, role: str, depth: int,
                 **meta: Any) -> Request:
        extra = listing_meta(source) if role == "listing" else {}
        return Request(url, callback=self.parse_page, errback=self.on_error,
                       meta={"source": source.name, "role": role, "listing_depth": depth,
                             **extra, **meta})

    def _capture(self, response: Response, source: Source, role: str) -> Capture:
        return Capture(
            url=response.url, source=source.name, role=role, status=response.status,
            headers=response_headers(response), body=response.body, region=source.region,
            retries=response.meta.get("retry_times", 0), request_url=response.request.url
            if response.request else None, link=response.meta.get("file_link"),
        )

    def max_pages(self, source: Source) -> int:
        return int(source.hints.get("max_listing_pages",
                                    self.settings.getint("CRAWL_MAX_LISTING_PAGES")))

    # -- callbacks --------------------------------------------------------------------------
    def parse_page(self, response: Response) -> Iterator[Any]:
        source = self.sources[response.meta["source"]]
        role = response.meta["role"]
        if role in LISTING_ROLES and response.status == 304:
            yield from self.parse_unchanged_listing(response)
            return
        if role not in LISTING_ROLES or response.status != 200:
            ex, files = self._report_files(response, source)
            capture = self._capture(response, source, role)
            if files and response.status == 200:  # kept: a 304 next time re-requests them
                capture.link = {"files": [[r.url, r.meta["file_link"]] for r in files]}
            yield PageItem(capture, is_listing=False, extraction=ex)
            yield from files
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        if role == "start" and not looks_like_column(response.url):
            # A report URL given as a start URL (the registry keeps the evidence report too):
            # archive it as a report when it is one, else treat it as a listing.
            ex = extract_page(response.body, content_type, response.url)
            if ex.kind == "report":
                yield PageItem(self._capture(response, source, role), is_listing=False,
                               extraction=ex)
                return
        text = decode_body(response.body, content_type).text
        found = hanweb(text, response.url) if role == "dataproxy" else discover(text, response.url)
        if role == "start" and not (found.items or found.pages or found.posts or found.redirect):
            # A start URL with nothing to follow is a report page itself.
            yield PageItem(self._capture(response, source, "start"), is_listing=False)
            return
        digest = hashlib.sha256(response.body).hexdigest()
        if digest in self._listing_hashes[source.name]:
            self.logger.warning("listing %s repeats an earlier page; not following it",
                                response.url)
            yield PageItem(self._capture(response, source, role), is_listing=True,
                           note="repeats an earlier listing page; its links were not followed",
                           links=len(found.items))
            return
        self._listing_hashes[source.name].add(digest)
        # A listing at the page limit whose pager names pages not yet requested is cut short: the
        # ledger must not count this source as having looked at the years those pages hold.
        self._listing_urls[source.name].add(response.url)
        truncated = (response.meta.get("listing_depth", 0) >= self.max_pages(source)
                     and any(p not in self._listing_urls[source.name] for p in found.pages))
        mismatch = cms_mismatch(source.cms, column_shape(text, response.url, found))
        if mismatch:
            self.crawler.stats.inc_value("listing/cms_mismatch")
            if source.name not in self._cms_warned:
                self._cms_warned.add(source.name)
                self.logger.warning("%s: %s (%s); fix `cms` in %s", source.name, mismatch,
                                    response.url, self.sources_path)
        yield PageItem(self._capture(response, source, role), is_listing=True,
                       links=len(found.items), truncated=truncated, note=mismatch)
        self.logger.info("listing %s: %d candidate links, %d more pages", response.url,
                         len(found.items), len(found.pages))
        yield from self._follow(response, source, found)

    def _follow(self, response: Response, source: Source, found: Discovery) -> Iterator[Request]:
        depth = response.meta.get("listing_depth", 0)
        if found.redirect:
            yield self._request(found.redirect, source, response.meta["role"], depth)
        for link in found.items:
            yield self._request(link.url, source, "detail", depth,
                                handle_httpstatus_list=[304], link_text=link.text,
                                **self._file_meta(response, link.url, link.text))
        if depth < self.max_pages(source):
            for page in found.pages:
                self._listing_urls[source.name].add(page)
                yield self._request(page, source, "listing", depth + 1)
        posts = list(found.posts)
        if response.meta["role"] == "dataproxy" and found.total_records:
            nxt = next_dataproxy(response.url, response.meta["formdata"], found.total_records)
            if nxt and depth < self.max_pages(source):
                posts.append(nxt)
        for post in posts:
            yield FormRequest(post.url, formdata=post.formdata, callback=self.parse_page,
                              errback=self.on_error,
                              meta={"source": source.name, "role": "dataproxy",
                                    "listing_depth": depth + 1, "formdata": post.formdata})

    def closed(self, reason: str) -> None:
        self.discovery_closed()
        close = getattr(self._validators, "close", None)
        if close is not None:
            close()

    # -- reports as files (#15) ------------------------------------------------------------
    def _file_meta(self, response: Response, url: str, text: str) -> dict[str, Any]:
        """Request meta for a file linked from a listing: its link text, the listing, and the
        date the listing shows beside it (the file itself has no publish date)."""
        if not is_file_url(url):
            return {}
        page = response.text if isinstance(response, TextResponse) else ""
        return {"file_link": {"text": text, "linked_from": response.url,
                              "published": date_near(page, url)}}

    def _report_files(self, response: Response,
                      source: Source) -> tuple[Extraction | None, list[Request]]:
        """A detail page's links to report files (附件): the page's extraction (done here, once,
        only for pages that link files) and requests for the files, carrying the page's title,
        date and publisher. When the page has the report's text the files are kept as copies.
        A page answering 304 has the files the archive holds as linked from it revalidated: the
        report behind an unchanged 详见附件 page is revisited like any other."""
        if "file_link" in response.meta:
            return None, []
        depth = response.meta.get("listing_depth", 0)
        if response.status == 304:
            return None, self._unchanged_page_files(response.url, source, depth)
        if response.status != 200 or not has_file_links(response.body):
            return None, []
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        return self._page_files(response.url, response.body, content_type, source, depth)

    def _unchanged_page_files(self, url: str, source: Source, depth: int) -> list[Request]:
        """Requests for the files the archive holds as linked from `url`, each with the link
        context it was found by (title, date and publisher of the page)."""
        if self._validators is None:  # the archive, or Redis for a distributed crawler
            self._validators = open_validators(self.settings)
        return [self._request(file, source, "detail", depth, handle_httpstatus_list=[304],
                              link_text=link.get("text"), file_link=link)
                for file, link in self._validators.linked_files(url)]

    def _page_files(self, url: str, body: bytes, content_type: str, source: Source,
                    depth: int) -> tuple[Extraction | None, list[Request]]:
        if sniff(body, url, content_type).format != "html":
            return None, []
        ex = extract_page(body, content_type, url)
        titled = classify_title(ex.title or "").is_report
        text = decode_body(body, content_type).text
        links = file_links(text, url, all_documents=titled)
        if not links:
            return ex, []
        stub = is_stub(ex.text)
        if titled and stub and ex.kind != "report":
            ex.reason += f"; its text is in {len(links)} linked file(s)"
        self.logger.info("%s links %d file(s)%s", url, len(links),
                         " (report text in the file)" if titled and stub else "")
        requests = [
            self._request(link.url, source, "detail", depth, handle_httpstatus_list=[304],
                          link_text=link.text, file_link={
                              "text": link.text, "linked_from": url,
                              "page_title": ex.title if titled else None,
                              "published": ex.published, "publisher": ex.publisher,
                              "page_is_report": ex.kind == "report" and not stub})
            for link in links]
        return ex, requests

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        source = self.sources[request.meta["source"]]
        role = request.meta.get("role", "detail")
        retries = request.meta.get("retry_times", 0)
        if failure.check(HttpError):
            yield PageItem(self._capture(failure.value.response, source, role), is_listing=False)
            return
        if failure.check(FreshEnough):
            self.not_revalidated += 1  # counted in the run record, not logged page by page
            return
        if failure.check(IgnoreRequest):
            reason = str(failure.value) or "ignored"
            if "max size" in reason.lower() or "maxsize" in reason.lower():
                reason = f"refused: decompressed body larger than DOWNLOAD_MAXSIZE ({reason})"
            elif "max redirections" in reason:
                reason = f"redirect loop or chain too long ({reason})"
            self.logger.info("skipped %s: %s", request.url, reason)
            yield FailureItem(request.url, source.name, role, FetchOutcome.SKIPPED, reason,
                              retries)
            return
        reason = describe_failure(failure)
        self.logger.warning("network error on %s: %s", request.url, reason)
        yield FailureItem(request.url, source.name, role, FetchOutcome.NETWORK_ERROR, reason,
                          retries)
