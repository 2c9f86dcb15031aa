"""One crawl writes an archive at a time: an advisory lock file beside the SQLite file.

`flock` is released by the kernel when the holder exits, however it exits (SIGKILL included), so a
dead crawl never leaves a stale lock behind; the file's text only says who holds it, for the
message the next run prints.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from archive.constants import utcnow
from archive.store import Archive


class LockHeld(RuntimeError):
    """Another process holds the archive's crawl lock."""


class ArchiveLock:
    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(f"{db_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise LockHeld(f"another crawl is writing {self.path.with_suffix('')} "
                           f"({holder}); not starting") from None
        os.ftruncate(fd, 0)
        since = utcnow()
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


@contextmanager
def crawl_lock(db_path: str | Path) -> Iterator[list[int]]:
    """Hold the archive's crawl lock for a run. Holding it proves no other run is live, so runs
    left `running` are marked `died` first (their ids are yielded, and named on stderr).
    Raises LockHeld when another crawl holds it."""
    with ArchiveLock(db_path):
        archive = Archive(db_path)
        try:
            dead = archive.mark_dead_runs()
        finally:
            archive.close()
        for run_id in dead:
            print(f"warning: run {run_id} in {db_path} had died without finishing; marked died",
                  file=sys.stderr)
        yield dead
