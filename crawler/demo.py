"""`make demo`: serve the bundled sample portal, crawl it into an archive, publish it in Datasette.

Everything runs on 127.0.0.1. Ctrl-C (or SIGTERM) stops the portal, the crawl and Datasette and
leaves no process behind.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.portal import SamplePortal, render_sources

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def datasette_command(db: Path, port: int) -> list[str]:
    cmd = [str(BIN / "datasette"), "serve", str(db), "-m", str(ROOT / "datasette/metadata.yml"),
           "--plugins-dir", str(ROOT / "datasette/plugins"), "-h", "127.0.0.1", "-p", str(port)]
    templates = ROOT / "datasette/templates"
    if templates.is_dir() and any(templates.iterdir()):
        cmd += ["--template-dir", str(templates)]
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--portal-port", type=int, default=8700)
    parser.add_argument("--port", type=int, default=8001, help="Datasette port")
    parser.add_argument("--dir", type=Path, default=ROOT / "data/demo")
    parser.add_argument("--no-serve", action="store_true", help="crawl only, then exit")
    args = parser.parse_args(argv)

    args.dir.mkdir(parents=True, exist_ok=True)
    db, sources = args.dir / "archive.db", args.dir / "sources.yaml"
    children: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    portal = SamplePortal(port=args.portal_port)
    try:
        portal.start()
        sources.write_text(render_sources(portal.base_url), encoding="utf-8")
        print(f"sample portal on {portal.base_url}/ ; crawling into {db}", flush=True)
        started = time.monotonic()
        crawl = subprocess.Popen(
            [str(BIN / "scrapy"), "crawl", "reports", "-a", f"sources={sources}",
             "-s", f"ARCHIVE_DB={db}", "-s", "AUTOTHROTTLE_START_DELAY=0.2"], cwd=ROOT)
        children.append(crawl)
        code = crawl.wait()
        print(f"crawl finished with exit code {code} in {time.monotonic() - started:.1f} s",
              flush=True)
        if args.no_serve:
            return code
        server = subprocess.Popen(datasette_command(db, args.port), cwd=ROOT)
        children.append(server)
        print(f"Datasette on http://127.0.0.1:{args.port}/ — Ctrl-C to stop", flush=True)
        return server.wait()
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        portal.stop()


if __name__ == "__main__":
    sys.exit(main())
