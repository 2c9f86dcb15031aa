"""Find the article body of a gov-portal page and split it into paragraphs.

Known CMS containers first (TRS_Editor, Hanweb #zoom, …); else descend from <body> into the
child that holds most of the page's non-link text. Paragraphs are split at block elements *and*
<br>, so a body laid out with <br> in a table cell, or pasted from Word (MsoNormal spans, <o:p>),
gives the same lines as one laid out with <p>. Pure functions over an lxml tree.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cssselect import SelectorError
from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from archive.meta import is_label

# Article containers of the CMS families seen on portals, most specific first.
CONTAINERS = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//*[@id='zoom']",
    "//*[@id='UCAP-CONTENT']",
    "//*[@class='pages_content']",
    "//div[contains(@class, 'article-content')]",
    "//div[@id='Zoom' or @id='fontzoom' or @id='vsb_content']",
    "//div[contains(@class, 'TRS_UEDITOR')]",
)
_DROP = {"script", "style", "noscript", "iframe", "button", "select", "option", "input",
         "textarea", "form", "nav", "header", "footer", "svg", "object", "embed", "template"}
_BLOCK = {"p", "div", "li", "ul", "ol", "tr", "table", "tbody", "thead", "h1", "h2", "h3", "h4",
          "h5", "h6", "section", "article", "blockquote", "center", "dl", "dt", "dd", "pre",
          "address", "aside", "main", "figure", "figcaption", "hr", "caption"}
_CELL = {"td", "th"}
_WS = re.compile(r"[ \t\r\n\f\v\u3000\xa0\u2002\u2003\u2009\u200b\ufeff]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
MIN_CONTAINER_CHARS = 200
# "holds at least MIN_CONTAINER_CHARS CJK characters", decided in C and stopping at the 200th
_ENOUGH_CJK = re.compile(rf"(?:[^\u3400-\u9fff]*+[\u3400-\u9fff]){{{MIN_CONTAINER_CHARS}}}")


# Text outside links, scripts and styles: what a reader sees as prose, not navigation.
_PROSE = etree.XPath(
    ".//text()[not(ancestor::a or ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template or ancestor::select or ancestor::button)]",
    smart_strings=False)
LONG_RUN = 10  # CJK characters: menu items, buttons and footer bits are shorter than a sentence
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# Evaluated on <body>; the descendant axis with a cheap @style test first is ~3× faster in
# libxml2 than //body//*[contains(…)].
_HIDDEN = etree.XPath("descendant::*[@hidden or (@style and (contains(@style, 'none')"
                      " or contains(@style, 'idden')))]")


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)


def _hiding_selectors(css: str) -> list[str]:
    """Selectors of the top-level rules that say display:none; rules inside @media/@supports
    blocks hold only on some screens and are skipped.  Found from each display:none outwards,
    so a large stylesheet costs a few C-level string searches, not a parse."""
    out = []
    for m in _DISPLAY_NONE.finditer(css):
        start = css.rfind("{", 0, m.start())
        if start < 0 or css.rfind("}", 0, m.start()) > start:
            continue  # not inside a declaration block
        if css.count("{", 0, start) != css.count("}", 0, start):
            continue  # nested in an at-rule
        begin = max(css.rfind("}", 0, start), css.rfind(";", 0, start)) + 1
        selectors = css[begin:start]
        if "@" not in selectors:
            out.append(selectors)
    return out


_SIMPLE_SELECTOR = re.compile(r"^[\w#.\s>-]+$")  # tags, classes, ids and descendants only
_STYLE_TEXT = etree.XPath("descendant::style/text()", smart_strings=False)


@lru_cache(maxsize=512)
def _selector(text: str) -> CSSSelector | None:
    try:
        return CSSSelector(text)
    except (SelectorError, SyntaxError, ValueError):
        return None


def _hidden_by_stylesheet(root: lxml_html.HtmlElement) -> list[etree._Element]:
    """Elements the page's own <style> blocks hide with display:none (top-level rules)."""
    found: list[etree._Element] = []
    for css in _STYLE_TEXT(root):
        if "none" not in css:
            continue
        if "/*" in css:
            css = _CSS_COMMENT.sub("", css)
        for selectors in _hiding_selectors(css):
            for text in selectors.split(","):
                text = text.strip()
                if not text or not _SIMPLE_SELECTOR.match(text) or text in ("html", "body"):
                    continue
                sel = _selector(text)
                if sel is not None:
                    found.extend(el for el in sel(root) if el.tag not in ("html", "body"))
    return found


def drop_hidden(root: lxml_html.HtmlElement) -> str | None:
    """Remove what a reader does not see: elements hidden by inline style, by the hidden
    attribute or by a display:none rule of the page's own <style> (share blurbs, print copies,
    popups, QR-code captions); their tails stay.  Left alone when they hold most of the page's
    text (a page revealed by script).  Returns what was done, for the record, or None."""
    body = root.find("body")
    if body is None:
        return None
    hidden = [el for el in _HIDDEN(body)
              if el.get("hidden") is not None or _HIDDEN_STYLE.search(el.get("style") or "")]
    hidden += _hidden_by_stylesheet(root)
    if not hidden:
        return None
    marked = set(hidden)
    hidden = [el for el in dict.fromkeys(hidden)  # outermost only, each once
              if not any(a in marked for a in el.iterancestors())]
    inside = sum(len(_CJK.findall(el.text_content())) for el in hidden)
    # Only a hidden part of some size can be most of a page worth extracting.
    total = len(_CJK.findall(body.text_content())) if inside >= 100 else 0
    if total and inside > 0.5 * total:
        return f"kept {len(hidden)} hidden elements: {100 * inside // total} % of the text"
    for el in hidden:
        if el.getparent() is not None:
            el.drop_tree()
    return f"left out {len(hidden)} hidden elements ({inside} CJK characters)"


_PROSE_NODES = etree.XPath(
    ".//text()[not(ancestor::a or ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template or ancestor::select or ancestor::button)]")


def _sizes(top: etree._Element) -> tuple[dict[etree._Element, int], dict[etree._Element, int]]:
    """CJK characters of prose (text outside links) under each element of `top`, all of it and
    only the runs of ≥ LONG_RUN characters.  One pass: each text node is counted once."""
    total: dict[etree._Element, int] = {}
    weighted: dict[etree._Element, int] = {}
    for text in _PROSE_NODES(top):
        n = len(_CJK.findall(text))
        if not n:
            continue
        el = text.getparent()
        if text.is_tail:
            el = el.getparent()
        long = n >= LONG_RUN
        while el is not None:
            total[el] = total.get(el, 0) + n
            if long:
                weighted[el] = weighted.get(el, 0) + n
            if el is top:
                break
            el = el.getparent()
    return total, weighted


def _long_runs(el: etree._Element) -> list[str]:
    return [t.strip() for t in _PROSE(el) if len(_CJK.findall(t)) >= LONG_RUN]


def _same_copy(a: list[str], b: list[str]) -> bool:
    """Two blocks carrying mostly the same long runs: a page's second copy of its article."""
    if not a or not b:
        return False
    shared = len(set(a) & set(b))
    return shared >= 0.6 * min(len(set(a)), len(set(b)))


def find_container(root: lxml_html.HtmlElement) -> tuple[etree._Element | None, str]:
    """The element holding the article body, and how it was found.

    Known CMS containers first.  Else descend from <body> while one child holds ≥ 80 % of the
    prose in long runs (so menus, department lists and footers made of short items weigh
    nothing); when the two largest children carry the same runs (a second copy of the article
    for printing or an elder-care mode), the first copy is taken.
    """
    for xpath in CONTAINERS:
        for el in root.xpath(xpath):
            # text_content() runs in C; link text is no concern inside a known article container
            if _ENOUGH_CJK.match(el.text_content()):
                return el, f"container:{xpath.split('[')[-1].rstrip(']')}"
    body = root.find("body")
    if body is None:
        return None, "none"
    totals, weights = _sizes(body)
    if totals.get(body, 0) < MIN_CONTAINER_CHARS:
        return None, "none"
    size = weights.get(body, 0)
    if size < 0.5 * MIN_CONTAINER_CHARS:
        return body, "densest"  # no long runs at all (text chopped into spans): keep the page
    current, how = body, "densest"
    while True:
        children = [c for c in current if isinstance(c.tag, str) and c.tag not in _DROP]
        if not children:
            break
        ranked = sorted(children, key=lambda c: weights.get(c, 0), reverse=True)
        best = ranked[0]
        best_size = weights.get(best, 0)
        if best_size >= 0.8 * size and best_size >= 0.5 * MIN_CONTAINER_CHARS:
            current, size = best, best_size
            continue
        if len(ranked) > 1:
            second = ranked[1]
            second_size = weights.get(second, 0)
            if (best_size + second_size >= 0.8 * size and second_size >= 0.5 * best_size
                    and _same_copy(_long_runs(best), _long_runs(second))):
                first = best if children.index(best) < children.index(second) else second
                current, size = first, weights.get(first, 0)
                how = "densest:first-copy"
                continue
        break
    return current, how


_SHORT_CELLS = etree.XPath(".//*[self::td or self::th][string-length(normalize-space(.)) <= 12]")


def is_meta_table(table: etree._Element) -> bool:
    """A 信息公开 table (two or more cells that are only labels): metadata, never body text."""
    labels = 0
    for cell in _SHORT_CELLS(table):
        labels += is_label(" ".join(cell.text_content().split()))
        if labels >= 2:
            return True
    return False


def _lines(el: etree._Element, out: list[str], buf: list[str]) -> None:
    def flush() -> None:
        line = _WS.sub(" ", "".join(buf)).strip()
        if line:
            out.append(line)
        buf.clear()

    tag = el.tag if isinstance(el.tag, str) else ""
    local = tag.rsplit(":", 1)[-1].lower() if tag else ""
    if local in _DROP or (not tag and not isinstance(el, etree._Comment)):
        pass
    elif local == "table" and is_meta_table(el):
        flush()  # read by archive.meta; as body lines its labels would open the text
    elif tag:
        block = local in _BLOCK
        if block:
            flush()
        if local == "br":
            flush()
        elif el.text:
            buf.append(el.text)
        for child in el:
            _lines(child, out, buf)
        if local in _CELL:
            buf.append(" ")
        if block:
            flush()
    if el.tail:
        buf.append(el.tail)


_LINKY = etree.XPath(".//*[self::ul or self::ol or self::dl or self::div or self::table or self::p"
                     " or self::td or self::li][count(.//a) >= 5]")
LINK_SHARE = 0.8


def drop_link_lists(container: etree._Element) -> int:
    """Remove blocks of five or more links that are mostly link text (menus, department and
    friend-site lists) from a container found by text density; an article's own links (附件,
    a cited document) are few or sit in sentences.  Returns how many were removed."""
    dropped: list[etree._Element] = []
    for el in _LINKY(container):
        if any(a in dropped for a in el.iterancestors()):
            continue
        text = len(_WS.sub("", el.text_content()))
        links = sum(len(_WS.sub("", a.text_content())) for a in el.iter("a"))
        if text and links >= LINK_SHARE * text:
            dropped.append(el)
    for el in dropped:
        el.drop_tree()
    return len(dropped)


def paragraphs(container: etree._Element) -> list[str]:
    """Lines of text in document order: one per block element or <br>-separated run."""
    out: list[str] = []
    buf: list[str] = [container.text or ""]
    for child in container:
        _lines(child, out, buf)
    line = _WS.sub(" ", "".join(buf)).strip()
    if line:
        out.append(line)
    return out
