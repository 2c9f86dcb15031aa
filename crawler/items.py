"""Items the spider hands to the archive pipeline. A failure and an exploration record are the
archive's own entries (`archive.ingest`); a page carries what only the crawl knows besides."""

from __future__ import annotations

from dataclasses import dataclass

from archive.extract import Extraction
from archive.ingest import ExploreEntry as ExploreRecord
from archive.ingest import FailureEntry as FailureItem
from archive.pages import Capture

__all__ = ["Capture", "ExploreRecord", "FailureItem", "PageItem"]


@dataclass(slots=True)
class PageItem:
    """A response to keep; `is_listing` pages are kept but not treated as report candidates."""

    capture: Capture
    is_listing: bool
    note: str | None = None   # reason to record instead of the default (e.g. a repeated listing)
    extraction: Extraction | None = None  # already extracted (start URLs), not done twice
    links: int = 0            # report links found on a listing page (for source health)
    truncated: bool = False   # a listing whose further pages were not followed (page limit)
