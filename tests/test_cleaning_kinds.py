"""Kinds of real page the twelve saved pages do not show (issue #16), in pages written here in
their shape: a site name after a bare hyphen in <title>, dates under the title with no label,
索 引 号 padded, an empty 文号 cell, label rows over value rows with 索取号 / 信息索引, hidden
print copies (inline style, the page's own <style>), a visible second copy, contact and organiser
lines inside and outside the article."""

from __future__ import annotations

import pytest

from archive.extract import extract_page

BODY = [
    "为进一步加强基层法治宣传教育工作，推动法律知识进社区、进乡村、进企业，现将有关事项通知如下。",
    "一、各单位要结合实际制定宣传方案，明确责任分工，确保各项活动落到实处，取得实效。",
    "二、要充分利用线上线下平台开展普法宣传，创新宣传形式，扩大覆盖面和影响力。",
    "三、请各单位于活动结束后十个工作日内报送工作总结，包括活动照片和有关材料。",
    "四、各级司法行政机关要加强工作指导，及时总结推广好经验好做法，推动基层普法工作常态化、"
    "制度化，切实提高群众的法治意识和依法办事能力。",
    "五、活动中遇到的问题请及时与市司法局普法与依法治理处联系，各单位要注意做好安全保障工作。",
]
CT = "text/html; charset=utf-8"
URL = "http://www.example-gov.cn/art/2024/3/5/art_1_2.html"


def page(title: str, inner: str, head: str = "", chrome: bool = True) -> bytes:
    menu = "".join(f'<li><a href="/c{i}">栏目{i}</a></li>' for i in range(30))
    top = f'<div class="top"><ul>{menu}</ul><p>无障碍 长者模式 繁体</p></div>' if chrome else ""
    foot = ('<div class="foot"><p>版权所有：某某市人民政府</p><p>地址：某某市人民路1号</p>'
            "<p>电话：0000-12345678</p></div>") if chrome else ""
    return (f"<html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>"
            f"{top}{inner}{foot}</body></html>").encode()


def paras(lines: list[str] = BODY) -> str:
    return "".join(f"<p>{line}</p>" for line in lines)


def test_site_name_after_a_bare_hyphen_leaves_the_title() -> None:
    html = page("关于开展基层法治宣传活动的通知-某某市人民政府网", f"<div>{paras()}</div>")
    ex = extract_page(html, CT, URL)
    assert ex.title == "关于开展基层法治宣传活动的通知"
    # A hyphen inside the title itself (a year range) stays.
    html = page("某某市2021-2025年法治宣传教育规划", f"<div>{paras()}</div>")
    assert extract_page(html, CT, URL).title == "某某市2021-2025年法治宣传教育规划"


@pytest.mark.parametrize(("shown", "want"), [
    ("2023-12-01 14:43", "2023-12-01"),
    ("2020年02月18日 09:15", "2020-02-18"),
    ("2022年3月8日", "2022-03-08"),
])  # fmt: skip
def test_unlabelled_date_under_the_title(shown: str, want: str) -> None:
    inner = (f'<div class="article"><h1>关于开展基层法治宣传活动的通知</h1>'
             f'<div class="info"><span>{shown}</span></div>{paras()}</div>')
    ex = extract_page(page("关于开展基层法治宣传活动的通知", inner), CT, URL)
    assert ex.published == want
    assert ex.provenance["published"] == "page:date-under-title"
    if ":" in shown:  # a time stamp is page furniture; a bare date may be the document's own
        assert shown not in ex.text


def test_a_clock_in_the_toolbar_is_not_the_date() -> None:
    inner = ('<div class="bar">2023年10月11日 星期三</div><div class="article">'
             f"<h1>关于开展基层法治宣传活动的通知</h1>{paras()}</div>")
    ex = extract_page(page("关于开展基层法治宣传活动的通知", inner), CT, URL)
    assert ex.published is None


def test_padded_索_引_号_and_an_empty_文号_cell() -> None:
    table = ("<table class='xxgk'><tr><td>索 引 号：</td><td>11500107MB1234567X/2024-00012</td>"
             "<td>主题分类：</td><td>司法</td></tr>"
             "<tr><td>发布机构：</td><td>某某区司法局</td><td>文 号：</td><td></td></tr>"
             "<tr><td>有 效 性：</td><td>有效</td><td>成文日期：</td><td>2024-03-01</td></tr></table>")
    ex = extract_page(page("关于开展基层法治宣传活动的通知", table + paras()), CT, URL)
    assert ex.index_no == "11500107MB1234567X/2024-00012"
    assert ex.doc_no is None  # not "有 效 性" / "有效"
    assert ex.publisher == "某某区司法局"
    assert ex.written == "2024-03-01"
    assert ex.text.split("\n") == BODY


@pytest.mark.parametrize("label", ["索取号", "信息索引", "索 引 号"])
def test_label_row_over_value_row(label: str) -> None:
    table = (f"<table><thead><tr><td>{label}</td><td>发布日期</td><td>发布机构</td>"
             "<td>文件编号</td><td>备注</td></tr></thead><tbody><tr><td>000000000A/2024-00007</td>"
             "<td>2024-03-05</td><td>某某市卫生健康委员会</td><td></td><td></td></tr></tbody></table>")
    html = page("关于开展基层法治宣传活动的通知", f"<div class='main'>{table}{paras()}</div>")
    ex = extract_page(html, CT, URL)
    assert ex.index_no == "000000000A/2024-00007"
    assert ex.published == "2024-03-05"
    assert ex.publisher == "某某市卫生健康委员会"
    assert ex.doc_no is None  # the empty cell, not "备注"
    assert ex.text.split("\n") == BODY  # neither the labels nor the values open the body


@pytest.mark.parametrize("hide", [
    '<div style="display: none">{}</div>',
    '<div hidden>{}</div>',
    '<style>.print-copy {{ display:none; }}</style><div class="print-copy">{}</div>',
])  # fmt: skip
def test_hidden_print_copy_is_left_out(hide: str) -> None:
    copy = paras([*BODY, "打印版附加的最后一段，与正文不同。这一段只在打印时出现，读者看不到。"])
    inner = f'<div class="article">{paras()}</div>' + hide.format(copy)
    ex = extract_page(page("关于开展基层法治宣传活动的通知", inner), CT, URL)
    assert ex.text.split("\n") == BODY


def test_a_page_revealed_by_script_keeps_its_hidden_body() -> None:
    inner = f'<div id="app" style="display:none"><div class="article">{paras()}</div></div>'
    ex = extract_page(page("关于开展基层法治宣传活动的通知", inner), CT, URL)
    assert ex.text.split("\n") == BODY
    assert ex.provenance["hidden"].startswith("kept 1 hidden elements")


def test_a_rule_inside_media_query_hides_nothing() -> None:
    style = "<style>@media (max-width: 600px) { .article { display: none; } }</style>"
    inner = f'{style}<div class="article">{paras()}</div>'
    ex = extract_page(page("关于开展基层法治宣传活动的通知", inner), CT, URL)
    assert ex.text.split("\n") == BODY


def test_a_visible_second_copy_is_emitted_once() -> None:
    elder = paras([*BODY[:-1], "长者模式副本的最后一段文字，与正文略有不同，是另一份排版。"])
    inner = (f'<div class="wrap"><div class="article"><h2>通知</h2>{paras()}</div></div>'
             f'<div class="elder"><div class="article">{elder}</div></div>')
    ex = extract_page(page("关于开展基层法治宣传活动的通知", inner), CT, URL)
    assert ex.text.split("\n")[-len(BODY):] == BODY
    assert "长者模式副本" not in ex.text
    assert ex.provenance["text"] == "densest:first-copy"


def test_contact_and_organiser_lines_inside_the_article_are_kept() -> None:
    inside = [*BODY[:3], "主办单位：某某市司法局", "联系人：王老师", "联系电话：12345678",
              "邮箱：someone@example-gov.cn", BODY[3], "某某市司法局", "2024年3月5日"]
    ex = extract_page(page("关于开展基层法治宣传活动的通知", f"<div>{paras(inside)}</div>"),
                      CT, URL)
    assert ex.text.split("\n") == inside


def test_contact_lines_of_the_page_head_and_foot_are_chrome() -> None:
    lines = ["地址：某某市人民路1号", *BODY, "主办：某某市人民政府办公室", "电话：0000-1234567"]
    ex = extract_page(page("关于开展基层法治宣传活动的通知", f"<div>{paras(lines)}</div>",
                           chrome=False), CT, URL)
    assert ex.text.split("\n") == BODY


def test_an_empty_attachment_heading_at_the_end_goes_but_a_list_stays() -> None:
    html = page("关于开展基层法治宣传活动的通知", f"<div>{paras([*BODY, '附件：'])}</div>")
    assert extract_page(html, CT, URL).text.split("\n") == BODY
    annex = ["附件：1.活动方案", "2.报名表"]
    html = page("关于开展基层法治宣传活动的通知", f"<div>{paras([*BODY, *annex])}</div>")
    assert extract_page(html, CT, URL).text.split("\n") == [*BODY, *annex]


def test_the_leave_site_popup_is_chrome() -> None:
    popup = '<div class="modal"><p>您访问的链接即将离开“某某市人民政府”门户网站 是否继续？</p></div>'
    html = page("关于开展基层法治宣传活动的通知", f"<div>{paras()}</div>{popup}")
    assert extract_page(html, CT, URL).text.split("\n") == BODY
