"""The shipped registry (issues #6, #14): real, broad, keyed by division code, every CMS family
tested, the three kinds checked by their own rules."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import yaml

from crawler.registry_checks import (
    EVIDENCE_KEYS,
    check_registry,
    check_source,
    coverage,
    lone_report_warnings,
    stats,
)
from crawler.sources import DEFAULT_SOURCES, LEVELS, load_sources, main
from tests.portal import PORTAL_ROOT

SOURCES = load_sources(DEFAULT_SOURCES)


def test_registry_is_valid_and_has_no_problem() -> None:
    assert check_registry(SOURCES) == []


def test_at_least_100_sources_in_all_31_provinces_at_every_level() -> None:
    by_province, by_level, _ = stats(SOURCES)
    assert len(SOURCES) >= 100
    assert len(by_province) == 31 and "?" not in by_province
    assert set(by_level) == set(LEVELS)


def test_seed_issuers_found_on_government_hosts_are_included() -> None:
    regions = {s.region for s in SOURCES}
    assert {"重庆市九龙坡区", "重庆高新区", "宁波高新区"} <= regions


def test_evidence_is_on_the_sources_own_host_and_marked_when_composed() -> None:
    for src in SOURCES:
        for item in src.evidence:
            assert src.allows(item["url"]), src.name
            assert set(item) <= EVIDENCE_KEYS[src.kind], src.name
            if src.kind == "column":
                assert re.search(r"法治|依法行政", item["title"]), src.name


def test_every_cms_family_in_the_registry_has_a_fixture_site() -> None:
    fixture = yaml.safe_load((PORTAL_ROOT / "sources.yaml.tmpl").read_text("utf-8"))
    families = {s["cms"] for s in fixture["sources"]}
    # "other" = report URLs as start URLs, covered by test_crawl.test_report_url_as_start_url.
    families.add("other")
    # Columns are crawled by their CMS shape; a portal's cms only describes the site it explores
    # (e.g. a gkmlpt site, which the sample web grows on another branch).
    assert {s.cms for s in SOURCES if s.kind == "column"} <= families


# Issue #14 part 4: what the grown registry reached (floors that keep it from shrinking), and the
# issue's targets, which the stored pages did not allow yet (docs/registry.md says what was searched).
REACHED = {"sources": 300, "cities": 59, "counties": 114, "province_portals": 19, "directories": 4}
TARGETS = {"sources": 350, "cities": 100, "counties": 150, "province_portals": 31, "directories": 3}


def _numbers() -> dict[str, int]:
    cov = coverage(SOURCES)
    return {"sources": len(SOURCES), "cities": len(cov.cities), "counties": len(cov.counties),
            "province_portals": len(cov.province_portals),
            "directories": cov.kinds["directory"]}


def test_grown_registry_holds_what_was_reached() -> None:
    numbers = _numbers()
    assert all(numbers[k] >= v for k, v in REACHED.items()), numbers
    assert {"column", "portal", "directory"} <= set(coverage(SOURCES).kinds)


@pytest.mark.xfail(strict=True, reason="issue #14 targets not reached from the stored pages")
def test_issue_14_targets() -> None:
    numbers = _numbers()
    assert all(numbers[k] >= v for k, v in TARGETS.items()), numbers


def test_every_lone_report_url_has_a_portal_or_a_reason() -> None:
    # The three left are being reworked on another branch (see lone_report_warnings).
    left = {w.split(":")[0] for w in lone_report_warnings(SOURCES)}
    assert left <= {"gx-sft", "hlj-gov", "hlj-sft-gov"}
    # A lone report made a portal keeps its report as a start URL, beside the site's home page.
    converted = [s for s in SOURCES if s.kind == "portal" and s.notes
                 and s.notes.startswith("lone report URL made a portal")]
    assert len(converted) >= 50
    for src in converted:
        assert src.start_urls[1:] == (src.evidence[0]["url"],), src.name


def _one(kind: str) -> object:
    return next(s for s in SOURCES if s.kind == kind)


def test_portal_must_start_at_a_home_page_and_name_its_own_site_code() -> None:
    portal = next(s for s in SOURCES if s.kind == "portal" and s.level == "county")
    assert check_source(portal) == []
    deep = replace(portal, start_urls=(portal.evidence[0]["url"],))
    assert any("home page" in p for p in check_source(deep))
    wrong = dict(portal.evidence[0], site_id_code="1101070001")  # 石景山区, another division
    assert any("registers 110107" in p for p in check_source(replace(portal, evidence=(wrong,))))
    own = dict(portal.evidence[0], site_id_code=f"{portal.adcode}0001")
    assert check_source(replace(portal, evidence=(own,))) == []
    garbled = dict(portal.evidence[0], site_id_code="12345")
    assert any("网站标识码" in p for p in check_source(replace(portal, evidence=(garbled,))))


def test_portal_evidence_need_not_be_a_report_but_column_evidence_must() -> None:
    portal = _one("portal")
    item = dict(portal.evidence[0], title="首页")
    assert check_source(replace(portal, evidence=(item,))) == []
    column = _one("column")
    assert any("rule-of-law" in p for p in
               check_source(replace(column, evidence=(dict(column.evidence[0], title="首页"),))))


def test_directory_evidence_says_what_the_page_lists() -> None:
    directory = _one("directory")
    assert check_source(directory) == []
    bare = {k: v for k, v in directory.evidence[0].items() if k != "lists"}
    assert any("'lists'" in p for p in check_source(replace(directory, evidence=(bare,))))
    column_only = dict(directory.evidence[0], site_id_code="2201000001")
    assert any("not allowed" in p for p in
               check_source(replace(directory, evidence=(column_only,))))


def test_stats_prints_coverage_by_level_province_and_kind(capsys: pytest.CaptureFixture) -> None:
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert f"{len(SOURCES)} sources, 31 province-level divisions" in out
    kinds = coverage(SOURCES).kinds
    assert "by kind: " in out and f"directory {kinds['directory']}" in out
    assert "governments covered: " in out and "prefecture-level" in out
    assert "  北京市\t" in out
