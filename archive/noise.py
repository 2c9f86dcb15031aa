"""Gov-portal chrome: which lines of extracted text are page furniture, not report text.

Pure string rules, applied line by line after extraction (and after traditional→simplified,
so one rule set serves both scripts). Near-noise that is body stays: 规范性文件备案审查,
"分享到了…成果", 附件 lists, signatures and dates, bracketed subheads, short section headings.
"""

from __future__ import annotations

import re

from archive.patterns import RE

# Whole lines of portal chrome. Anchored so that body sentences using the same words survive
# (e.g. 规范性文件备案审查, "分享到了…成果"). Matched against the line with whitespace removed.
_NOISE_LINE = re.compile(
    r"^(?:扫一扫在手机(?:上)?(?:打开|查看|浏览)(?:当前)?(?:页|网页)(?:面)?|扫一扫|手机扫一扫.*"
    r"|用手机扫描二维码.*"
    r"|【?字体[:：]?.*|【?字号[:：]?.*|【?打印(?:本页|此页)?】?.*|【?关闭(?:窗口|本页)?】?"
    r"|分享到[:：]?(?:微信|微博|QQ|$).*|(?:浏览|阅读|访问|点击)(?:次数|量)[:：]?.*"
    r"|您(?:当前|现在)?的?(?:所在)?(?:的)?位置[:：]?.*|当前位置[:：]?.*|上一篇[:：]?.*|下一篇[:：]?.*"
    r"|相关(?:链接|阅读|文章|新闻|推荐|附件|稿件)[:：>»]*|热点新闻|热门(?:搜索|文章)|最近搜索"
    r"|(?:搜索)?热词[:：].*"
    r"|(?:政府)?网站标识码.*|.*ICP备.*|.*公网安备.*"
    r"|(?:主管|运维|运行维护|维护|建设)(?:单位)?[:：].*"
    r"|版权所有.*|copyright.*|技术支持[:：].*|标签[:：].*|\d+人觉得有用|关注我们.*"
    r"|.*点击文字或控件可以阅读.*|开启.?阅读.?后.*|您(?:访问|即将访问)的链接即将离开.*|(?:本站|本网站|网站)支持IPv6.*"
    r"|(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\d{1,2}[:：时]\d{2}分?(?:[:：]\d{2}秒?)?"
    r"|[（(]?(?:责任编辑|编辑|审核|校对|审校|初审|复审|终审)[:：][^。，；]{0,12}[）)]?"
    r"|[^。，；：:]{2,30}(?:主办|承办)|[^。，；：:]{0,16}(?:微信公众号|官方微信|官方微博|政务微博|政务微信))$",
    re.IGNORECASE,
)
# Contact and organiser lines are footer chrome at the page's head or foot, but body inside an
# article (a notice's 联系电话/邮箱, an event's 主办单位): clean_lines keeps them when body lines
# stand before and after them.
_CONTACT_LINE = re.compile(
    r"^(?:(?:地址|电话|联系电话|咨询电话|传真|邮编|邮箱|电子邮箱|E-?mail)[:：].{0,60}"
    r"|(?:主办|承办|协办)(?:单位)?[:：].*)$",
    re.IGNORECASE,
)
# Lines made only of these words (toolbars, accessibility residue, footer menus) are chrome.
_CHROME_WORDS = frozenset("""
    网站地图 联系我们 使用帮助 隐私声明 关于我们 无障碍 长者模式 关怀版 老年模式 繁体 简体 繁體
    登录 注册 首页 返回首页 返回顶部 收藏 打印 关闭 打印本页 关闭窗口 分享 分享到 微信 微博
    QQ空间 QQ 视窗区 导航区 交互区 服务区 列表区 正文区 读屏专用 声音开关 语速 阅读方式 指读
    连读 大字幕 配色 鼠标样式 放大 缩小 重置 退出服务 招标 业主 关注 相关推荐 字体 大 中 小 默认
    切换 搜索 English 移动版 智能问答 我要纠错 政务服务 政务公开 走进 互动交流 信息公开 主页 - 0
    长者版 长者助手 适老版 手机版 电脑版 全文下载 下载 word下载 pdf下载 wps下载 ofd下载
""".split())  # noqa: SIM905 (a word list reads better as text)
_TOKEN_SPLIT = re.compile(r"[\s|｜丨·•/\\【】\[\]()（）:：,，、>»]+")
_CODE_LINE = re.compile(
    r"^(?:[#.\w-]+(?:\s*[,>]\s*[#.\w-]+)*\s*\{[^}]*\}?|.*\$\(['\"].*|.*function\s*\(.*"
    r"|(?:var|let|const)\s+\w+\s*=.*|.*document\.\w+.*|\}\)?;?)$"
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_META_LINE = re.compile(
    r"^[\[【［]?\s*(?:索\s*引\s*号|主题分类|体裁分类|信息分类|组配分类|分\s*类|发文字号|文\s*号"
    r"|发布机构|发文机关|发布单位|所属机构|成文日期|发文日期|发布日期|生成日期|有\s*效\s*性|公开方式"
    r"|公开范围|公开时限|发布时间|信息来源|来\s*源|日\s*期|主\s*题\s*词|关\s*键\s*词|内容概述)"
    r"(?:\s*[\]】］]\s*[:：|]?|\s*[:：|])"
)


def is_chrome(line: str) -> bool:
    """Whether a whole line is portal chrome rather than report text."""
    squashed = RE[r"\s+"].sub("", line)
    if _NOISE_LINE.match(squashed) or _META_LINE.match(line) or _CONTACT_LINE.match(squashed):
        return True
    if _CODE_LINE.match(line.strip()) and len(_CJK.findall(line)) < 0.1 * len(line):
        return True  # leaked CSS/JS; prose that quotes code keeps its Chinese and stays
    if len(line) > 80:  # toolbars and menus made only of chrome words are short
        return False
    tokens = [t for t in _TOKEN_SPLIT.split(line) if t]
    return bool(tokens) and all(t in _CHROME_WORDS or t.lower() in _CHROME_WORDS or t.isdigit()
                                for t in tokens)


def clean_lines(text: str, title: str | None) -> list[str]:
    """One paragraph per line, chrome lines and the repeated title/date lines removed.

    A contact line (联系电话：…, 邮箱：…) stays when a body sentence stands before it and kept
    lines after it: inside an article it is the notice's own, at the head or foot the portal's.
    """
    out: list[str] = []
    contact: list[int] = []  # indexes in out of contact lines, decided once the body is known
    body_before = False
    squashed_title = RE[r"\s+"].sub("", title or "")
    for raw in text.splitlines():
        line = RE[r"[ \t\u3000\xa0]+"].sub(" ", raw).strip()
        cell = line.strip("| ")  # trafilatura renders table rows as "| a | b |"
        if not cell or cell in {"-", "·", "—"}:
            continue
        if _CONTACT_LINE.match(RE[r"\s+"].sub("", cell)):
            if body_before:
                contact.append(len(out))
                out.append(line)
            continue
        if is_chrome(cell):
            continue
        if (squashed_title and RE[r"\s+"].sub("", cell) == squashed_title
                and all(len(prev) <= 40 for prev in out)):
            continue  # the heading repeated above the body (maybe after a short date line)
        out.append(cell if line.startswith("|") and "|" not in cell else line)
        body_before = body_before or len(_CJK.findall(cell)) >= 20  # a sentence, not a heading
    if contact:
        last_body = max((i for i in range(len(out)) if i not in set(contact)), default=-1)
        trailing = {i for i in contact if i > last_body}
        out = [line for i, line in enumerate(out) if i not in trailing]
    while out and RE[r"\s+"].sub("", out[-1]) in ("附件", "附件:", "附件："):
        out.pop()  # an attachment heading over an empty list (the list is filled by script)
    return _drop_split_heading(out, squashed_title)


def _drop_split_heading(out: list[str], squashed_title: str) -> list[str]:
    """The heading printed over several lines (<br> inside <h1>) at the head of the body."""
    if not squashed_title:
        return out
    for start in range(min(3, len(out))):
        joined = ""
        for end in range(start, min(start + 5, len(out))):
            joined += RE[r"\s+"].sub("", out[end])
            if not squashed_title.startswith(joined):
                break
            if joined == squashed_title and end > start:
                return out[:start] + out[end + 1:]
        if len(out[start]) > 40:
            break
    return out
