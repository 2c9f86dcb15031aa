"""Export the raw captures as gzip WARC files that replay tools (pywb) can open: per file one
`warcinfo`, then a `response` per capture with the stored body byte for byte (GBK stays GBK).
304s are counted and left out unless asked for (pywb replays such a revisit as an empty 304).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import version
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.constants import TIMESTAMP_FORMAT

# WARC/1.0: what warcio and pywb's own recorder write by default and what every older tool reads;
# 1.1 would only add sub-second dates, and `fetched_at` has whole seconds.
WARC_VERSION = "WARC/1.0"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.0/revisit/server-not-modified"
FILE_PREFIX = "fzzf-archive"
DEFAULT_MAX_SIZE = 1 << 30  # a file is closed after the record that takes it past this size
ORIG_PREFIX = "X-Archive-Orig-"
FETCHED_AT = TIMESTAMP_FORMAT  # captures.fetched_at, which is also WARC 1.0's WARC-Date form
# Stored headers describe the bytes on the wire, but the stored body is what Scrapy made of them:
# de-chunked and decompressed. A replay tool that saw these would gunzip or de-chunk plain bytes.
WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
# Record ids are derived from the capture, so exporting the same capture twice gives the same id
# and a revisit can name the record of the capture it refers to.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:fzzf-archive:capture")

_COLUMNS = ("c.id, c.url, c.canonical_url, c.request_url, c.source, c.role, c.status, c.headers, "
            "c.sha256, c.size, c.fetched_at, c.run_id, c.kind, b.rowid")
_FROM = "FROM captures c LEFT JOIN payloads b ON b.sha256 = c.sha256"
_CONFIRMED = (  # the 200 a 304 confirmed: its validators came from the latest 200 before it
    "SELECT id, url, fetched_at, sha256 FROM captures WHERE canonical_url = ? AND status = 200 "
    "AND sha256 IS NOT NULL AND id < ? ORDER BY id DESC LIMIT 1")


@dataclass(frozen=True, slots=True)
class CaptureRow:
    """One row of `captures`, with the rowid of its body (None when the body is empty)."""

    id: int
    url: str
    canonical_url: str
    request_url: str | None
    source: str
    role: str
    status: int
    headers: dict[str, str]
    sha256: str | None
    size: int
    fetched_at: str
    run_id: int | None
    kind: str | None
    body_rowid: int | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> CaptureRow:
        (id_, url, canonical, request_url, source, role, status, headers, sha, size, fetched_at,
         run_id, kind, body_rowid) = row
        return cls(id_, url, canonical, request_url, source, role, int(status),
                   json.loads(headers or "{}"), sha, int(size or 0), fetched_at, run_id, kind,
                   body_rowid)


@dataclass(slots=True)
class ExportSummary:
    files: list[Path] = field(default_factory=list)
    responses: int = 0
    revisits: int = 0
    not_modified_skipped: int = 0
    bytes: int = 0
    last_run: int | None = None  # the highest run looked at: the next export's `since_run`
    held_back: list[int] = field(default_factory=list)  # runs still running (incremental only)

    @property
    def records(self) -> int:
        return self.responses + self.revisits

    def line(self) -> str:
        return (f"files={len(self.files)} records={self.records} responses={self.responses} "
                f"revisits={self.revisits} not_modified_skipped={self.not_modified_skipped} "
                f"bytes={self.bytes} last_run={self.last_run}"
                + (f" held_back_running_runs={','.join(map(str, self.held_back))}"
                   if self.held_back else ""))


# -- pure parts ---------------------------------------------------------------------------------
def warc_date(fetched_at: str) -> str:
    """WARC-Date of a capture; raises on a malformed `fetched_at` rather than guessing."""
    return datetime.strptime(fetched_at, FETCHED_AT).strftime(FETCHED_AT)


def record_id(capture_id: int, url: str, fetched_at: str, sha256: str | None) -> str:
    return f"<urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'{capture_id} {fetched_at} {sha256} {url}')}>"


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:  # a code outside the registry (e.g. 599): the code alone is a valid line
        return str(status)


def http_headers(status: int, stored: Mapping[str, str], body_length: int) -> StatusAndHeaders:
    """The HTTP head for a stored body: stored headers, with those that describe the wire
    (Content-Encoding, Transfer-Encoding, a stale Content-Length) kept under `X-Archive-Orig-`
    and Content-Length set to the stored body's length."""
    headers: list[tuple[str, str]] = []
    length_kept = False
    for name, value in stored.items():
        if name.lower() not in WIRE_HEADERS:
            headers.append((name, value))
        elif name.lower() == "content-length" and value.strip() == str(body_length):
            headers.append((name, value))
            length_kept = True
        else:
            headers.append((ORIG_PREFIX + name, value))
    if not length_kept:
        headers.append(("Content-Length", str(body_length)))
    return StatusAndHeaders(status_line(status), headers, protocol="HTTP/1.1")


def capture_warc_headers(cap: CaptureRow, record_type: str) -> dict[str, str]:
    """WARC headers of a capture's record, besides those warcio computes (digests, length)."""
    headers = {
        "WARC-Type": record_type,
        "WARC-Record-ID": record_id(cap.id, cap.url, cap.fetched_at, cap.sha256),
        "WARC-Date": warc_date(cap.fetched_at),
        "WARC-Target-URI": cap.url,
        "X-Fzzf-Capture-Id": str(cap.id),
        "X-Fzzf-Source": cap.source,
        "X-Fzzf-Role": cap.role,
    }
    if cap.kind:
        headers["X-Fzzf-Kind"] = cap.kind
    if cap.run_id is not None:
        headers["X-Fzzf-Run-Id"] = str(cap.run_id)
    if cap.sha256:
        headers["X-Fzzf-Body-Sha256"] = cap.sha256
    if cap.request_url and cap.request_url != cap.url:
        headers["X-Fzzf-Request-Url"] = cap.request_url
    return headers


def file_name(stamp: str, serial: int) -> str:
    return f"{FILE_PREFIX}-{stamp}-{serial:05d}.warc.gz"


# -- writing ------------------------------------------------------------------------------------
class _RollingWriter:
    """WARC files in `out_dir`, a new one (with its own warcinfo) once one reaches `max_size`.

    A file is written as `<name>.open` and renamed when complete, so a replay tool watching the
    folder never indexes half a file, and an interrupted export leaves a visibly partial one."""

    def __init__(self, out_dir: Path, stamp: str, max_size: int, info: dict[str, str]) -> None:
        self.out_dir, self.stamp, self.max_size, self.info = out_dir, stamp, max_size, info
        self.files: list[Path] = []
        self.bytes = 0
        self._file: IO[bytes] | None = None
        self._writer: WARCWriter | None = None

    def writer(self) -> WARCWriter:
        if self._writer is None:
            name = file_name(self.stamp, len(self.files))
            final = self.out_dir / name
            if final.exists():
                raise FileExistsError(f"{final} exists: not overwriting an earlier export")
            self._file = open(self.out_dir / f"{name}.open", "xb")  # noqa: SIM115 - kept open
            self._writer = WARCWriter(self._file, gzip=True, warc_version=WARC_VERSION)
            self._writer.write_record(self._writer.create_warcinfo_record(name, self.info))
        return self._writer

    def wrote(self) -> None:
        """Call after each record: the file is closed once it is big enough."""
        assert self._file is not None
        if self._file.tell() >= self.max_size:
            self.close()

    def abort(self) -> None:
        """After a failure: close the current file but leave it named `.open`."""
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None

    def close(self) -> None:
        if self._file is None:
            return
        self.bytes += self._file.tell()
        self._file.close()
        part = Path(self._file.name)
        final = part.with_name(part.name.removesuffix(".open"))
        part.rename(final)
        self.files.append(final)
        self._file = self._writer = None


def _connect_read_only(db_path: Path) -> sqlite3.Connection:
    # mode=ro: an export must never migrate or write the archive (Archive() would do both).
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                           isolation_level=None)
    # One read transaction: a consistent snapshot while a crawl may be writing (WAL).
    conn.execute("BEGIN")
    return conn


def _where(since_run: int | None, source: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if since_run is not None:
        # Incremental: a run still writing is held back whole, so `last_run` never passes it and
        # the next export takes all of it (runs are serialised by the crawl lock: it is the last).
        clauses.append("c.run_id > ? AND c.run_id NOT IN "
                       "(SELECT id FROM crawl_runs WHERE status = 'running')")
        args.append(since_run)
    if source is not None:
        clauses.append("c.source = ?")
        args.append(source)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _captures(conn: sqlite3.Connection, where: str, args: list[Any]) -> Iterator[CaptureRow]:
    # A cursor, not fetchall(): one row (and below, one body) in memory at a time.
    for row in conn.execute(f"SELECT {_COLUMNS} {_FROM}{where} ORDER BY c.id", args):
        yield CaptureRow.from_row(row)


def _write_response(writer: WARCWriter, conn: sqlite3.Connection, cap: CaptureRow) -> None:
    warc_headers = capture_warc_headers(cap, "response")
    if cap.sha256 is None:  # an empty body: nothing stored in `payloads`
        writer.write_record(writer.create_warc_record(
            cap.url, "response", payload=BytesIO(b""), length=0,
            warc_headers_dict=warc_headers, http_headers=http_headers(cap.status, cap.headers, 0)))
        return
    if cap.body_rowid is None:
        raise ValueError(f"capture {cap.id}: body {cap.sha256} missing from `payloads`")
    # Incremental blob I/O: warcio reads the body in chunks (digest pass, then write pass).
    with conn.blobopen("payloads", "body", cap.body_rowid, readonly=True) as blob:
        if len(blob) != cap.size:
            raise ValueError(f"capture {cap.id}: stored body is {len(blob)} bytes, "
                             f"captures.size says {cap.size}")
        writer.write_record(writer.create_warc_record(
            cap.url, "response", payload=blob, length=len(blob), warc_headers_dict=warc_headers,
            http_headers=http_headers(cap.status, cap.headers, len(blob))))


def _write_revisit(writer: WARCWriter, conn: sqlite3.Connection, cap: CaptureRow) -> None:
    """A 304 as a server-not-modified revisit: the 304's own head, no payload, and (when the
    archive holds it) the 200 it confirmed as WARC-Refers-To*."""
    warc_headers = capture_warc_headers(cap, "revisit")
    warc_headers["WARC-Profile"] = NOT_MODIFIED_PROFILE
    confirmed = conn.execute(_CONFIRMED, [cap.canonical_url, cap.id]).fetchone()
    if confirmed is not None:
        ref_id, ref_url, ref_fetched_at, ref_sha = confirmed
        warc_headers["WARC-Refers-To"] = record_id(ref_id, ref_url, ref_fetched_at, ref_sha)
        warc_headers["WARC-Refers-To-Target-URI"] = ref_url
        warc_headers["WARC-Refers-To-Date"] = warc_date(ref_fetched_at)
        warc_headers["X-Fzzf-Refers-To-Capture-Id"] = str(ref_id)
    writer.write_record(writer.create_warc_record(
        cap.url, "revisit", warc_headers_dict=warc_headers,
        http_headers=http_headers(cap.status, cap.headers, 0)))


def export_warc(db_path: str | Path, out_dir: str | Path, *, since_run: int | None = None,
                source: str | None = None, include_not_modified: bool = False,
                max_size: int = DEFAULT_MAX_SIZE, progress: bool = True,
                now: datetime | None = None) -> ExportSummary:
    """Write the captures of the archive at `db_path` (read-only) as WARC files in `out_dir`.

    `since_run` keeps captures of runs after it (captures with no run are then left out);
    `source` keeps one source; `include_not_modified` writes 304s as revisit records instead of
    counting them in `not_modified_skipped`. Nothing is written when nothing matches.
    """
    db, out = Path(db_path), Path(out_dir)
    if not db.is_file():
        raise FileNotFoundError(f"no archive at {db}")
    started = now or datetime.now(UTC)
    info = {
        "software": f"fzzf-archive export-warc (warcio {version('warcio')})",
        "format": "WARC File Format 1.0",
        "conformsTo": "http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf",
        "description": "Raw HTTP captures of Chinese local governments' annual rule-of-law "
                       "reports (法治政府建设年度报告), exported from the fzzf archive",
        "db": str(db.resolve()),
        "exported-at": started.strftime(FETCHED_AT),
        "since-run": "" if since_run is None else str(since_run),
        "source": source or "",
        "not-modified": "revisit records" if include_not_modified else "left out",
    }
    summary = ExportSummary(last_run=since_run)
    conn = _connect_read_only(db)
    rolling = _RollingWriter(out, started.strftime("%Y%m%d%H%M%S"), max_size, info)
    try:
        where, args = _where(since_run, source)
        if since_run is not None:
            summary.held_back = [r[0] for r in conn.execute(
                "SELECT id FROM crawl_runs WHERE status = 'running' AND id > ? ORDER BY id",
                [since_run])]
        total = conn.execute(f"SELECT COUNT(*) {_FROM}{where}", args).fetchone()[0]
        out.mkdir(parents=True, exist_ok=True)
        with tqdm(total=total, desc="export-warc", unit="capture", disable=not progress) as bar:
            for cap in _captures(conn, where, args):
                bar.update()
                if cap.run_id is not None:
                    summary.last_run = max(summary.last_run or 0, cap.run_id)
                not_modified = cap.status == 304 and cap.sha256 is None
                if not_modified and not include_not_modified:
                    summary.not_modified_skipped += 1
                    continue
                writer = rolling.writer()
                if not_modified:
                    _write_revisit(writer, conn, cap)
                    summary.revisits += 1
                else:
                    _write_response(writer, conn, cap)
                    summary.responses += 1
                rolling.wrote()
        rolling.close()
    finally:
        rolling.abort()
        conn.close()
    summary.files, summary.bytes = rolling.files, rolling.bytes
    return summary
