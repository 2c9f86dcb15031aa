"""The shipped registry (issue #6): real, broad, keyed by division code, every CMS family tested."""

from __future__ import annotations

import re

import yaml

from crawler.registry_checks import check_registry, stats
from crawler.sources import DEFAULT_SOURCES, LEVELS, load_sources
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
            assert set(item) <= {"url", "title", "title_seen"}, src.name
            assert re.search(r"法治|依法行政", item["title"]), src.name


def test_every_cms_family_in_the_registry_has_a_fixture_site() -> None:
    fixture = yaml.safe_load((PORTAL_ROOT / "sources.yaml.tmpl").read_text("utf-8"))
    families = {s["cms"] for s in fixture["sources"]}
    # "other" = report URLs as start URLs, covered by test_crawl.test_report_url_as_start_url.
    families.add("other")
    assert {s.cms for s in SOURCES} <= families
