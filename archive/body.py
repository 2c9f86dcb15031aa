"""Find the article body of a gov-portal page and split it into paragraphs.

Known CMS containers first (TRS_Editor, Hanweb #zoom, …); else descend from <body> into the
child that holds most of the page's non-link text. Paragraphs are split at block elements *and*
<br>, so a body laid out with <br> in a table cell, or pasted from Word (MsoNormal spans, <o:p>),
gives the same lines as one laid out with <p>. Pure functions over an lxml tree.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

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


def _own_text_len(el: etree._Element) -> int:
    """Characters of CJK text in an element, not counting link text (navigation)."""
    total = 0
    for node in el.iter():
        if not isinstance(node.tag, str) or node.tag in _DROP:
            continue
        if node.tag != "a" and node.text:
            in_link = any(a.tag == "a" for a in node.iterancestors())
            if not in_link:
                total += len(_CJK.findall(node.text))
        if node.tail and not (node.getparent() is not None and node.getparent().tag == "a"):
            total += len(_CJK.findall(node.tail))
    return total


def find_container(root: lxml_html.HtmlElement) -> tuple[etree._Element | None, str]:
    """The element holding the article body, and how it was found."""
    for xpath in CONTAINERS:
        for el in root.xpath(xpath):
            # text_content() runs in C; link text is no concern inside a known article container
            if len(_CJK.findall(el.text_content())) >= MIN_CONTAINER_CHARS:
                return el, f"container:{xpath.split('[')[-1].rstrip(']')}"
    body = root.find("body")
    if body is None:
        return None, "none"
    current, size = body, _own_text_len(body)
    if size < MIN_CONTAINER_CHARS:
        return None, "none"
    while True:
        children = [c for c in current if isinstance(c.tag, str) and c.tag not in _DROP]
        if not children:
            break
        sizes = [(_own_text_len(c), c) for c in children]
        best_size, best = max(sizes, key=lambda s: s[0])
        if best_size < 0.8 * size:
            break
        current, size = best, best_size
    return current, "densest"


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
