"""Items the spider hands to the archive pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from archive.extract import Extraction
from archive.store import Capture


@dataclass(slots=True)
class PageItem:
    """A response to keep; `is_listing` pages are kept but not treated as report candidates."""

    capture: Capture
    is_listing: bool
    note: str | None = None   # reason to record instead of the default (e.g. a repeated listing)
    extraction: Extraction | None = None  # already extracted (start URLs), not done twice
    links: int = 0            # report links found on a listing page (for source health)
    truncated: bool = False   # a listing whose further pages were not followed (page limit)


@dataclass(slots=True)
class FailureItem:
    """A request that ended without a usable response: network error, or skipped on purpose."""

    url: str
    source: str
    role: str
    outcome: str      # network_error | skipped
    reason: str
    retries: int = 0
