"""Is this page a 法治政府建设 annual report, and which year does it report on?

Titles decide (domain.md lists the positive shapes and the negatives that share their words);
the year comes from the title, else the body's opening, never from the publish date alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.patterns import RE

# The topic: rule-of-law government building (older reports say 依法行政).
_TOPIC = re.compile(r"法治政府|法治建设|依法行政|法治.{0,4}建设")
# The genre: a report on the year, a summary of work, or "…工作情况".
_GENRE = re.compile(r"报告|工作情况|建设情况|工作总结|年度总结|总结$")
# Same words, different documents: any hit excludes the page. Words that also occur in the names
# of issuers (规划和自然资源局, 考核办, 国防动员办公室, 培训中心…) are looked for only in
# the title's kind (`title_kind`, the title without its issuer's name); words that never name an
# issuer (解读, 印发, 召开…) anywhere in the title, since they may come before the topic.
_NEGATIVES: tuple[tuple[str, re.Pattern[str] | None, re.Pattern[str] | None], ...] = (
    # (label, anywhere in the title, only in the kind)
    ("政府信息公开年度报告", re.compile(r"信息公开"), None),
    ("解读/图解", re.compile(r"解读|图解|一图读懂|问答"), None),
    ("实施方案/规划", re.compile(r"实施方案|工作方案|纲要|实施意见"), re.compile(r"规划")),
    ("工作要点/计划", re.compile(r"任务分工"), re.compile(r"工作要点|工作计划|要点")),
    ("示范创建/指标", re.compile(r"示范创建|示范地区|示范项目|指标体系"), re.compile(r"创建")),
    ("考核/通报", re.compile(r"通报|测评|评估结果"), re.compile(r"考核|督察")),
    ("白皮书", re.compile(r"白皮书"), None),
    ("通知/印发", re.compile(r"通知|印发|转发|公示|公告"), None),
    ("会议/新闻", re.compile(r"会议|推进会|座谈|召开|部署|述法"), re.compile(r"培训|调研|动员")),
)
# Leading tags such as 【法治建设报告】 or 【政策解读】 say what the page is: part of the kind.
_TAGS = re.compile(r"^(?:【[^】]*】|\[[^\]]*\])+")
# "…工作总结和2024年工作计划", "…情况报告及下一步工作打算": a report that also announces next
# year's plan is a report; the plan clause after the report genre is not the document's kind.
_NEXT_PLAN = re.compile(
    r"(?<=报告|总结|情况)(?:和|及|暨|与|以及)(?:(?:19|20)\d{2}年度?|下一?步|下一?年度?|明年|今后)?"
    r"(?:的)?(?:主要)?(?:工作)?(?:计划|打算|安排|思路|要点|重点)$")


def title_kind(title: str) -> str:
    """The part of a title that says what the document is: its leading tags (【政策解读】), then
    everything from the topic (法治政府建设…) on, minus a trailing next-year-plan clause. The issuer
    and year before the topic ("泾县自然资源和规划局2023年…") are left out."""
    t = RE[r"\s+"].sub("", title or "")
    m = _TAGS.match(t)
    tags, rest = (m.group(0), t[m.end():]) if m else ("", t)
    topic = _TOPIC.search(rest)
    kind = rest[topic.start():] if topic else rest
    return tags + _NEXT_PLAN.sub("", kind)


# A year, but not the end of a range such as 2021—2025年.
_YEAR = re.compile(r"(?<![\d—\-－~～至到])((?:19|20)\d{2})\s*年")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_YEAR = re.compile(r"([二〇○零一三四五六七八九]{4})年")
_OPENING_YEAR = _YEAR


@dataclass(frozen=True, slots=True)
class Verdict:
    is_report: bool
    reason: str


def classify_title(title: str) -> Verdict:
    """Whether a (simplified) title names a 法治政府建设 annual report."""
    t = RE[r"\s+"].sub("", title or "")
    if not t:
        return Verdict(False, "no title")
    if not _TOPIC.search(t):
        return Verdict(False, "title not about 法治政府建设")
    kind = title_kind(t)
    for label, anywhere, in_kind in _NEGATIVES:
        if (anywhere and anywhere.search(t)) or (in_kind and in_kind.search(kind)):
            return Verdict(False, f"title is a {label}, not a report")
    if not _GENRE.search(t):
        return Verdict(False, "title names no report or summary")
    return Verdict(True, "report title")


def looks_like_candidate(anchor_text: str) -> bool:
    """Loose test for listing links worth fetching (anchor text may be truncated with …)."""
    t = RE[r"\s+"].sub("", anchor_text or "")
    return bool(RE[r"法治|依法行政|法制"].search(t))


def _cn_year(s: str) -> int:
    return int("".join(str(_CN_DIGITS[c]) for c in s))


def year_in_title(title: str) -> int | None:
    """The year a title reports on: `2023年`, `2023年度`, `二〇二三年`."""
    t = RE[r"\s+"].sub("", title or "")
    m = _YEAR.search(t)
    if m:
        return int(m.group(1))
    m = _CN_YEAR.search(t)
    return _cn_year(m.group(1)) if m else None


def year_in_opening(text: str, chars: int = 300) -> int | None:
    """The first `YYYY年` in the body's opening ("2024年，高新区坚持…"), skipping ranges."""
    m = _OPENING_YEAR.search(text[:chars])
    return int(m.group(1)) if m else None


def report_year(title: str, text: str) -> tuple[int | None, str]:
    """(year, where it came from): title first, then the body's opening."""
    y = year_in_title(title)
    if y:
        return y, "title"
    y = year_in_opening(text)
    if y:
        return y, "body"
    return None, "unknown"
