"""Title classification and report year (shapes from domain.md)."""

import pytest

from archive.classify import classify_title, report_year, year_in_opening, year_in_title

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
