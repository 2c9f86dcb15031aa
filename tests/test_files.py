"""Reports published as files, end to end: files built from the seed texts at test time, served
from a sample site on 127.0.0.1, crawled by the real spider into a real SQLite archive."""

from __future__ import annotations

import difflib
import html
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.script import to_simplified
from tests import filemaker as fm
from tests.conftest import run_crawl
from tests.portal import SamplePortal

MISSING = [p for p in ("chromium", "tesseract", "antiword") if not (
    shutil.which(p) or (p == "chromium" and fm.chromium()))]
if MISSING:
    if os.environ.get("CI"):
        pytest.fail(f"CI must have {', '.join(MISSING)} (make system-deps installs them)",
                    pytrace=False)
    pytest.skip(f"Debian packages missing for report files: {', '.join(MISSING)} "
                "(make system-deps)", allow_module_level=True)

SITE = "yzq/zwgk/fzzfjsndbg"
PDF_TITLE = "重庆市渝中区2023年法治政府建设情况的报告"
DOCX_TITLE = "广州市黄埔区2023年法治政府建设年度报告"
OFD_TITLE = "漳州高新区管委会关于2022年度法治政府建设的工作报告"
DOC_TITLE = "重庆高新区2022年法治政府建设情况的报告"
WPS_TITLE = "漳州高新区2022年法治政府建设工作报告"
SCAN_TITLE = "宁波高新区2024年法治政府建设工作报告"
HOSTILE = {  # file name → (link text, bytes builder, words of the recorded reason)
    "encrypted.pdf": ("某区2023年法治政府建设年度报告（加密）", lambda: fm.encrypted_pdf(),
                      "encrypted PDF"),
    "corrupt.pdf": ("某区2023年法治政府建设年度报告（损坏）", None, "corrupt PDF"),
    "bomb.docx": ("某区2023年法治政府建设年度报告（DOCX）", lambda: fm.zip_bomb("docx"),
                  "zip bomb"),
    "bomb.ofd": ("某区2023年法治政府建设年度报告（OFD）", lambda: fm.zip_bomb("ofd"), "zip bomb"),
    "pages.pdf": ("某区2023年法治政府建设年度报告（页数）", lambda: fm.blank_pages_pdf(400),
                  "PDF has 400 pages (limit 300)"),
}


def page(title: str, body: str, date: str = "2024-03-26") -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_渝中区人民政府'
            f'</title><meta name="ArticleTitle" content="{title}"><meta name="PubDate" '
            f'content="{date} 10:00"></head><body><div class="article"><h1>{title}</h1>'
            f"{body}</div></body></html>").encode()


def coverage(expected: list[str], text: str) -> float:
    """Share of the seed's paragraphs that are a whole line of the archived text."""
    lines = {"".join(line.split()) for line in text.split("\n")}
    return sum("".join(p.split()) in lines for p in expected) / len(expected)


def in_order(expected: str, got: str) -> float:
    """Share of the expected characters found in order in the OCR text."""
    a, b = "".join(expected.split()), "".join(got.split())
    blocks = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    return sum(m.size for m in blocks) / len(a)


class Site:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.seeds = {k: fm.seed_paragraphs(k) for k in ("000", "001", "002", "004")}
        self.scan_text = self.seeds["000"][:4]
        self.has_doc = fm.soffice() is not None

    def build(self) -> None:
        d = self.root / SITE
        (d / "202403").mkdir(parents=True)
        pdf = fm.make_pdf(PDF_TITLE, self.seeds["001"])
        files = {
            "202403/P020240320.pdf": pdf,
            "202403/P020240321.docx": fm.make_docx("廣州市黃埔區2023年法治政府建設年度報告",
                                                    self.seeds["004"]),
            "202403/P020240322.ofd": fm.make_ofd(OFD_TITLE, self.seeds["002"]),
            "202403/P020240324.pdf": fm.make_scan(SCAN_TITLE, self.scan_text),
            "202403/copy.pdf": pdf,
            "202403/fake.pdf": page("渝中区2023年法治政府建设年度报告", "<p>页面不存在</p>"),
            "202403/corrupt.pdf": fm.corrupt_pdf(pdf),
        }
        for name, (_, build, _) in HOSTILE.items():
            if build is not None:
                files[f"202403/{name}"] = build()
        if self.has_doc:
            files["202403/P020240323.doc"] = fm.make_doc(DOC_TITLE, self.seeds["000"])
            files["202403/P020240325.wps"] = fm.make_doc(WPS_TITLE, self.seeds["002"])
        for name, data in files.items():
            (d / name).write_bytes(data)
        # A 详见附件 stub page whose report is the OFD; a full page whose PDF is a copy.
        (d / "202403/t20240322_1.html").write_bytes(page(
            OFD_TITLE, '<p>详见附件。</p><p>附件：<a href="P020240322.ofd">漳州高新区管委会关于'
            "2022年度法治政府建设的工作报告.ofd</a></p>", "2024-03-22"))
        full = "".join(f"<p>{html.escape(p)}</p>" for p in self.seeds["001"])
        (d / "202403/t20240327_2.html").write_bytes(page(
            "渝中区2022年法治政府建设年度报告", full + '<p>附件：<a href="copy.pdf">'
            "渝中区2022年法治政府建设年度报告.pdf</a></p>", "2024-03-27"))
        items = [("202403/P020240320.pdf", PDF_TITLE, "2024-03-20"),
                 ("202403/P020240321.docx", DOCX_TITLE, "2024-03-21"),
                 ("202403/t20240322_1.html", OFD_TITLE, "2024-03-22"),
                 ("202403/P020240324.pdf", SCAN_TITLE, "2024-03-24"),
                 ("202403/t20240327_2.html", "渝中区2022年法治政府建设年度报告", "2024-03-27"),
                 ("202403/fake.pdf", "渝中区2023年法治政府建设年度报告（网页）", "2024-03-28")]
        items += [(f"202403/{n}", text, "2024-03-29") for n, (text, _, _) in HOSTILE.items()]
        if self.has_doc:
            items += [("202403/P020240323.doc", DOC_TITLE, "2024-03-23"),
                      ("202403/P020240325.wps", WPS_TITLE, "2024-03-25")]
        lis = "".join(f'<li><a href="{href}" title="{text}">{text}</a><span>{date}</span></li>'
                      for href, text, date in items)
        (d / "index.html").write_bytes(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>法治政府建设年度报告</title>'
            f"</head><body><ul class='list'>{lis}</ul></body></html>".encode())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, SamplePortal]]:
    root = tmp_path_factory.mktemp("files-portal")
    s = Site(root)
    s.build()
    with SamplePortal(root=root) as server:
        yield s, server


@pytest.fixture(scope="module")
def archive_db(site: tuple[Site, SamplePortal], tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, server = site
    tmp = tmp_path_factory.mktemp("files-crawl")
    sources = tmp / "sources.yaml"
    sources.write_text(
        "sources:\n  - name: cq-yzq\n    region: 重庆市渝中区\n    adcode: \"500103\"\n"
        f"    level: county\n    cms: trs\n    start_urls:\n"
        f"      - \"{server.base_url}/{SITE}/index.html\"\n", encoding="utf-8")
    db = tmp / "archive.db"
    result = run_crawl(sources, db, timeout=300)
    assert result.returncode == 0, result.output[-3000:]
    return db


def query(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def report(db: Path, server: SamplePortal, name: str) -> sqlite3.Row:
    (row,) = query(db, "SELECT * FROM reports WHERE url = ?", f"{server.base_url}/{SITE}/{name}")
    return row


def test_listing_pdf_is_archived_as_report(site, archive_db: Path) -> None:
    s, server = site
    row = report(archive_db, server, "202403/P020240320.pdf")
    assert row["title"] == PDF_TITLE and row["report_year"] == 2023
    assert row["format"] == "pdf" and row["quality"] == "ok"
    assert row["published"] == "2024-03-20"
    assert row["linked_from"] == f"{server.base_url}/{SITE}/index.html"
    assert row["source"] == "cq-yzq" and row["adcode"] == "500103"
    assert coverage(s.seeds["001"], row["text"]) >= 0.99
    # running header and "— N —" page numbers are gone
    assert "重庆市渝中区人民政府" not in row["text"] and "— 2 —" not in row["text"]


def test_docx_traditional_text_is_simplified(site, archive_db: Path) -> None:
    s, server = site
    row = report(archive_db, server, "202403/P020240321.docx")
    assert row["format"] == "docx" and row["title"] == DOCX_TITLE
    assert coverage([to_simplified(p) for p in s.seeds["004"]], row["text"]) >= 0.99
    assert "广州市黄埔区人民政府办公室" not in row["text"]  # the DOCX header part


def test_stub_page_takes_its_text_from_the_ofd(site, archive_db: Path) -> None:
    s, server = site
    row = report(archive_db, server, "202403/P020240322.ofd")
    stub = f"{server.base_url}/{SITE}/202403/t20240322_1.html"
    assert row["format"] == "ofd" and row["title"] == OFD_TITLE and row["report_year"] == 2022
    assert row["linked_from"] == stub and row["published"] == "2024-03-22"
    assert coverage(s.seeds["002"], row["text"]) >= 0.99
    assert "- 2 -" not in row["text"]
    (log,) = query(archive_db, "SELECT result, reason FROM fetch_log WHERE url = ?", stub)
    assert log["result"] == "not_report" and "linked file" in log["reason"]


def test_scan_is_ocr_with_confidence(site, archive_db: Path) -> None:
    s, server = site
    row = report(archive_db, server, "202403/P020240324.pdf")
    assert row["quality"] == "ocr" and 0 < row["confidence"] <= 100
    assert "not an exact transcription" in row["quality_reason"]
    assert in_order("".join(s.scan_text), row["text"]) >= 0.90


def test_legacy_doc_and_wps(site, archive_db: Path) -> None:
    s, server = site
    if not s.has_doc:
        if os.environ.get("CI"):
            pytest.fail("CI must have LibreOffice to write .doc/.wps test files (make system-deps)")
        pytest.skip("LibreOffice (soffice) is needed to write .doc/.wps test files")
    for name, seed, fmt in (("P020240323.doc", "000", "doc"), ("P020240325.wps", "002", "wps")):
        row = report(archive_db, server, f"202403/{name}")
        assert row["format"] == fmt
        assert coverage(s.seeds[seed], row["text"]) >= 0.99


def test_report_page_and_its_pdf_copy_are_one_report(site, archive_db: Path) -> None:
    _, server = site
    base = f"{server.base_url}/{SITE}/202403/"
    urls = {r["url"] for r in query(archive_db, "SELECT url FROM reports")}
    assert base + "t20240327_2.html" in urls and base + "copy.pdf" not in urls
    (log,) = query(archive_db, "SELECT result, reason, capture_id FROM fetch_log WHERE url = ?",
                   base + "copy.pdf")
    assert log["result"] == "not_report" and "copy of the report" in log["reason"]
    assert log["capture_id"]  # the file is kept as evidence


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_has_recorded_outcome(site, archive_db: Path, name: str) -> None:
    _, server = site
    url = f"{server.base_url}/{SITE}/202403/{name}"
    (log,) = query(archive_db, "SELECT outcome, result, reason, capture_id FROM fetch_log "
                               "WHERE url = ?", url)
    assert log["outcome"] == "ok" and log["result"] == "rejected", dict(log)
    assert HOSTILE[name][2] in log["reason"]
    assert log["capture_id"]
    assert not query(archive_db, "SELECT 1 FROM reports WHERE url = ?", url)


def test_pdf_that_is_html(site, archive_db: Path) -> None:
    _, server = site
    url = f"{server.base_url}/{SITE}/202403/fake.pdf"
    (log,) = query(archive_db, "SELECT result, reason FROM fetch_log WHERE url = ?", url)
    assert "announced as pdf but the bytes are HTML" in log["reason"]
    assert not query(archive_db, "SELECT 1 FROM reports WHERE url = ?", url)


def test_reextract_keeps_file_reports(archive_db: Path, tmp_path: Path) -> None:
    from archive.reextract import reextract
    from archive.store import Archive

    copy = tmp_path / "copy.db"
    copy.write_bytes(archive_db.read_bytes())
    before = {r["url"]: (r["title"], r["content_hash"], r["linked_from"])
              for r in query(copy, "SELECT * FROM reports")}
    archive = Archive(copy)
    try:
        counts = reextract(archive, progress=False, workers=0)
    finally:
        archive.close()
    after = {r["url"]: (r["title"], r["content_hash"], r["linked_from"])
             for r in query(copy, "SELECT * FROM reports")}
    assert after == before and not counts["no_longer_report"], counts
    assert json.loads(query(copy, "SELECT link FROM captures WHERE url LIKE '%P020240320.pdf'")
                      [0]["link"])["text"] == PDF_TITLE


def test_report_page_links_original_file_and_archived_copy(site, archive_db: Path) -> None:
    from datasette.utils import tilde_encode

    from tests.test_publish import client_get

    _, server = site
    row = report(archive_db, server, "202403/P020240320.pdf")
    html_page = client_get(archive_db, f"/archive/reports/{tilde_encode(row['url'])}").text
    for expected in (f'href="{row["url"]}"', "原文件 Original file (PDF)", "存档文件 Archived copy",
                     f"/-/capture/archive/{row['capture_id']}", row["linked_from"]):
        assert expected in html_page, expected
    copy = client_get(archive_db, f"/-/capture/archive/{row['capture_id']}")
    assert copy.status_code == 200 and copy.headers["content-type"] == "application/pdf"
    assert copy.headers["content-disposition"].startswith("attachment")
    assert copy.content == (s_root(site) / "202403/P020240320.pdf").read_bytes()
    found = client_get(archive_db, "/archive/reports.json", _search="渝中区", _shape="array",
                       _col="title").json()
    assert row["url"] in {r["url"] for r in found}


def s_root(site) -> Path:
    return site[0].root / SITE


def test_warc_export_keeps_the_file_bytes(site, archive_db: Path, tmp_path: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    from archive.warc import export_warc

    export_warc(archive_db, tmp_path, progress=False)
    want = (s_root(site) / "202403/P020240322.ofd").read_bytes()
    bodies = {}
    for path in tmp_path.glob("*.warc.gz"):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh, check_digests="raise"):
                if record.rec_type == "response":
                    bodies[record.rec_headers.get_header("WARC-Target-URI")] = \
                        record.content_stream().read()
    (url,) = [u for u in bodies if u.endswith("P020240322.ofd")]
    assert bodies[url] == want


def test_file_reports_are_attributed_and_in_the_ledger(site, archive_db: Path) -> None:
    _, server = site
    files = query(archive_db, "SELECT url, title, issuer, issuer_id, report_year, copy_of "
                              "FROM reports WHERE format != 'html'")
    assert len(files) >= 4
    for row in files:
        assert row["issuer_id"], dict(row)
        (cell,) = query(archive_db, "SELECT status, url FROM ledger WHERE body_id = ? AND "
                                    "report_year = ?", row["issuer_id"], row["report_year"])
        assert cell["status"] in ("on_time", "late"), (dict(row), dict(cell))
        # the cell names this report, or another report of the same body and year
        assert query(archive_db, "SELECT 1 FROM reports WHERE url = ? AND issuer_id = ? AND "
                                 "report_year = ?", cell["url"], row["issuer_id"],
                     row["report_year"]), (dict(row), dict(cell))
    pdf = report(archive_db, server, "202403/P020240320.pdf")
    (cell,) = query(archive_db, "SELECT * FROM ledger WHERE url = ?", pdf["url"])
    assert (cell["name"], cell["report_year"], cell["status"], cell["published"]) == (
        pdf["issuer"], 2023, "on_time", "2024-03-20")
