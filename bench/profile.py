"""Where a crawl's CPU goes: py-spy over the project crawl of the synthetic portal, summarised.

    python -m bench.profile [--sources 20] [--pages-per-source 100] [--py-spy PATH]

py-spy is not a project dependency (it only observes): install it anywhere, e.g.
`python3 -m venv /tmp/tools && /tmp/tools/bin/pip install py-spy`. It samples every thread of the
crawl process and of its extraction workers (`--subprocesses --threads`); this script groups the
samples by role (Scrapy's event loop, extraction workers, the archive writer thread, process-pool
IPC) and lists the heaviest functions inside extraction and inside the writer.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench import nginx, synth
from bench.perf import CRAWL_SETTINGS

ROLES = (("derive (archive/derive.py", "extraction workers (process pool)"),
         ("archive-writer", "archive writer thread (SQLite)"),
         ("QueueFeederThread", "process-pool IPC threads"),
         ("Thread-1", "process-pool IPC threads"),
         ("MainThread", "Scrapy event loop (fetch, parse listings, item plumbing)"))


def frame_name(frame: str) -> str:
    """'func (path/file.py:12)' -> 'func (path/file.py)'."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0]})" if where else name


def summarise(raw: Path, top: int = 14) -> str:
    roles: Counter[str] = Counter()
    inside: dict[str, Counter[str]] = {"derive": Counter(), "writer": Counter()}
    totals = {"derive": 0, "writer": 0}
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        role = next((r for key, r in ROLES if key in stack), "other")
        roles[role] += n
        part = ("derive" if role.startswith("extraction") else
                "writer" if role.startswith("archive writer") else None)
        if part:
            totals[part] += n
            for name in {frame_name(f) for f in stack.split(";")}:
                if "archive/" in name or "sqlite" in name or "lxml" in name:
                    inside[part][name] += n
    out = [f"py-spy samples: {total} (CPU only, all threads and workers)", ""]
    out += [f"{n / total * 100:5.1f} %  {role}" for role, n in roles.most_common()]
    for part, title in (("derive", "inside extraction (share of worker samples)"),
                        ("writer", "inside the writer thread (share of its samples)")):
        out += ["", title]
        out += [f"{n / totals[part] * 100:5.1f} %  {name}"
                for name, n in inside[part].most_common(top) if totals[part]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--pages-per-source", type=int, default=100)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/tools/bin/py-spy")
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    parser.add_argument("--raw", help="keep py-spy's raw (collapsed stacks) output here")
    args = parser.parse_args(argv)
    if not Path(args.py_spy).exists():
        print(f"error: py-spy not found at {args.py_spy} (see this module's docstring)",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="fzzf-profile-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's worker process may run as another user (www-data)
        portal = synth.generate(work / "portal", args.sources, args.pages_per_source)
        with nginx.serve(portal, work) as port:
            sources = work / "sources.yaml"
            synth.write_sources(portal, port, sources)
            raw = Path(args.raw) if args.raw else work / "profile.txt"
            settings = [*CRAWL_SETTINGS, "AUTOTHROTTLE_ENABLED=False", "ROBOTSTXT_OBEY=False",
                        "LOG_LEVEL=INFO", f"ARCHIVE_DB={work / 'archive.db'}"]
            cmd = [args.py_spy, "record", "--subprocesses", "--threads", "--format", "raw",
                   "--rate", str(args.rate), "-o", str(raw), "--",
                   str(Path(sys.executable).parent / "scrapy"), "crawl", "reports",
                   "-a", f"sources={sources}", *[a for s in settings for a in ("-s", s)]]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0 or "Spider closed (finished)" not in proc.stderr:
                print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
                return 1
            done = [ln for ln in proc.stderr.splitlines() if "archive " in ln and "=" in ln]
        print(done[-1] if done else "(no archive summary line)")
        print(summarise(raw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
