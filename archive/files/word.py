"""Word documents: DOCX with python-docx, legacy DOC and Kingsoft WPS with antiword.

DOCX body paragraphs and tables are read in document order; headers, footers (where page numbers
live) and comments are separate parts and never read. DOC/WPS are OLE files with the Word 97
text stream; antiword (Debian) prints it as UTF-8, one paragraph per line with `-w 0`.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
import zipfile

from archive.files.limits import FileLimits, FileRejected
from archive.files.zipguard import SafeZip


def docx_paragraphs(body: bytes, limits: FileLimits) -> list[str]:
    import docx  # python-docx; imported here so HTML-only workers never load it
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    package = SafeZip(body, limits, "DOCX")  # sizes checked before python-docx inflates parts
    if "word/document.xml" not in package.names:
        raise FileRejected("corrupt DOCX: no word/document.xml")
    try:
        document = docx.Document(io.BytesIO(body))
        out: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells = list(dict.fromkeys(c.text.strip() for c in row.cells))
                    out.append(" | ".join(c for c in cells if c))
            else:
                out.append(block.text)
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise FileRejected(f"corrupt DOCX: {type(exc).__name__}: {exc}") from None
    return [" ".join(p.split()) for p in out if p.strip()]


def antiword_paragraphs(body: bytes, kind: str, deadline: float) -> list[str]:
    exe = shutil.which("antiword")
    if exe is None:
        raise FileRejected(f"{kind.upper()} file but the antiword program is not installed")
    left = deadline - time.monotonic()
    if left <= 0:
        raise FileRejected(f"{kind.upper()} not read: the file's time limit ran out")
    with tempfile.NamedTemporaryFile(suffix=f".{kind}") as tmp:
        tmp.write(body)
        tmp.flush()
        try:
            proc = subprocess.run([exe, "-m", "UTF-8.txt", "-w", "0", tmp.name],
                                  capture_output=True, timeout=left)
        except subprocess.TimeoutExpired:
            raise FileRejected("antiword took longer than the file's time limit") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FileRejected(f"unreadable {kind.upper()} file (antiword: "
                           f"{err[-1] if err else proc.returncode})")
    text = proc.stdout.decode("utf-8", "replace")
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
