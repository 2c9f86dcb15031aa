"""The labelled quality corpus: pages with their expected paragraphs and metadata, plus the noise
and keep lists from shared/domain.md that the benchmark and the corpus tests share.

Two label files, both written by tests/fixtures/quality/build_quality.py:
tests/fixtures/quality/labels.json (the seeds in several portal templates, and mirror pages) and
tests/fixtures/quality/portal_labels.json (the sample portal's reports).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.portal import PORTAL_ROOT as PORTAL  # built from the seeds on first use

REPO = Path(__file__).resolve().parents[1]
QUALITY = REPO / "tests" / "fixtures" / "quality"

FIELDS = (
    "title", "published", "written", "publisher", "index_no", "doc_no", "site_id_code", "icp",
    "report_year",
)  # fmt: skip

# Chrome that must not survive cleaning (shared/domain.md "Noise (strip)"), as label → pattern.
# Patterns run on single output lines after norm(), with expected paragraphs masked out first.
NOISE: dict[str, re.Pattern[str]] = {
    label: re.compile(pattern)
    for label, pattern in {
        "扫一扫在手机打开当前页": r"扫一扫",
        "字体：/字号：": r"字\s?[体号]\s?[:：]",
        "打印本页": r"打印本页",
        "【打印】": r"【\s?打印\s?】",
        "关闭窗口": r"关闭窗口",
        "【关闭】": r"【\s?关闭\s?】",
        "分享到：/分享到 微信": r"分享到\s?(?:[:：]|微信|微博|QQ)",
        "QQ空间": r"QQ空间",
        "浏览次数": r"浏览次数",
        "阅读次数": r"阅读次数",
        "您当前的位置": r"您当前的位置",
        "当前位置：": r"当前位置\s?[:：]",
        "上一篇": r"上一篇",
        "下一篇": r"下一篇",
        "相关链接": r"相关链接",
        "相关阅读/相关推荐": r"相关(?:阅读|推荐)",
        "热点新闻": r"热点新闻",
        "无障碍": r"无障碍",
        "长者模式": r"长者模式",
        "关怀版": r"关怀版",
        "繁体/简体": r"^(?:繁体|简体)(?:版)?$|繁体\s?[|｜]?\s?简体",
        "视窗区/导航区/…": r"视窗区|导航区|交互区|列表区|正文区",
        "读屏专用": r"读屏专用",
        "声音开关": r"声音开关",
        "主办：": r"主办(?:单位)?\s?[:：]",
        "承办：": r"承办(?:单位)?\s?[:：]",
        "版权所有": r"版权所有",
        "技术支持": r"技术支持",
        "网站地图": r"网站地图",
        "联系我们": r"联系我们",
        "地址：": r"地址\s?[:：]",
        "电话：": r"电话\s?[:：]",
        "网站标识码": r"网站标识码",
        "ICP备": r"ICP备",
        "公网安备": r"公网安备",
        "imgConac": r"imgConac",
        ".share(": r"\.share\(",
        "document.write": r"document\.write",
        "css rule {…}": r"\{[^{}]*:[^{}]*\}",
        "标签：": r"标签\s?[:：]",
        "关注我们": r"关注我们",
        "招标/业主": r"^(?:招标|业主|关注)$",
        "人觉得有用": r"人觉得有用",
        "返回首页/登录/收藏": r"^(?:返回首页|登录|收藏)$",
        "最近搜索/热门搜索": r"最近搜索|热门搜索",
    }.items()
}

# Body text that looks like noise and must be kept (shared/domain.md "near-noise (keep)").  Each is
# a pattern over one expected paragraph, except "signature + date" (a short signer line followed by
# a date line), which the corpus tests check on paragraph pairs.
KEEP_CASES: dict[str, re.Pattern[str]] = {
    "规范性文件备案审查": re.compile(r"规范性文件备案审查"),
    "分享到了…成果": re.compile(r"分享到了.*成果"),
    "附件 list": re.compile(r"^附件[:：]\s?1[.．、]"),
    "【基本案情】 subhead": re.compile(r"^【基本案情】$"),
    "（一） subhead": re.compile(r"^（一）"),
    "short section heading": re.compile(r"^一、\s?主要举措和成效$"),
    "addressee line": re.compile(r"^漳州市人民政府[:：]$"),
}
SIGNER = re.compile(r"^\S{2,20}(?:管委会|党工委|人民政府|委员会|司法局)$")
DATE_LINE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")


def norm(text: str) -> str:
    """Whitespace runs (full-width spaces and NBSP included) become one space; ends stripped."""
    return re.sub(r"[\s\u3000\xa0]+", " ", text).strip()


@dataclass(frozen=True, slots=True)
class LabelledPage:
    name: str  # short id used in reports: the corpus file name or "portal:<path>"
    path: Path
    url: str
    content_type: str
    paragraphs: tuple[str, ...]
    metadata: dict[str, Any]
    template: str
    seed: str
    encoding: str
    quality: str  # gov | mirror (mirror pages are reported apart from the targets)
    corpus: str  # quality | portal

    def body(self) -> bytes:
        return self.path.read_bytes()


def _load(file: Path, root: Path, corpus: str) -> list[LabelledPage]:
    out = []
    for item in json.loads(file.read_text(encoding="utf-8")):
        name = item["file"] if corpus == "quality" else "portal:" + item["file"].split("/")[0]
        if corpus == "portal":
            name += ":" + item["file"].rsplit("/", 1)[-1]
        out.append(
            LabelledPage(
                name=name,
                path=root / item["file"],
                url=item["url"],
                content_type=item["content_type"],
                paragraphs=tuple(item["paragraphs"]),
                metadata=dict(item["metadata"]),
                template=item["template"],
                seed=item["seed"],
                encoding=item["encoding"],
                quality=item.get("quality", "gov"),
                corpus=corpus,
            )
        )
    return out


def load_pages() -> list[LabelledPage]:
    """Every labelled page: the quality corpus first, then the sample-portal reports."""
    return _load(QUALITY / "labels.json", QUALITY / "pages", "quality") + _load(
        QUALITY / "portal_labels.json", PORTAL, "portal"
    )


def noise_in(lines: list[str], expected: tuple[str, ...]) -> dict[str, int]:
    """NOISE hits in output lines, not counting text that belongs to an expected paragraph."""
    wanted = set(expected)
    masks = sorted((p for p in expected if p), key=len, reverse=True)
    hits: dict[str, int] = {}
    for raw in lines:
        line = norm(raw)
        if not line or line in wanted:
            continue
        for para in masks:
            if para in line:
                line = line.replace(para, "\x00")
        for label, pattern in NOISE.items():
            n = len(pattern.findall(line))
            if n:
                hits[label] = hits.get(label, 0) + n
    return hits
