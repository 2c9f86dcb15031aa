"""Turn response bytes into text: BOM, then HTTP header, then <meta>, then detection.

gb2312 and gbk labels decode as gb18030 (a superset: real pages use characters gb2312 lacks).
Labels lie both ways on real portals, so a label is only trusted when the bytes agree with it.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE
)
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "cp936": "gb18030", "euc-cn": "gb18030", "hz-gb-2312": "gb18030",
    "big5": "big5hkscs", "utf8": "utf-8", "unicode": "utf-8",
}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    how: str  # bom | header | meta | detected | fallback (+ "-lossy" when bytes were replaced)
    replaced: int = 0  # undecodable byte sequences replaced by U+FFFD

MAX_LOSSY_RATIO = 0.001  # a declared charset is kept if at most 0.1 % of the text is undecodable
# … or a handful of sequences, whatever the page's length: a short report with three broken
# bytes is `lossy` text under its label, not a fallback decode into garbage.
MIN_LOSSY_ALLOWED = 8


def normalise_encoding(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return normalise_encoding(m.group(1)) if m else None


def meta_charset(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:8192])
    return normalise_encoding(m.group(1).decode("ascii", "ignore")) if m else None


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_body(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a page. Never raises; falls back to replacement characters as a last resort."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(enc, "replace"), enc, "bom")
    # Valid multi-byte UTF-8 is a strong signal: GBK text is almost never valid UTF-8, while UTF-8
    # bytes labelled gb2312 decode as gb18030 without error, into silent mojibake.
    utf8 = _strict(body, "utf-8")
    non_ascii = any(b > 0x7F for b in body[:200_000])
    for enc, how in ((header_charset(content_type), "header"), (meta_charset(body), "meta")):
        if not enc:
            continue
        if utf8 is not None and non_ascii and enc != "utf-8":
            return Decoded(utf8, "utf-8", f"{how}-overridden")
        text = utf8 if enc == "utf-8" and utf8 is not None else _strict(body, enc)
        if text is not None:
            return Decoded(text, enc, how)
    # Invalid sequences in an otherwise well-labelled page: keep the label, replace the bad bytes.
    for enc, how in ((header_charset(content_type), "header"), (meta_charset(body), "meta")):
        if enc:
            text = body.decode(enc, "replace")
            bad = text.count("\ufffd")
            if bad <= max(MIN_LOSSY_ALLOWED, MAX_LOSSY_RATIO * len(text)):
                return Decoded(text, enc, f"{how}-lossy", bad)
    if utf8 is not None:
        return Decoded(utf8, "utf-8", "detected")
    gb = _strict(body, "gb18030")
    if gb is not None:
        return Decoded(gb, "gb18030", "detected")
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    enc = normalise_encoding(best.encoding if best else None) or "utf-8"
    text = body.decode(enc, "replace")
    return Decoded(text, enc, "fallback", text.count("\ufffd"))
