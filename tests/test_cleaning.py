"""Cleaning and metadata rules, one by one (issue #3): strip chrome, keep near-noise."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from archive.body import find_container, paragraphs
from archive.extract import extract_page
from archive.meta import labelled_fields
from archive.noise import clean_lines, is_chrome

CHROME = [
    "扫一扫在手机打开当前页",
    "【字体：大 中 小】",
    "【打印】 【关闭】",
    "打印本页 关闭窗口",
    "分享到：微信 微博 QQ空间",
    "浏览次数：1234",
    "阅读次数: 88",
    "您当前的位置：首页 > 政务公开 > 法治政府建设年度报告",
    "当前位置：首页>政府信息公开",
    "上一篇：九龙坡区2021年法治政府建设年度报告",
    "下一篇：没有了",
    "相关链接",
    "热点新闻",
    "无障碍 长者模式 关怀版 繁体 简体",
    "视窗区 导航区 交互区 服务区 列表区 正文区",
    "读屏专用 | 声音开关 | 语速",
    "主办：重庆市九龙坡区人民政府办公室 承办：九龙坡区大数据发展局",
    "版权所有：重庆市九龙坡区人民政府",
    "技术支持：某某科技有限公司",
    "网站地图 | 联系我们",
    "网站标识码5001070001",
    "渝ICP备05003300号-1",
    "渝公网安备 50010702500123号",
    "地址：重庆市九龙坡区杨家坪西郊路2号 邮编：400050",
    "img#imgConac{vertical-align:middle}",
    "$('#share-1').share();",
    "标签：法治政府建设",
    "关注我们可获得更多采购需求",
    "招标 业主",
    "开启“阅读”后，点击文字或控件可以阅读其内容；双击文字或控件，则是操作对应的文字或控件",
    "[ 索引号 ] 1150010700927688XM/2023-00798 [ 发文字号 ]",
    "发布时间：2023-03-30 16:20 来源：漳州高新区",
]
KEEP = [
    "加强规范性文件备案审查，全年审查规范性文件12件，备案率100%。",
    "把法治建设经验分享到了全市各镇街，取得了明显成果。",
    "附件：1.九龙坡区2022年法治政府建设重点工作完成情况",
    "2.九龙坡区行政复议案件统计表",
    "重庆高新区管委会",
    "2023年3月22日",
    "【基本案情】",
    "（一）坚持以习近平法治思想为统领",
    "一、主要举措和成效",
    "漳州市人民政府：",
    "三是持续抓好行政机关负责人出庭应诉工作。",
]


@pytest.mark.parametrize("line", CHROME)
def test_chrome_lines_are_stripped(line: str) -> None:
    assert is_chrome(line), line


@pytest.mark.parametrize("line", KEEP)
def test_near_noise_body_lines_are_kept(line: str) -> None:
    assert not is_chrome(line), line
    assert clean_lines(line, title=None) == [line]


def test_repeated_title_line_is_dropped_but_not_a_later_mention() -> None:
    title = "某区2023年法治政府建设年度报告"
    body = "2023年，某区坚持以习近平法治思想为指导，全面推进法治政府建设，现将有关情况报告如下："
    text = f"{title}\n{body}\n{title}"
    assert clean_lines(text, title) == [body, title]


def _paras(html: str) -> list[str]:
    root = lxml_html.document_fromstring(html)
    container, _ = find_container(root)
    assert container is not None
    return paragraphs(container)


BODY = ["一、主要举措和成效", "（一）强化统筹。" + "我区坚持依法行政，" * 30, "二、存在的不足和原因",
        "三是持续抓好行政机关负责人出庭应诉工作。" * 3]


def test_br_table_cell_and_word_paste_equal_p_layout() -> None:
    p_layout = "<html><body><div class='TRS_Editor'>" + "".join(
        f"<p>　　{p}</p>" for p in BODY) + "</div></body></html>"
    br_layout = "<html><body><table><tr><td>导航</td></tr><tr><td>" + "<br/>".join(
        f"　　{p}" for p in BODY) + "</td></tr></table></body></html>"
    word = ("<html><body><div id='zoom'><?xml:namespace prefix = o ns = "
            "\"urn:schemas-microsoft-com:office:office\" />" + "".join(
                f"<p class='MsoNormal' style='text-indent:2em'><span style='font-size:16pt'>"
                f"{p[:10]}</span><span>{p[10:]}</span><o:p></o:p></p>" for p in BODY)
            + "</div></body></html>")
    assert _paras(p_layout) == BODY
    assert _paras(br_layout) == BODY
    assert _paras(word) == BODY


@pytest.mark.parametrize(
    ("html", "field", "value"),
    [
        ("<td>索 引 号：</td><td>1150010700927688XM/2023-00798</td>", "index_no",
         "1150010700927688XM/2023-00798"),
        ("<span>[ 发布机构 ]</span><span>重庆高新区管委会办公室</span>", "publisher", "重庆高新区管委会办公室"),
        ("<th>發布機構：</th><td>黃埔區司法局</td>", "publisher", "黄埔区司法局"),
        ("<p>发文字号: 豫政文〔2024〕46号</p>", "doc_no", "豫政文〔2024〕46号"),
        ("<li>成文日期：2025年3月28日</li>", "written", "2025年3月28日"),
        ("<div>发布时间：2023-03-30 16:20 来源：漳州高新区</div>", "published", "2023-03-30 16:20"),
    ],
)
def test_labels_match_after_stripping_padding_and_colons(html: str, field: str, value: str) -> None:
    root = lxml_html.document_fromstring(f"<html><body>{html}</body></html>")
    assert labelled_fields(root)[field] == value


def page(title: str, body: str, extra: str = "") -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}_某某区人民政府</title>{extra}</head>"
            f"<body><div class='header'>2019年12月3日 星期二</div><h1>{title}</h1>"
            f"<div class='TRS_Editor'>{body}</div>"
            "<div class='footer'>网站标识码5001070001 渝ICP备05003300号-1</div></body></html>"
            ).encode()


LONG = "<p>" + "推进法治政府建设，" * 40 + "</p>"


def test_year_inferred_from_written_date_minus_one() -> None:
    body = f"<p>成文日期：2024-03-15</p>{LONG}"
    ex = extract_page(page("某区法治政府建设工作报告", body), "text/html", "http://x.gov.cn/a.html")
    assert ex.kind == "report" and ex.report_year == 2023 and ex.year_inferred
    assert ex.provenance["report_year"] == "written-1"


def test_chinese_numeral_year_in_title() -> None:
    ex = extract_page(page("某县二〇二三年度法治政府建设工作报告", LONG), "text/html", "http://x/a")
    assert ex.report_year == 2023 and not ex.year_inferred


def test_stale_header_clock_is_not_the_publish_date() -> None:
    ex = extract_page(page("某区2023年法治政府建设年度报告", LONG), "text/html", "http://x/a")
    assert ex.published is None
    meta = "<meta name='PubDate' content='2024-03-28 10:00'>"
    ex = extract_page(page("某区2023年法治政府建设年度报告", LONG, meta), "text/html", "http://x/a")
    assert ex.published == "2024-03-28" and ex.provenance["published"] == "meta:PubDate"


def test_site_id_code_icp_and_adcode_from_footer() -> None:
    ex = extract_page(page("某区2023年法治政府建设年度报告", LONG), "text/html", "http://x/a")
    assert ex.site_id_code == "5001070001" and ex.icp == "渝ICP备05003300号-1"
    assert ex.adcode == "500107" and ex.provenance["adcode"] == "SiteIDCode"


def test_content_farm_mirror_is_flagged() -> None:
    body = "<p>" + "廣州開發區(qū)堅持法治建設(shè)，推進依法行政。" * 20 + "</p>"
    ex = extract_page(page("黃埔區2023年法治政府建設年度報告", body), "text/html", "http://m/a")
    assert ex.kind == "report" and ex.quality == "mirror"
    clean = extract_page(page("某区2023年法治政府建设年度报告", LONG), "text/html", "http://x/a")
    assert clean.quality == "ok"
