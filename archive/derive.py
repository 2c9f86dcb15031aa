"""All the CPU work for one captured response, as a pure function that worker processes run.

The crawl hands each response to `derive` in a process pool (the Scrapy reactor thread only fetches
and writes); `Archive.commit` then stores capture and results. Inputs and outputs are plain
picklable dataclasses, and the body is never sent back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from archive.analysis import analyse_safely
from archive.attachments import LinkContext, extract_attachment
from archive.decode import decode_body
from archive.extract import Extraction, extract_page
from archive.files import DEFAULT_LIMITS, FileLimits, sniff
from archive.problems import Problem, page_problem
from archive.search import index_form


@dataclass(slots=True)
class Derived:
    sha256: str | None
    problem: Problem | None = None
    extraction: Extraction | None = None
    index: tuple[str, bytes] | None = None  # search-index form of title + text, for reports


def content_type_of(headers: dict[str, str]) -> str | None:
    return {k.lower(): v for k, v in headers.items()}.get("content-type")


def extract_any(body: bytes, content_type: str | None, url: str,
                link: Mapping[str, Any] | None = None, limits: FileLimits = DEFAULT_LIMITS,
                page: Callable[[bytes, str | None, str], Extraction] = extract_page) -> Extraction:
    """`page` (extract_page) for pages, `extract_attachment` for files: the bytes decide."""
    sniffed = sniff(body, url, content_type)
    if sniffed.format == "html":
        ex = page(body, content_type, url)
        return _announced_html(ex, sniffed.claimed) if sniffed.mismatch else ex
    return extract_attachment(body, url, sniffed, LinkContext.of(link), limits)


def _announced_html(ex: Extraction, claimed: str | None) -> Extraction:
    """A "PDF" that is an HTML page is handled as a page, with the mismatch in its reason."""
    ex.reason = f"announced as {claimed} but the bytes are HTML; {ex.reason}"
    ex.provenance["format"] = f"sniffed html, announced {claimed}"
    return ex


def derive(body: bytes, headers: dict[str, str], status: int, url: str, is_listing: bool,
           extraction: Extraction | None = None, link: Mapping[str, Any] | None = None,
           limits: FileLimits = DEFAULT_LIMITS) -> Derived:
    """Checksum, problem detection, extraction and search-index form of one response."""
    sha = hashlib.sha256(body).hexdigest() if body else None
    if status == 304:
        return Derived(sha)
    content_type = content_type_of(headers)
    sniffed = sniff(body, url, content_type)
    if sniffed.format != "html":  # a file: never decoded as text or checked as a page
        if status != 200 or is_listing:
            return Derived(sha)
        ex = extraction or extract_attachment(body, url, sniffed, LinkContext.of(link), limits)
        return Derived(sha, None, with_analysis(ex, url), _index(ex))
    decoded = decode_body(body, content_type)
    problem = page_problem(status, decoded.text)
    if problem is not None:
        if sniffed.mismatch:
            problem = Problem(problem.outcome, problem.result,
                              f"announced as {sniffed.claimed} but the bytes are HTML; "
                              f"{problem.reason}")
        return Derived(sha, problem)
    if status != 200 or is_listing:
        return Derived(sha)
    if extraction is None:
        extraction = extract_page(body, content_type, url, decoded)
        if sniffed.mismatch:
            extraction = _announced_html(extraction, sniffed.claimed)
    return Derived(sha, None, with_analysis(extraction, url), _index(extraction))


def _index(ex: Extraction) -> tuple[str, bytes] | None:
    """The search-index form, its pairs as UTF-8 bytes: FTS5 reads a blob as the text it encodes,
    and bytes cross the process boundary as one copy (a str of ~27,000 characters is encoded
    when pickled, decoded when unpickled and encoded again when bound: ~0.15 ms and ~50 KB more
    per report in the crawl process)."""
    if ex.kind != "report":
        return None
    uni, bi = index_form(f"{ex.title or ''}\n{ex.text}")
    return uni, bi.encode()


def with_analysis(ex: Extraction, url: str = "") -> Extraction:
    """A report's parts and figures (#18), computed once, where the extraction runs."""
    if ex.kind == "report" and ex.analysis is None:
        ex.analysis = analyse_safely(ex.text, url)
    return ex
