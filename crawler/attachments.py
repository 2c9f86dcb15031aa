"""Links to report files (PDF, Word, WPS, OFD, scans) on listing and report pages: pure functions,
HTML text in, links and the date shown beside them out."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from archive.classify import looks_like_candidate
from archive.files import claimed_format
from crawler.listing import Link

# Cheap test on raw bytes before any parsing: does the page link a document file at all?
_FILE_HREF = re.compile(rb"""href\s*=\s*["']?[^"'>\s]+\.(?:pdf|docx?|wps|ofd)\b""", re.IGNORECASE)
_DATE = re.compile(r"((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
DOCUMENTS = ("pdf", "docx", "doc", "wps", "ofd")


# What _FILE_HREF needs, on the lower-cased body: a case-sensitive pattern that starts with a
# literal, which the regex engine finds by a fast scan instead of trying every position.
_FILE_EXTENSION = re.compile(rb"\.(?:pdf|docx?|wps|ofd)\b")


def has_file_links(body: bytes) -> bool:
    # Runs on the event loop for every detail page, most of which name no document file: the
    # prefilter answers those in a tenth of the time of the case-insensitive scan.
    return bool(_FILE_EXTENSION.search(body.lower()) and _FILE_HREF.search(body))


def is_file_url(url: str) -> bool:
    return claimed_format(url, None) in (*DOCUMENTS, "image")


def file_links(text: str, url: str, *, all_documents: bool) -> list[Link]:
    """Links to files on a page: every document file when `all_documents` (a report page's
    附件), else only those whose text looks like a report; images only with report-like text
    (a page's other pictures are logos and QR codes)."""
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return []
    out: dict[str, Link] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        target = urljoin(url, href)
        if urlsplit(target).scheme not in ("http", "https"):
            continue
        kind = claimed_format(target, None)
        label = " ".join((a.get("title") or a.text_content() or "").split())
        wanted = ((kind in DOCUMENTS and (all_documents or looks_like_candidate(label)))
                  or (kind == "image" and looks_like_candidate(label)))
        if wanted and target not in out:
            out[target] = Link(target, label)
    return list(out.values())


def date_near(text: str, href_url: str, window: int = 400) -> str | None:
    """The YYYY-MM-DD shown right after a link on a listing (`<a …>title</a><span>2024-03-28`)."""
    name = urlsplit(href_url).path.rsplit("/", 1)[-1]
    at = text.find(name) if name else -1
    if at < 0:
        return None
    m = _DATE.search(text, at, at + window)
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}" if 1 <= mo <= 12 and 1 <= d <= 31 else None
