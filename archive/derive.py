"""All the CPU work for one captured response, as a pure function that worker processes run.

The crawl hands each response to `derive` in a process pool (the Scrapy reactor thread only fetches
and writes); `Archive.commit` then stores capture and results. Inputs and outputs are plain
picklable dataclasses, and the body is never sent back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from archive.analysis import analyse_safely
from archive.decode import decode_body
from archive.extract import Extraction, extract_page
from archive.problems import Problem, page_problem
from archive.search import index_form


@dataclass(slots=True)
class Derived:
    sha256: str | None
    problem: Problem | None = None
    extraction: Extraction | None = None
    index: tuple[str, str] | None = None   # search-index form of title + text, for reports


def content_type_of(headers: dict[str, str]) -> str | None:
    return {k.lower(): v for k, v in headers.items()}.get("content-type")


def derive(body: bytes, headers: dict[str, str], status: int, url: str, is_listing: bool,
           extraction: Extraction | None = None) -> Derived:
    """Checksum, problem detection, extraction and search-index form of one response."""
    sha = hashlib.sha256(body).hexdigest() if body else None
    if status == 304:
        return Derived(sha)
    content_type = content_type_of(headers)
    decoded = decode_body(body, content_type)
    problem = page_problem(status, decoded.text)
    if problem is not None:
        return Derived(sha, problem)
    if status != 200 or is_listing:
        return Derived(sha)
    if extraction is None:
        extraction = extract_page(body, content_type, url, decoded)
    index = (index_form(f"{extraction.title or ''}\n{extraction.text}")
             if extraction.kind == "report" else None)
    with_analysis(extraction, url)
    return Derived(sha, None, extraction, index)


def with_analysis(ex: Extraction, url: str = "") -> Extraction:
    """A report's parts and figures (#18), computed once, where the extraction runs."""
    if ex.kind == "report" and ex.analysis is None:
        ex.analysis = analyse_safely(ex.text, url)
    return ex
