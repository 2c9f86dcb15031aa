"""`make demo`: serve the bundled sample portal, crawl it into an archive, publish it in Datasette.

Everything runs on 127.0.0.1. Ctrl-C (or SIGTERM) stops the portal, the crawl and Datasette and
leaves no process behind.
"""

from __future__ import annotations

import argparse
import errno
import signal
import socket
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


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on host:port (0 = any free port, never taken)."""
    if port == 0:
        return False
    with socket.socket() as sock:
        # As the servers bind: a socket left in TIME_WAIT by a previous run does not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def busy_ports(portal_port: int, port: int) -> str | None:
    """One line naming each taken port and the variable that changes it, or None."""
    taken = [f"{what} port {n} is in use: pass {var}=<free port>"
             for what, n, var in (("sample-portal", portal_port, "PORTAL_PORT"),
                                  ("Datasette", port, "PORT")) if port_taken(n)]
    if not taken:
        return None
    return (f"make demo: {'; '.join(taken)} (make demo PORTAL_PORT=… PORT=…; "
            "python -m crawler.demo --portal-port … --port …)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--portal-port", type=int, default=8700)
    parser.add_argument("--port", type=int, default=8001, help="Datasette port")
    parser.add_argument("--dir", type=Path, default=ROOT / "data/demo")
    parser.add_argument("--no-serve", action="store_true", help="crawl only, then exit")
    args = parser.parse_args(argv)
    # Check both ports before anything starts: a taken Datasette port would otherwise only show
    # after the whole crawl, as Datasette exiting.
    busy = busy_ports(args.portal_port, 0 if args.no_serve else args.port)
    if busy:
        print(busy, file=sys.stderr)
        return 2

    args.dir.mkdir(parents=True, exist_ok=True)
    db, sources = args.dir / "archive.db", args.dir / "sources.yaml"
    children: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    portal = SamplePortal(port=args.portal_port)
    try:
        try:
            portal.start()
        except OSError as exc:  # taken between the check and now
            if exc.errno != errno.EADDRINUSE:
                raise
            print(busy_ports(args.portal_port, 0) or f"make demo: {exc}", file=sys.stderr)
            return 2
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
