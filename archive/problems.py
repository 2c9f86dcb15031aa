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


# Bodies that are not text at all, whatever their Content-Type says. Magic numbers of what portals
# serve by mistake under text/html: images, executables, archives, office and PDF files.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"), (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"), (b"GIF89a", "GIF image"), (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"), (b"\x00\x00\x01\x00", "icon"),
    (b"MZ", "Windows executable"), (b"\x7fELF", "ELF executable"),
    (b"PK\x03\x04", "zip archive"), (b"\x1f\x8b", "gzip data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"), (b"Rar!", "RAR archive"), (b"%PDF-", "PDF file"),
    (b"\xd0\xcf\x11\xe0", "OLE2 (doc/xls/wps) file"),
)
# What no text page is made of: U+FFFD (bytes the decoder could not read), C0/C1 control
# characters other than whitespace, private-use code points (gb18030 maps unassigned bytes there).
_BAD_CHARS = re.compile("[\ufffd\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ue000-\uf8ff]")
_SPACE = re.compile(r"\s+")
# Above a fifth of the characters, a page is binary or undecodable; below it, `lossy` text.
# Measured (docs/faults.md): real portal pages 0–0.005 %; PNG/JPEG/EXE/zip/random bytes served as
# text/html decode to 45–72 % bad characters.
MAX_BAD_SHARE = 0.2
# Text in any ASCII-compatible encoding (UTF-8, GBK, Big5) has no C0 control bytes but whitespace;
# binary formats are full of them (NUL above all), whichever single-byte charset they are labelled
# with (latin-1 decodes anything without a single U+FFFD).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
MAX_CONTROL_BYTE_SHARE = 0.01
BAD_SAMPLE_CHARS = 50_000  # binary is bad throughout: the head decides, at bounded cost


def bad_share(text: str) -> float:
    """Share of non-whitespace characters (in the page's head) that are no text at all."""
    sample = text[:BAD_SAMPLE_CHARS]
    bad = len(_BAD_CHARS.findall(sample))
    if not bad:  # nearly every page: no need to count the rest
        return 0.0
    chars = len(sample) - sum(len(m) for m in _SPACE.findall(sample))
    return bad / chars if chars else 0.0


def control_byte_share(body: bytes) -> float:
    sample = body[:BAD_SAMPLE_CHARS]
    return len(_CONTROL_BYTES.findall(sample)) / len(sample) if sample else 0.0


def binary_body(body: bytes, text: str) -> str | None:
    """The reason a page's body is not text (a known binary format, mostly bad characters once
    decoded, or control bytes), or None. Pure; a few bad bytes in good text are `lossy` instead."""
    kind = next((name for magic, name in _SIGNATURES if body.startswith(magic)), None)
    share, controls = bad_share(text), control_byte_share(body)
    if kind is None and share <= MAX_BAD_SHARE and controls <= MAX_CONTROL_BYTE_SHARE:
        return None
    what = f"{share:.0%} of its characters are replacement or control characters"
    if share <= MAX_BAD_SHARE < 1 and controls > MAX_CONTROL_BYTE_SHARE:
        what = f"{controls:.0%} of its bytes are control bytes"
    return f"binary or undecodable body: {what}" + (f" ({kind})" if kind else "")
