"""Limits on one file's extraction, and the exception that records why a file was refused."""

from __future__ import annotations

from dataclasses import asdict, dataclass

MiB = 1024 * 1024


class FileRejected(Exception):
    """A file that is not extracted: the message is the recorded reason."""


@dataclass(frozen=True, slots=True)
class FileLimits:
    max_bytes: int = 20 * MiB        # as DOWNLOAD_MAXSIZE: a report is rarely over 5 MB
    max_pages: int = 300             # a 法治政府建设年度报告 runs 5–30 pages
    max_ocr_pages: int = 30          # OCR costs seconds a page
    seconds: float = 120.0           # wall clock for one file, OCR included
    memory: int = 2048 * MiB         # address space of the extraction process
    max_unzipped: int = 200 * MiB    # DOCX/OFD: total declared size of the members
    max_ratio: int = 200             # DOCX/OFD: uncompressed/compressed size of a large member
    max_members: int = 5000          # DOCX/OFD: entries in the zip

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


DEFAULT_LIMITS = FileLimits()
