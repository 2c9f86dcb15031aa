"""Pure discovery parts: link scoring, column recognition, 网站标识码, directory candidates, the
gkmlpt and TRS-variable adapters, and the exploration tables."""

from __future__ import annotations

import json

import sqlite_utils

from archive import exploration
from crawler.explore import (
    check_site_id,
    directory_candidates,
    directory_links,
    governments_named,
    links_to_explore,
    page_links,
    recognise_column,
    score_link,
    site_id_code,
)
from crawler.listing import Link, discover, gkmlpt_articles, gkmlpt_categories, trs_pages

BASE = "http://127.0.0.1:9/"


def test_scores_point_toward_the_report_column() -> None:
    ranked = [score_link(t, BASE + u) for t, u in (
        ("法治政府建设", "x/"), ("法定主动公开内容", "fdzdgknr/"), ("政务公开", "zwgk/"),
        ("通知公告", "tzgg/"))]
    assert ranked == sorted(ranked, reverse=True) and ranked[-1] > 0
    assert score_link("依法行政", BASE + "a/") > score_link("政务公开", BASE + "zwgk/")
    for text, url in (("新闻中心", "xwzx/"), ("政府信息公开年报", "xxgknb/"),
                      ("政府信息公开指南", "zwgk/gkzn/"), ("机构职能", "gkmlpt/index"),
                      ("关于开展安全生产大检查工作的通知", "tzgg/content_101.html")):
        assert score_link(text, BASE + url) < 4, text


def test_links_to_explore_skip_reports_and_weak_links() -> None:
    html = ('<a href="/zwgk/">政务公开</a><a href="/xwzx/">新闻中心</a>'
            '<a href="/fz/t1.html">某县2023年法治政府建设年度报告</a>'
            '<a href="/col/col9/index.html">区县法治政府建设年度报告</a>'
            '<a href="http://other.example/zwgk/">政务公开</a><a href="#top">顶部</a>')
    links = page_links(html, BASE)
    assert {link.url for link in links} == {BASE + "zwgk/", BASE + "xwzx/", BASE + "fz/t1.html",
                                            BASE + "col/col9/index.html"}  # same host only
    chosen = [s.url for s in links_to_explore(links)]
    # A report-titled link to a column is a column to look at; to a page, a report.
    assert chosen == [BASE + "col/col9/index.html", BASE + "zwgk/"]


def test_column_recognised_by_contents_and_shape() -> None:
    listing = ('<ul><li><a href="/c/202403/t20240320_1.html">浑源县2023年度法治政府建设工作报告'
               '</a></li><li><a href="/c/202402/t20240201_2.html">法治宣传月活动通知</a></li></ul>'
               '<script>var countPage = 3;var currentPage = 0;'
               'createPageHTML(countPage, currentPage, "index", "html");</script>')
    column = recognise_column(listing, BASE + "c/index.html")
    assert column is not None and column.shape == "trs-var"
    assert column.report_titles == ("浑源县2023年度法治政府建设工作报告",) and column.pages == 2
    # Only plan/notice titles: not a report column.
    assert recognise_column('<a href="/c/t1.html">法治政府建设实施方案</a>', BASE + "c/") is None


def test_trs_variable_pager() -> None:
    text = 'var countPage = 3;\ncreatePageHTML(countPage, currentPage, "index", "shtml");'
    assert trs_pages(text, BASE + "c/index.shtml") == [
        BASE + "c/index.shtml", BASE + "c/index_1.shtml", BASE + "c/index_2.shtml"]
    assert trs_pages("createPageHTML(countPage, 0, 'index', 'html')", BASE) == []  # unknown


def test_gkmlpt_json_listing_and_categories() -> None:
    data = {"articles": [
        {"title": "灵丘县2023年法治政府建设年度报告", "url": "/gkmlpt/content/2/5/post_1.html",
         "identifier": "11140224MB/2024-00001", "document_number": "", "publisher": "县政府办",
         "created_at": "2024-03-20 10:00:00"},
        {"title": "关于防汛工作的通知", "url": "/gkmlpt/content/2/5/post_2.html"}], "total": 5}
    url = BASE + "gkmlpt/api/all/2005?page=1&sid=2240"
    articles, total = gkmlpt_articles(json.dumps(data), url)
    assert total == 5 and articles[0].identifier == "11140224MB/2024-00001"
    assert articles[0].document_number is None and articles[0].publisher == "县政府办"
    found = discover(json.dumps(data), url)
    assert [link.text for link in found.items] == ["灵丘县2023年法治政府建设年度报告"]
    assert found.pages == [BASE + "gkmlpt/api/all/2005?page=2&sid=2240",
                           BASE + "gkmlpt/api/all/2005?page=3&sid=2240"]
    assert discover(json.dumps(data), url.replace("page=1", "page=2")).pages == []
    assert discover("{not json", url).items == []
    page = ('<script>window._CONFIG = {SID: "2240"};</script>'
            '<a href="#2005">法治政府建设</a><a href="/gkmlpt/index#2006">通知公告</a>')
    cats = gkmlpt_categories(page, BASE + "gkmlpt/index")
    assert cats[0] == Link(BASE + "gkmlpt/api/all/2005?page=1&sid=2240", "法治政府建设")
    assert len(cats) == 2 and gkmlpt_categories(page.replace("SID", "X"), BASE + "gkmlpt/") == []


def test_site_id_code_and_check() -> None:
    assert site_id_code('<meta name="SiteIDCode" content="1402240001">') == "1402240001"
    assert site_id_code('<meta content="1402240001" name="SiteIDCode" />') == "1402240001"
    assert site_id_code("<p>网站标识码：<span>1402130001</span></p>") == "1402130001"
    assert site_id_code("<p>no code</p>") is None
    assert check_site_id("1402240001", "140224") is None
    assert "140105" in (check_site_id("1401050001", "140223") or "")
    assert "no 网站标识码" in (check_site_id(None, "140223") or "")
    assert "not a government" in (check_site_id("bm0100001", "140223") or "")


def test_directory_candidates_name_governments() -> None:
    page = ('<a href="/">首页</a><a href="/">山西省人民政府</a>'
            '<a href="http://a.example/">大同市人民政府</a>'
            '<a href="http://b.example/">灵丘县</a><a href="http://c.example/">人民网</a>'
            '<select><option value="http://d.example/">浑源县人民政府</option></select>')
    links = directory_links(page, "http://s.example/zfwz/")
    cands, unnamed = directory_candidates(links, governments_named, "140000")
    assert {(c.url, c.adcode) for c in cands} == {
        ("http://s.example/", "140000"), ("http://a.example/", "140200"),
        ("http://b.example/", "140224"), ("http://d.example/", "140225")}
    # 首页 shares its URL with a named link: only 人民网 names no government.
    assert [(link.text, why) for link, why in unnamed] == [
        ("人民网", "link text names no government")]


def test_directory_links_that_only_look_like_governments() -> None:
    page = ('<a href="http://mps.example/">公安部</a><a href="http://sfj.example/">大同市司法局</a>'
            '<a href="http://news.example/">大同新闻网</a><a href="http://bj.example/">北京</a>'
            '<a href="http://lq.example/">灵丘</a><a href="http://gov.example/">浑源县人民政府门户网站</a>')
    cands, skipped = directory_candidates(directory_links(page, BASE), governments_named,
                                          "140200")
    assert {c.text: c.adcode for c in cands} == {"灵丘": "140224", "浑源县人民政府门户网站": "140225"}
    why = {link.text: reason for link, reason in skipped}
    assert why["公安部"] == why["大同市司法局"] == why["大同新闻网"] == "link text names no government"
    assert why["北京"].startswith("names 北京市 (110000), outside")


def test_exploration_tables() -> None:
    db = sqlite_utils.Database(memory=True)
    exploration.ensure_schema(db)
    exploration.ensure_schema(db)  # idempotent
    col = {"source": "s", "url": "http://x/c/", "shape": "trs", "status": "active",
           "report_links": 2, "covers": [{"adcode": "140224"}], "checked_at": "2025-01-01"}
    exploration.record(db, "column", col, run_id=1)
    exploration.record(db, "column", {**col, "checked_at": "2025-02-01"}, run_id=2)
    row = next(db["explore_columns"].rows)
    assert (row["found_run_id"], row["last_run_id"], row["found_at"]) == (1, 2, "2025-01-01")
    assert json.loads(row["covers"]) == [{"adcode": "140224"}]
    exploration.record(db, "page", {"source": "s", "url": "http://x/", "outcome": "explored"}, 2)
    exploration.record(db, "candidate", {"directory": "d", "url": "http://y/",
                                         "decision": "rejected", "reason": "网站标识码 …"}, 2)
    exploration.record(db, "portal", {"adcode": "140224", "url": "http://x/",
                                      "evidence": {"link_text": "灵丘县"}}, 2)
    assert exploration.body_portals(db)[0]["evidence"] == {"link_text": "灵丘县"}
    lines = exploration.summary(db)
    assert lines[0] == "exploration, run 2:"
    assert "  directory d: rejected 1" in lines
    assert any("portal s: 1 pages explored; 1 column(s)" in line for line in lines)


def test_explore_records_cross_redis_intact() -> None:
    from crawler.distributed import decode_item, encode_item
    from crawler.items import ExploreRecord

    record = ExploreRecord("portal", "d-140224", {"adcode": "140224", "evidence": {"a": "灵丘县"}},
                           source_row={"name": "d-140224", "hosts": ["x"]})
    assert decode_item(encode_item(record)) == (record, None)


def test_redirect_stubs() -> None:
    from crawler.explore import redirect_target

    assert redirect_target('<script>window.location.href = "/index.shtml";</script>', BASE) == (
        BASE + "index.shtml")
    assert redirect_target('<meta http-equiv="refresh" content="0; url=/hy/index.html">',
                           BASE) == BASE + "hy/index.html"
    assert redirect_target("<p>" + "正文" * 2000 + "</p><script>location.href='/x'</script>",
                           BASE) is None  # a real page that happens to script a link
    assert redirect_target("<p>no redirect</p>", BASE) is None
