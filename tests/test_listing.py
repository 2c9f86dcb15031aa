"""Listing adapters on the CMS mechanics described in domain.md."""

from crawler.listing import discover, hanweb, looks_like_column, next_dataproxy, trs_pages

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
