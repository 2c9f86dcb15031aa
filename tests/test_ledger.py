"""The ledger on the sample portal: every cell of every body a sample source covers, attribution of
every archived report, and when a missing cell is really `missing` and when it is `not_covered`.

The sample portal (tests/fixtures/build_portal.py) has a city site (宁波市) with its own column, a
collection column of its counties' reports (海曙区's 2023 report reposted from 海曙区's own site,
北仑区 late for 2023 and silent for 2022) and a column of department and zone reports. Three reports
are published only as files (#15): 江北区 2022 a DOCX and 司法局 2022 a PDF linked straight from the
listings, 宁波市 2021 an OFD behind a 详见附件 page.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from datasette.app import Datasette

from archive.divisions import governments
from tests.conftest import LEDGER_AS_OF, REPO, free_port, run_crawl
from tests.portal import EXPECTED, SamplePortal
from tests.test_datasette import METADATA, PLUGINS, TEMPLATES

YEARS = range(2019, 2026)  # due by 2026-12-01: 2019–2025


def cells(found: dict[int, str]) -> dict[int, str]:
    """Every year `missing` unless listed: the body's column was crawled after every deadline."""
    return {y: found.get(y, "missing") for y in YEARS}


# body → {year: status}, decided from the portal's pages (not from running the ledger).
EXPECTED_CELLS = {
    "500107": cells({2020: "on_time", 2021: "on_time", 2022: "on_time", 2023: "on_time"}),
    "500107:重庆高新区": cells({2021: "on_time", 2022: "on_time"}),
    "330212:宁波高新区": cells({2022: "on_time", 2023: "on_time", 2024: "on_time"}),
    "350600:漳州高新区": cells({2021: "on_time", 2022: "on_time"}),
    "440112": cells({2022: "on_time", 2023: "on_time"}),
    "330200": cells({2021: "on_time", 2022: "on_time", 2023: "on_time"}),  # 2021: an OFD
    "330203": cells({2022: "on_time", 2023: "on_time"}),
    "330205": cells({2022: "on_time", 2023: "on_time"}),  # 2022: a DOCX
    "330206": cells({2023: "late"}),
    "330200:司法局": cells({2022: "on_time", 2023: "on_time"}),  # 2022: a PDF
    "330200:市场监督管理局": cells({2023: "on_time"}),
    "330200:宁波杭州湾新区": cells({2023: "on_time"}),
}
# report page (path tail) → (issuer_id, issuer_level)
EXPECTED_ISSUERS = {
    "t20240307_13016151.html": ("500107", "county"),
    "t20230323_11800713.html": ("500107", "county"),
    "t20220318_10456789.html": ("500107", "county"),
    "t20210326_9012345.html": ("500107", "county"),
    "t20230322_11790528.html": ("500107:重庆高新区", "zone"),
    "t20220329_10512345.html": ("500107:重庆高新区", "zone"),
    "art_1229361238_4610416.html": ("330212:宁波高新区", "zone"),
    "art_1229361238_4487654.html": ("330212:宁波高新区", "zone"),
    "art_1229361238_4321098.html": ("330212:宁波高新区", "zone"),
    "t20230330_1021.htm": ("350600:漳州高新区", "zone"),
    "t20220328_0912.htm": ("350600:漳州高新区", "zone"),
    "post_9557180.html": ("440112", "county"),
    "post_8856421.html": ("440112", "county"),
    "t20240329_4100123.html": ("330200", "city"),
    "t20230330_3800456.html": ("330200", "city"),
    "t20240322_4090017.html": ("330203", "county"),
    "c12345.html": ("330203", "county"),
    "t20230315_3790002.html": ("330203", "county"),
    "t20240520_4250031.html": ("330206", "county"),
    "t20240328_4098844.html": ("330205", "county"),
    "t20240310_4060001.html": ("330200:司法局", "department"),
    "t20240312_4060777.html": ("330200:市场监督管理局", "department"),
    "t20240325_4071234.html": ("330200:宁波杭州湾新区", "zone"),
    "P020220328512345.ofd": ("330200", "city"),
    "P020230329601234.docx": ("330205", "county"),
    "P020230320398765.pdf": ("330200:司法局", "department"),
}


def query(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def ledger_cells(db: Path, body_id: str) -> dict[int, str]:
    return {r["report_year"]: r["status"] for r in query(
        db, "SELECT report_year, status FROM ledger WHERE body_id = ?", body_id)}


def test_every_sample_ledger_cell(crawled_archive: Path) -> None:
    for body_id, want in EXPECTED_CELLS.items():
        assert ledger_cells(crawled_archive, body_id) == want, body_id
    late = query(crawled_archive, "SELECT * FROM ledger WHERE body_id = '330206' "
                                  "AND report_year = 2023")[0]
    assert (late["published"], late["days_late"]) == ("2024-05-20", 49)
    (as_of,) = {r[0] for r in query(crawled_archive, "SELECT DISTINCT as_of FROM ledger")}
    assert as_of == LEDGER_AS_OF


def test_missing_names_what_looked_and_when(crawled_archive: Path) -> None:
    row = query(crawled_archive, "SELECT * FROM ledger WHERE body_id = '330206' "
                                 "AND report_year = 2022")[0]
    assert row["status"] == "missing" and row["covered_by"] == "nb-qx"
    assert row["checked"] and row["checked"] > "2023-04-01" and "nb-qx" in row["why"]


def test_bodies_nobody_covers_are_not_covered(crawled_archive: Path) -> None:
    # 东城区 and 鄞州区 (the host of 宁波高新区, not a source here) were never looked at.
    for body_id in ("110101", "330212", "140224"):
        assert set(ledger_cells(crawled_archive, body_id).values()) == {"not_covered"}, body_id
    statuses = {r[0] for r in query(crawled_archive, "SELECT DISTINCT status FROM ledger")}
    assert statuses == {"on_time", "late", "missing", "not_covered"}


def test_every_report_attributed(crawled_archive: Path) -> None:
    rows = query(crawled_archive, "SELECT url, issuer_id, issuer_level, issuer FROM reports")
    assert len(rows) == len(EXPECTED_ISSUERS)
    for row in rows:
        tail = row["url"].rsplit("/", 1)[1]
        assert (row["issuer_id"], row["issuer_level"]) == EXPECTED_ISSUERS[tail], row["url"]
    names = {r["issuer_id"]: r["issuer"] for r in rows}
    assert names["330203"] == "宁波市海曙区人民政府"
    assert names["330200:司法局"] == "宁波市司法局"


def test_every_attachment_only_report_is_archived_attributed_and_in_the_ledger(
        crawled_archive: Path) -> None:
    """#15 acceptance: each report the sample portal publishes only as a file."""
    files = {f["path"]: f for f in EXPECTED["files"]}
    assert {f["format"] for f in files.values()} == {"docx", "pdf", "ofd"}
    rows = {urlsplit(r["url"]).path: r for r in query(
        crawled_archive, "SELECT * FROM reports WHERE format != 'html'")}
    assert set(rows) == set(files)
    for path, want in files.items():
        row = rows[path]
        assert row["format"] == want["format"] and row["capture_id"], path
        assert urlsplit(row["linked_from"]).path == want["linked_from"], path
        issuer_id, level = EXPECTED_ISSUERS[path.rsplit("/", 1)[1]]
        assert (row["issuer_id"], row["issuer_level"]) == (issuer_id, level), path
        (cell,) = query(crawled_archive, "SELECT * FROM ledger WHERE body_id = ? AND "
                                         "report_year = ?", issuer_id, row["report_year"])
        assert (cell["status"], cell["url"], cell["published"]) == (
            "on_time", row["url"], row["published"]), path
        provenance = json.loads(row["provenance"])  # metadata from the page that links the file
        assert (provenance["title"], provenance["published"]) == ("link text", "linking page")
    # the 详见附件 page is recorded, not a report; its file is
    (stub,) = EXPECTED["stubs"]
    (log,) = query(crawled_archive, "SELECT result, reason FROM fetch_log WHERE url LIKE ?",
                   f"%{stub}")
    assert log["result"] == "not_report" and "its text is in 1 linked file" in log["reason"]


def test_a_repost_is_one_report_with_two_copies(crawled_archive: Path) -> None:
    rows = query(crawled_archive, "SELECT url, source, copy_of FROM reports "
                                  "WHERE issuer_id = '330203' AND report_year = 2023")
    assert len(rows) == 2
    (canonical,) = [r for r in rows if r["copy_of"] is None]
    (copy,) = [r for r in rows if r["copy_of"] is not None]
    assert canonical["source"] == "nb-hs"  # the issuer's own site
    assert copy["copy_of"] == canonical["url"] and copy["source"] == "nb-qx"
    cell = query(crawled_archive, "SELECT url, copies, published FROM ledger "
                                  "WHERE body_id = '330203' AND report_year = 2023")[0]
    assert (cell["url"], cell["copies"], cell["published"]) == (canonical["url"], 2, "2024-03-20")


def test_bodies_hold_every_government(crawled_archive: Path) -> None:
    counts = dict(query(crawled_archive, "SELECT level, count(*) FROM bodies GROUP BY level"))
    assert counts["province"] == 31
    assert 320 <= counts["city"] <= 340 and 2800 <= counts["county"] <= 2900
    assert counts["department"] == 2 and counts["zone"] == 4
    row = query(crawled_archive, "SELECT * FROM bodies WHERE body_id = '500107'")[0]
    assert (row["name"], row["level"], row["parent_adcode"]) == ("重庆市九龙坡区人民政府",
                                                                 "county", "500000")
    # every year holds exactly the governments valid in it (renamed codes keep all their years)
    for year in YEARS:
        want = Counter(g.level for g in governments(year))
        got = dict(query(crawled_archive, "SELECT level, count(*) FROM bodies WHERE first_year <= ? "
                         "AND (last_year IS NULL OR last_year >= ?) AND level IN "
                         "('province', 'city', 'county') GROUP BY level", year, year))
        assert got == dict(want), year
    # 110100 is a placeholder (市辖区), not a government
    assert not query(crawled_archive, "SELECT 1 FROM bodies WHERE adcode = '110100'")


def test_what_if_ledger_prints_and_leaves_the_archive(crawled_archive: Path,
                                                      tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(crawled_archive, db)
    before = query(db, "SELECT count(*) FROM ledger")[0][0]
    proc = subprocess.run([sys.executable, "-m", "archive", "ledger", "--db", str(db),
                           "--as-of", "2026-03-01"], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "what-if, not saved" in proc.stdout and "pending" in proc.stdout
    ledger_part = proc.stdout.split("ledger:", 1)[1]
    line_2025 = next(ln for ln in ledger_part.splitlines() if ln.strip().startswith("2025"))
    assert int(line_2025.split()[-1]) > 3000  # every body's 2025 report is pending on March 1
    assert query(db, "SELECT count(*) FROM ledger")[0][0] == before
    assert {r[0] for r in query(db, "SELECT DISTINCT as_of FROM ledger")} == {LEDGER_AS_OF}


def _sources(base: str, entry: str) -> str:
    return f"sources:\n{entry.replace('{base}', base)}"


JLP = """  - name: cq-jlp
    region: 重庆市九龙坡区
    adcode: "500107"
    level: county
    cms: trs
    start_urls:
      - "{base}/cqjlp/zwgk_251/zfxxgkml_1/fzzfjsndbg/qzf/index.html"
"""


def test_a_failed_crawl_makes_missing_cells_unknown(crawled_archive: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(crawled_archive, db)
    sources = tmp_path / "dead.yaml"
    sources.write_text(_sources(f"http://127.0.0.1:{free_port()}", JLP), encoding="utf-8")
    result = run_crawl(sources, db, "RETRY_TIMES=0")
    assert result.returncode == 3, result.output[-2000:]  # the source is failing
    got = ledger_cells(db, "500107")
    assert got == {**{y: "not_covered" for y in (2019, 2024, 2025)},
                   **{y: "on_time" for y in (2020, 2021, 2022, 2023)}}
    why = query(db, "SELECT why FROM ledger WHERE body_id = '500107' AND report_year = 2024")
    assert "last crawl failed" in why[0][0]


@pytest.fixture(scope="module")
def served() -> SamplePortal:
    with SamplePortal() as portal:
        yield portal


def test_a_lone_report_url_covers_only_its_own_year(served: SamplePortal, tmp_path: Path) -> None:
    entry = JLP.replace("index.html", "202403/t20240307_13016151.html")
    sources = tmp_path / "lone.yaml"
    sources.write_text(_sources(served.base_url, entry), encoding="utf-8")
    db = tmp_path / "lone.db"
    assert run_crawl(sources, db).returncode == 0
    got = ledger_cells(db, "500107")
    assert got == {**{y: "not_covered" for y in YEARS}, 2023: "on_time"}


def test_a_listing_cut_short_covers_nothing_older(served: SamplePortal, tmp_path: Path) -> None:
    entry = JLP + "    hints: {max_listing_pages: 0}\n"
    sources = tmp_path / "short.yaml"
    sources.write_text(_sources(served.base_url, entry), encoding="utf-8")
    db = tmp_path / "short.db"
    assert run_crawl(sources, db).returncode == 0
    # Page 1 of 3 holds the 2023 and 2022 reports; older pages were never read.
    assert ledger_cells(db, "500107") == {
        2019: "not_covered", 2020: "not_covered", 2021: "not_covered",
        2022: "on_time", 2023: "on_time", 2024: "missing", 2025: "missing"}
    assert query(db, "SELECT listing_truncated FROM run_sources")[0][0] == 1


def test_ledger_page_for_any_archive_name(crawled_archive: Path, tmp_path: Path) -> None:
    db = tmp_path / "2024.db"
    shutil.copy(crawled_archive, db)
    ds = Datasette([str(db)], metadata=yaml.safe_load(METADATA.read_text("utf-8")),
                   plugins_dir=str(PLUGINS), template_dir=str(TEMPLATES))

    async def get(path: str):
        return await ds.client.get(path)

    page = asyncio.run(get("/-/ledger/2024"))
    assert page.status_code == 200
    assert "未覆盖" in page.text and "缺失" in page.text and "不代表未发布" in page.text
    drill = asyncio.run(get("/-/ledger/2024?province=浙江省"))
    assert drill.status_code == 200
    assert "宁波市海曙区人民政府" in drill.text and "逾期 49 天" in drill.text
    # a found cell links the archived report page, not the government's site
    assert '/2024/reports/' in drill.text
    assert asyncio.run(get("/-/ledger/nosuch")).status_code == 404
    # A province may be named by its code; a filter that names nothing is an error, not an empty page.
    for code in ("330000", "33"):
        by_code = asyncio.run(get(f"/-/ledger/2024?province={code}"))
        assert by_code.status_code == 200 and "宁波市海曙区人民政府" in by_code.text
    for bad in ("province=浙江", "province=990000", "level=district"):
        refused = asyncio.run(get(f"/-/ledger/2024?{bad}"))
        assert refused.status_code == 400 and bad in refused.text
