"""OFD (GB/T 33190 版式文档), read as what it is: a zip of XML, no OFD library.

OFD.xml names the document root (DocBody/DocRoot); its Document.xml lists the pages (Page
BaseLoc) and the default page box; each page's Content.xml holds TextObjects whose TextCode
carries the characters and their X/Y inside the object's Boundary. Page templates (running
headers/footers, stamps) are separate files and are not read; positions go through the same
layout rebuilding as PDF text.
"""

from __future__ import annotations

import posixpath
import time

from lxml import etree

from archive.files.layout import Page, Run
from archive.files.limits import FileLimits, FileRejected
from archive.files.zipguard import SafeZip

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _xml(package: SafeZip, name: str) -> etree._Element:
    try:
        return etree.fromstring(package.read(name), parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise FileRejected(f"corrupt OFD: {name}: {exc}") from None


def _local(el: etree._Element, name: str) -> list[etree._Element]:
    return el.xpath(f".//*[local-name()='{name}']")


def _text(el: etree._Element, name: str) -> str | None:
    found = _local(el, name)
    return (found[0].text or "").strip() if found else None


def _box(value: str | None) -> tuple[float, float, float, float] | None:
    try:
        x, y, w, h = (float(v) for v in (value or "").split()[:4])
    except ValueError:
        return None
    return x, y, w, h


def _deltas(value: str | None) -> list[float]:
    """DeltaX, with its "g N d" shorthand for N equal steps."""
    tokens, out = (value or "").split(), []
    i = 0
    try:
        while i < len(tokens):
            if tokens[i] == "g":
                out += [float(tokens[i + 2])] * int(tokens[i + 1])
                i += 3
            else:
                out.append(float(tokens[i]))
                i += 1
    except (IndexError, ValueError):
        return []
    return out


def _resolve(base: str, loc: str) -> str:
    loc = loc.strip()
    if loc.startswith("/"):
        return loc.lstrip("/")
    return posixpath.normpath(posixpath.join(base, loc))


def ofd_pages(body: bytes, limits: FileLimits, deadline: float) -> list[Page]:
    package = SafeZip(body, limits, "OFD")
    entry = next((n for n in package.names if n.lower() == "ofd.xml"), "OFD.xml")
    root_loc = _text(_xml(package, entry), "DocRoot")
    if not root_loc:
        raise FileRejected("corrupt OFD: OFD.xml names no DocRoot")
    doc_name = _resolve("", root_loc)
    document = _xml(package, doc_name)
    doc_dir = posixpath.dirname(doc_name)
    default_box = _box(_text(document, "PhysicalBox")) or (0, 0, 210, 297)
    pages_el = [p for p in _local(document, "Page") if p.get("BaseLoc")]
    if not pages_el:
        raise FileRejected("OFD has no pages")
    if len(pages_el) > limits.max_pages:
        raise FileRejected(f"OFD has {len(pages_el)} pages (limit {limits.max_pages})")
    pages = []
    for n, page_el in enumerate(pages_el, 1):
        if time.monotonic() > deadline:
            raise FileRejected(f"OFD extraction took longer than {limits.seconds:g} s "
                               f"(stopped at page {n} of {len(pages_el)})")
        content = _xml(package, _resolve(doc_dir, page_el.get("BaseLoc", "")))
        box = _box(_text(content, "PhysicalBox")) or default_box
        runs = []
        for obj in _local(content, "TextObject"):
            bx, by, _, _ = _box(obj.get("Boundary")) or (0.0, 0.0, 0.0, 0.0)
            size = float(obj.get("Size") or 3.5)
            for code in _local(obj, "TextCode"):
                text = "".join(code.itertext())
                if not text.strip():
                    continue
                x = bx + float(code.get("X") or 0)
                y = by + float(code.get("Y") or 0)  # the baseline
                deltas = _deltas(code.get("DeltaX"))
                width = sum(deltas) + size if deltas else len(text) * size
                runs.append(Run(x, y - size * 0.88, x + width, y + size * 0.12, text))
        pages.append(Page(box[2], box[3], runs))
    return pages
