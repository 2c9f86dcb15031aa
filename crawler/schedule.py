"""The crawl as a scheduled service: season-aware cron and systemd timers, and the run they start.

Reports are due by April 1 and most appear January–April, some much later: crawl weekly from January
to May and monthly otherwise. One command prints or installs the schedule; `run` is what it starts
(and what an operator runs on demand, for every source or one):

    python -m crawler.schedule cron                 # print an /etc/cron.d file
    python -m crawler.schedule systemd              # print the .service and .timer units
    python -m crawler.schedule install cron|systemd [--dest DIR]
    python -m crawler.schedule run [--source NAME ...]

Overlapping runs are refused by the crawl's own lock (`scrapy crawl` exits 75 while another crawl
writes the archive); a run that dies stays visible in `crawl_runs` (marked `died` by the next run).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from archive.constants import default_db
from archive.runs import last_run_of_process

PROJECT = Path(__file__).resolve().parent.parent
UNIT = "fzzf-archive"

# The season, in one place: (cron minute hour dom month dow, systemd OnCalendar).
WEEKLY_IN_SEASON = ("17 3 * 1-5 1", "Mon *-01..05-* 03:17:00")   # Mondays, January–May
MONTHLY_OFF_SEASON = ("17 3 1 6-12 *", "*-06..12-01 03:17:00")  # the 1st, June–December


@dataclass(frozen=True, slots=True)
class Job:
    project: Path
    python: str
    db: str
    sources: str
    user: str = "root"
    log: str | None = None

    def command(self) -> str:
        log = self.log or str(Path(self.db).parent / "crawl.log")
        return (f"{shlex.quote(self.python)} -m crawler.schedule run "
                f"--db {shlex.quote(self.db)} --sources {shlex.quote(self.sources)} "
                f"--log {shlex.quote(log)}")


def cron_file(job: Job) -> str:
    run = f"cd {shlex.quote(str(job.project))} && {job.command()}"
    return (
        "# fzzf-archive: rule-of-law report crawl (python -m crawler.schedule cron)\n"
        "# Weekly on Mondays January–May (reports are due April 1), monthly on the 1st otherwise.\n"
        "# The crawl log goes to --log; cron mails only what `run` prints: nothing when all is\n"
        "# well, one line per unhealthy source (exit 3), or the running crawl's holder (exit 75).\n"
        "SHELL=/bin/sh\n"
        f"{WEEKLY_IN_SEASON[0]}  {job.user}  {run}\n"
        f"{MONTHLY_OFF_SEASON[0]}  {job.user}  {run}\n"
    )


def systemd_units(job: Job) -> dict[str, str]:
    service = (
        "[Unit]\n"
        "Description=fzzf-archive: crawl rule-of-law reports into the archive\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"User={job.user}\n"
        f"WorkingDirectory={job.project}\n"
        f"ExecStart={job.command()}\n"
        "# Exit 3 = some source unhealthy (see source_health), 75 = another crawl holds the\n"
        "# archive: both leave the unit failed, for `systemctl --failed` or OnFailure= to see.\n"
        "Nice=10\n"
    )
    timer = (
        "[Unit]\n"
        "Description=fzzf-archive crawl: weekly January–May, monthly June–December\n\n"
        "[Timer]\n"
        f"OnCalendar={WEEKLY_IN_SEASON[1]}\n"
        f"OnCalendar={MONTHLY_OFF_SEASON[1]}\n"
        "# A run missed while the machine was off starts at the next boot.\n"
        "Persistent=true\n"
        "RandomizedDelaySec=30min\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {f"{UNIT}.service": service, f"{UNIT}.timer": timer}


def install(kind: str, job: Job, dest: Path | None) -> list[Path]:
    """Write the schedule; returns the files written. Default places: /etc/cron.d and
    /etc/systemd/system."""
    if kind == "cron":
        files = {UNIT: cron_file(job)}
        dest = dest or Path("/etc/cron.d")
    else:
        files = systemd_units(job)
        dest = dest or Path("/etc/systemd/system")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = dest / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def run(db: str, sources: str, only: list[str], extra: list[str], log: str | None) -> int:
    """One crawl: `scrapy crawl reports` in the project directory; its exit status is ours.

    With `log`, the crawl's own output is appended there and only a summary is printed: silence
    when all is well, else one line per unhealthy source — what cron mails and monitors read.
    """
    cmd = [str(Path(sys.executable).parent / "scrapy"), "crawl", "reports",
           "-a", f"sources={sources}", "-s", f"ARCHIVE_DB={db}", *extra]
    if only:
        cmd += ["-a", f"only={','.join(only)}"]
    if log is None:
        return subprocess.call(cmd, cwd=PROJECT)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT)
        code = proc.wait()
    if code == 0:
        return 0
    for line in run_summary(db, proc.pid, log):
        print(line, file=sys.stderr)
    return code


def run_summary(db: str, pid: int, log: str) -> list[str]:
    """What went wrong in the run the crawl process `pid` recorded (or where to look)."""
    run = last_run_of_process(db, pid)
    if run is not None:
        lines = [f"unhealthy source {name}: {why}" for name, why in run.unhealthy.items()]
        return [f"crawl run {run.id} ({run.status}) in {db}: {len(lines)} unhealthy "
                f"source(s); log: {log}", *lines]
    tail = Path(log).read_text("utf-8", "replace").splitlines()[-5:]
    return [f"crawl did not start a run in {db}; last lines of {log}:", *tail]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.schedule",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=default_db())
    common.add_argument("--sources", default=str(PROJECT / "crawler" / "sources.yaml"))
    for name, help_ in (("cron", "print an /etc/cron.d file"),
                        ("systemd", "print the systemd service and timer")):
        p = sub.add_parser(name, parents=[common], help=help_)
        p.add_argument("--user", default="root")
    p = sub.add_parser("install", parents=[common], help="write the cron file or systemd units")
    p.add_argument("kind", choices=["cron", "systemd"])
    p.add_argument("--dest", type=Path, help="directory (default /etc/cron.d or "
                                             "/etc/systemd/system)")
    p.add_argument("--user", default="root")
    p = sub.add_parser("run", parents=[common], help="crawl now (what the schedule starts)")
    p.add_argument("--source", action="append", default=[], metavar="NAME",
                   help="only this source (repeatable): the on-demand run")
    p.add_argument("-s", "--set", action="append", default=[], metavar="SETTING=VALUE",
                   help="extra Scrapy setting")
    p.add_argument("--log", help="append the crawl's log here; print only a summary")
    args = parser.parse_args(argv)

    db = str(Path(args.db).absolute())
    sources = str(Path(args.sources).absolute())
    if args.command == "run":
        extra = [x for s in args.set for x in ("-s", s)]
        return run(db, sources, args.source, extra, args.log)
    job = Job(PROJECT, sys.executable, db, sources, user=args.user)
    if args.command == "cron":
        print(cron_file(job), end="")
    elif args.command == "systemd":
        for name, text in systemd_units(job).items():
            print(f"# {name}\n{text}")
    else:
        for path in install(args.kind, job, args.dest):
            print(f"wrote {path}")
        if args.kind == "systemd":
            print(f"then: systemctl daemon-reload && systemctl enable --now {UNIT}.timer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
