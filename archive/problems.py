"""Pages that answer but are not what they claim: WAF / challenge pages, soft 404s, empty bodies.

Pure functions over (status, decoded text). A blocked page is recorded as `blocked` for its source
and never archived as a report; the crawler never tries to get past it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Markers of web application firewalls and JavaScript cookie challenges seen on gov portals:
# 云防护/云盾, 安全狗 (safedog), 知道创宇/创宇盾 and 加速乐 (__jsl_clearance), 网站卫士 (wzws),
# 云锁 (yunsuo), Cloudflare-style challenges.
# Words are matched in the visible text of short pages (a report may mention 安全狗 in passing);
# script markers anywhere in the raw HTML.
_WAF_WORDS = re.compile(
    r"云防护|云盾|安全狗|safedog|知道创宇|创宇盾|加速乐|网站卫士|云锁|网站防火墙|Web应用防火墙"
    r"|访问被拦截|访问已被拦截|您的访问被阻断|拦截了您的访问|请求已被阻断|检测到您的访问存在异常"
    r"|访问频率过快",
    re.IGNORECASE,
)
# Plain substrings: checked with `in`, which is much faster than a regex over 50 KB of HTML.
_WAF_SCRIPT = ("__jsl_clearance", "jsluid", "wzws_cid", "wzwscid", "yunsuo_session",
               "cdn-cgi/challenge", "challenge-platform", "_guard/auto.js", "sec_defend")
WAF_PAGE_MAX_CHARS = 2000  # block pages are short; a long page that names a WAF is content
# A page that sets a cookie from script and has almost no text is a challenge (JS redirect stubs
# without a cookie are legitimate on portals and are followed instead).
_JS_COOKIE = re.compile(r"document\.cookie\s*=", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SOFT_404 = re.compile(
    r"页面不存在|您访问的页面不存在|页面找不到|找不到页面|页面已删除|信息已删除|文章不存在|该信息不存在"
    r"|404\s*Not\s*Found|页面未找到|抱歉.{0,10}(?:页面|网页).{0,6}(?:不存在|找不到|无法访问)",
    re.IGNORECASE,
)
_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.DOTALL | re.IGNORECASE)
SMALL_PAGE_CHARS = 30_000  # raw HTML size up to which the visible text is examined
SOFT_404_MAX_CHARS = 600  # a real page that mentions 页面不存在 in passing is much longer


@dataclass(frozen=True, slots=True)
class Problem:
    outcome: str   # blocked | http_error | ok
    result: str    # blocked | soft_404 | empty
    reason: str


def visible_text(html: str) -> str:
    return " ".join(_TAGS.sub(" ", html).split())


def page_problem(status: int, html: str) -> Problem | None:
    """What is wrong with a page that answered, or None when it looks like a real page."""
    if status == 304:
        return None
    head = html[:50_000]
    # Block pages, challenges, empty pages and bare soft 404s are small; on a large 200 page only
    # the cheap checks on the raw HTML (script markers, <title>) run.
    text = visible_text(head) if status != 200 or len(head) <= SMALL_PAGE_CHARS else None
    marker = next((m for m in _WAF_SCRIPT if m in head), None)
    if marker is None and text is not None and (status != 200 or len(text) <= WAF_PAGE_MAX_CHARS):
        found = _WAF_WORDS.search(text)
        marker = found.group(0) if found else None
    if marker:
        return Problem("blocked", "blocked", f"HTTP {status}: WAF/challenge page ({marker})")
    if status in (412, 521):
        return Problem("blocked", "blocked", f"HTTP {status}: challenge status code")
    if status in (200, 403) and text is not None and len(text) < 200 and _JS_COOKIE.search(head):
        return Problem("blocked", "blocked", f"HTTP {status}: JavaScript cookie challenge")
    if status != 200:
        return None
    if text is not None and not text:
        return Problem("ok", "empty", "HTTP 200 with an empty page")
    title = _TITLE.search(head[:5000])
    if _SOFT_404.search(title.group(1) if title else "") or (
            text is not None and len(text) <= SOFT_404_MAX_CHARS and _SOFT_404.search(text)):
        return Problem("ok", "soft_404", "HTTP 200 but the page says it does not exist (soft 404)")
    return None
