"""`make demo`'s runner: portal → crawl → Datasette, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO
from tests.portal import N_REPORTS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


def test_demo_serves_every_sample_report_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo", "--portal-port", "0", "--port", str(port),
         "--dir", str(tmp_path)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reports: list = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(reports) < N_REPORTS:
            time.sleep(0.5)
            assert proc.poll() is None, proc.stdout.read()
            try:
                url = f"http://127.0.0.1:{port}/archive/reports.json?_shape=array&_col=title"
                with urllib.request.urlopen(url, timeout=5) as r:
                    reports = json.load(r)
            except OSError:
                continue
        assert len(reports) == N_REPORTS
        kids = children_of(proc.pid)
        assert kids, "datasette should be running as a child"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    for pid in kids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"child {pid} survived Ctrl-C")
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "Datasette port still open"
