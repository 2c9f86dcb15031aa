"""Which format a response really is: by its bytes first, its URL and Content-Type only as claims.

Portals serve PDFs as application/octet-stream, HTML error pages under `.pdf` URLs and Word files
as text/html; only the magic bytes say what a body is. Pure and cheap: it runs on every response.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import urlsplit

FILE_FORMATS = ("pdf", "docx", "doc", "wps", "ofd", "image")
FILE_EXTENSIONS = {
    ".pdf": "pdf", ".docx": "docx", ".doc": "doc", ".wps": "wps", ".ofd": "ofd",
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".tif": "image", ".tiff": "image",
}
_TYPES = (
    ("application/pdf", "pdf"), ("application/x-pdf", "pdf"),
    ("wordprocessingml", "docx"), ("application/msword", "doc"),
    ("application/vnd.ms-works", "wps"), ("application/kswps", "wps"), ("application/wps", "wps"),
    ("application/ofd", "ofd"), ("image/", "image"),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"GIF8", b"BM")
_HTML = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|script"
                   rb"|div|p\b|table|\?xml)", re.IGNORECASE | re.DOTALL)
_WORD_STREAM = "WordDocument".encode("utf-16-le")


@dataclass(frozen=True, slots=True)
class Sniffed:
    format: str                 # html | pdf | docx | doc | wps | ofd | image | zip | unknown
    claimed: str | None = None  # the file format the URL or Content-Type announced, if any

    @property
    def mismatch(self) -> bool:
        """A file was announced but the bytes are something else."""
        return self.claimed is not None and self.claimed != self.format


def claimed_format(url: str, content_type: str | None) -> str | None:
    """The file format a link or a Content-Type header announces (None: nothing or HTML)."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    by_ext = FILE_EXTENSIONS.get(path[dot:]) if dot > path.rfind("/") else None
    ct = (content_type or "").lower()
    by_type = next((fmt for marker, fmt in _TYPES if marker in ct), None)
    return by_type or by_ext


def _zip_kind(body: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "unknown"
    if "word/document.xml" in names:
        return "docx"
    if "OFD.xml" in names or any(n.lower() == "ofd.xml" for n in names):
        return "ofd"
    return "zip"


def sniff(body: bytes, url: str = "", content_type: str | None = None) -> Sniffed:
    """The real format of `body`, and what the URL/Content-Type claimed."""
    claimed = claimed_format(url, content_type)
    head = body[:1024]
    if b"%PDF-" in head:
        fmt = "pdf"
    elif head.startswith(b"PK\x03\x04"):
        fmt = _zip_kind(body)
    elif head.startswith(_OLE):
        # Kingsoft WPS writes the same OLE WordDocument layout as Word 97; only the name differs.
        fmt = "wps" if claimed == "wps" else "doc"
        if _WORD_STREAM not in body[:1 << 20] and _WORD_STREAM not in body[-(1 << 16):]:
            fmt = "unknown"  # an OLE file without a Word stream (spreadsheet, old WPS)
    elif head.startswith(_IMAGES):
        # A scan is OCR'd only when its link or Content-Type says image: an image served as a
        # page (a logo under a report title, a broken CMS) is a binary body, and the page path
        # records it so (archive.problems), without running OCR on it.
        fmt = "image" if claimed == "image" else "html"
    elif _HTML.match(head.lstrip(b"\xef\xbb\xbf")) or claimed is None:
        fmt = "html"
    else:
        fmt = "unknown"
    return Sniffed(fmt, claimed)
