"""`python -m archive reextract`: re-derive every report from stored captures, no network."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import archive.derive as derive_module
import archive.reextract as rx
from archive.store import Archive
from tests.conftest import REPO
from tests.portal import N_REPORTS


@pytest.fixture(scope="module")
def crawled(crawled_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the crawled sample archive (reextract writes to it)."""
    db = tmp_path_factory.mktemp("rx") / "archive.db"
    src, dst = sqlite3.connect(crawled_archive), sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    return db


def snapshot(db: Path, table: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        keep = [c for c in cols if c != "derived_at"]
        return conn.execute(f"SELECT {', '.join(keep)} FROM {table} ORDER BY 1").fetchall()
    finally:
        conn.close()


def test_reextract_reproduces_the_crawl_exactly(crawled: Path) -> None:
    before = snapshot(crawled, "reports"), snapshot(crawled, "report_versions")
    proc = subprocess.run([sys.executable, "-m", "archive", "reextract", "--db", str(crawled)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"report_unchanged={N_REPORTS}" in proc.stdout
    assert "reextract" in proc.stderr  # the tqdm progress bar
    after = snapshot(crawled, "reports"), snapshot(crawled, "report_versions")
    assert after == before


def test_changed_extraction_is_a_new_version(crawled: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "copy.db"
    src = sqlite3.connect(crawled)
    dst = sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    real = derive_module.extract_page  # reextract derives as the crawl does: `archive.derive`

    def improved(body: bytes, content_type: str | None, url: str, *args):
        ex = real(body, content_type, url, *args)
        if ex.kind == "report" and "/nbhtz/" in url:
            ex.text += "\n（新版提取器多识别出的一段）"
            ex.content_hash = "changed-" + (ex.content_hash or "")
        return ex

    monkeypatch.setattr(derive_module, "extract_page", improved)
    archive = Archive(db)
    last_seen = dict(archive.db.execute("SELECT url, last_seen FROM reports").fetchall())
    counts = rx.reextract(archive, progress=False, workers=0)  # in-process: the patch applies
    # not_report: the 9 distractors fetched, and the 详见附件 page whose report is its OFD
    assert counts == {"report_changed": 3, "report_unchanged": N_REPORTS - 3, "not_report": 10}
    versions = archive.db.execute(
        "SELECT url, COUNT(*) FROM report_versions GROUP BY url HAVING COUNT(*) > 1").fetchall()
    assert len(versions) == 3 and all("/nbhtz/" in url for url, _ in versions)
    assert dict(archive.db.execute("SELECT url, last_seen FROM reports").fetchall()) == last_seen
    archive.close()


def test_reextract_without_archive_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "archive", "reextract", "--db",
                           str(tmp_path / "missing.db")], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "no archive at" in proc.stderr
