"""Is this page a 法治政府建设 annual report, and which year does it report on?

Titles decide (domain.md lists the positive shapes and the negatives that share their words);
the year comes from the title, else the body's opening, never from the publish date alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The topic: rule-of-law government building (older reports say 依法行政).
_TOPIC = re.compile(r"法治政府|法治建设|依法行政|法治.{0,4}建设")
# The genre: a report on the year, a summary of work, or "…工作情况".
_GENRE = re.compile(r"报告|工作情况|建设情况|工作总结|年度总结|总结$")
# Same words, different documents (checked first; any hit excludes the page).
_NEGATIVES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("政府信息公开年度报告", re.compile(r"信息公开")),
    ("解读/图解", re.compile(r"解读|图解|一图读懂|问答")),
    ("实施方案/规划", re.compile(r"实施方案|工作方案|规划|纲要|实施意见")),
    ("工作要点/计划", re.compile(r"工作要点|工作计划|任务分工|要点")),
    ("示范创建/指标", re.compile(r"示范创建|示范地区|示范项目|指标体系|创建")),
    ("考核/通报", re.compile(r"考核|通报|督察|测评|评估结果")),
    ("白皮书", re.compile(r"白皮书")),
    ("通知/印发", re.compile(r"通知|印发|转发|公示|公告")),
    ("会议/新闻", re.compile(r"会议|推进会|座谈|召开|培训|调研|部署|动员|述法")),
)
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
    t = re.sub(r"\s+", "", title or "")
    if not t:
        return Verdict(False, "no title")
    if not _TOPIC.search(t):
        return Verdict(False, "title not about 法治政府建设")
    for label, pattern in _NEGATIVES:
        if pattern.search(t):
            return Verdict(False, f"title is a {label}, not a report")
    if not _GENRE.search(t):
        return Verdict(False, "title names no report or summary")
    return Verdict(True, "report title")


def looks_like_candidate(anchor_text: str) -> bool:
    """Loose test for listing links worth fetching (anchor text may be truncated with …)."""
    t = re.sub(r"\s+", "", anchor_text or "")
    return bool(re.search(r"法治|依法行政|法制", t))


def _cn_year(s: str) -> int:
    return int("".join(str(_CN_DIGITS[c]) for c in s))


def year_in_title(title: str) -> int | None:
    """The year a title reports on: `2023年`, `2023年度`, `二〇二三年`."""
    t = re.sub(r"\s+", "", title or "")
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
