"""PDF text with PDFium (pypdfium2): text runs with their boxes, pages without a text layer to OCR.

PDFium reads CJK PDFs through their ToUnicode maps in C; pdfminer.six gave the same text about
20× slower (docs/files.md). The same library renders image-only pages for tesseract.
"""

from __future__ import annotations

import time

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from archive.files.layout import Page, Run
from archive.files.limits import FileLimits, FileRejected

MIN_PAGE_CHARS = 20  # fewer text characters than this on a page: a scan (stamps, page numbers)
OCR_DPI = 300


def _open(body: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(body)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise FileRejected("encrypted PDF: a password is needed to open it") from None
        raise FileRejected(f"corrupt PDF: {message}") from None


def _page_runs(page: pdfium.PdfPage) -> Page:
    """Runs of characters that PDFium keeps together on one line (its generated line breaks
    and jumps in position end a run)."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    runs: list[Run] = []
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        if len(text) != count:  # characters outside the BMP: one call per character
            text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count))
        chars: list[str] = []
        box: list[float] = []
        for i, ch in enumerate(text):
            if ch in "\r\n\x02\ufffe":
                _close(runs, chars, box, height)
                continue
            left, bottom, right, top = textpage.get_charbox(i)
            if ch.isspace() or right <= left:
                if chars:
                    chars.append(" ")
                continue
            if chars and (bottom > box[3] or top < box[1] or left < box[0] - (top - bottom)
                          or left > box[2] + 3 * (top - bottom)):
                _close(runs, chars, box, height)  # a new line or column
            if not chars:
                box[:] = [left, bottom, right, top]
            else:
                box[:] = [min(box[0], left), min(box[1], bottom), max(box[2], right),
                          max(box[3], top)]
            chars.append(ch)
        _close(runs, chars, box, height)
    finally:
        textpage.close()
    return Page(width, height, runs)


def _close(runs: list[Run], chars: list[str], box: list[float], height: float) -> None:
    text = "".join(chars).strip()
    if text:  # PDF y grows upwards; layout wants top-down
        runs.append(Run(box[0], height - box[3], box[2], height - box[1], " ".join(text.split())))
    chars.clear()


def pgm(bitmap: pdfium.PdfBitmap) -> bytes:
    """A greyscale bitmap as PGM bytes (what tesseract reads without any imaging library)."""
    raw = bytes(bitmap.buffer)
    w, h, stride = bitmap.width, bitmap.height, bitmap.stride
    rows = raw if stride == w else b"".join(raw[y * stride : y * stride + w] for y in range(h))
    return b"P5\n%d %d\n255\n" % (w, h) + rows


def pdf_pages(body: bytes, limits: FileLimits, deadline: float) -> tuple[list[Page], list[bytes]]:
    """Text pages, and PGM renderings of the pages that have no text layer (for OCR)."""
    pdf = _open(body)
    try:
        count = len(pdf)
        if count == 0:
            raise FileRejected("PDF has no pages")
        if count > limits.max_pages:
            raise FileRejected(f"PDF has {count} pages (limit {limits.max_pages})")
        pages: list[Page] = []
        for i in range(count):
            if time.monotonic() > deadline:
                raise FileRejected(f"PDF extraction took longer than {limits.seconds:g} s "
                                   f"(stopped at page {i + 1} of {count})")
            page = pdf[i]
            try:
                pages.append(_page_runs(page))
            finally:
                page.close()
        chars = sum(len(r.text) for p in pages for r in p.runs)
        if chars >= MIN_PAGE_CHARS * count:
            return pages, []
        if count > limits.max_ocr_pages:
            raise FileRejected(f"image-only PDF of {count} pages (OCR limit "
                               f"{limits.max_ocr_pages} pages)")
        images = []
        for i in range(count):
            page = pdf[i]
            try:
                bitmap = page.render(scale=OCR_DPI / 72, grayscale=True)
                images.append(pgm(bitmap))
                bitmap.close()
            finally:
                page.close()
        return pages, images
    except pdfium.PdfiumError as exc:
        raise FileRejected(f"corrupt PDF: {exc}") from None
    finally:
        pdf.close()
