"""Housekeeping for the crawl's long-running processes: end with the process that started them,
and hand memory that is free again back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
import time
from collections.abc import Callable

TRIM_SECONDS = 5.0  # how often a crawl's processes hand freed memory back (release_free_memory)


def release_free_memory() -> None:
    """Give heap memory that is free again back to the system (glibc's `malloc_trim`).

    Pages, results and SQLite buffers are allocated and freed by several threads; glibc keeps what
    was freed for later use, so a burst (the writer falling behind for a while, one very large
    page) stays in the process's size for the rest of the crawl: 10–25 MB per process measured,
    which the crawl's memory limit counts. Trimming takes a few milliseconds; where the C library
    is not glibc it does nothing."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def exit_with_parent(pid: int) -> None:
    """End this process when process `pid` is gone (even after SIGKILL, which leaves it no chance
    to end its children), and meanwhile hand freed memory back every TRIM_SECONDS. The
    initializer of the extraction workers; the writer process calls it first."""

    def watch() -> None:
        trimmed = time.monotonic()
        while True:
            time.sleep(1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            if time.monotonic() - trimmed >= TRIM_SECONDS:
                release_free_memory()
                trimmed = time.monotonic()

    threading.Thread(target=watch, daemon=True).start()
