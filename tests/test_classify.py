"""Title classification and report year (shapes from domain.md)."""

import pytest

from archive.classify import (
    classify_title,
    looks_like_candidate,
    report_year,
    title_kind,
    year_in_opening,
    year_in_title,
)

REPORTS = [
    ("重庆市九龙坡区人民政府关于2022年法治政府建设情况的报告", 2022),
    ("X2023年法治政府建设年度报告", 2023),
    ("北京市石景山区人民政府2023年法治政府建设年度情况报告", 2023),
    ("四川省人民政府2022年度法治政府建设工作情况", 2022),
    ("宝鸡市陈仓区2025年度法治政府建设工作总结", 2025),
    ("【法治建设报告】湖北省司法厅2023年法治政府建设年度报告", 2023),
    ("上海市司法局2023年法治政府建设情况报告", 2023),
    ("漳州高新区管委会关于2022年度法治政府建设的工作报告", 2022),
    ("中共某某区委 某某区人民政府关于2023年法治政府建设情况的报告", 2023),
    ("某某县二〇二三年度法治政府建设工作报告", 2023),
    ("宁波高新区法治政府建设工作报告", None),
]
NEGATIVES = [
    "重庆市九龙坡区2022年政府信息公开工作年度报告",
    "九龙坡区法治政府建设实施方案（2021—2025年）",
    "【政策解读】图解《重庆市九龙坡区人民政府关于2022年法治政府建设情况的报告》",
    "区政府召开2023年法治政府建设工作推进会",
    "重庆高新区2023年法治政府建设工作要点",
    "漳州高新区2022年度法治政府建设考核结果的通报",
    "关于印发《宁波高新区法治政府建设示范创建工作方案》的通知",
    "某某市法治政府建设示范指标体系",
    "某某省法治政府建设白皮书",
    "",
]


@pytest.mark.parametrize(("title", "year"), REPORTS)
def test_report_titles(title: str, year: int | None) -> None:
    assert classify_title(title).is_report
    assert year_in_title(title) == year


@pytest.mark.parametrize("title", NEGATIVES)
def test_negative_titles(title: str) -> None:
    verdict = classify_title(title)
    assert not verdict.is_report
    assert verdict.reason


def test_year_from_body_when_title_has_none() -> None:
    text = "2024年，高新区坚持以习近平新时代中国特色社会主义思想为指导……"
    assert report_year("宁波高新区法治政府建设工作报告", text) == (2024, "body")


def test_year_never_from_a_range_end() -> None:
    assert year_in_opening("紧紧围绕《法治政府建设实施纲要（2021-2025年）》，2022年我区") == 2022
    assert year_in_title("九龙坡区法治政府建设实施方案（2021—2025年）") is None


def test_title_year_wins_over_body() -> None:
    assert report_year("关于2022年法治政府建设情况的报告", "2023年3月，…") == (2022, "title")


# Issue #12 item 3: exclusions apply to the kind of document, never to the issuer's name. Department
# names of real county-level governments, as their pages list them (the page each list was taken
# from is named; names that contain an excluded word are marked *):
DEPARTMENTS = [
    # 泾县 (安徽) — http://ahjx.gov.cn/XxgkAnnualReport/show/5533.html
    "泾县自然资源和规划局",  # *规划
    # 洞口县 (湖南), its departments as named in the 2019 reform notice —
    # http://tp.hkcd.com/content_p/2019-03/25/content_71781.html
    "洞口县自然资源局", "洞口县发展和改革局", "洞口县住房和城乡建设局",
    # 梁园区 (商丘), the district's leadership division of work —
    # http://www.liangyuan.gov.cn/e/action/ShowInfo.php?classid=2&id=16392
    "梁园区统计局", "梁园区应急管理局", "梁园区政务服务和大数据管理局", "梁园区退役军人事务局",
    "梁园区重点项目办", "梁园区督查局",
    # 大港区 (天津), its government's departments — http://www.ctoth.com/dictionary/1988933.html
    "大港区规划土地管理局",  # *规划
    "大港区计划经济委员会",  # *计划
    "大港区计划生育委员会",  # *计划
    "大港区审计局", "大港区人民防空办公室",
    # 巫山县 (重庆) — https://bbs.xinwushan.cn/T-2603012-1.html
    "巫山县住房和城乡建设委员会",
    # The issue's own examples (issue #12): every city and county has them.
    "某区规划和自然资源局",  # *规划
    "某县委考核办",  # *考核
    "某区发展和改革委员会",
]
# The positive shapes of domain.md, with the issuer first or the year first, plus the issue's
# "report and next year's plan" titles.
REPORT_SHAPES = [
    "{d}关于{y}年法治政府建设情况的报告",
    "{d}{y}年法治政府建设年度报告",
    "{d}{y}年度法治政府建设工作报告",
    "{d}{y}年法治政府建设年度情况报告",
    "{d}{y}年度法治政府建设工作情况",
    "{d}{y}年度法治政府建设工作总结",
    "【法治建设报告】{d}{y}年法治政府建设年度报告",
    "{y}年{d}法治政府建设情况报告",
    "{d}{y}年法治政府建设工作总结和{n}年工作计划",
    "{d}关于{y}年度法治政府建设工作情况报告及下一步工作打算",
]
# Every negative shape of domain.md, issued by the same departments.
NEGATIVE_SHAPES = [
    "{d}{y}年政府信息公开工作年度报告",
    "{d}法治政府建设实施方案（2021—2025年）",
    "{d}{n}年法治政府建设工作要点",
    "{d}{n}年法治政府建设工作计划",
    "关于印发《{d}法治政府建设示范创建工作方案》的通知",
    "{d}{y}年度法治政府建设考核结果的通报",
    "{d}法治政府建设示范指标体系",
    "{d}法治政府建设白皮书",
    "{d}召开{y}年法治政府建设工作推进会",
    "{d}召开{y}年度法治政府建设工作总结会",
    "【政策解读】{d}关于{y}年法治政府建设情况的报告",
    "【文字解读】{d}{y}年法治政府建设年度报告",
    "图解：{d}{y}年度法治政府建设工作报告",
    "一图读懂{d}{y}年法治政府建设年度报告",
]
TABLE_REPORTS = [s.format(d=d, y=2023, n=2024) for s in REPORT_SHAPES for d in DEPARTMENTS]
TABLE_NEGATIVES = [s.format(d=d, y=2023, n=2024) for s in NEGATIVE_SHAPES for d in DEPARTMENTS]


def test_title_table_is_large_enough() -> None:
    assert len(TABLE_REPORTS) >= 60 and len(TABLE_NEGATIVES) >= 60
    assert sum(any(w in d for w in ("规划", "计划", "考核")) for d in DEPARTMENTS) >= 5


@pytest.mark.parametrize("title", TABLE_REPORTS)
def test_department_reports_are_reports(title: str) -> None:
    verdict = classify_title(title)
    assert verdict.is_report, verdict.reason
    assert year_in_title(title) == 2023
    assert looks_like_candidate(title)
    assert looks_like_candidate(title[:-5] + "…")  # listing anchors are often truncated


@pytest.mark.parametrize("title", TABLE_NEGATIVES)
def test_department_negatives_are_not_reports(title: str) -> None:
    verdict = classify_title(title)
    assert not verdict.is_report
    assert verdict.reason


def test_kind_leaves_out_the_issuer_and_the_plan_clause() -> None:
    assert title_kind("某区规划和自然资源局关于2023年法治政府建设情况的报告") == "法治政府建设情况的报告"
    assert title_kind("某区2023年度法治政府建设工作总结和2024年工作计划") == "法治政府建设工作总结"
    assert title_kind("【政策解读】某区2023年法治政府建设年度报告") == "【政策解读】法治政府建设年度报告"


def test_looks_like_candidate_stays_loose_but_not_everything() -> None:
    assert looks_like_candidate("某区规划和自然资源局关于2023年法治…")
    assert looks_like_candidate("某县2023年依法行政工作报告")
    assert not looks_like_candidate("某区规划和自然资源局2023年政府信息公开工作年度报告")
    assert not looks_like_candidate("首页")
