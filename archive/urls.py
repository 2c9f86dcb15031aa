"""URL canonicalisation: one report, one URL, whatever tracking junk or gateway it came through."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query keys added by share buttons, WeChat and analytics; they never select a different document.
TRACKING_KEYS = frozenset(
    {
        "from", "spm", "isappinstalled", "scene", "clicktime", "enterid", "wxfrom", "share",
        "sharer", "share_token", "timestamp", "_t", "t", "fbclid", "gclid", "mc_cid", "mc_eid",
        "subscene", "sessionid", "vd_source", "share_source", "ivk_sa",
    }
)
_BIG5_GATE = re.compile(r"^/gate/big5/([^/]+)(/.*)?$", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking query keys.

    Big5 gateway copies (`/gate/big5/<host>/<path>`, `big5.<host>`) map to the original page.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    path = parts.path or "/"
    gate = _BIG5_GATE.match(path)
    if gate:
        host, path = gate.group(1).lower(), gate.group(2) or "/"
        port = None
    if host.startswith("big5."):
        host = host[len("big5.") :]
    netloc = host
    if port and not (scheme == "http" and port == 80) and not (scheme == "https" and port == 443):
        netloc = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_KEYS and not k.lower().startswith("utm_")
    ]
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def host_of(url: str) -> str:
    """The lower-case host name of a URL (no port)."""
    return (urlsplit(url).hostname or "").lower()
