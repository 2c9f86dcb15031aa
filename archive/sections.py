"""The five parts the 2019 督察工作规定 requires of a report, found by meaning.

A pure function of the report's clean text (one paragraph per line): `split_sections(text)` returns
`Section`s — spans of the text with the part they carry and the heading as written. Top-level
headings ("一、…", "第二部分 …", or a short unnumbered line naming a part) are read by their words,
not their order or number: "二、存在的问题和不足", "三、2024年工作打算", thematic headings
("一、强化组织领导…") count as measures. A part with no heading of its own is still found when
the text carries it: the principal leaders' duty as a subsection, item ("三是认真履行第一责任人
职责") or sentence of the measures; an unheaded "…但还存在一些差距和不足" paragraph after the
measures; an unheaded "下一步，…将…" paragraph at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from archive.patterns import RE

PARTS: tuple[str, ...] = ("measures", "shortcomings", "leaders", "plans", "other")
PART_NAMES: dict[str, str] = {
    "measures": "主要举措和成效",
    "shortcomings": "存在的不足和原因",
    "leaders": "党政主要负责人履行推进法治建设第一责任人职责情况",
    "plans": "下一年度主要安排",
    "other": "其他需要报告的情况",
    "preamble": "开头（报告对象、总述）",
}
SECTIONS_VERSION = "2"


@dataclass(frozen=True, slots=True)
class Section:
    part: str            # one of PARTS, or "preamble"
    heading: str | None  # as written; None when the part has no heading of its own
    start: int           # span in the text
    end: int
    how: str             # heading | subsection | item | sentence | paragraph

    def text_of(self, text: str) -> str:
        return text[self.start:self.end]


_CN_NUM = "一二三四五六七八九十"
# "一、" "二." "三 、" "第二部分" at the start of a block; "(一)" is a subsection.
_TOP = re.compile(rf"^[ \t\u3000]*(?:[{_CN_NUM}]{{1,3}}[ \t\u3000]*[、.．]|"
                  rf"第[{_CN_NUM}]{{1,3}}部分)")
_SUB = re.compile(rf"^[ \t\u3000]*(?:[(（][{_CN_NUM}]{{1,3}}[)）]|\d{{1,2}}[.、．](?!\d))")
_ITEM = re.compile(rf"[{_CN_NUM}]是")
# Where a single-line text breaks into paragraphs: a top-level marker or a sentence end
# followed by whitespace.
_INLINE_BREAK = re.compile(rf"(?<=[。；;：:！!？?])[ \t\u3000]+(?=\S)|"
                           rf"[ \t\u3000]+(?=[{_CN_NUM}]{{1,3}}、)|"
                           rf"(?<=[。：:；;])(?=[{_CN_NUM}]{{1,3}}、)|"
                           rf"[ \t\u3000]+(?=[(（][{_CN_NUM}]{{1,3}}[)）])")

_OTHER = re.compile(r"其他需要报告|其他需报告|其他事项|其他情况")
_LEADERS = re.compile(r"第一责任人|主要负责人|主要负责同志|主要领导|述法")
_SHORT = re.compile(r"存在|不足|短板|差距|薄弱|问题(?:和|与|及)?(?:原因|不足|困难|差距|挑战)|"
                    r"困难和问题|"
                    r"^[ \t\u3000]*(?:[一二三四五六七八九十]{1,3}[、.．])?\s*(?:主要)?问题")
_PLANS = re.compile(r"打算|安排|计划|思路|下一步|下一阶段|下步|今后|展望|努力方向|"
                    r"工作重点|重点工作|"
                    r"工作目标|目标任务|目标举措")
_MEASURES = re.compile(r"举措|成效|工作开展|主要工作|工作情况|主要做法|进展|成绩|开展情况|建设情况|"
                       r"推进情况|落实情况|完成情况")
_HEADING_MAX = 60  # a heading line is short; a longer line is a paragraph that starts with a marker

# Without a heading of their own:
_LEADERS_SENTENCE = re.compile(r"(?:党政主要负责人|主要负责同志|主要负责人|主要领导)[^。；;]{0,40}?"
                               r"(?:第一责任人|述法)|(?:履行|落实)[^。；;]{0,12}第一责任人")
_SHORT_PARA = re.compile(r"(?:但|然而)[^。]{0,30}(?:还|仍|依然|也)?存在[^。]{0,20}"
                         r"(?:不足|问题|差距|短板|薄弱)")
_PLANS_PARA = re.compile(r"^[ \t\u3000]*(?:下一步|下步|今后|新的一年|\d{4}年)[^。]{0,30}将")


@dataclass(slots=True)
class _Block:
    start: int
    end: int
    text: str


def _blocks(text: str) -> list[_Block]:
    """Paragraphs: lines, and lines cut where a single-line text starts a new paragraph."""
    out: list[_Block] = []
    pos = 0
    for line in text.split("\n"):
        cuts = [0] + [m.end() for m in _INLINE_BREAK.finditer(line)] + [len(line)]
        for a, b in pairwise(cuts):
            piece = line[a:b]
            if piece.strip():
                out.append(_Block(pos + a, pos + b, piece))
        pos += len(line) + 1
    return out


def _heading_text(block: str) -> str:
    """The heading of a block: the whole block if short, else its first sentence."""
    s = block.strip()
    if len(s) <= _HEADING_MAX:
        return s
    m = RE[r"[^。：:]{1,60}[。：:]?"].match(s)
    head = m.group() if m else s[:_HEADING_MAX]
    gap = re.compile(r"[ \t\u3000]+(?=\S)").search(head, 4)  # "…工作安排 2025年,管委会将…"
    return (head[:gap.start()] if gap else head).strip()


def classify_heading(heading: str) -> str:
    """The part a top-level heading names; thematic headings are measures."""
    h = heading
    if _OTHER.search(h):
        return "other"
    if _LEADERS.search(h):
        return "leaders"
    if _SHORT.search(h) and not _MEASURES.search(h.split("存在")[0] if "存在" in h else h):
        return "shortcomings"
    if _PLANS.search(h):
        return "plans"
    return "measures"


def _part_of_bare_line(block: str) -> str | None:
    """An unnumbered short line that is a part's heading ("存在的问题和不足", "下一步工作打算")."""
    s = block.strip().rstrip("：:")
    if len(s) > 24 or RE[r"[。，,；;]"].search(s):
        return None
    if _OTHER.search(s):
        return "other"
    if RE[r"履行.*第一责任人|第一责任人职责"].search(s):
        return "leaders"
    if RE[r"存在.{0,6}(?:问题|不足|困难)|问题和不足|不足和原因|困难和问题|问题和原因"].search(s):
        return "shortcomings"
    if RE[r"工作(?:打算|安排|计划|思路)|下一步"].search(s):
        return "plans"
    if RE[r"主要举措和成效|工作开展情况|主要工作及成效"].search(s):
        return "measures"
    return None


def split_sections(text: str) -> list[Section]:
    """The report's parts, in text order; subsections (leaders inside measures) overlap their
    parent."""
    blocks = _blocks(text)
    heads: list[tuple[int, str, str, str]] = []  # block index, part, heading, how
    # The highest heading level present is the top level: a short report may use only "（一）".
    top = _TOP if any(_TOP.match(b.text) for b in blocks) else _SUB
    for i, b in enumerate(blocks):
        if top.match(b.text):
            heading = _heading_text(b.text)
            heads.append((i, classify_heading(heading), heading, "heading"))
        else:
            part = _part_of_bare_line(b.text)
            if part:
                heads.append((i, part, b.text.strip(), "heading"))
    sections: list[Section] = []
    end_of_text = len(text)
    if heads and heads[0][0] > 0:
        sections.append(Section("preamble", None, blocks[0].start, blocks[heads[0][0]].start,
                                "paragraph"))
    for k, (i, part, heading, how) in enumerate(heads):
        end = blocks[heads[k + 1][0]].start if k + 1 < len(heads) else end_of_text
        sections.append(Section(part, heading, blocks[i].start, end, how))
    if not heads and blocks:
        sections.append(Section("measures", None, blocks[0].start, end_of_text, "paragraph"))
    sections = _unheaded(text, blocks, sections)
    return [s for s in sections if s.end > s.start]


def _unheaded(text: str, blocks: list[_Block], sections: list[Section]) -> list[Section]:
    """Find parts that have no heading of their own inside the measures (and preamble)."""
    have = {s.part for s in sections}
    measures = [s for s in sections if s.part == "measures"]
    if "shortcomings" not in have and measures:
        host = measures[-1]  # the shortcomings follow the measures
        # sentence by sentence: a single-line text may not break its paragraphs at all
        for m in RE[r"[^。\n]+。?"].finditer(text[host.start:host.end]):
            at = host.start + m.start()
            if m.start() > 0 and _SHORT_PARA.search(m.group()):  # never the heading itself
                at += len(m.group()) - len(m.group().lstrip())
                sections = _cut(sections, host, at, Section(
                    "shortcomings", None, at, host.end, "paragraph"))
                have.add("shortcomings")
                measures = [s for s in sections if s.part == "measures"]
                break
    if "plans" not in have and sections:
        last = sections[-1]
        for blk in blocks:
            if last.start < blk.start < last.end and _PLANS_PARA.match(blk.text) and \
                    blk.start > len(text) * 0.6:
                sections = _cut(sections, last, blk.start, Section(
                    "plans", None, blk.start, last.end, "paragraph"))
                have.add("plans")
                break
    if "leaders" not in have:
        found = _leaders_inside(text, blocks, [s for s in sections
                                               if s.part in ("measures", "preamble")])
        if found:
            sections.append(found)
            sections.sort(key=lambda s: (s.start, -s.end))
    return sections


def _cut(sections: list[Section], host: Section, at: int, new: Section) -> list[Section]:
    out = []
    for s in sections:
        if s is host:
            out.append(Section(s.part, s.heading, s.start, at, s.how))
            out.append(new)
        else:
            out.append(s)
    return out


def _leaders_inside(text: str, blocks: list[_Block], hosts: list[Section]) -> Section | None:
    """The leaders' duty as a subsection, an item or a sentence of the measures."""
    for host in hosts:
        inner = [b for b in blocks if host.start <= b.start < host.end]
        for n, b in enumerate(inner):
            if _SUB.match(b.text) and _LEADERS.search(_heading_text(b.text)):
                end = next((x.start for x in inner[n + 1:] if _SUB.match(x.text)), host.end)
                return Section("leaders", _heading_text(b.text), b.start, end, "subsection")
    for host in hosts:
        inner = [b for b in blocks if host.start <= b.start < host.end]
        for b in inner:
            for m in _ITEM.finditer(b.text):
                lead = RE[r"[^。：:]{0,40}[。：:]?"].match(b.text[m.start():])
                if lead and _LEADERS.search(lead.group()):
                    nxt = _ITEM.search(b.text, m.end())
                    end = b.start + (nxt.start() if nxt else len(b.text))
                    return Section("leaders", lead.group().strip(), b.start + m.start(), end,
                                   "item")
    for host in hosts:
        chunk = text[host.start:host.end]
        m = _LEADERS_SENTENCE.search(chunk)
        if m:
            s0 = max(chunk.rfind(p, 0, m.start()) for p in "。；;\n") + 1
            ends = [i for i in (chunk.find(p, m.end()) for p in "。；;\n") if i >= 0]
            s1 = min(ends) + 1 if ends else len(chunk)
            return Section("leaders", None, host.start + s0, host.start + s1, "sentence")
    return None


def parts_present(sections: list[Section]) -> dict[str, bool]:
    found = {s.part for s in sections}
    return {p: p in found for p in PARTS}


def part_at(sections: list[Section], position: int) -> str | None:
    """The innermost part containing a text offset (a leaders subsection wins over its measures)."""
    best: Section | None = None
    for s in sections:
        inside = s.start <= position < s.end
        if inside and (best is None or s.end - s.start < best.end - best.start):
            best = s
    return best.part if best else None
