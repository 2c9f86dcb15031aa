"""`python -m archive …`: maintenance commands over an archive file."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from archive.reextract import reextract
from archive.store import DEFAULT_DB, Archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive")
    sub = parser.add_subparsers(dest="command", required=True)
    rx = sub.add_parser("reextract", help="re-derive every report from stored captures")
    rx.add_argument("--db", default=os.environ.get("ARCHIVE_DB", DEFAULT_DB))
    rx.add_argument("--quiet", action="store_true", help="no progress bar")
    rx.add_argument("--workers", type=int, default=None,
                    help="extraction processes (default: one per core; 0 = in this process)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    if not os.path.exists(args.db):
        print(f"error: no archive at {args.db}", file=sys.stderr)
        return 2
    archive = Archive(args.db)
    try:
        counts = reextract(archive, progress=not args.quiet, workers=args.workers)
    finally:
        archive.close()
    print("reextract: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
