"""`python -m archive export-warc`: the raw captures as WARC files, read back with warcio."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.files import sniff
from archive.store import Archive, Capture
from archive.warc import NOT_MODIFIED_PROFILE, export_warc, http_headers, status_line
from tests.conftest import REPO, run_crawl
from tests.portal import EXPECTED, SamplePortal

GBK_TITLE = "漳州高新区"  # in the GBK-encoded sample site (zz-gxq)
FILE_NAME = re.compile(r"fzzf-archive-\d{14}-\d{5}\.warc\.gz")
EMPTY_SHA1 = "sha1:" + base64.b32encode(hashlib.sha1(b"").digest()).decode()


@dataclass
class Rec:
    file: Path
    type: str
    warc: dict[str, str]
    status: int | None
    http: dict[str, str]
    payload: bytes
    digest_passed: bool | None

    @property
    def capture_id(self) -> int:
        return int(self.warc["X-Fzzf-Capture-Id"])


def export(db: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archive", "export-warc", "--db", str(db),
                           "--out", str(out), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def summary(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    assert line.startswith("export-warc: ")
    return dict(field.split("=", 1) for field in line.removeprefix("export-warc: ").split())


def read_warcs(out: Path) -> list[Rec]:
    """Every record of every file, in order; digests are checked as each payload is read."""
    recs = []
    for path in sorted(out.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh, check_digests="raise"):
                payload = record.raw_stream.read()
                http = record.http_headers
                recs.append(Rec(
                    path, record.rec_type, dict(record.rec_headers.headers),
                    int(http.get_statuscode()) if http and record.rec_type != "warcinfo" else None,
                    dict(http.headers) if http else {}, payload,
                    record.digest_checker.passed))
    return recs


def captures(db: Path, where: str = "1", *args: object) -> dict[int, sqlite3.Row]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return {r["id"]: r for r in conn.execute(
            "SELECT c.*, b.body FROM captures c LEFT JOIN payloads b USING (sha256) "
            f"WHERE {where} ORDER BY c.id", args)}
    finally:
        conn.close()


def file_digest(db: Path) -> str:
    h = hashlib.sha256()
    for part in (db, db.with_name(db.name + "-wal")):
        if part.exists():
            h.update(part.read_bytes())
    return h.hexdigest()


# -- the crawled sample archive ------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(crawled_archive: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[subprocess.CompletedProcess[str], Path, str]:
    out = tmp_path_factory.mktemp("warc") / "out"
    before = file_digest(crawled_archive)
    proc = export(crawled_archive, out)
    return proc, out, before


def test_export_writes_one_file_and_leaves_the_archive_untouched(
        crawled_archive: Path, exported: tuple[subprocess.CompletedProcess[str], Path, str]
) -> None:
    proc, out, before = exported
    got = summary(proc)
    rows = captures(crawled_archive)
    not_modified = [i for i, r in rows.items() if r["status"] == 304 and r["sha256"] is None]
    # The sample crawl is a first crawl: no 304 to leave out, so every capture is a response.
    assert not_modified == [] and len(rows) > 20
    assert got["records"] == got["responses"] == str(len(rows) - len(not_modified))
    assert got["revisits"] == got["not_modified_skipped"] == "0"
    assert got["last_run"] == str(max(r["run_id"] for r in rows.values()))
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == int(got["files"]) == 1 and FILE_NAME.fullmatch(files[0]), files
    assert int(got["bytes"]) == (out / files[0]).stat().st_size
    assert "export-warc" in proc.stderr  # the tqdm progress bar
    assert file_digest(crawled_archive) == before


def test_every_capture_round_trips_byte_for_byte(
        crawled_archive: Path, exported: tuple[subprocess.CompletedProcess[str], Path, str]
) -> None:
    _, out, _ = exported
    recs = read_warcs(out)
    assert recs[0].type == "warcinfo" and b"software: fzzf-archive export-warc" in recs[0].payload
    assert str(crawled_archive.resolve()).encode() in recs[0].payload
    responses = [r for r in recs if r.type == "response"]
    assert len(responses) == len(recs) - 1
    rows = captures(crawled_archive)
    by_id = {r.capture_id: r for r in responses}
    assert len(by_id) == len(responses) and set(by_id) == set(rows)
    gbk_pages = files = 0
    for capture_id, row in rows.items():
        rec = by_id[capture_id]
        assert rec.payload == (row["body"] or b""), capture_id
        assert rec.status == row["status"]
        assert rec.warc["WARC-Target-URI"] == row["url"]
        assert rec.warc["WARC-Date"] == row["fetched_at"]
        assert rec.warc["X-Fzzf-Source"] == row["source"]
        assert rec.warc["X-Fzzf-Role"] == row["role"]
        assert rec.http["Content-Length"] == str(len(rec.payload))
        assert rec.digest_passed is True, capture_id  # both digests present and checked
        stored = json.loads(row["headers"])
        assert rec.http.get("Content-Type") == stored.get("Content-Type")
        if sniff(rec.payload, row["url"]).format != "html":
            files += 1  # a report published as a file (PDF, DOCX, OFD): bytes, not text
            continue
        try:
            rec.payload.decode("utf-8")
        except UnicodeDecodeError:
            if GBK_TITLE in rec.payload.decode("gbk"):
                gbk_pages += 1
    assert gbk_pages >= 3  # the zz-gxq site: listings and reports, still GBK bytes
    assert files == len(EXPECTED["files"])  # kept byte for byte like any page
    assert sorted(rows) == [r.capture_id for r in responses]  # in capture order


def test_digests_verify_and_a_changed_byte_is_caught(
        exported: tuple[subprocess.CompletedProcess[str], Path, str], tmp_path: Path) -> None:
    _, out, _ = exported
    (warc,) = out.glob("*.warc.gz")
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", str(warc)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout
    with warc.open("rb") as fh:
        records = sum(1 for _ in ArchiveIterator(fh))
    assert check.stdout.count("digest pass") == records
    # The same check on a copy with one GBK word changed in a payload must fail.
    raw = gzip.decompress(warc.read_bytes())
    word = GBK_TITLE.encode("gbk")
    assert word in raw
    tampered = tmp_path / "tampered.warc"
    tampered.write_bytes(raw.replace(word, b"X" * len(word), 1))
    bad = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(tampered)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "digest" in bad.stdout, bad.stdout


def test_an_index_addresses_every_record(
        crawled_archive: Path, exported: tuple[subprocess.CompletedProcess[str], Path, str]
) -> None:
    """What a CDX indexer (warcio index, pywb's cdx-indexer) needs: each record its own gzip
    member at a known offset and length, with URI, date, status and payload digest."""
    _, out, _ = exported
    (warc,) = out.glob("*.warc.gz")
    index = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "index", "-f",
         "offset,length,warc-type,warc-target-uri,warc-date,http:status,warc-payload-digest",
         str(warc)], capture_output=True, text=True, timeout=60)
    assert index.returncode == 0, index.stderr
    lines = [json.loads(line) for line in index.stdout.splitlines()]
    rows = captures(crawled_archive)
    assert [e["warc-type"] for e in lines] == ["warcinfo"] + ["response"] * len(rows)
    data = warc.read_bytes()
    entries = lines[1:]
    for entry, row in zip(entries, rows.values(), strict=True):
        assert (entry["warc-target-uri"], entry["warc-date"], entry["http:status"]) == (
            row["url"], row["fetched_at"], str(row["status"]))
        body = row["body"] or b""
        assert entry["warc-payload-digest"] == (
            "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode())
        start, length = int(entry["offset"]), int(entry["length"])
        member = gzip.decompress(data[start:start + length])  # one record, on its own
        (record,) = list(ArchiveIterator(io.BytesIO(member)))
        assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]


def test_missing_archive_is_a_clear_error(tmp_path: Path) -> None:
    proc = export(tmp_path / "missing.db", tmp_path / "out")
    assert proc.returncode == 2 and "no archive at" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_pure_header_rules() -> None:
    same = http_headers(200, {"Content-Length": "5", "Content-Type": "text/html"}, 5)
    assert same.headers == [("Content-Length", "5"), ("Content-Type", "text/html")]
    assert status_line(599) == "599" and status_line(404) == "404 Not Found"


# -- two crawls and a synthetic run: 304s, wire headers, empty bodies, filters -------------------
@pytest.fixture(scope="module")
def runs(portal: SamplePortal, sources_file: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> Path:
    """Run 1: a first crawl; run 2: the same crawl again (304s); run 3: odd responses, and a
    report page changed then confirmed (its 304 must refer to that newer 200, not run 1's)."""
    db = tmp_path_factory.mktemp("runs") / "archive.db"
    for _ in range(2):
        result = run_crawl(sources_file, db)
        assert result.returncode == 0, result.output[-3000:]
    archive = Archive(db)
    run = archive.start_run(["synthetic"])
    # Headers as Scrapy leaves them after decompressing and de-chunking: they still describe
    # the wire, the body is plain GBK HTML.
    archive.ingest(Capture(
        url="http://127.0.0.1:9/gz/page.html", source="synthetic", role="detail", status=200,
        headers={"Content-Type": "text/html; charset=gbk", "Content-Encoding": "gzip",
                 "Transfer-Encoding": "chunked", "Content-Length": "61"},
        body=f"<html><title>{GBK_TITLE}</title><body>正文</body></html>".encode("gbk")), run)
    archive.ingest(Capture(url="http://127.0.0.1:9/down.html", source="synthetic",
                           role="detail", status=503, headers={"Retry-After": "1"}, body=b""),
                   run)
    url, source = archive.db.execute(
        "SELECT url, source FROM captures WHERE status = 304 ORDER BY id LIMIT 1").fetchone()
    for status, body in ((200, "<html><body>改过的页面</body></html>".encode()), (304, b"")):
        archive.ingest(Capture(url=url, source=source, role="detail", status=status,
                               headers={"Content-Type": "text/html; charset=utf-8"}, body=body),
                       run)
    archive.finish_run(run, "finished", {})
    archive.close()
    return db


def test_not_modified_left_out_by_default_and_counted(runs: Path, tmp_path: Path) -> None:
    got = summary(export(runs, tmp_path, "--quiet"))
    rows = captures(runs)
    not_modified = {i for i, r in rows.items() if r["status"] == 304}
    assert len(not_modified) >= 10 and all(rows[i]["sha256"] is None for i in not_modified)
    assert got["not_modified_skipped"] == str(len(not_modified))
    assert got["responses"] == got["records"] == str(len(rows) - len(not_modified))
    assert got["last_run"] == "3"
    recs = read_warcs(tmp_path)
    assert {r.capture_id for r in recs if r.type == "response"} == set(rows) - not_modified
    assert not any(r.type == "revisit" for r in recs)


def test_not_modified_as_revisits_refer_to_the_confirmed_200(runs: Path, tmp_path: Path) -> None:
    got = summary(export(runs, tmp_path, "--quiet", "--include-not-modified"))
    rows = captures(runs)
    not_modified = {i for i, r in rows.items() if r["status"] == 304}
    assert got["revisits"] == str(len(not_modified)) and got["not_modified_skipped"] == "0"
    recs = read_warcs(tmp_path)
    record_ids = {r.capture_id: r.warc["WARC-Record-ID"] for r in recs if r.type == "response"}
    revisits = [r for r in recs if r.type == "revisit"]
    assert {r.capture_id for r in revisits} == not_modified
    for rec in revisits:
        row = rows[rec.capture_id]
        confirmed = max(i for i, r in rows.items() if r["canonical_url"] == row["canonical_url"]
                        and r["status"] == 200 and i < rec.capture_id)
        assert rec.warc["WARC-Profile"] == NOT_MODIFIED_PROFILE
        assert rec.warc["WARC-Refers-To"] == record_ids[confirmed]  # resolvable in this export
        assert rec.warc["WARC-Refers-To-Target-URI"] == rows[confirmed]["url"]
        assert rec.warc["WARC-Refers-To-Date"] == rows[confirmed]["fetched_at"]
        assert rec.warc["WARC-Date"] == row["fetched_at"]
        assert rec.warc["X-Fzzf-Refers-To-Capture-Id"] == str(confirmed)
        assert rows[confirmed]["run_id"] == (1 if row["run_id"] == 2 else 3)
        assert rec.status == 304 and rec.payload == b""
    assert {rows[r.capture_id]["run_id"] for r in revisits} == {2, 3}


def test_since_run_and_source_select_captures(runs: Path, tmp_path: Path) -> None:
    got = summary(export(runs, tmp_path / "after1", "--quiet", "--include-not-modified",
                         "--since-run", "1"))
    later = captures(runs, "run_id > 1")
    assert got["records"] == str(len(later)) and got["last_run"] == "3"
    assert {r.capture_id for r in read_warcs(tmp_path / "after1") if r.type != "warcinfo"} == (
        set(later))
    assert 0 < len(later) < len(captures(runs))

    got = summary(export(runs, tmp_path / "cq", "--quiet", "--source", "cq-jlp"))
    cq = captures(runs, "source = 'cq-jlp' AND status != 304")
    recs = [r for r in read_warcs(tmp_path / "cq") if r.type != "warcinfo"]
    assert {r.capture_id for r in recs} == set(cq) and got["records"] == str(len(cq))
    assert {r.warc["X-Fzzf-Source"] for r in recs} == {"cq-jlp"}

    # Nothing new since the last run: no file, and the same --since-run to use next time.
    got = summary(export(runs, tmp_path / "none", "--quiet", "--since-run", "3"))
    assert got["files"] == got["records"] == "0" and got["last_run"] == "3"
    assert list((tmp_path / "none").glob("*")) == []


def test_wire_headers_describe_the_stored_body(runs: Path, tmp_path: Path) -> None:
    summary(export(runs, tmp_path, "--quiet", "--since-run", "2"))
    rows = captures(runs, "run_id = 3")
    recs = {r.warc["WARC-Target-URI"]: r for r in read_warcs(tmp_path) if r.type == "response"}
    assert {r.capture_id for r in recs.values()} == {i for i, r in rows.items()
                                                     if r["status"] != 304}
    page, down = recs["http://127.0.0.1:9/gz/page.html"], recs["http://127.0.0.1:9/down.html"]
    body = rows[page.capture_id]["body"]
    assert page.payload == body and page.digest_passed is True
    # A replay tool must not gunzip or de-chunk plain bytes; the originals stay visible.
    assert "Content-Encoding" not in page.http and "Transfer-Encoding" not in page.http
    assert page.http["X-Archive-Orig-Content-Encoding"] == "gzip"
    assert page.http["X-Archive-Orig-Transfer-Encoding"] == "chunked"
    assert page.http["X-Archive-Orig-Content-Length"] == "61"
    assert page.http["Content-Length"] == str(len(body)) != "61"
    assert page.payload.decode("gbk").find(GBK_TITLE) > 0
    # An empty 503 (retries exhausted): a response with an empty payload.
    assert rows[down.capture_id]["sha256"] is None
    assert (down.status, down.payload, down.http["Content-Length"]) == (503, b"", "0")
    assert down.warc["WARC-Payload-Digest"] == EMPTY_SHA1 and down.digest_passed is True


def test_rollover_starts_files_with_warcinfo_and_ids_are_stable(runs: Path,
                                                                tmp_path: Path) -> None:
    whole = export_warc(runs, tmp_path / "whole", progress=False)
    rolled = export_warc(runs, tmp_path / "rolled", max_size=1, progress=False)
    assert (rolled.records, rolled.responses) == (whole.records, whole.responses)
    assert len(whole.files) == 1 and len(rolled.files) == rolled.records
    assert [p.name.rsplit("-", 1)[1] for p in rolled.files] == [
        f"{n:05d}.warc.gz" for n in range(rolled.records)]
    by_file: dict[Path, list[str]] = {}
    recs = read_warcs(tmp_path / "rolled")
    for rec in recs:
        by_file.setdefault(rec.file, []).append(rec.type)
    assert all(types == ["warcinfo", "response"] for types in by_file.values())
    assert not list((tmp_path / "rolled").glob("*.open"))
    # Record ids come from the capture: exporting again names every record the same way.
    ids = [r.warc["WARC-Record-ID"] for r in recs if r.type == "response"]
    again = [r.warc["WARC-Record-ID"] for r in read_warcs(tmp_path / "whole")
             if r.type == "response"]
    assert ids == again and len(set(ids)) == len(ids)


def test_incremental_export_holds_back_a_run_still_running(runs: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    src = sqlite3.connect(runs)
    src.backup(dst := sqlite3.connect(db))
    src.close()
    dst.execute("UPDATE crawl_runs SET status = 'running', finished_at = NULL WHERE id = 3")
    dst.commit()
    got = summary(export(db, tmp_path / "during", "--quiet", "--since-run", "2"))
    # Run 3 is still writing: none of it now, and last_run stays at 2 so the next export gets it.
    assert got["records"] == "0" and got["last_run"] == "2"
    assert got["held_back_running_runs"] == "3"
    dst.execute("UPDATE crawl_runs SET status = 'finished' WHERE id = 3")
    dst.commit()
    dst.close()
    got = summary(export(db, tmp_path / "after", "--quiet", "--since-run", "2"))
    assert got["last_run"] == "3" and "held_back_running_runs" not in got
    assert int(got["responses"]) == len([r for r in captures(db, "run_id = 3").values()
                                         if r["status"] != 304])
