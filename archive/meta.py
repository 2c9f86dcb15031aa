"""Page metadata: 《政府网站发展指引》 meta tags and the 政府信息公开 table.

Pure functions over a parsed lxml tree. Labels are matched after stripping padding, brackets and
both colon forms ("索 引 号：", "[ 发布机构 ]").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

from archive.patterns import RE
from archive.script import to_simplified

# Canonical field ← label spellings seen on portals.
LABELS: dict[str, str] = {
    "索引号": "index_no", "索取号": "index_no", "信息索引": "index_no",
    "文号": "doc_no", "发文字号": "doc_no", "发文文号": "doc_no", "文件编号": "doc_no",
    "发布机构": "publisher", "发文机关": "publisher", "发文机构": "publisher",
    "发布单位": "publisher", "发文单位": "publisher",
    "信息来源": "source_line", "来源": "source_line",
    "成文日期": "written", "成文时间": "written",
    "发布日期": "published", "发布时间": "published", "公开日期": "published",
    "日期": "date_line", "时间": "date_line",
}
# Traditional spellings of the labels (繁体 pages, Big5 gateways): matched directly, so that
# the page's text chunks never need converting just to find the labels.
_VARIANTS = {"发": "發", "机": "機", "构": "構", "关": "關", "号": "號", "时": "時", "间": "間",
             "来": "來", "开": "開", "单": "單", "位": "位", "布": "佈"}


def _traditional_forms(label: str) -> set[str]:
    forms = {label, "".join(_VARIANTS.get(c, c) for c in label)}
    if "布" in label:  # 發布 and 發佈 both occur
        forms.add("".join(_VARIANTS.get(c, c) for c in label).replace("佈", "布"))
    return forms


LABELS.update({form: field for label, field in list(LABELS.items())
               for form in _traditional_forms(label)})
# Labels of the same tables whose values we do not keep: they end the value of the label before
# them (an empty 文号 cell must not read the next cell's "有效性").
OTHER_LABELS = frozenset("""
    主题分类 体裁分类 组配分类 信息分类 服务对象 信息类别 所属主题 主题词 关键词 有效性 效力状态
    备注 公开方式 公开范围 公开时限 公开形式 生成日期 实施日期 废止日期 内容概述 标题 名称 分类
    浏览次数 阅读次数 访问量 访问次数 点击量 点击数 阅读量 作者 字号 字体 责任编辑 编辑
""".split())  # noqa: SIM905 (a word list reads better as text)
_LABEL_CELL = re.compile(r"^[\[【［]?\s*(.+?)\s*[\]】］]?\s*[:：]?$")


def is_label(text: str) -> bool:
    """Whether a table cell or text chunk is only a 信息公开 label ("索 引 号：", "[ 备注 ]")."""
    m = _LABEL_CELL.match(text.strip(" \u3000\xa0"))
    if not m:
        return False
    word = RE[r"[\s\u3000\xa0]+"].sub("", m.group(1))
    return word in LABELS or word in OTHER_LABELS or to_simplified(word) in OTHER_LABELS

# A label with any padding between its characters ("发 布 机 构", "文　　号"), maybe bracketed.
# The lookahead only says what a match can start with (a bracket, padding or a label's first
# character): the matches are the same, but the ~60 alternatives are tried only there.
_LABEL = re.compile(
    r"(?=[\[【［\s\u3000\xa0" + "".join(sorted({re.escape(k[0]) for k in LABELS})) + "])"
    r"[\[【［]?[\s\u3000\xa0]*("
    + "|".join(r"[\s\u3000\xa0]*".join(map(re.escape, k))
               for k in sorted(LABELS, key=len, reverse=True))
    + r")[\s\u3000\xa0]*[\]】］]?[\s\u3000\xa0]*([:：])?"
)
_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_SKIP_TAGS = {"script", "style", "noscript", "template"}


@dataclass(frozen=True, slots=True)
class PageMeta:
    tags: dict[str, str]       # <meta name=…> by lower-case name
    fields: dict[str, str]     # labelled values from the page, first occurrence wins
    html_title: str
    headings: list[str]


def parse_date(value: str | None) -> str | None:
    """YYYY-MM-DD from '2023-03-22 10:00', '2023年3月22日', '2023/3/22'; None when absent."""
    if not value:
        return None
    m = _DATE.search(value)
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


# Text nodes in document order, without script/style content: one C-level XPath pass.
# Only short text nodes: labels and their values are short; report paragraphs are skipped in C.
_TEXT_NODES = etree.XPath(
    "//text()[string-length(.) < 160]"
    "[not(parent::script or parent::style or parent::noscript or parent::template)]",
    smart_strings=False)  # plain str: no per-node back-reference objects (~40 % of this pass)
_SEP = "\x00"  # joins chunks for one regex pass; never whitespace, never in a label


def _text_chunks(root: lxml_html.HtmlElement) -> list[str]:
    return [s for t in _TEXT_NODES(root) if (s := t.strip())]


def _labels_by_chunk(chunks: list[str]) -> dict[int, list[tuple[str, int, int]]]:
    """(field, start, end) of the labels in each chunk: at its start, or anywhere with a colon.

    One regex pass over all chunks joined, instead of one pass per chunk.
    """
    joined = _SEP.join(chunks)
    starts, pos = [], 0
    for chunk in chunks:
        starts.append(pos)
        pos += len(chunk) + 1
    found: dict[int, list[tuple[str, int, int]]] = {}
    for m in _LABEL.finditer(joined):
        if _SEP in m.group(0):
            continue
        i = bisect_right(starts, m.start()) - 1
        begin, finish = m.start() - starts[i], m.end() - starts[i]
        at_start = not chunks[i][:begin].strip(" \u3000\xa0|[【［")
        if m.group(2) or at_start:
            label = RE[r"[\s\u3000\xa0]+"].sub("", m.group(1))
            found.setdefault(i, []).append((LABELS[label], begin, finish))
    return found


_OTHER_LABEL_START = re.compile(
    r"^[\[【［]?[\s\u3000\xa0]*(?:"
    + "|".join(r"[\s\u3000\xa0]*".join(map(re.escape, k)) for k in sorted(OTHER_LABELS))
    + r")[\s\u3000\xa0]*[\]】］]?[\s\u3000\xa0]*[:：]"
)
# Candidate label rows: two or more cells, none longer than a label (checked in C, so layout
# tables with whole pages in their cells cost nothing).
_LABEL_ROWS = etree.XPath(
    "//tr[count(td|th) >= 2][not((td|th)[string-length(normalize-space(.)) > 12])]")


def _cell_text(cell: etree._Element) -> str:
    return " ".join(cell.text_content().split())


def grid_fields(root: lxml_html.HtmlElement) -> dict[str, str]:
    """Values of 信息公开 tables laid out as a row of labels over a row of values (索取号 |
    发布时间 | 发布机构 | 文件编号 | 备注), matched by column; empty cells give nothing."""
    fields: dict[str, str] = {}
    for row in _LABEL_ROWS(root):
        labels = [_cell_text(c) for c in row if c.tag in ("td", "th")]
        if len([t for t in labels if t]) < 2 or not all(is_label(t) for t in labels if t):
            continue
        table = next(row.iterancestors("table"), None)
        below = next((r for r in row.itersiblings("tr")), None)
        if below is None and row.getparent() is not None and row.getparent().tag == "thead":
            body = next(row.getparent().itersiblings("tbody"), row.getparent().getnext())
            below = body.find("tr") if body is not None and body.tag != "tr" else body
        if below is None or next(below.iterancestors("table"), None) is not table:
            continue
        values = [_cell_text(c) for c in below if c.tag in ("td", "th")]
        if len(values) != len(labels) or any(is_label(v) for v in values if v):
            continue
        for label, value in zip(labels, values, strict=True):
            word = RE[r"[\s\u3000\xa0\[\]【】［］:：]+"].sub("", label)
            field = LABELS.get(word)
            if not field or not value or field in fields:
                continue
            if field in ("written", "published", "date_line") and not parse_date(value):
                continue
            fields[field] = to_simplified(value)
    return fields


def labelled_fields(root: lxml_html.HtmlElement,
                    chunks: list[str] | None = None) -> dict[str, str]:
    """Values of 信息公开-table labels: after the label in the same text, or in the next chunk;
    a row of labels over a row of values is read by column first.

    Several labels may share one line ("发布时间：2023-03-30 来源：漳州高新区 阅读次数：12").
    """
    chunks = _text_chunks(root) if chunks is None else chunks
    by_chunk = _labels_by_chunk(chunks)
    fields: dict[str, str] = grid_fields(root)
    for i in sorted(by_chunk):
        chunk, labels = chunks[i], by_chunk[i]
        for n, (field, _, end) in enumerate(labels):
            stop = labels[n + 1][1] if n + 1 < len(labels) else len(chunk)
            rest = chunk[end:stop].strip()
            if not rest and n + 1 == len(labels) and i + 1 < len(chunks):
                nxt = by_chunk.get(i + 1)
                following = chunks[i + 1]
                empty_cell = ((nxt and nxt[0][1] == 0) or is_label(following)
                              or _OTHER_LABEL_START.match(following))
                rest = "" if empty_cell else following
            rest = RE[r"\s{2,}|\s(?=(?:浏览次数|阅读次数|作者|字号|【)[:：]?)"].split(rest)[0]
            rest = rest.strip(" \u3000\xa0[]【】［］:：|")
            if field in ("written", "published", "date_line") and not parse_date(rest):
                continue
            if rest and field not in fields:
                fields[field] = to_simplified(rest)
    return fields


def read_meta(root: lxml_html.HtmlElement) -> PageMeta:
    tags: dict[str, str] = {}
    for el in root.iter("meta"):
        name = (el.get("name") or el.get("property") or "").strip().lower()
        content = (el.get("content") or "").strip()
        if name and content and name not in tags:
            tags[name] = content
    title_el = root.find(".//title")
    html_title = " ".join(title_el.text_content().split()) if title_el is not None else ""
    headings = [
        " ".join(h.text_content().split())
        for h in root.iter("h1", "h2", "h3")
        if h.text_content().strip()
    ]
    chunks = _text_chunks(root)
    fields = labelled_fields(root, chunks)
    near = title_date(chunks, [html_title, *headings])
    if near:
        fields["title_date"] = near
    return PageMeta(tags, fields, html_title, headings)


# A date shown alone (maybe with a time) in the lines under the article heading:
# "2023-12-01 14:43", "2020年02月18日 09:15".  "2023年10月11日 星期三" is a clock, not a date line.
_BARE_DATE = re.compile(
    r"^((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)"
    r"(?:\s*\d{1,2}\s*[:：时]\s*\d{2}\s*分?(?:\s*[:：]\s*\d{2}\s*秒?)?)?$")


def title_date(chunks: list[str], titles: list[str]) -> str | None:
    """The first bare date within four text chunks after a chunk of the heading or <title>."""
    wanted = [t for t in titles if t]
    for i, chunk in enumerate(chunks):
        m = _BARE_DATE.match(chunk)
        if not m:
            continue
        before = chunks[max(0, i - 4):i]
        if any(len(c) >= 6 and any(c in t for t in wanted) for c in before):
            return m.group(1)
    return None
