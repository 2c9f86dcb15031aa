"""Listing adapters on the CMS mechanics described in domain.md."""

import sqlite3
from pathlib import Path

from crawler.listing import discover, hanweb, looks_like_column, next_dataproxy, trs_pages
from tests.conftest import run_crawl
from tests.portal import SamplePortal

BASE = "http://x.gov.cn/zwgk/fzzfjsndbg/index.html"


def test_trs_classic_is_zero_based() -> None:
    text = '<script>createPageHTML(3, 0, "index", "html");</script>'
    assert trs_pages(text, BASE) == [
        "http://x.gov.cn/zwgk/fzzfjsndbg/index.html",
        "http://x.gov.cn/zwgk/fzzfjsndbg/index_1.html",
        "http://x.gov.cn/zwgk/fzzfjsndbg/index_2.html",
    ]


def test_trs_classic_with_extra_arguments() -> None:
    text = 'createPageHTML(17, 0,"index", "shtml", "black2", 250);'
    pages = trs_pages(text, BASE)
    assert len(pages) == 17 and pages[-1].endswith("/index_16.shtml")


def test_trs_six_argument_variant_is_one_based() -> None:
    text = "createPageHTML('page_div', 3, 1, 'index', 'html', 40);"
    assert trs_pages(text, BASE) == [
        "http://x.gov.cn/zwgk/fzzfjsndbg/index.html",
        "http://x.gov.cn/zwgk/fzzfjsndbg/index_2.html",
        "http://x.gov.cn/zwgk/fzzfjsndbg/index_3.html",
    ]


HANWEB = """<div id="12345"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=3009&path=/&columnid=1229361238&unitid=7206060&webname=宁波&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2025/3/28/art_1229361238_4610416.html" title="宁波高新区法治政府建设工作报告">宁波高新区法治政府建设工作报告</a><span>2025-03-28</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2025/1/2/art_1229361238_1.html" title="宁波高新区2024年政府信息公开工作年度报告">x</a></li>]]></record>
</recordset></datastore></script></div><script>new jpage({perpage: 15});</script>"""


def test_hanweb_datastore_records_and_dataproxy() -> None:
    found = hanweb(HANWEB, "http://www.nbhtz.gov.cn/col/col1229361238/index.html")
    assert [link.url for link in found.items] == [
        "http://www.nbhtz.gov.cn/art/2025/3/28/art_1229361238_4610416.html"
    ]
    (post,) = found.posts
    assert post.url == ("http://www.nbhtz.gov.cn/module/web/jpage/dataproxy.jsp"
                        "?startrecord=1&endrecord=45&perpage=15")
    assert post.formdata["columnid"] == "1229361238" and post.formdata["webid"] == "3009"
    assert post.formdata["col"] == "1" and post.formdata["permissiontype"] == "0"
    follow = next_dataproxy(post.url, post.formdata, total=100)
    assert follow is not None and "startrecord=46&endrecord=90" in follow.url
    assert next_dataproxy(post.url, post.formdata, total=45) is None


def test_plain_anchors_next_page_and_query_pager() -> None:
    text = """<html><body><ul>
    <li><a href="t20230330_1021.htm" title="漳州高新区管委会关于2022年度法治政府建设的工作报告">漳州…</a></li>
    <li><a href="t20230101_1.htm">招商引资新闻</a></li>
    <li><a href="javascript:void(0)" onclick="openUrl('https://x.gov.cn/a/t2024_9.html')">某区2023年法治政府建设年度报告</a></li>
    <li><a href="/zwgk/fzzfjs/">法治政府建设</a></li>
    </ul><a href="list.aspx?page=2">下一页</a><a href="list.aspx?page=3">3</a></body></html>"""
    found = discover(text, "http://x.gov.cn/zwgk/fzzfjs/list.aspx")
    assert [link.url for link in found.items] == [
        "http://x.gov.cn/zwgk/fzzfjs/t20230330_1021.htm",
        "https://x.gov.cn/a/t2024_9.html",
    ]
    assert found.pages == ["http://x.gov.cn/zwgk/fzzfjs/list.aspx?page=2",
                           "http://x.gov.cn/zwgk/fzzfjs/list.aspx?page=3"]


def test_js_redirect_stub() -> None:
    text = '<html><script>window.location.href="/zwgk/fzzfjsndbg/index.html";</script></html>'
    assert discover(text, "http://x.gov.cn/").redirect == "http://x.gov.cn/zwgk/fzzfjsndbg/index.html"


def test_column_urls_are_not_articles() -> None:
    assert looks_like_column("http://x.gov.cn/zwgk/fzzfjsndbg/")
    assert looks_like_column("http://x.gov.cn/zwgk/index_2.html")
    assert looks_like_column("http://x.gov.cn/col/col1229361238/index.html")
    assert not looks_like_column("http://x.gov.cn/zwgk/202303/t20230323_11800713.html")


def test_trs_inline_function_definition_is_not_a_call() -> None:
    text = """<script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
    }</script><script>createPageHTML(2, 0, "index", "html");</script>"""
    assert trs_pages(text, BASE)[-1] == "http://x.gov.cn/zwgk/fzzfjsndbg/index_1.html"


def test_traditional_and_numbered_pager_links() -> None:
    text = """<html><body><a href="post_1.html">某区2023年法治政府建设年度报告</a>
    <div class="pagination"><span>1</span> <a href="index_2.html">2</a>
    <a href="index_3.html">3</a> <a href="index_2.html">下一頁</a></div></body></html>"""
    found = discover(text, "http://x.gov.cn/zwgk/fzzfjs/index.html")
    assert found.pages == ["http://x.gov.cn/zwgk/fzzfjs/index_2.html",
                           "http://x.gov.cn/zwgk/fzzfjs/index_3.html"]


# The most common TRS template declares the counts, then calls the pager with the variable names
# (issue #12, item 2): before, only page 0 of such columns was read.
TRS_VARS = """<script type="text/javascript">
var currentPage = {current};//所在页从0开始
var prevPage = currentPage-1//上一页
var nextPage = currentPage+1//下一页
var countPage = {count}//共多少页
</script>
<script>createPageHTML({call});</script>"""


def test_trs_classic_with_variables() -> None:
    text = TRS_VARS.format(current=0, count=3,
                           call='countPage, currentPage, "index", "html"')
    assert trs_pages(text, BASE) == [
        "http://x.gov.cn/zwgk/fzzfjsndbg/index.html",
        "http://x.gov.cn/zwgk/fzzfjsndbg/index_1.html",
        "http://x.gov.cn/zwgk/fzzfjsndbg/index_2.html",
    ]


def test_trs_variables_with_shtml_and_extra_arguments() -> None:
    text = TRS_VARS.format(current=2, count=4,
                           call="countPage, currentPage,'index', 'shtml', \"black2\", 250")
    pages = trs_pages(text, BASE)
    assert pages[0].endswith("/index.shtml") and pages[-1].endswith("/index_3.shtml")
    assert len(pages) == 4


def test_trs_six_argument_variant_with_variables() -> None:
    text = """<script>var pageCount = "3"; let current = 1; const pageName = 'index';
    var total = 40;</script><div id="page_div"></div>
    <script>createPageHTML('page_div', pageCount, current, pageName, 'shtml', total);</script>"""
    assert trs_pages(text, BASE) == [
        "http://x.gov.cn/zwgk/fzzfjsndbg/index.shtml",
        "http://x.gov.cn/zwgk/fzzfjsndbg/index_2.shtml",
        "http://x.gov.cn/zwgk/fzzfjsndbg/index_3.shtml",
    ]


def test_trs_variables_defined_after_the_function_and_comparisons_ignored() -> None:
    # The inline definition's parameters resolve to nothing; `countPage == 1` is no assignment.
    text = """<script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
      if(_nPageCount == null || _nPageCount <= 1){ return; } }
    var countPage = 2;//共多少页
    if (countPage == 1) {}
    createPageHTML(countPage, 0, "index", "htm");</script>"""
    assert trs_pages(text, BASE) == ["http://x.gov.cn/zwgk/fzzfjsndbg/index.htm",
                                     "http://x.gov.cn/zwgk/fzzfjsndbg/index_1.htm"]


def test_trs_unresolvable_variable_is_no_pager() -> None:
    text = 'createPageHTML(Math.ceil(total/15), currentPage, "index", "html");'
    assert trs_pages(text, BASE) == []
    assert trs_pages('createPageHTML(nPages, 0, "index", "html");', BASE) == []


REPORT_PARAS = "".join(
    f"<p>2020年，本区坚持以习近平法治思想为指导，深入推进依法行政，健全重大行政决策程序，"
    f"严格规范公正文明执法，行政复议案件办理质量持续提升，法治政府建设取得新成效。第{n}段。</p>"
    for n in range(4))


def _tiny_trs_site(root: Path, pages: int) -> None:
    """One TRS column whose pager uses variables; one report per listing page."""
    col = root / "site/fzzfjsndbg"
    col.mkdir(parents=True)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    for n in range(pages):
        year = 2023 - n
        name = "index.html" if n == 0 else f"index_{n}.html"
        detail = f"20{24 - n:02d}03/t20{24 - n:02d}0328_{n + 1:07d}.html"
        title = f"某某区人民政府关于{year}年法治政府建设情况的报告"
        (col / name).write_text(
            f'<html><head><meta charset="utf-8"><title>法治政府建设年度报告</title></head><body>'
            f'<ul><li><a href="./{detail}" title="{title}">{title}</a></li></ul>'
            f"{TRS_VARS.format(current=n, count=pages, call=CALL)}</body></html>",
            encoding="utf-8")
        (col / detail).parent.mkdir(exist_ok=True)
        (col / detail).write_text(
            f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f'<h1>{title}</h1><div class="TRS_Editor">{REPORT_PARAS.replace("2020", str(year))}'
            "</div></body></html>", encoding="utf-8")


CALL = 'countPage, currentPage, "index", "html"'


def test_spider_follows_a_variable_trs_pager(tmp_path: Path) -> None:
    """The real spider on a served column: pages 2 and 3 exist only through the pager call."""
    _tiny_trs_site(tmp_path / "portal", 3)
    with SamplePortal(root=tmp_path / "portal") as server:
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            "sources:\n  - name: trs-vars\n    region: 重庆市九龙坡区\n    adcode: \"500107\"\n"
            f"    level: county\n    cms: trs\n    start_urls:\n"
            f"      - \"{server.base_url}/site/fzzfjsndbg/index.html\"\n", encoding="utf-8")
        db = tmp_path / "archive.db"
        result = run_crawl(sources, db)
        hits = {path for _, path, _ in server.hits}
    assert result.returncode == 0, result.output[-2000:]
    assert {"/site/fzzfjsndbg/index_1.html", "/site/fzzfjsndbg/index_2.html"} <= hits
    conn = sqlite3.connect(db)
    try:
        years = sorted(r[0] for r in conn.execute("SELECT report_year FROM reports"))
    finally:
        conn.close()
    assert years == [2021, 2022, 2023]
