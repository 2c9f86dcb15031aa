"""Who issued a report: the body the document names, which is often not the site it was found on.

A pure function of the report's title, text, metadata and the registry entry it was crawled from.
The issuer is read, in order of trust, from the title ("重庆市九龙坡区司法局关于2023年…"), the
signature at the end of the text ("宁波高新区党工委 2025年3月28日"), the registry entry's own body,
the 发布机构 and the 网站标识码. Each body gets a stable id: the division code for a government, the
code plus a normalised name for a department or a zone (`500107:司法局`, `330212:宁波高新区`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archive.divisions import FIRST_REPORT_YEAR, Government, find_governments, government, stem

# Where the issuer part of a title ends: "关于", the report year, or the topic itself.
_ISSUER_END = re.compile(
    r"关于|(?:19|20)\d{2}\s*年|[二〇○零一三四五六七八九]{4}年|法治政府|法治建设|依法行政|法治.{0,4}建设|年度")
_LEADING_YEAR = re.compile(r"^(?:19|20)\d{2}\s*年度?")
_BRACKETED = re.compile(r"^[【\[〔(（][^】\]〕)）]{0,12}[】\]〕)）]")
_JOINERS = re.compile(r"[、，,\s]+|(?<=[委府局区县市])(?:和|及|与)")
_PARTY = re.compile(r"^(?:中共|中国共产党)|(?:[区县市省旗州盟]委|党委)$")
_GOV_SUFFIX = re.compile(r"^(?:人民政府|政府)$")
_ZONE = re.compile(
    r"高新|开发区|新区|园区|管委会|管理委员会|试验区|保税区|自贸|示范区|合作区|工业区|港区")
_ZONE_TAIL = re.compile(r"(?:党工委|工委|管委会|管理委员会|管委|办公室)+$")
_LEADING_DIVISION = re.compile(
    r"^([\u4e00-\u9fff]{2,7}?(?:省|自治区|市|自治州|州|地区|盟))([\u4e00-\u9fff(（][^省]{2,})$")
_DEPARTMENT = re.compile(r"(?:局|厅|委员会|委|办公室|办|署|院|中心|所|队|站|会|处|部)$")
_SIGNATURE_DATE = re.compile(
    r"^\s*(?:(?:19|20)\d{2}|[二〇○零一三四五六七八九]{4})\s*年.{1,6}日\s*$")
LEVELS = ("province", "city", "county", "zone", "department")


@dataclass(frozen=True, slots=True)
class Issuer:
    name: str                    # the body's name: 重庆市九龙坡区司法局, 重庆市九龙坡区人民政府
    body_id: str                 # 500107, 500107:司法局, 500107:重庆高新区
    adcode: str                  # the body's division (a zone's host division)
    level: str                   # province | city | county | zone | department
    as_written: str              # the issuer as the document names it
    source: str                  # where it was read: title, signature, registry, publisher, site_id


@dataclass(frozen=True, slots=True)
class Context:
    """What the registry says about the source a report was crawled from."""

    adcode: str | None = None
    level: str | None = None
    region: str | None = None
    body: str | None = None      # the entry's body, for a department or zone entry
    site_id_code: str | None = None
    zones: dict[str, str] = field(default_factory=dict)  # registry zones: name → host adcode


def normalise_zone(name: str) -> str:
    """重庆高新技术产业开发区管理委员会 → 重庆高新区; 宁波国家高新区 → 宁波高新区."""
    n = re.sub(r"\s+", "", name)
    n = _ZONE_TAIL.sub("", n) or n
    n = n.replace("国家级", "").replace("国家", "")
    n = n.replace("高新技术产业开发区", "高新区").replace("高新技术开发区", "高新区")
    n = n.replace("经济技术开发区", "经开区").replace("经济开发区", "经开区")
    # Leading division names add nothing inside a body id that carries the code:
    # 广东省珠海市珠海高新区 and 珠海高新区 are one zone.
    while (m := _LEADING_DIVISION.match(n)) is not None and _is_division(m.group(1)):
        n = m.group(2)
    return n


def _is_division(name: str) -> bool:
    return any(name in (g.short, g.name, g.province) for g in find_governments(name))


def same_zone(a: str, b: str) -> bool:
    """西部科学城重庆高新区 and 重庆高新区 are one zone (normalised names, one inside the other)."""
    return len(min(a, b, key=len)) >= 3 and (a.endswith(b) or b.endswith(a))


def government_name(gov: Government) -> str:
    """重庆市九龙坡区人民政府, 大同市灵丘县人民政府, 大同市人民政府, 山西省人民政府."""
    if gov.level == "county" and gov.city:
        return f"{gov.city}{gov.county}人民政府"
    if gov.level == "county":
        return f"{gov.province}{gov.county}人民政府"
    if gov.level == "city":
        return f"{gov.city}人民政府"
    return f"{gov.province}人民政府"


def _prefix(gov: Government) -> str:
    """The government's name as a department's name starts: 重庆市九龙坡区, 大同市灵丘县, 大同市."""
    return government_name(gov).removesuffix("人民政府")


def title_issuer(title: str) -> str | None:
    """The issuer part of a report title: what stands before "关于", the year or the topic."""
    t = re.sub(r"\s+", " ", title or "").strip()
    while (m := _BRACKETED.match(t)) is not None:
        t = t[m.end():].strip()
    t = _LEADING_YEAR.sub("", t)  # "2023年闵行区法治政府建设…": the issuer follows the year
    m = _ISSUER_END.search(t)
    head = t[: m.start()] if m else ""
    head = head.strip(" 《》“”\"'：:·-—_")
    return head if 2 <= len(head) <= 60 else None


def _within(ctx: Context) -> str | None:
    return ctx.adcode[:2] if ctx.adcode else None


def _name_end(text: str, gov: Government) -> int:
    """Where the government's name ends in `text` (the longest way it is written there)."""
    forms = {gov.name, _prefix(gov), gov.short, stem(gov.short)}
    if gov.city and gov.county:
        forms.add(f"{gov.city}{gov.county}")
        forms.add(f"{stem(gov.city)}{gov.county}")
    best = -1
    for form in sorted((f for f in forms if f and len(f) >= 2), key=len, reverse=True):
        i = text.find(form)
        if i >= 0:
            best = max(best, i + len(form))
            break
    return best


def _one(piece: str, ctx: Context, year: int | None, how: str) -> Issuer | None:
    """Read one issuer string ("北京市朝阳区司法局", "重庆高新区", "广州市黄埔区")."""
    piece = piece.strip(" 《》“”\"'：:·-—_()（）")
    if len(piece) < 2 or _PARTY.search(piece):
        return None
    within = _within(ctx)
    govs = find_governments(piece, year, within=within)
    if within and not any(g.adcode.startswith(within) for g in govs):
        # Outside the source's province only when the piece names that province or city too
        # (a repost of 黑龙江省's report, not 西城区 read as Beijing's from a Qinghai site).
        govs = [g for g in govs
                if stem(g.province) in piece or (g.city and stem(g.city) in piece)]
    elif within:
        govs = [g for g in govs if g.adcode.startswith(within)]
    gov = govs[0] if govs else None
    end = _name_end(piece, gov) if gov else -1
    rest = piece[end:] if gov and end >= 0 else piece
    rest = rest.strip(" ·-—")
    if gov is not None and (not rest or _GOV_SUFFIX.match(rest)):
        return Issuer(government_name(gov), gov.adcode, gov.adcode, gov.level, piece, how)
    if _ZONE.search(rest or piece):
        zone = normalise_zone(piece)
        adcode = _zone_adcode(zone, gov, ctx)
        if adcode is None:
            return None
        own = normalise_zone(ctx.body or ctx.region or "")
        if ctx.level == "zone" and own and same_zone(own, zone):
            zone = own  # one body however the title words it
        else:
            zone = next((n for n in ctx.zones if same_zone(n, zone)), zone)
        return Issuer(zone, f"{adcode}:{zone}", adcode, "zone", piece, how)
    if rest and _DEPARTMENT.search(rest):
        host = gov or (government(ctx.adcode, year) if ctx.adcode else None)
        if host is None:
            return None
        dept = re.sub(r"^(?:人民政府|政府)(?=办公)", "人民政府", rest)
        if rest == piece and gov is None:
            # "区司法局", "司法局": the department of the registry entry's government.
            dept = re.sub(r"^[省市区县]", "", rest) or rest
        return Issuer(f"{_prefix(host)}{dept}", f"{host.adcode}:{dept}", host.adcode,
                      "department", piece, how)
    return None


def _zone_adcode(zone: str, gov: Government | None, ctx: Context) -> str | None:
    """A zone's host division: the registry's when the entry is this zone, else the 网站标识码's
    when the site is the zone's, else the government its name contains."""
    own = normalise_zone(ctx.body or ctx.region or "")
    if ctx.level == "zone" and ctx.adcode and own and same_zone(own, zone):
        return ctx.adcode
    for name, adcode in ctx.zones.items():  # a zone the registry knows, found on another site
        if same_zone(name, zone):
            return adcode
    if gov is not None:
        return gov.adcode
    return ctx.adcode


def _from_string(text: str, ctx: Context, year: int | None, how: str) -> Issuer | None:
    """An issuer string that may name several bodies (joint 党委+政府 reports, 开发区、区)."""
    pieces = [p for p in _JOINERS.split(text) if p]
    found = [i for p in pieces if (i := _one(p, ctx, year, how)) is not None]
    if not found:
        return None
    # A government among them is the issuer (广州开发区、广州市黄埔区 → 黄埔区); else the first.
    governments = [i for i in found if i.level in ("province", "city", "county")]
    return (governments or found)[0]


def signature(text: str) -> str | None:
    """The signing body on the line before the closing date, if the report ends with one."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()][-4:]
    for i in range(len(lines) - 1, 0, -1):
        if _SIGNATURE_DATE.match(lines[i]) and len(lines[i - 1]) <= 40:
            return lines[i - 1]
    return None


def registry_issuer(ctx: Context, year: int | None = None) -> Issuer | None:
    """The body a registry entry is for (its own reports' issuer when the title names none)."""
    if year is not None:
        year = max(year, FIRST_REPORT_YEAR)
    if ctx.level in ("zone", "department") and (ctx.body or ctx.region):
        name = ctx.body or ctx.region or ""
        found = _from_string(name, ctx, year, "registry")
        if found is not None and found.level == ctx.level:
            return found
        if ctx.level == "zone" and ctx.adcode:
            zone = normalise_zone(name)
            return Issuer(zone, f"{ctx.adcode}:{zone}", ctx.adcode, "zone", name, "registry")
        return None
    gov = government(ctx.adcode, year) if ctx.adcode else None
    if gov is None:
        return None
    return Issuer(government_name(gov), gov.adcode, gov.adcode, gov.level, ctx.region or gov.name,
                  "registry")


def attribute(title: str | None, text: str | None, ctx: Context, year: int | None = None,
              publisher: str | None = None) -> Issuer | None:
    """The report's issuer, or None when nothing names a body we can place."""
    if year is not None:
        year = max(year, FIRST_REPORT_YEAR)  # older reports: the earliest divisions we know
    head = title_issuer(title or "")
    if head:
        found = _from_string(head, ctx, year, "title")
        if found is not None:
            return found
    sig = signature(text or "")
    if sig:
        found = _from_string(sig, ctx, year, "signature")
        if found is not None:
            return found
    found = registry_issuer(ctx, year)
    if found is not None:
        return found
    if publisher:
        found = _from_string(publisher, ctx, year, "publisher")
        if found is not None:
            return found
    if ctx.site_id_code and ctx.site_id_code[:6].isdigit():
        gov = government(ctx.site_id_code[:6], year)
        if gov is not None:
            return Issuer(government_name(gov), gov.adcode, gov.adcode, gov.level,
                          ctx.site_id_code, "site_id")
    return None
