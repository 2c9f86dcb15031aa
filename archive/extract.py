"""From one captured response to a report record: a pure function of (bytes, headers, url).

Decoding, metadata, title, body text (trafilatura plus gov-portal line cleaning), classification,
report year and traditional→simplified conversion. No network, no database, no Scrapy.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

from archive.analysis import Analysis
from archive.body import drop_hidden, drop_link_lists, find_container, paragraphs
from archive.classify import classify_title, report_year
from archive.decode import Decoded, decode_body
from archive.divisions import from_site_id
from archive.meta import PageMeta, parse_date, read_meta
from archive.noise import clean_lines
from archive.problems import binary_body
from archive.script import has_traditional, to_simplified

EXTRACTOR_VERSION = "4.2"  # 4.0: #16 cleaning on real pages; 4.1: #12; 4.2: #15 files
MIN_REPORT_CHARS = 200  # a real annual report is thousands of characters; stubs are not reports

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_TITLE_SPLIT = re.compile(r"\s*(?:_|\||｜|--|—{1,2}|\s-\s)\s*")
_SITE_ID = re.compile(r"网站标识码\s*[:：]?\s*([0-9A-Za-z]{10,12})")
# Content-farm mirrors annotate characters with pinyin ("區(qū)") and lose characters to "??".
_PINYIN_ARTIFACT = re.compile(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,6}\)")
_LOST_CHARS = re.compile(r"\?\?")
# A document number printed alone at the head of the body (reply letters, notices without a
# 信息公开 table): 川卫函〔2025〕46号.
_DOC_NO_LINE = re.compile(
    r"^[\u4e00-\u9fff]{1,12}[〔\[［(（]\s*(?:19|20)\d{2}\s*[〕\]］)）]\s*第?\s*\d{1,5}\s*号$")
_ICP = re.compile(r"([\u4e00-\u9fff]ICP[备備]\s*[0-9]+[号號](?:-\d+)?)")

@dataclass(slots=True)
class Extraction:
    kind: str                     # report | not_report | empty | rejected (a refused file)
    reason: str
    title: str | None = None
    report_year: int | None = None
    published: str | None = None
    written: str | None = None
    publisher: str | None = None
    index_no: str | None = None
    doc_no: str | None = None
    site_id_code: str | None = None
    icp: str | None = None
    adcode: str | None = None     # from the SiteIDCode prefix; the registry's value wins in store
    year_inferred: bool = False
    quality: str = "ok"           # ok | mirror | lossy | ocr
    quality_reason: str | None = None
    text: str = ""
    content_hash: str | None = None
    encoding: str | None = None
    traditional: bool = False
    provenance: dict[str, str] = field(default_factory=dict)  # field → where its value came from
    format: str = "html"          # html | pdf | docx | doc | wps | ofd | image (archive.files)
    linked_from: str | None = None  # files: the listing or report page that linked them
    confidence: float | None = None  # OCR: mean tesseract confidence per character, 0–100
    analysis: Analysis | None = None  # parts and figures (#18), set by archive.derive for reports

    def __post_init__(self) -> None:
        # Derived results travel as JSON in distributed mode: rebuild the nested value.
        if isinstance(self.analysis, dict):
            self.analysis = Analysis.from_dict(self.analysis)


def _parse(text: str) -> lxml_html.HtmlElement | None:
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        return None
    try:
        return lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


# A site name glued to the title by a bare hyphen: "…座谈会-中国科普网", "…通知-XX市人民政府".
_SITE_SUFFIX = re.compile(
    r"-[\u4e00-\u9fff]{2,20}(?:网|网站|门户|政府|政府网|平台|在线|之窗|之声|频道|新闻网|政务网)$")


def pick_title(meta: PageMeta) -> tuple[str | None, str]:
    """ArticleTitle meta, else the article heading, else <title> minus the site-name suffix."""
    tag = meta.tags.get("articletitle")
    if tag:
        return " ".join(tag.split()), "meta:ArticleTitle"
    parts = [p for p in _TITLE_SPLIT.split(meta.html_title) if p]
    if parts:
        parts[0] = _SITE_SUFFIX.sub("", parts[0]) or parts[0]
    # The article heading is the longest heading that the <title> agrees with (a logo <h2> with
    # the site name is contained in the <title> too, but is shorter).
    agreeing = [h for h in meta.headings
                if len(h) >= 6 and (not parts or h in meta.html_title or parts[0] in h)]
    if agreeing:
        return max(agreeing, key=len), "heading"
    if parts:
        short_first = len(parts) > 1 and len(parts[0]) < 6  # "首页_…" style prefixes
        return (max(parts[:2], key=len) if short_first else parts[0]), "title"
    return None, "none"


def _first(*candidates: tuple[str | None, str]) -> tuple[str | None, str | None]:
    for value, source in candidates:
        if value:
            return value, source
    return None, None


def extract_page(body: bytes, content_type: str | None, url: str,
                 decoded: Decoded | None = None) -> Extraction:
    """Decode, read metadata and body, classify. Never raises on bad input."""
    decoded = decoded or decode_body(body, content_type)
    binary = binary_body(body, decoded.text)
    if binary:
        # An image, executable or random bytes under a report title must never become a report.
        return Extraction("not_report", binary, encoding=decoded.encoding)
    root = _parse(decoded.text)
    if root is None:
        return Extraction("empty", "empty or unparseable page", encoding=decoded.encoding)
    meta = read_meta(root)
    raw_title, title_src = pick_title(meta)
    title = to_simplified(raw_title) if raw_title else None

    hidden = drop_hidden(root)  # after the metadata: a hidden 信息公开 table still has values
    container, how = find_container(root)
    if container is not None and how.startswith("densest"):
        drop_link_lists(container)  # a known CMS container holds only what its author wrote
    raw_lines = paragraphs(container) if container is not None else []
    if sum(len(line) for line in raw_lines) < MIN_REPORT_CHARS:
        # No article container we recognise: fall back to trafilatura's generic extraction.
        how = "trafilatura"
        import trafilatura  # here, not at the top: the crawl process need not load it (~20 MB)

        raw_lines = (trafilatura.extract(
            decoded.text, url=url, include_comments=False, include_tables=True,
            favor_recall=True, output_format="txt",
        ) or "").splitlines()
    raw_text = "\n".join(raw_lines)
    traditional = has_traditional(raw_text) or (raw_title is not None and raw_title != title)
    lines = clean_lines(to_simplified(raw_text) if traditional else raw_text, title)
    text = "\n".join(lines)

    ex = Extraction("not_report", "", title=title, text=text, encoding=decoded.encoding,
                    traditional=traditional)
    ex.provenance["title"] = title_src
    ex.provenance["text"] = how
    if hidden:
        ex.provenance["hidden"] = hidden
    f = meta.fields
    published, src = _first(
        (parse_date(meta.tags.get("pubdate")), "meta:PubDate"),
        (parse_date(f.get("published")), "table:发布日期"),
        (parse_date(f.get("date_line")), "page:日期"),
        (parse_date(f.get("title_date")), "page:date-under-title"),
    )
    ex.published = published
    if src:
        ex.provenance["published"] = src
    ex.written = parse_date(f.get("written"))
    publisher, src = _first(
        (f.get("publisher"), "table:发布机构"),
        (meta.tags.get("contentsource"), "meta:ContentSource"),
        (f.get("source_line"), "page:来源"),
    )
    ex.publisher = to_simplified(publisher) if publisher else None
    if src:
        ex.provenance["publisher"] = src
    ex.index_no = f.get("index_no")
    ex.doc_no = f.get("doc_no")
    if not ex.doc_no:
        head = (line.strip() for line in lines[:6])
        ex.doc_no = next((line for line in head if _DOC_NO_LINE.match(line)), None)
        if ex.doc_no:
            ex.provenance["doc_no"] = "body:文号"
    site_id = meta.tags.get("siteidcode")
    m = _SITE_ID.search(decoded.text) if not site_id else None
    ex.site_id_code = site_id or (m.group(1) if m else None)
    m = _ICP.search(decoded.text[-20000:])
    ex.icp = to_simplified(m.group(1)) if m else None
    doc_src = ex.provenance.get("doc_no", "table:文号")
    for name, where in (("index_no", "table:索引号"), ("doc_no", doc_src),
                        ("written", "table:成文日期"), ("icp", "footer:ICP备案"),
                        ("site_id_code", "meta:SiteIDCode" if site_id else "footer:网站标识码")):
        if getattr(ex, name):
            ex.provenance[name] = where

    ex.adcode = from_site_id(ex.site_id_code)
    if ex.adcode:
        ex.provenance["adcode"] = "SiteIDCode"
    artifacts = len(_PINYIN_ARTIFACT.findall(text)) + len(_LOST_CHARS.findall(text))
    if artifacts >= 3:
        ex.quality = "mirror"
        ex.quality_reason = f"{artifacts} content-farm artifacts (字(pinyin), ??) in the text"
    elif decoded.replaced:
        ex.quality = "lossy"
        ex.quality_reason = (f"{decoded.replaced} undecodable byte sequence(s) in the page "
                             f"({decoded.encoding}), shown as �")

    verdict = classify_title(title or "")
    if not verdict.is_report:
        ex.reason = verdict.reason
        return ex
    if len(text) < MIN_REPORT_CHARS:
        ex.reason = f"report title but body has only {len(text)} characters"
        return ex
    year, src = report_year(title or "", text)
    if year is None and ex.written:
        year, src = int(ex.written[:4]) - 1, "written-1"
        ex.year_inferred = True
    ex.report_year = year
    ex.provenance["report_year"] = src
    ex.kind, ex.reason = "report", verdict.reason
    ex.content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ex
