"""Reports published as files: from a file capture and the link that led to it, an Extraction.

The file's paragraphs (archive.files) get the same line cleaning and traditional→simplified
conversion as page text. Metadata comes from where a file has none: the title from the link
text, else the linking page's title, else the document's own first lines; the published date and
publisher from the linking page. Pure, like `extract_page`: (bytes, url, link context) in.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archive.classify import classify_title, report_year
from archive.extract import MIN_REPORT_CHARS, Extraction
from archive.files import DEFAULT_LIMITS, FileLimits, FileRejected, Sniffed, extract_isolated
from archive.noise import clean_lines
from archive.script import has_traditional, to_simplified

_LINK_NOISE = re.compile(r"^(?:附件\s*\d*\s*[:：.、]?\s*)|\.(?:pdf|docx?|wps|ofd|jpe?g|png|tiff?)$",
                         re.IGNORECASE)
_STUB_WORDS = re.compile(r"详见附件|见附件|请见附件|附件下载|点击下载|点击查看")
TITLE_MAX = 80  # a document's opening line longer than this is body, not a title


@dataclass(frozen=True, slots=True)
class LinkContext:
    """Where a file was found: carried from the spider in the capture (`Capture.link`)."""

    text: str | None = None          # the anchor text
    linked_from: str | None = None   # the listing or report page that linked the file
    page_title: str | None = None    # that page's title (report pages: 详见附件 stubs)
    published: str | None = None    # that page's date for the link (YYYY-MM-DD)
    publisher: str | None = None     # that page's 发布机构
    page_is_report: bool = False     # the page has the report's text itself: the file is a copy

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> LinkContext:
        if not data:
            return cls()
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def link_title(text: str | None) -> str | None:
    """Anchor text as a title: "附件1：" prefixes and file extensions removed."""
    if not text:
        return None
    t = " ".join(text.split())
    t = _LINK_NOISE.sub("", _LINK_NOISE.sub("", t)).strip()
    return t or None


def is_stub(text: str) -> bool:
    """A report page whose own text is not the report: 详见附件, or shorter than a report."""
    return len(text) < MIN_REPORT_CHARS or (len(text) < 600 and bool(_STUB_WORDS.search(text)))


def _document_title(lines: list[str]) -> str | None:
    """The document's heading: its first line, joined with the second when the heading wrapped."""
    if not lines or len(lines[0]) > TITLE_MAX:
        return None
    if len(lines) > 1 and len(lines[0]) + len(lines[1]) <= TITLE_MAX:
        joined = lines[0] + lines[1]
        if classify_title(joined).is_report and not classify_title(lines[0]).is_report:
            return joined
    return lines[0]


def rejected(fmt: str, reason: str, link: LinkContext) -> Extraction:
    ex = Extraction("rejected", reason, format=fmt, linked_from=link.linked_from)
    ex.provenance["format"] = "sniffed"
    return ex


def extract_attachment(body: bytes, url: str, sniffed: Sniffed, link: LinkContext,
                       limits: FileLimits = DEFAULT_LIMITS) -> Extraction:
    """Extract, clean and classify one file. Never raises: a refused file is kind 'rejected'."""
    fmt = sniffed.format
    if fmt not in ("pdf", "docx", "doc", "wps", "ofd", "image"):
        what = "a zip that is neither DOCX nor OFD" if fmt == "zip" else "unrecognised bytes"
        return rejected(fmt, f"announced as {sniffed.claimed} but the file is {what} "
                             f"(starts {body[:8]!r})", link)
    try:
        ft = extract_isolated(body, fmt, limits)
    except FileRejected as exc:
        return rejected(fmt, str(exc), link)
    raw = "\n".join(ft.paragraphs)
    traditional = has_traditional(raw)
    simplified = to_simplified(raw) if traditional else raw
    doc_lines = [line for line in simplified.splitlines() if line.strip()]
    anchor = link_title(link.text)
    truncated = anchor is not None and anchor.endswith(("…", "..."))  # listings cut long titles
    candidates = [(None if truncated else anchor, "link text"),
                  (to_simplified(link.page_title) if link.page_title else None, "linking page"),
                  (_document_title(doc_lines), "document"),
                  (anchor if truncated else None, "link text (truncated)")]
    present = [(t, src) for t, src in candidates if t]
    title, title_src = next(((t, s) for t, s in present if classify_title(t).is_report),
                            present[0] if present else (None, "none"))
    doc_title = _document_title(doc_lines)
    lines = clean_lines(simplified, title)
    if doc_title and lines and lines[0] == doc_title and doc_title != title:
        lines = lines[1:]  # the document's own heading, when the link text gave the title
    text = "\n".join(lines)
    ex = Extraction("not_report", "", title=title, text=text, traditional=traditional,
                    format=fmt, linked_from=link.linked_from, published=link.published,
                    publisher=to_simplified(link.publisher) if link.publisher else None)
    ex.provenance.update({"title": title_src, "text": ft.how, "format": "sniffed"})
    if link.published:
        ex.provenance["published"] = "linking page"
    if link.publisher:
        ex.provenance["publisher"] = "linking page"
    if ft.quality == "ocr":
        ex.quality, ex.confidence = "ocr", ft.confidence
        ex.quality_reason = (f"OCR text ({ft.how}), mean confidence {ft.confidence:g}/100 over "
                             f"{ft.pages} page(s): not an exact transcription")
    verdict = classify_title(title or "")
    if not verdict.is_report:
        ex.reason = f"{fmt.upper()} file: {verdict.reason}"
        return ex
    if link.page_is_report:
        ex.reason = (f"{fmt.upper()} copy of the report at {link.linked_from} (the page has the "
                     "report's text; the file is kept as a capture)")
        return ex
    if len(text) < MIN_REPORT_CHARS:
        ex.reason = f"report title but the {fmt.upper()} file has only {len(text)} characters"
        return ex
    year, src = report_year(title or "", text)
    ex.report_year = year
    ex.provenance["report_year"] = src
    ex.kind, ex.reason = "report", f"{verdict.reason} ({fmt.upper()} file)"
    ex.content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ex
