"""Why a download failed, in a few stable words for the fetch log."""

from __future__ import annotations

from twisted.python.failure import Failure


def describe_failure(failure: Failure) -> str:
    """A short, stable reason for a failed download, for the fetch log."""
    name, message = failure.type.__name__, failure.getErrorMessage()
    text = f"{name} {message}".lower()
    if ("maxsize" in text or "max size" in text or "larger than download" in text
            or "cancelled" in text):
        # Scrapy cancels a download only when it outgrows DOWNLOAD_MAXSIZE.
        kind = "refused: larger than DOWNLOAD_MAXSIZE"
    elif "timeout" in text or "timed out" in text:
        kind = "timeout"
    elif "dataloss" in text or "data loss" in text or "partial" in text:
        kind = "truncated body"
    elif "refused" in text:
        kind = "connection refused"
    elif "lost" in text or "reset" in text or "connectiondone" in text:
        kind = "connection lost"
    elif "dns" in text or "resolve" in text:
        kind = "DNS lookup failed"
    else:
        kind = "download failed"
    return f"{kind} ({name}: {message})"[:500]
