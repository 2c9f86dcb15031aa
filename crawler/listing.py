"""Listing-page discovery, one adapter per CMS family: pure functions, HTML text in, links out.

- TRS WCM `createPageHTML(...)` pagers, classic 0-based and the 6-argument 1-based variant;
- Hanweb 大汉 `<datastore>` records inside `<script type="text/xml">` and its `dataproxy.jsp` pages;
- Guangdong gkmlpt: the JSON listing `/gkmlpt/api/all/{cat}?page=N&sid=SID`, and the category
  links (`#cat`) of a `/gkmlpt/index` page that carries the site's SID;
- plain pages: anchors, 下一页/尾页 links, query pagers (?page=, pageNo, PageIndex…), links
  hidden in `onclick`, and tiny JavaScript redirect stubs.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from archive.classify import looks_like_candidate

_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.DOTALL | re.IGNORECASE)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL | re.IGNORECASE)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.DOTALL | re.IGNORECASE)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_PERPAGE = re.compile(r"per[_]?page\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*['"]([^'"]+)['"]""", re.IGNORECASE)
_ONCLICK_URL = re.compile(r"""\(\s*['"]((?:https?:)?/[^'"]+|[^'"]+\.s?html?)['"]""")
_JS_REDIRECT = re.compile(
    r"""(?:window\.|document\.|top\.)?location(?:\.href)?\s*=\s*['"]([^'"]+)['"]""")
_NEXT_TEXT = re.compile(
    r"^(?:下一?[页頁]|下[页頁]|后一?[页頁]|後一?頁|尾[页頁]|末[页頁]|最后一?[页頁]|>|>>|›|»)$")
_PAGE_KEYS = {"page", "pageno", "pageindex", "curpage", "pagenum", "p", "pn", "currentpage",
              "page_no", "pagenumber"}
MAX_TRS_PAGES = 500   # a column with more pages than this is a broken pager, not a column
DATAPROXY_WINDOW = 45  # records per dataproxy.jsp request (3 × the usual 15 per page)


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    text: str


@dataclass(frozen=True, slots=True)
class FormPost:
    url: str
    formdata: dict[str, str]


@dataclass(slots=True)
class Discovery:
    items: list[Link] = field(default_factory=list)     # candidate report pages
    pages: list[str] = field(default_factory=list)      # more listing pages of the same column
    posts: list[FormPost] = field(default_factory=list)  # Hanweb dataproxy requests
    redirect: str | None = None                          # JS redirect stub target
    total_records: int | None = None

    def extend(self, other: Discovery) -> None:
        for attr in ("items", "pages", "posts"):
            have = getattr(self, attr)
            have.extend(x for x in getattr(other, attr) if x not in have)
        self.redirect = self.redirect or other.redirect
        self.total_records = self.total_records or other.total_records


# One argument of a JavaScript call: a quoted string, a number, or a variable name.
_JS_ARG = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)"|(-?\d+)|([A-Za-z_$][\w$]*))\s*$""")
# `var countPage = 3//共多少页`, `currentPage = 0;`: a literal assigned to a variable in the page.
_JS_ASSIGN = (r"""(?<![\w$.])(?:var\s+|let\s+|const\s+)?{name}\s*=(?!=)\s*"""
              r"""(?:'([^']*)'|"([^"]*)"|(-?\d+))""")

JsValue = str | int | None


def _literal(quoted1: str | None, quoted2: str | None, number: str | None) -> JsValue:
    if number is not None:
        return int(number)
    value = quoted1 if quoted1 is not None else quoted2
    return int(value) if value is not None and value.strip().isdigit() else value


def _resolve(arg: str, text: str, before: int) -> JsValue:
    """A call argument's value: a literal, or the literal last assigned to that variable earlier
    in the page (None when it is neither, e.g. a function parameter or an expression)."""
    m = _JS_ARG.match(arg)
    if not m:
        return None
    if m.group(4) is None:
        return _literal(m.group(1), m.group(2), m.group(3))
    assign = re.compile(_JS_ASSIGN.format(name=re.escape(m.group(4))))
    found = list(assign.finditer(text, 0, before)) or list(assign.finditer(text, before))
    return _literal(*found[-1].groups()) if found else None


def _pager_args(text: str, call: re.Match[str]) -> tuple[int, str, str, int] | None:
    """(page count, page name, extension, first numbered page) of one `createPageHTML` call."""
    values = [_resolve(a, text, call.start()) for a in call.group(1).split(",")]

    def at(i: int) -> JsValue:
        return values[i] if i < len(values) else None

    if isinstance(at(0), str):
        # createPageHTML('page_div', pageCount, current, 'index', 'html', total): 1-based.
        count, prefix, ext, first = at(1), at(3), at(4), 2
    else:
        # createPageHTML(pageCount, current, "index", "html", …): 0-based.
        count, prefix, ext, first = at(0), at(2), at(3), 1
    if not (isinstance(count, int) and isinstance(prefix, str) and isinstance(ext, str)):
        return None
    if not prefix or not re.fullmatch(r"[A-Za-z]{2,5}", ext):
        return None
    return count, prefix, ext, first


def trs_pages(text: str, url: str) -> list[str]:
    """All pages of a TRS column from its `createPageHTML` call.

    Arguments may be literals or variables assigned in the same page (`var countPage = 3`, the
    most common template). Pages often define the function inline before calling it: a call whose
    count resolves to no number (the definition's parameters) is not a pager.
    """
    for m in _CREATE_PAGE.finditer(text):
        args = _pager_args(text, m)
        if args is None:
            continue
        count, prefix, ext, first = args
        last = min(count if first == 2 else count - 1, MAX_TRS_PAGES)
        return [urljoin(url, f"{prefix}.{ext}")] + [
            urljoin(url, f"{prefix}_{n}.{ext}") for n in range(first, last + 1)
        ]
    return []


def _links_from_fragment(fragment: str, base: str) -> list[Link]:
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    return [Link(urljoin(base, a.get("href").strip()),
                 (a.get("title") or a.text_content() or "").strip())
            for a in root.iter("a") if a.get("href")]


def hanweb(text: str, url: str) -> Discovery:
    """Records of a Hanweb jpage column, plus dataproxy.jsp requests for the rest."""
    found = Discovery()
    m_total = _TOTAL.search(text)
    if m_total:
        found.total_records = int(m_total.group(1))
    stores = _DATASTORE.findall(text)
    for store in stores:
        for record in _RECORD.findall(store):
            fragment = html.unescape(record) if "&lt;" in record else record
            found.items.extend(link for link in _links_from_fragment(fragment, url)
                               if looks_like_candidate(link.text))
    nextgroup = _NEXTGROUP.search(text)
    if nextgroup:
        href = _HREF.search(nextgroup.group(1))
        if href:
            proxy = urljoin(url, html.unescape(href.group(1)))
            parts = urlsplit(proxy)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            params.pop("page", None)
            form = {"col": "1", "appid": params.get("appid", "1"), "webid": params.get("webid", ""),
                    "path": params.get("path", "/"), "columnid": params.get("columnid", ""),
                    "sourceContentType": params.get("sourceContentType", "1"),
                    "unitid": params.get("unitid", ""), "webname": params.get("webname", ""),
                    "permissiontype": params.get("permissiontype", "0")}
            base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
            found.posts.append(dataproxy_post(base, form, 1, perpage=perpage(text)))
    return found


def dataproxy_post(base: str, form: dict[str, str], start: int,
                   window: int = DATAPROXY_WINDOW, perpage: int = 15) -> FormPost:
    end = start + window - 1
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": perpage})
    return FormPost(f"{base}?{query}", form)


def next_dataproxy(post_url: str, form: dict[str, str], total: int) -> FormPost | None:
    """The following dataproxy window, or None when `total` records have been asked for."""
    parts = urlsplit(post_url)
    q = dict(parse_qsl(parts.query))
    try:
        end, window = int(q["endrecord"]), int(q["endrecord"]) - int(q["startrecord"]) + 1
    except (KeyError, ValueError):
        return None
    if end >= total:
        return None
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return dataproxy_post(base, form, end + 1, window, int(q.get("perpage", 15)))


def _is_pager(href_url: str, page_url: str) -> bool:
    """Same path as the current page, differing in a page-number query key."""
    a, b = urlsplit(href_url), urlsplit(page_url)
    if a.path != b.path or a.netloc != b.netloc:
        return False
    keys = {k.lower() for k, _ in parse_qsl(a.query)}
    return bool(keys & _PAGE_KEYS)


def _same_dir(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return pa.netloc == pb.netloc and pa.path.rsplit("/", 1)[0] == pb.path.rsplit("/", 1)[0]


def anchors(text: str, url: str) -> Discovery:
    """Plain anchors: candidate report links, 下一页/尾页 and query-pager links, onclick links."""
    found = Discovery()
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return found
    base_el = root.find(".//base[@href]")
    base = urljoin(url, base_el.get("href")) if base_el is not None else url
    for a in root.iter("a"):
        label = " ".join((a.text_content() or "").split())
        title = (a.get("title") or "").strip()
        href = (a.get("href") or "").strip()
        onclick = a.get("onclick") or ""
        if (not href or href.startswith(("javascript:", "#"))) and onclick:
            m = _ONCLICK_URL.search(onclick)
            href = m.group(1) if m else ""
        if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        target = urljoin(base, href)
        if urlsplit(target).scheme not in ("http", "https"):
            continue
        if _NEXT_TEXT.match(label) or _is_pager(target, url):
            found.pages.append(target)
        elif label.isdigit() and looks_like_column(target) and _same_dir(target, url):
            found.pages.append(target)  # numbered pager links: index_2.html, list_3.htm …
        elif looks_like_candidate(title) or looks_like_candidate(label):
            found.items.append(Link(target, title or label))
    if len(text) < 3000 and not found.items:
        m = _JS_REDIRECT.search(text)
        if m:
            found.redirect = urljoin(url, m.group(1))
    return found


def discover(text: str, url: str) -> Discovery:
    """Everything a listing page offers, whichever CMS built it."""
    if is_gkmlpt_api(url) or text.lstrip().startswith("{"):
        return gkmlpt(text, url)
    found = anchors(text, url)
    found.extend(Discovery(pages=trs_pages(text, url)))
    if "<datastore" in text.lower():
        found.extend(hanweb(text, url))
    # Deduplicate, drop self-references and links to other columns (navigation menus).
    found.items = list({link.url: link for link in found.items
                        if link.url != url and not looks_like_column(link.url)}.values())
    found.pages = [p for p in dict.fromkeys(found.pages) if p != url]
    return found


_COLUMN_PATH = re.compile(
    r"(?:/|/index(?:_\d+)?\.s?html?|/col/col\d+/?(?:index\.html)?|/list(?:_\d+)?\.\w+)$",
    re.IGNORECASE)


def looks_like_column(url: str) -> bool:
    """A column/listing URL rather than an article (TRS index_N.html, Hanweb col/colN/…)."""
    return bool(_COLUMN_PATH.search(urlsplit(url).path))


def perpage(text: str) -> int:
    m = _PERPAGE.search(text)
    return int(m.group(1)) if m else 15


# -- Guangdong gkmlpt -------------------------------------------------------------------------
_GKMLPT_API = re.compile(r"/gkmlpt/api/all/(\d+)$")
_GKMLPT_SID = re.compile(r"""\bSID\b['"]?\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)
_GKMLPT_CAT = re.compile(r"(?:^|/gkmlpt/\w*)#(\d+)$")


@dataclass(frozen=True, slots=True)
class GkmlptArticle:
    """One entry of a gkmlpt JSON listing."""

    url: str
    title: str
    identifier: str | None = None       # 索引号
    document_number: str | None = None  # 文号
    publisher: str | None = None
    created_at: str | None = None


def is_gkmlpt_api(url: str) -> bool:
    return bool(_GKMLPT_API.search(urlsplit(url).path))


def gkmlpt_api_url(base: str, category: str, sid: str, page: int = 1) -> str:
    return urljoin(base, f"/gkmlpt/api/all/{category}?page={page}&sid={sid}")


def _text_or_none(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def gkmlpt_articles(text: str, url: str) -> tuple[list[GkmlptArticle], int | None]:
    """The articles of one gkmlpt JSON page and the column's total, if the body is that JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return [], None
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        return [], None
    articles = []
    for a in data["articles"]:
        if not isinstance(a, dict) or not a.get("url") or not a.get("title"):
            continue
        articles.append(GkmlptArticle(
            url=urljoin(url, str(a["url"]).strip()), title=" ".join(str(a["title"]).split()),
            identifier=_text_or_none(a.get("identifier")),
            document_number=_text_or_none(a.get("document_number")),
            publisher=_text_or_none(a.get("publisher")),
            created_at=_text_or_none(a.get("created_at"))))
    total = data.get("total")
    return articles, int(total) if isinstance(total, int | str) and str(total).isdigit() else None


def gkmlpt(text: str, url: str) -> Discovery:
    """Report candidates of a gkmlpt JSON page; from page 1, every further page of the column."""
    articles, total = gkmlpt_articles(text, url)
    found = Discovery(items=[Link(a.url, a.title) for a in articles
                             if looks_like_candidate(a.title)], total_records=total)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if total and articles and query.get("page", "1") == "1":
        last = min(math.ceil(total / len(articles)), MAX_TRS_PAGES)
        for n in range(2, last + 1):
            found.pages.append(urlunsplit(parts._replace(query=urlencode({**query, "page": n}))))
    return found


def gkmlpt_categories(text: str, url: str) -> list[Link]:
    """Category links of a gkmlpt index page (`<a href="#2645">法治政府建设</a>`), as API URLs.

    The page's script carries the site's SID; without it the categories cannot be listed.
    """
    m = _GKMLPT_SID.search(text)
    if not m or "/gkmlpt/" not in urlsplit(url).path:
        return []
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return []
    out: dict[str, Link] = {}
    for a in root.iter("a"):
        cat = _GKMLPT_CAT.search((a.get("href") or "").strip())
        label = " ".join((a.text_content() or "").split())
        if cat and label:
            api = gkmlpt_api_url(url, cat.group(1), m.group(1))
            out.setdefault(api, Link(api, label))
    return list(out.values())
