"""Reports published as files: sniff the real format, extract paragraphs, refuse hostile files.

`extract_file` is the pure in-process extractor; `extract_isolated` runs it in a child process
with a wall-clock and memory limit (what the crawl uses: a PDF that makes PDFium spin or a
decompression bomb kills only that child). Either returns `FileText` or raises `FileRejected`
whose message is the reason recorded for the file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from archive.files.layout import paragraphs
from archive.files.limits import DEFAULT_LIMITS, FileLimits, FileRejected
from archive.files.sniff import FILE_FORMATS, Sniffed, claimed_format, sniff

__all__ = ["DEFAULT_LIMITS", "FILE_FORMATS", "FileLimits", "FileRejected", "FileText", "Sniffed",
           "claimed_format", "extract_file", "extract_isolated", "sniff"]


# How running out of address space shows in the child: Python, the dynamic loader, C++ (tesseract).
_OOM = ("MemoryError", "Cannot allocate memory", "failed to map segment", "bad_alloc")


@dataclass(slots=True)
class FileText:
    format: str
    paragraphs: list[str]
    pages: int
    how: str                        # the library or program that read it
    quality: str = "ok"             # ok | ocr
    confidence: float | None = None  # OCR: mean tesseract confidence per character, 0–100


def extract_file(body: bytes, fmt: str, limits: FileLimits = DEFAULT_LIMITS) -> FileText:
    """Paragraphs of one file in reading order, headers/footers/page numbers removed (not yet
    cleaned of portal chrome or converted to simplified: derive does that as for pages)."""
    if len(body) > limits.max_bytes:
        raise FileRejected(f"{fmt.upper()} file of {len(body) // (1 << 20)} MiB "
                           f"(limit {limits.max_bytes // (1 << 20)} MiB)")
    deadline = time.monotonic() + limits.seconds
    if fmt == "pdf":
        from archive.files.pdf import pdf_pages

        pages, images = pdf_pages(body, limits, deadline)
        if not images:
            return FileText("pdf", paragraphs(pages), len(pages), "pypdfium2")
        return _ocr("pdf", images, deadline, "pypdfium2 render + tesseract")
    if fmt == "docx":
        from archive.files.word import docx_paragraphs

        return FileText("docx", docx_paragraphs(body, limits), 0, "python-docx")
    if fmt in ("doc", "wps"):
        from archive.files.word import antiword_paragraphs

        return FileText(fmt, antiword_paragraphs(body, fmt, deadline), 0, "antiword")
    if fmt == "ofd":
        from archive.files.ofd import ofd_pages

        pages = ofd_pages(body, limits, deadline)
        return FileText("ofd", paragraphs(pages), len(pages), "OFD XML (lxml)")
    if fmt == "image":
        return _ocr("image", [body], deadline, "tesseract")
    raise FileRejected(f"unsupported file format {fmt!r}")


def _ocr(fmt: str, images: list[bytes], deadline: float, how: str) -> FileText:
    from archive.files.ocr import LANG, ocr_page

    pages, chars, weighted = [], 0, 0.0
    for image in images:
        page, n, w = ocr_page(image, deadline)
        pages.append(page)
        chars, weighted = chars + n, weighted + w
    if not chars:
        raise FileRejected(f"scanned {fmt.upper()}: OCR found no text")
    return FileText(fmt, paragraphs(pages), len(pages), f"{how} ({LANG})", "ocr",
                    round(weighted / chars, 1))


def extract_isolated(body: bytes, fmt: str, limits: FileLimits = DEFAULT_LIMITS) -> FileText:
    """`extract_file` in a child process that is killed (with its OCR/antiword children) when
    it outlives the file's time limit, and cannot grow past the memory limit."""
    if len(body) > limits.max_bytes:  # refused before a process is spent on it
        return extract_file(body, fmt, limits)
    cmd = [sys.executable, "-m", "archive.files", fmt, json.dumps(limits.as_dict())]
    # The child imports this package from wherever the parent did (a Scrapyd egg included).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, env=env)
    try:
        out, err = proc.communicate(body, timeout=limits.seconds + 5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise FileRejected(f"{fmt.upper()} extraction killed after {limits.seconds:g} s "
                           "(time limit per file)") from None
    if proc.returncode == -signal.SIGALRM:
        raise FileRejected(f"{fmt.upper()} extraction stopped by its alarm after "
                           f"{limits.seconds:g} s (time limit per file)")
    if proc.returncode != 0 or not out:
        tail = err.decode("utf-8", "replace").strip().splitlines()
        if proc.returncode == -signal.SIGKILL or any(m in t for t in tail for m in _OOM):
            raise FileRejected(f"{fmt.upper()} extraction ran out of memory "
                               f"(limit {limits.memory // (1 << 20)} MiB)")
        raise FileRejected(f"{fmt.upper()} extraction crashed (exit {proc.returncode}: "
                           f"{tail[-1][:200] if tail else 'no message'})")
    result = json.loads(out)
    if "rejected" in result:
        raise FileRejected(result["rejected"])
    return FileText(**result)


def _child(argv: list[str]) -> int:
    """`python -m archive.files FORMAT LIMITS_JSON` < file > FileText JSON."""
    import resource

    fmt, limits = argv[0], FileLimits(**json.loads(argv[1]))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
    signal.alarm(int(limits.seconds) + 2)  # a C call that never returns still ends
    body = sys.stdin.buffer.read()
    try:
        result: dict[str, object] = asdict(extract_file(body, fmt, limits))
    except FileRejected as exc:
        result = {"rejected": str(exc)}
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0
