"""Portal exploration, as pure functions: HTML in, typed values out.

Scores a government website's links toward its report column(s) (政务公开 → 信息公开目录 →
法定主动公开 → 法治政府建设…), recognises a column by the CMS shapes `crawler.listing` knows and by
its contents (links to report-titled pages), reads a site's 网站标识码, and picks the links of a
directory page (市县政府网站…) that name a government.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from archive.classify import classify_title
from archive.divisions import find_governments
from crawler.listing import (
    Discovery,
    Link,
    discover,
    gkmlpt_categories,
    is_gkmlpt_api,
    looks_like_column,
)

# Link text toward the report column, and how strongly. The first match of each row counts once.
_TEXT_SCORES: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"法治政府建设|法治政府"), 12),
    (re.compile(r"依法行政|法治建设|法制建设"), 10),
    (re.compile(r"法治|法制"), 5),
    (re.compile(r"年度报告|工作报告|报告"), 4),
    (re.compile(r"法定主动公开|主动公开"), 6),
    (re.compile(r"信息公开目录|公开目录|目录"), 6),
    (re.compile(r"政府信息公开|政务公开|信息公开"), 5),
    (re.compile(r"专题专栏|专题|专栏"), 4),
    (re.compile(r"通知公告|公告公示|通知|公告"), 3),
    (re.compile(r"工作动态|其他"), 1),
)
# The neighbouring annual report and pages about procedure, not content: not worth a request.
_TEXT_NEGATIVE = re.compile(
    r"信息公开.{0,4}年[度]?报|信息公开工作年度报告|依申请|申请公开|公开指南|公开制度|意见箱|留言|"
    r"信箱|登录|注册|无障碍|English|繁體|繁体")
# Path words of the same sections on real portals (domain.md lists the report column slugs).
_URL_SCORES: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"fzzf|fzjs|fzzfjs|yfxz|fzzd|fzgz"), 8),
    (re.compile(r"fdzdgk|gkml|zfxxgk|xxgk|zwgk|gkmlpt"), 3),
    (re.compile(r"ztzl|zhuanti|/zt/"), 3),
    (re.compile(r"tzgg|gsgg|gggs"), 2),
)
_URL_NEGATIVE = re.compile(r"xxgknb|ndbg_xxgk|login|search|sousuo|\.(?:jpg|png|gif|css|js|pdf|"
                           r"docx?|xlsx?|zip|rar|wps|ofd)$", re.IGNORECASE)
# A document's URL: a file name with a number (t20240320_1.html, art_12_345.html, post_9.html,
# content_107.html); sections end in index.html, list.aspx, a slash or a colNNN folder.
_ARTICLE = re.compile(r"/(?!index|list|default)[^/]*\d{3,}[^/]*\.(?:s?html?|jhtml|jsp|aspx?|php)$",
                      re.IGNORECASE)
MAX_SECTION_NAME = 16  # 区县法治政府建设年度报告 has 12 characters; 关于开展…工作的通知 more
MIN_SCORE = 4  # a link scoring less is not worth a request (a path word alone scores 3)


def score_link(text: str, url: str) -> int:
    """How strongly a link's text and URL point toward a report column (0 = not at all)."""
    t = re.sub(r"\s+", "", text or "")
    path = urlsplit(url).path.lower()
    if (_TEXT_NEGATIVE.search(t) or _URL_NEGATIVE.search(path) or _ARTICLE.search(path)
            or len(t) > MAX_SECTION_NAME):
        return 0  # (a document, by its URL or its long title, is not a section)
    score = sum(weight for pattern, weight in _TEXT_SCORES if pattern.search(t))
    score += sum(weight for pattern, weight in _URL_SCORES if pattern.search(path))
    return score


def is_report_title(text: str) -> bool:
    """A listing link whose text names a report (truncated titles: topic and a year suffice)."""
    t = re.sub(r"\s+", "", text or "")
    if classify_title(t).is_report:
        return True
    if t.endswith(("…", "...", "..")):
        stem = t.rstrip("….")
        return bool(re.search(r"(?:19|20)\d{2}年", stem)) and classify_title(
            stem + "报告").is_report
    return False


@dataclass(frozen=True, slots=True)
class ScoredLink:
    url: str
    text: str
    score: int


_META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*?content\s*=\s*["'][^"']*?url\s*=\s*"""
    r"""['"]?([^"'>\s;]+)""", re.IGNORECASE)
_JS_LOCATION = re.compile(
    r"""(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*['"]([^'"]+)['"]""")


def redirect_target(text: str, url: str) -> str | None:
    """Where a small redirect stub (meta refresh, `location.href=`) sends the visitor: many
    portals' home pages are such stubs, without links or 网站标识码 of their own."""
    if len(text) > 3000:
        return None
    m = _META_REFRESH.search(text) or _JS_LOCATION.search(text)
    if not m:
        return None
    target = urljoin(url, m.group(1).strip())
    return target if urlsplit(target).scheme in ("http", "https") and target != url else None


def page_links(text: str, url: str,
               allowed: Callable[[str], bool] | None = None) -> list[Link]:
    """Every http(s) anchor of a page on the page's own host (or those `allowed`), fragment
    dropped, first text kept; plus the category links of a gkmlpt index page (as JSON listing
    URLs)."""
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return []
    host = urlsplit(url).hostname
    if allowed is None:
        def allowed(target: str) -> bool:
            return urlsplit(target).hostname == host
    out: dict[str, Link] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        target = urljoin(url, href).split("#", 1)[0]
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not allowed(target) or target == url:
            continue
        label = " ".join((a.get("title") or a.text_content() or "").split())
        out.setdefault(target, Link(target, label))
    for link in gkmlpt_categories(text, url):
        out.setdefault(link.url, link)
    return list(out.values())


def links_to_explore(links: Iterable[Link], min_score: int = MIN_SCORE) -> list[ScoredLink]:
    """Links worth a request, best first; report-titled links are left to `report_links`."""
    scored = [ScoredLink(link.url, link.text, score_link(link.text, link.url))
              for link in links
              if not is_report_title(link.text) or looks_like_column(link.url)]
    return sorted((s for s in scored if s.score >= min_score), key=lambda s: -s.score)


def report_links(links: Iterable[Link]) -> list[Link]:
    """Links whose text names a report, wherever they sit (a home page's news box…)."""
    return [link for link in links if is_report_title(link.text)
            and not looks_like_column(link.url)]


@dataclass(frozen=True, slots=True)
class Column:
    """A page recognised as a report column: its CMS shape and what it lists."""

    shape: str                  # trs | trs-var | trs6 | hanweb | gkmlpt | paged | plain
    report_titles: tuple[str, ...]
    candidates: int             # all candidate links (法治… in the text)
    pages: int                  # further listing pages announced by the pager
    found: Discovery


_VAR_PAGER = re.compile(r"createPageHTML\s*\(\s*[A-Za-z_$]")
_SIX_ARG_PAGER = re.compile(r"createPageHTML\s*\(\s*['\"]")


def column_shape(text: str, url: str, found: Discovery) -> str:
    if is_gkmlpt_api(url):
        return "gkmlpt"
    if "<datastore" in text.lower():
        return "hanweb"
    if _SIX_ARG_PAGER.search(text):
        return "trs6"
    if _VAR_PAGER.search(text):
        return "trs-var"
    if "createPageHTML" in text:
        return "trs"
    return "paged" if found.pages else "plain"


# The listing adapter family each column shape is read by (crawler.listing); `paged` and `plain`
# pages are read by the plain adapter, which every family's one-page column also looks like.
SHAPE_FAMILY = {"trs": "trs", "trs-var": "trs", "trs6": "trs", "hanweb": "hanweb",
                "gkmlpt": "gkmlpt"}
CHECKED_CMS = ("trs", "hanweb", "gkmlpt", "plain")  # registry `cms` values a listing can contradict


def cms_mismatch(declared: str | None, shape: str) -> str | None:
    """What a listing page says against its source's registry `cms`, or None when it agrees or
    cannot tell (a one-page column has no pager to show its family; `nfcms`/`other` name no
    adapter). The page is read by the adapter of what it is, whatever the registry says."""
    seen = SHAPE_FAMILY.get(shape)
    if declared not in CHECKED_CMS or seen is None or seen == declared:
        return None
    return (f"the registry says cms: {declared}, but this listing page is {seen} ({shape}); "
            f"read as {seen}")


def recognise_column(text: str, url: str) -> Column | None:
    """The page as a report column, if it lists at least one report-titled page."""
    found = discover(text, url)
    titles = tuple(link.text for link in found.items if is_report_title(link.text))
    if not titles:
        return None
    return Column(column_shape(text, url, found), titles, len(found.items), len(found.pages),
                  found)


_META_SITE_ID = re.compile(
    r"""<meta\s[^>]*?(?:name\s*=\s*["']?SiteIDCode["']?[^>]*?content\s*=\s*["']?([0-9A-Za-z]+)|"""
    r"""content\s*=\s*["']?([0-9A-Za-z]+)["']?[^>]*?name\s*=\s*["']?SiteIDCode)""",
    re.IGNORECASE)
_FOOTER_SITE_ID = re.compile(r"网站标识码\s*[:：]?\s*([0-9A-Za-z]{10,12})")
_TAG = re.compile(r"<[^>]+>|&nbsp;")


def site_id_code(text: str) -> str | None:
    """A site's 网站标识码: the `SiteIDCode` meta, else the footer's "网站标识码：NNNNNNNNNN"."""
    m = _META_SITE_ID.search(text)
    if m:
        return m.group(1) or m.group(2)
    m = _FOOTER_SITE_ID.search(_TAG.sub("", text))
    return m.group(1) if m else None


def check_site_id(code: str | None, adcode: str) -> str | None:
    """None if the site carries `adcode`'s 网站标识码, else why the candidate is rejected."""
    if not code:
        return "no 网站标识码 (SiteIDCode meta or footer) on its home page"
    if not code.isdigit() or len(code) != 10:
        return f"网站标识码 {code} is not a government site's 10-digit code"
    if not code.startswith(adcode):
        return f"网站标识码 {code} belongs to division {code[:6]}, not {adcode}"
    return None


# -- directories ------------------------------------------------------------------------------
Government = tuple[str, str]  # (6-digit division code, name)
GovernmentFinder = Callable[[str, str | None], list[Government]]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A directory link whose text names a government: a candidate portal for that body."""

    url: str
    text: str
    adcode: str
    name: str


def directory_links(text: str, url: str) -> list[Link]:
    """Every outward link of a directory page: anchors and `<option value="http…">` entries."""
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return []
    out: dict[tuple[str, str], Link] = {}
    for el in root.iter("a", "option"):
        href = (el.get("href") if el.tag == "a" else el.get("value")) or ""
        href = href.strip()
        if not href or href.lower().startswith(("javascript:", "mailto:", "#")):
            continue
        target = urljoin(url, href)
        if urlsplit(target).scheme not in ("http", "https") or target == url:
            continue
        label = " ".join((el.get("title") or el.text_content() or "").split())
        # Keyed by URL and text: the nav's 首页 and the list's 山西省人民政府 may share a URL.
        out.setdefault((target, label), Link(target, label))
    return list(out.values())


# What a government's own website is called after its name, and what a department's or a
# newspaper's is: 大同市人民政府门户网站 is the city's; 大同市司法局, 大同新闻网 are not.
_SITE_WORDS = re.compile(r"(?:人民政府|政府)?(?:门户网站|门户|网站|网)?$")
_NOT_A_GOVERNMENT = re.compile(
    r"(?:局|委员会|委|办公室|办|厅|部|署|中心|院|所|站|队|会|公司|集团|银行|大学|学院|报社?|台|"
    r"新闻网|日报|晚报)(?:门户网站|网站|网)?$")


def names_government(text: str, name: str) -> bool:
    """Whether a link text names the government `name` itself (灵丘县, 灵丘县人民政府, or 灵丘 in
    a list of bare names) rather than only containing its name's stem (公安部 ∌ 公安县) or naming
    one of its departments (大同市司法局)."""
    t = re.sub(r"\s+", "", text or "")
    if _NOT_A_GOVERNMENT.search(t) and not t.endswith(("人民政府门户网站", "人民政府网站")):
        return False
    core = _SITE_WORDS.sub("", t)
    return name in t or (len(core) >= 2 and name.startswith(core))


def directory_candidates(links: Iterable[Link], find: GovernmentFinder, within: str | None
                         ) -> tuple[list[Candidate], list[tuple[Link, str]]]:
    """(candidates, [(link, why it is not one)]). A link naming several divisions
    (大同市灵丘县人民政府) is a candidate for the most specific one; with `within` (the directory's
    division code), only governments inside that division are candidates."""
    prefix = within_prefix(within) if within and len(within) == 6 else within
    candidates: dict[tuple[str, str], Candidate] = {}
    skipped: list[tuple[Link, str]] = []
    for link in links:
        found = [g for g in find(link.text, within) if names_government(link.text, g[1])]
        if not found:
            skipped.append((link, "link text names no government"))
            continue
        adcode, name = max(found, key=lambda g: (_level(g[0]), len(g[1])))
        if prefix and not adcode.startswith(prefix):
            skipped.append((link, f"names {name} ({adcode}), outside the directory's division "
                                  f"{within}"))
            continue
        candidates.setdefault((link.url, adcode), Candidate(link.url, link.text, adcode, name))
    named = {c.url for c in candidates.values()}
    return list(candidates.values()), [(link, why) for link, why in skipped
                                       if link.url not in named]


def _level(adcode: str) -> int:
    return 0 if adcode.endswith("0000") else 1 if adcode.endswith("00") else 2


def within_prefix(adcode: str | None) -> str | None:
    """The code prefix of a division's territory: 140000 → 14, 140200 → 1402."""
    if not adcode:
        return None
    return adcode[:2] if adcode.endswith("0000") else adcode[:4] if adcode.endswith(
        "00") else adcode


# -- division names ---------------------------------------------------------------------------
def governments_named(text: str, within: str | None = None) -> list[Government]:
    """Governments a text names (灵丘县, 大同市人民政府, 山西省…), nearest to `within` (a code or
    code prefix) first, as (adcode, short name)."""
    return [(g.adcode, g.short or g.name) for g in find_governments(text, None, within)]
