"""The crawl as a Scrapyd service: a real `scrapyd` on 127.0.0.1, the project deployed with the real
`scrapyd-deploy`, `reports` scheduled over the JSON API against the sample portal, the archive read.

The deploy target comes from a user-level scrapy.cfg (`$XDG_CONFIG_HOME/scrapy.cfg`, which Scrapy
and scrapyd-client read besides the project's): a `[deploy:pytest]` section with this server's URL
that inherits `project` from the committed `[deploy]`, which stays as operators use it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from tests.conftest import FAST as FAST_ARGS
from tests.conftest import free_port
from tests.portal import PORTAL_ROOT, SamplePortal

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROJECT = "fzzf_archive"  # scrapy.cfg [deploy] project
TARGET = "pytest"
VERSION = "r1"
EXPECTED = json.loads((PORTAL_ROOT / "expected.json").read_text(encoding="utf-8"))
FAST = dict(kv.split("=", 1) for kv in FAST_ARGS[1::2])  # conftest's settings, as a mapping
JOB_TIMEOUT = 120.0
BUILD_LEFTOVERS = ("build", "fzzf_archive.egg-info")  # what `setup.py bdist_egg` leaves behind


@dataclass
class Scrapyd:
    url: str
    root: Path
    env: dict[str, str]

    @property
    def eggs_dir(self) -> Path:
        return self.root / "eggs" / PROJECT

    @property
    def output(self) -> str:
        """scrapyd's own log: job starts and ends, and each job's stderr."""
        return (self.root / "scrapyd.out").read_text(encoding="utf-8", errors="replace")

    def job_log(self, job: str) -> Path:
        return self.root / "logs" / PROJECT / "reports" / f"{job}.log"

    def get(self, endpoint: str, **params: str) -> dict[str, Any]:
        query = f"?{urlencode(params)}" if params else ""
        with urlopen(f"{self.url}{endpoint}{query}", timeout=10) as resp:
            return json.load(resp)

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
        with urlopen(f"{self.url}{endpoint}", data=urlencode(fields).encode(), timeout=10) as resp:
            return json.load(resp)

    def schedule(self, db: Path, **spider_args: str) -> str:
        """schedule.json: `reports` with spider arguments, ARCHIVE_DB=db and the fast settings."""
        settings = {"ARCHIVE_DB": str(db), **FAST}
        fields = [("project", PROJECT), ("spider", "reports"), *spider_args.items(),
                  *(("setting", f"{k}={v}") for k, v in settings.items())]
        answer = self.post("schedule.json", fields)
        assert answer["status"] == "ok", answer
        return answer["jobid"]

    def wait(self, job: str, timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.get("listjobs.json", project=PROJECT)
            for entry in jobs["finished"]:
                if entry["id"] == job:
                    return entry
            time.sleep(0.2)
        self.post("cancel.json", [("project", PROJECT), ("job", job)])
        log = self.job_log(job)
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.exists() else ""
        pytest.fail(f"job {job} not finished after {timeout:.0f} s\n{tail}")

    def wait_for_output(self, text: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert time.monotonic() < deadline, f"{text!r} not in scrapyd's log:\n{self.output[-3000:]}"
            time.sleep(0.1)




@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    root = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (root / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {root / 'eggs'}\n"
        f"logs_dir = {root / 'logs'}\n"
        f"dbs_dir = {root / 'dbs'}\n"
        "items_dir =\n"
        "jobs_dir =\n"
        "poll_interval = 0.2\n"
        "max_proc = 2\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env["HOME"] = str(root)  # a developer's ~/.scrapyd.conf would override ours
    # `make install` puts the checkout on every .venv interpreter's sys.path (fzzf-archive.pth),
    # and pkg_resources appends an activated egg after it: jobs would run the working tree, not
    # the deployed egg. With the egg folder on the path, activate_egg inserts the egg just ahead
    # of it, so jobs (and their extraction workers) import the egg, as on a Scrapyd host.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root / "eggs" / PROJECT),
                                                      env.get("PYTHONPATH")]))
    with open(root / "scrapyd.out", "wb") as out:
        proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=root, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            server = Scrapyd(f"http://127.0.0.1:{port}/", root, env)
            deadline = time.monotonic() + 30
            while True:
                try:
                    if server.get("daemonstatus.json")["status"] == "ok":
                        break
                except (URLError, OSError, ValueError):
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"scrapyd did not start (exit {proc.poll()}):\n{server.output}")
                time.sleep(0.1)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def deployed(scrapyd: Scrapyd) -> Path:
    """`scrapyd-deploy pytest` from the repo, as an operator deploys; returns the stored egg."""
    config = scrapyd.root / "config"
    config.mkdir()
    (config / "scrapy.cfg").write_text(f"[deploy:{TARGET}]\nurl = {scrapyd.url}\n",
                                       encoding="utf-8")
    env = {**os.environ, "XDG_CONFIG_HOME": str(config), "HOME": str(scrapyd.root)}
    leftovers = [REPO / name for name in BUILD_LEFTOVERS if not (REPO / name).exists()]
    try:
        proc = subprocess.run([str(BIN / "scrapyd-deploy"), TARGET, "--version", VERSION],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    finally:
        for path in leftovers:  # ignored by git; removed so the tree is as the test found it
            shutil.rmtree(path, ignore_errors=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["status"] == "ok" and answer["project"] == PROJECT, answer
    assert answer["spiders"] == 1, answer
    (egg,) = scrapyd.eggs_dir.glob("*.egg")
    return egg


def test_deploy_lists_the_spider(scrapyd: Scrapyd, deployed: Path) -> None:
    assert PROJECT in scrapyd.get("listprojects.json")["projects"]
    assert scrapyd.get("listversions.json", project=PROJECT)["versions"] == [VERSION]
    assert scrapyd.get("listspiders.json", project=PROJECT)["spiders"] == ["reports"]


def test_egg_holds_the_packages_the_registry_and_the_settings_entry_point(deployed: Path) -> None:
    with zipfile.ZipFile(deployed) as egg:
        names = set(egg.namelist())
        entry_points = egg.read("EGG-INFO/entry_points.txt").decode()
    for name in ("crawler/__init__.py", "crawler/settings.py", "crawler/sources.yaml",
                 "crawler/spiders/reports.py", "crawler/commands/crawl.py",
                 "archive/__init__.py", "archive/derive.py"):
        assert name in names, name
    assert not any(n.startswith("tests/") for n in names)
    assert "[scrapy]\nsettings = crawler.settings" in entry_points


PROBE = """
import inspect, json, multiprocessing
from concurrent.futures import ProcessPoolExecutor
from scrapyd.runner import project_environment

with project_environment("fzzf_archive"):
    import crawler.pipelines
    from archive.derive import derive
    from crawler.sources import load_sources

    context = multiprocessing.get_context("forkserver")  # as crawler.writer.ArchiveWriter
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        worker = pool.submit(inspect.getfile, derive).result()
    print(json.dumps({"crawler": crawler.pipelines.__file__, "worker": worker,
                      "default_sources": len(load_sources())}))
"""


def test_jobs_and_forkserver_workers_import_the_egg(scrapyd: Scrapyd, deployed: Path) -> None:
    """What scrapyd.runner does before `scrapy crawl`: code, extraction workers and the default
    registry all come from the zipped egg."""
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=scrapyd.root, env=scrapyd.env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["crawler"] == str(deployed / "crawler" / "pipelines.py")
    assert got["worker"] == str(deployed / "archive" / "derive.py")
    assert got["default_sources"] > 100  # crawler/sources.yaml, read from inside the zip


def test_scheduled_crawl_fills_the_archive(scrapyd: Scrapyd, deployed: Path, sources_file: Path,
                                           portal: SamplePortal, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    job = scrapyd.schedule(db, sources=str(sources_file))
    finished = scrapyd.wait(job)
    assert finished["spider"] == "reports"

    log = scrapyd.job_log(job).read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert "'finish_reason': 'finished'" in log
    # exit status 0: every source healthy (3 would mean a source was blocked or broken)
    scrapyd.wait_for_output(f"Process finished: project='{PROJECT}' spider='reports' job='{job}'")

    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        reports = {r["url"]: r for r in conn.execute("SELECT url, source, title FROM reports")}
        runs = conn.execute("SELECT status FROM crawl_runs").fetchall()
        logged = conn.execute("SELECT COUNT(*) FROM fetch_log").fetchone()[0]
    finally:
        conn.close()
    for want in EXPECTED["reports"]:
        row = reports.get(portal.base_url + want["path"])
        assert row is not None, want["path"]
        assert (row["source"], row["title"]) == (want["source"], want["title"])
    assert [r["status"] for r in runs] == ["finished"]
    assert logged > len(EXPECTED["reports"])


def test_bad_sources_file_fails_the_job_before_crawling(scrapyd: Scrapyd, deployed: Path,
                                                       tmp_path: Path) -> None:
    """The project's `crawl` command (COMMANDS_MODULE, from the egg) runs under Scrapyd too."""
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: Not A Slug\n", encoding="utf-8")
    db = tmp_path / "archive.db"
    job = scrapyd.schedule(db, sources=str(bad))
    scrapyd.wait(job)
    scrapyd.wait_for_output(f"Process died: exitstatus=2 project='{PROJECT}' spider='reports' "
                            f"job='{job}'")
    assert "error: bad sources file, nothing crawled" in scrapyd.output
    assert not db.exists()
