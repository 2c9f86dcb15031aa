"""From positioned text (PDF, OFD, OCR) to paragraphs in reading order.

Fixed-layout formats know lines, not paragraphs. Lines are rebuilt from text runs by their
vertical overlap; running headers, footers and page numbers are dropped by where they sit and
whether they repeat; wrapped lines are joined back into paragraphs by the page's margins (a
line that reaches the right margin continues, an indented or short line ends a paragraph).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

MARGIN_BAND = 0.09  # top and bottom share of the page where running headers and footers sit
_PAGE_NUMBER = re.compile(
    r"^[-—–－_·•\s]*(?:第\s*)?[0-9０-９IVXivx]{1,4}\s*(?:页)?(?:\s*[/／]\s*\d+|\s*共\s*\d+\s*页)?"
    r"[-—–－_·•\s]*$|^(?:page\s*)?\d+\s*(?:of|/)\s*\d+$",
    re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(slots=True)
class Run:
    """Text at a place on a page; y grows downwards, units are the page's own."""

    x0: float
    top: float
    x1: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.01)


@dataclass(slots=True)
class Page:
    width: float
    height: float
    runs: list[Run]


def join_text(left: str, right: str) -> str:
    """Concatenate two pieces of text: a space only between two Latin letters (a word wrapped
    in English); never between CJK characters, digits or punctuation ("20" + "22年")."""
    if left and right and _LATIN.match(left[-1]) and _LATIN.match(right[0]):
        return f"{left} {right}"
    return left + right


def lines_of(runs: list[Run]) -> list[Run]:
    """Merge runs that share a baseline band into lines, top to bottom, left to right."""
    groups: list[tuple[Run, list[Run]]] = []
    for run in sorted(runs, key=lambda r: (r.top + r.bottom) / 2):
        if not run.text.strip():
            continue
        if groups:
            line, members = groups[-1]
            overlap = min(line.bottom, run.bottom) - max(line.top, run.top)
            if overlap > 0.5 * min(line.height, run.height):
                line.x0, line.x1 = min(line.x0, run.x0), max(line.x1, run.x1)
                line.top, line.bottom = min(line.top, run.top), max(line.bottom, run.bottom)
                members.append(run)
                continue
        groups.append((Run(run.x0, run.top, run.x1, run.bottom, ""), [run]))
    for line, members in groups:
        for run in sorted(members, key=lambda r: r.x0):
            line.text = join_text(line.text, run.text.strip())
    return [line for line, _ in groups]


def _furniture_key(text: str) -> str:
    return _DIGITS.sub("#", re.sub(r"\s+", "", text))


def drop_furniture(pages: list[list[Run]], heights: list[float]) -> list[list[Run]]:
    """Remove page numbers and running headers/footers: lines in the top or bottom band of a
    page that look like a page number, or whose text (digits aside) recurs on other pages."""
    def in_band(line: Run, height: float) -> bool:
        return line.bottom <= height * MARGIN_BAND or line.top >= height * (1 - MARGIN_BAND)

    seen = Counter(_furniture_key(line.text) for page, h in zip(pages, heights, strict=True)
                   for line in page if in_band(line, h))
    repeat = 2 if len(pages) >= 2 else 10 ** 9
    out = []
    for page, h in zip(pages, heights, strict=True):
        kept = []
        for line in page:
            text = line.text.strip()
            if in_band(line, h) and (_PAGE_NUMBER.match(text)
                                     or seen[_furniture_key(text)] >= repeat):
                continue
            kept.append(line)
        out.append(kept)
    return out


def paragraphs(pages: list[Page]) -> list[str]:
    """Paragraphs in reading order, one string each, furniture removed."""
    line_pages = [lines_of(p.runs) for p in pages]
    line_pages = drop_furniture(line_pages, [p.height for p in pages])
    lines = [line for page in line_pages for line in page]
    if not lines:
        return []
    size = statistics.median(line.height for line in lines)
    left = Counter(round(line.x0 / size * 2) for line in lines).most_common(1)[0][0] * size / 2
    rights = sorted(line.x1 for line in lines)
    right = rights[int(0.9 * (len(rights) - 1))]
    out: list[str] = []
    prev: Run | None = None
    for line in lines:
        continues = (
            prev is not None and out
            and prev.x1 >= right - 1.5 * size            # the line before ran to the margin
            and line.x0 <= left + 0.6 * size             # this one is not indented
            and (line.top < prev.top                     # first line of a new page
                 or line.top - prev.bottom < 1.5 * size)  # no paragraph gap
        )
        if continues:
            out[-1] = join_text(out[-1], line.text)
        else:
            out.append(line.text)
        prev = line
    return [p.strip() for p in out if p.strip()]
