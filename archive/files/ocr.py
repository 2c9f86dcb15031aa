"""OCR of scanned pages with the tesseract binary (Debian tesseract-ocr + tesseract-ocr-chi-sim).

Called as a program, not through a Python binding: one subprocess per page, timed out by the
file's deadline. Its TSV output gives each line's box (for the same paragraph rebuilding as PDF
text) and each word's confidence, averaged over characters into the report's figure.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import time

from archive.files.layout import Page, Run, join_text
from archive.files.limits import FileRejected

LANG = "chi_sim"


def tesseract_version() -> str | None:
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
    return (out.stdout or out.stderr).split("\n", 1)[0].strip()


def ocr_page(image: bytes, deadline: float) -> tuple[Page, int, float]:
    """(lines of one page image, characters, confidence-weighted characters)."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise FileRejected("scanned file but the tesseract program is not installed")
    left = deadline - time.monotonic()
    if left <= 0:
        raise FileRejected("OCR not started: the file's time limit ran out")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per page; the pool runs several
    try:
        proc = subprocess.run([exe, "stdin", "stdout", "-l", LANG, "--psm", "3", "tsv"],
                              input=image, capture_output=True, timeout=left, env=env)
    except subprocess.TimeoutExpired:
        raise FileRejected("OCR took longer than the file's time limit") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FileRejected(f"tesseract failed: {err[-1] if err else proc.returncode}")
    lines: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    width = height = 1.0
    for row in csv.DictReader(io.StringIO(proc.stdout.decode("utf-8", "replace")),
                              delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") == "1":
            width, height = float(row["width"]), float(row["height"])
        if row.get("level") == "5" and (row.get("text") or "").strip():
            lines.setdefault((row["block_num"], row["par_num"], row["line_num"]), []).append(row)
    runs, chars, weighted = [], 0, 0.0
    for words in lines.values():
        x0 = min(int(w["left"]) for w in words)
        top = min(int(w["top"]) for w in words)
        x1 = max(int(w["left"]) + int(w["width"]) for w in words)
        bottom = max(int(w["top"]) + int(w["height"]) for w in words)
        text = ""
        for w in words:
            text = join_text(text, w["text"].strip())
        for w in words:
            n = len(w["text"].strip())
            chars += n
            weighted += n * max(float(w["conf"]), 0.0)
        runs.append(Run(x0, top, x1, bottom, text))
    return Page(width, height, runs), chars, weighted
