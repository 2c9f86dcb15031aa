"""What a new user meets first (issue #12 items 8, 9): a missing default archive and a taken demo
port each end in one line that names what to pass, a non-zero exit and no traceback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "ARCHIVE_DB"}


@pytest.mark.parametrize("command", ["health", "export-warc", "reextract"])
def test_missing_default_archive_says_what_to_pass(command: str, tmp_path: Path) -> None:
    # Run where data/archive.db does not exist, as after `make demo` on a fresh clone.
    p = subprocess.run([sys.executable, "-m", "archive", command], cwd=tmp_path, env=_env(),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "no archive at data/archive.db" in lines[0]
    assert f"python -m archive {command} --db PATH" in lines[0]
    assert "data/demo/archive.db" in lines[0]
    assert not (tmp_path / "data").exists()  # nothing created on the way


def test_make_serve_without_archive_says_what_to_pass(tmp_path: Path) -> None:
    missing = tmp_path / "archive.db"
    # -o: never rebuild the venv from a test.
    p = subprocess.run(["make", "-s", "-o", ".venv/.installed-stamp", "serve", f"DB={missing}",
                        f"PORT={free_port()}"], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr and "Invalid value" not in p.stderr
    # make's own "Error 2" line: `make: ***`, or `make[1]: ***` under another make (make test)
    ours = [line for line in p.stderr.splitlines()
            if not re.match(r"make(\[\d+\])?: \*\*\*", line)]
    assert ours == [f"make serve: no archive at {missing}; pass DB=PATH, e.g. make serve "
                    "DB=data/demo/archive.db (the archive make demo builds; make crawl builds "
                    "data/archive.db)"]


@pytest.fixture
def listener() -> Iterator[int]:
    """A port something already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(("taken", "variable"), [("portal", "PORTAL_PORT"), ("datasette", "PORT")])
def test_demo_with_a_taken_port_names_the_variable(taken: str, variable: str, listener: int,
                                                   tmp_path: Path) -> None:
    portal_port, port = (listener, free_port()) if taken == "portal" else (free_port(), listener)
    p = subprocess.run([sys.executable, "-m", "crawler.demo", "--portal-port", str(portal_port),
                        "--port", str(port), "--dir", str(tmp_path / "demo")], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and "crawling" not in p.stdout  # checked before starting
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert f"port {listener} is in use: pass {variable}=" in lines[0]
    assert not (tmp_path / "demo" / "archive.db").exists()
