"""Issue #17 downloads: a whole year of reports, with text, that a spreadsheet opens correctly;
JSON Lines; no row cap; Datasette's own CSV with a BOM; the data dictionary kept in step."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from datasette.utils import tilde_encode

from archive import export
from tests.conftest import BIN, REPO, datasette_get

get = datasette_get


def db_rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def big_archive(crawled_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample crawl plus 1,200 more 2022 reports (copies under other URLs): past every cap."""
    db = tmp_path_factory.mktemp("big") / "2022.db"
    shutil.copy(crawled_archive, db)
    conn = sqlite3.connect(db)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(reports)") if r[1] != "url"]
    cols = ", ".join(columns)
    with conn:
        conn.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
            f"INSERT INTO reports (url, {cols}) SELECT r.url || '?copy=' || n.i, {cols} "
            f"FROM n JOIN (SELECT * FROM reports WHERE report_year = 2022 LIMIT 1) r")
    conn.close()
    return db


def test_year_csv_opens_in_a_spreadsheet_with_chinese_text_intact(big_archive: Path) -> None:
    response = get(big_archive, "/-/downloads/2022/reports-2022.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    # What a spreadsheet reader does: honour the BOM, parse quoted multi-line cells.
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    expected = dict(db_rows(big_archive, "SELECT url, text FROM reports WHERE report_year = 2022"))
    assert len(table) == len(expected) > 1000  # no 1,000-row cap
    assert next(iter(table[0])) == "title" and {"report_year", "text", "url"} <= set(table[0])
    for row in table:
        assert row["text"] == expected[row["url"]]  # full text, paragraphs and all
        assert "法治政府建设" in row["title"]
        assert row["archived_url"].startswith("http://localhost/2022/reports/")
    assert {row["report_year"] for row in table} == {"2022"}


def test_jsonl_download_and_all_years(crawled_archive: Path) -> None:
    response = get(crawled_archive, "/-/downloads/archive/reports-all.jsonl")
    assert response.status_code == 200
    records = [json.loads(line) for line in response.text.splitlines()]
    truth = dict(db_rows(crawled_archive, "SELECT url, title FROM reports"))
    assert {r["url"]: r["title"] for r in records} == truth
    for r in records:
        assert r["text"]
        assert r["archived_url"] == "http://localhost/archive/reports/" + tilde_encode(r["url"])


def test_downloads_page_lists_every_year(crawled_archive: Path) -> None:
    html = get(crawled_archive, "/-/downloads/archive").text
    for (year,) in db_rows(crawled_archive, "SELECT DISTINCT report_year FROM reports"):
        assert f"/-/downloads/archive/reports-{year}.csv" in html
        assert f"/-/downloads/archive/reports-{year}.jsonl" in html
    assert "数据字典 · Data dictionary" in html and "<code>deadline_status</code>" in html
    assert get(crawled_archive, "/-/downloads/archive/reports-1999x.csv").status_code == 404
    assert get(crawled_archive, "/-/downloads/nosuch").status_code == 404


def test_datasette_csv_starts_with_a_bom(crawled_archive: Path) -> None:
    response = get(crawled_archive, "/archive/reports.csv", _col="title", _size="3")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["url", "title"] and "法治政府建设" in rows[1][1]
    query = get(crawled_archive, "/archive/reports_of_year.csv", year="2022")
    assert query.content.startswith(b"\xef\xbb\xbf") and "重庆" in query.content.decode("utf-8")
    assert not get(crawled_archive, "/archive/reports.json").content.startswith(b"\xef")


def test_every_report_column_is_in_the_data_dictionary(crawled_archive: Path) -> None:
    columns = {r[1] for r in db_rows(crawled_archive, "PRAGMA table_info(reports)")}
    documented = {c.name for c in export.DATASETS["reports"].columns}
    assert columns <= documented, columns - documented
    doc = (REPO / "docs" / "data-dictionary.md").read_text("utf-8")
    assert doc == export.dictionary_markdown() + "\n", "regenerate: python -m archive.export " \
        "--dictionary > docs/data-dictionary.md"


def test_undocumented_column_is_exported_last_not_lost(crawled_archive: Path, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "x.db"
    shutil.copy(crawled_archive, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("ALTER TABLE reports ADD COLUMN brand_new TEXT DEFAULT '新列'")
    out = io.BytesIO()
    n = export.write(conn, export.DATASETS["reports"], "all", "jsonl", out)
    (total,) = conn.execute("SELECT count(*) FROM reports").fetchone()
    conn.close()
    first = json.loads(out.getvalue().decode("utf-8").splitlines()[0])
    assert n == total and list(first)[-1] == "brand_new" and first["brand_new"] == "新列"
    assert "brand_new" in caplog.text


def test_export_command_line(crawled_archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "2022.csv"
    proc = subprocess.run([str(BIN / "python"), "-m", "archive.export", "--db",
                           str(crawled_archive), "--year", "2022", "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (n,) = db_rows(crawled_archive, "SELECT count(*) FROM reports WHERE report_year = 2022")[0]
    assert f"{n} rows" in proc.stderr
    table = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    assert len(table) == n and "archived_url" not in table[0]
    bad = subprocess.run([str(BIN / "python"), "-m", "archive.export", "--db",
                          str(crawled_archive), "--year", "twenty"], capture_output=True,
                         text=True, cwd=REPO, timeout=60)
    assert bad.returncode == 2 and "--year" in bad.stderr


def test_parts_and_figures_download_with_their_report(crawled_archive: Path) -> None:
    """#18: the year downloads carry each report's parts and figures, issuer and year beside
    them, canonical copies only, every column in the data dictionary."""
    conn = sqlite3.connect(f"file:{crawled_archive}?mode=ro", uri=True)
    try:
        out = io.BytesIO()
        n = export.write(conn, export.DATASETS["facts"], 2023, "csv", out)
        text = out.getvalue().decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        canonical = conn.execute(
            "SELECT count(*) FROM report_facts f JOIN reports r ON r.url = f.url "
            "WHERE r.report_year = 2023 AND r.copy_of IS NULL").fetchone()[0]
        parts = io.BytesIO()
        export.write(conn, export.DATASETS["parts"], 2023, "jsonl", parts)
        reports_2023 = conn.execute("SELECT count(*) FROM reports WHERE report_year = 2023 "
                                    "AND copy_of IS NULL").fetchone()[0]
    finally:
        conn.close()
    assert n == len(rows) == canonical > 0
    assert all(r["report_year"] == "2023" and r["issuer"] and r["value_text"] in r["sentence"]
               for r in rows)
    lines = [json.loads(line) for line in parts.getvalue().decode("utf-8").splitlines()]
    assert len(lines) == reports_2023 and all("measures" in line for line in lines)
    documented = {c.name for c in export.DATASETS["facts"].columns}
    assert set(rows[0]) <= documented
