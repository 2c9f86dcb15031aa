"""Tests of the sample portal server itself (tests/portal.py) and of its fixture ground truth."""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import opencc
import pytest

from tests.portal import PORTAL_ROOT, SamplePortal, render_sources

EXPECTED = json.loads((PORTAL_ROOT / "expected.json").read_text(encoding="utf-8"))
GBK_PAGE = "/zzgxq/zwgk/fzzfjs/202303/t20230330_1021.htm"
CQ_2022 = "/cqjlp/zwgk_251/zfxxgkml_1/fzzfjsndbg/qzf/202303/t20230323_11800713.html"
FLAKY = EXPECTED["flaky"][0]
PROXY = "/nbhtz/module/web/jpage/dataproxy.jsp"
FORM = (
    "col=1&appid=1&webid=3009&path=/&columnid={col}&sourceContentType=1&unitid=7206060"
    "&webname=%E5%AE%81%E6%B3%A2%E5%9B%BD%E5%AE%B6%E9%AB%98%E6%96%B0%E5%8C%BA&permissiontype=0"
)

Response = tuple[int, dict[str, str], bytes]


def fetch(
    portal: SamplePortal,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> Response:
    conn = http.client.HTTPConnection(portal.host, portal.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture
def portal() -> Iterator[SamplePortal]:
    with SamplePortal() as p:
        yield p


def test_serves_gbk_bytes_unchanged_without_charset(portal: SamplePortal) -> None:
    status, headers, body = fetch(portal, GBK_PAGE)
    assert status == 200
    assert headers["content-type"] == "text/html"  # routes.json override: no charset
    assert body == (PORTAL_ROOT / GBK_PAGE.lstrip("/")).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gb18030")
    assert 'charset=gb2312"' in text
    assert "漳州高新区管委会关于2022年度法治政府建设的工作报告" in text


def test_default_headers(portal: SamplePortal) -> None:
    status, headers, body = fetch(portal, CQ_2022)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-length"] == str(len(body))
    assert re.fullmatch(r'"[0-9a-f]{40}"', headers["etag"])
    assert headers["last-modified"].endswith(" GMT")
    status, headers, body = fetch(portal, "/robots.txt")
    assert headers["content-type"].startswith("text/plain")
    assert b"Disallow: /cqjlp/private/" in body


def test_conditional_get(portal: SamplePortal) -> None:
    _, headers, _ = fetch(portal, CQ_2022)
    etag, modified = headers["etag"], headers["last-modified"]
    assert fetch(portal, CQ_2022, headers={"If-None-Match": etag})[0] == 304
    assert fetch(portal, CQ_2022, headers={"If-Modified-Since": modified})[0] == 304
    # If-None-Match wins over a matching If-Modified-Since.
    both = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
    assert fetch(portal, CQ_2022, headers=both)[0] == 200
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert fetch(portal, CQ_2022, headers={"If-Modified-Since": old})[0] == 200
    assert [h[2] for h in portal.hits] == [200, 304, 304, 200, 200]
    portal.reset_hits()
    assert portal.hits == []


def test_new_etag_after_file_changes(tmp_path: Path) -> None:
    root = tmp_path / "portal"
    shutil.copytree(PORTAL_ROOT, root)
    with SamplePortal(root) as p:
        _, headers, _ = fetch(p, CQ_2022)
        page = root / CQ_2022.lstrip("/")
        page.write_bytes(page.read_bytes().replace("九龙坡".encode(), "九龍坡".encode(), 1))
        status, new_headers, body = fetch(p, CQ_2022, headers={"If-None-Match": headers["etag"]})
        assert status == 200
        assert new_headers["etag"] != headers["etag"]
        assert body == page.read_bytes()
        status, _, _ = fetch(p, CQ_2022, headers={"If-Modified-Since": headers["last-modified"]})
        assert status == 200  # rewritten now, so newer than the pinned fixture mtime


def test_flaky_path_recovers(portal: SamplePortal) -> None:
    statuses = [fetch(portal, FLAKY)[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [h for h in portal.hits if h[1] == FLAKY] == [
        ("GET", FLAKY, 503),
        ("GET", FLAKY, 503),
        ("GET", FLAKY, 200),
    ]


def test_dataproxy_slice(portal: SamplePortal) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, resp_headers, body = fetch(
        portal,
        PROXY + "?startrecord=4&endrecord=6&perpage=3",
        method="POST",
        headers=headers,
        body=FORM.format(col="1229361238"),
    )
    assert status == 200
    assert resp_headers["content-type"] == "text/xml; charset=utf-8"
    text = body.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><datastore>')
    assert "<totalrecord>6</totalrecord>" in text
    hrefs = re.findall(r'href="([^"]+)"', text)
    assert hrefs == [
        "/nbhtz/art/2024/3/27/art_1229361238_4487654.html",
        "/nbhtz/art/2024/1/25/art_1229361238_4460021.html",
        "/nbhtz/art/2023/3/30/art_1229361238_4321098.html",
    ]
    # The column page itself only carries the first three records.
    page = fetch(portal, "/nbhtz/col/col1229361238/index.html")[2].decode()
    assert hrefs[0] not in page and "perpage: 3, totalRecord: 6" in page
    _, _, body = fetch(
        portal,
        PROXY + "?startrecord=1&endrecord=45&perpage=15",
        method="POST",
        headers=headers,
        body=FORM.format(col="999"),
    )
    assert b"<totalrecord>0</totalrecord><recordset></recordset>" in body


def test_query_pager_and_missing_pages(portal: SamplePortal) -> None:
    page2 = fetch(portal, "/zzgxq/zwgk/fzzfjs/list.aspx?page=2")[2].decode("gb18030")
    assert "t20220328_0912.htm" in page2 and "上一页" in page2
    page1 = fetch(portal, "/zzgxq/zwgk/fzzfjs/list.aspx?page=1")[2].decode("gb18030")
    assert "t20230330_1021.htm" in page1  # no @page=1 file: the plain list.aspx
    status, headers, body = fetch(portal, EXPECTED["dead"][0])
    assert status == 404 and "页面不存在" in body.decode("utf-8")
    assert fetch(portal, "/expected.json")[0] == 404  # root metadata is not served
    assert fetch(portal, "/cqjlp/../routes.json")[0] == 404
    status, headers, _ = fetch(portal, "/gxq/zwgk/fzzfjsndbg")
    assert status == 301 and headers["location"] == "/gxq/zwgk/fzzfjsndbg/"


def test_binds_loopback_only() -> None:
    with SamplePortal(port=0) as p:
        assert p._server is not None
        assert p._server.server_address[0] == "127.0.0.1"
        assert p.base_url == f"http://127.0.0.1:{p.port}"
        assert p.port > 0
    for host in ("0.0.0.0", "", "192.168.1.10", "::"):
        with pytest.raises(ValueError):
            SamplePortal(host=host)


def test_render_sources() -> None:
    text = render_sources("http://127.0.0.1:9999")
    assert "{base}" not in text
    assert '"http://127.0.0.1:9999/nbhtz/col/col1229361238/index.html"' in text
    names = re.findall(r"- name: (\S+)", text)
    assert names == ["cq-jlp", "cq-gxq", "nb-gxq", "zz-gxq", "gz-hp", "nb-zf", "nb-hs", "nb-qx",
                     "nb-bm"]


def page_text(body: bytes, path: str) -> str:
    text = body.decode("gb18030" if path.startswith("/zzgxq/") else "utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def expect_file(portal: SamplePortal, report: dict, file: dict, body: bytes) -> None:
    """A report published only as a file: the bytes are that format and hold the report's
    paragraphs; the page that links it shows its date (and, for a 详见附件 page, its title)."""
    from archive.files import extract_file, sniff

    assert sniff(body, report["path"]).format == report["format"] == file["format"]
    paragraphs = extract_file(body, report["format"]).paragraphs
    assert report["first_paragraph"] in paragraphs and report["last_paragraph"] in paragraphs
    status, _, page = fetch(portal, file["linked_from"])
    text = page_text(page, file["linked_from"])
    assert status == 200 and report["published"] in text, report["path"]
    assert report["path"].rsplit("/", 1)[1] in page.decode("utf-8"), report["path"]
    if file["linked_from"] in EXPECTED["stubs"]:
        assert "详见附件" in text and report["title"] in text


def test_expected_matches_served_pages(portal: SamplePortal) -> None:
    t2s = opencc.OpenCC("t2s").convert  # the hp site is traditional; expected.json holds t2s
    for _ in range(2):  # get the flaky page past its 503s
        fetch(portal, FLAKY)
    files = {f["path"]: f for f in EXPECTED["files"]}
    for report in EXPECTED["reports"]:
        status, _, body = fetch(portal, report["path"])
        assert status == 200, report["path"]
        if report["format"] != "html":
            expect_file(portal, report, files[report["path"]], body)
            continue
        text = page_text(body, report["path"])
        if report["source"] == "gz-hp":
            text = t2s(text)
        for key in ("title", "first_paragraph", "last_paragraph", "published"):
            assert report[key] in text, (report["path"], key)
    for path in [*EXPECTED["distractors"], *EXPECTED["listings"], *EXPECTED["disallowed"]]:
        assert fetch(portal, path)[0] == 200, path


def test_cli_serves_and_exits_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "sources.yaml"
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.portal", "--port", "0", "--write-sources", str(out)],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        match = re.fullmatch(r"sample portal on (http://127\.0\.0\.1:\d+)/ \(7 sites\)", line)
        assert match, line
        assert match.group(1) + "/cqjlp/" in out.read_text(encoding="utf-8")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err
