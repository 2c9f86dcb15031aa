"""Report files built at test time from the seed texts: PDF printed by headless Chromium or
written here (pure Python), DOCX written with python-docx, an OFD package written here, a degraded
scan, legacy DOC via LibreOffice when it is installed, and hostile files. Nothing built here is
committed. The pure-Python builders (text PDF, DOCX, OFD) also make the sample portal's
attachment-only reports (tests/fixtures/build_portal.py); `pinned_zip` makes their bytes stable."""

from __future__ import annotations

import html
import io
import random
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
if not SEEDS.is_dir():  # a worktree under /work/wt/<name>: shared/ sits beside the worktrees
    SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
NOTO_SERIF = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")


def seed_paragraphs(prefix: str) -> list[str]:
    """The report paragraphs of a seed (scraped page chrome before and after cut off)."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    lines = [x.strip() for x in path.read_text(encoding="utf-8").splitlines()]
    starts = {"000": lambda x: x.startswith("2022年"), "001": lambda x: x.startswith("2022年"),
              "002": lambda x: x.startswith("漳州市人民政府"), "004": lambda x: x.startswith("2023年")}
    stops = ("扫一扫", "主辦", "[ 索引号")
    start = next(i for i, x in enumerate(lines) if starts[prefix](x))
    out = []
    for line in lines[start:]:
        if line.startswith(stops):
            break
        if line:
            out.append(line)
    return out


# -- PDF ---------------------------------------------------------------------------------------
def pdf_html(title: str, paragraphs: list[str], header: str) -> str:
    """A 公文-like page: running header, "— N —" page numbers, 2em first-line indents."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 28mm 22mm 25mm 22mm;
  @top-center {{ content: "{header}"; font-size: 9pt; }}
  @bottom-center {{ content: "— " counter(page) " —"; font-size: 10pt; }} }}
body {{ font-family: "Noto Serif CJK SC", serif; font-size: 12pt; line-height: 1.7; }}
h1 {{ text-align: center; font-size: 18pt; }}
p {{ text-indent: 2em; margin: 0; text-align: justify; }}
</style></head><body><h1>{html.escape(title)}</h1>
{"".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)}</body></html>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def print_pdf(page: str) -> bytes:
    """Headless Chromium's print-to-pdf of an HTML document (fonts embedded, CJK included)."""
    exe = chromium()
    assert exe, "chromium is needed to print test PDFs (make system-deps)"
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp, "doc.html"), Path(tmp, "doc.pdf")
        src.write_text(page, encoding="utf-8")
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-pdf-header-footer", f"--user-data-dir={tmp}/profile",
                        f"--print-to-pdf={out}", src.as_uri()],
                       capture_output=True, timeout=120, check=True)
        return out.read_bytes()


def make_pdf(title: str, paragraphs: list[str], header: str = "重庆市渝中区人民政府") -> bytes:
    return print_pdf(pdf_html(title, paragraphs, header))


def _pdf_file(objects: dict[int, bytes], trailer: str = "") -> bytes:
    """Objects 1..n (1 is the catalog) as a PDF file with its cross-reference table; `trailer`
    adds entries to the trailer dictionary (e.g. /Encrypt)."""
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number in sorted(objects):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer}>>\nstartxref\n"
            f"{xref}\n%%EOF\n").encode()
    return out


def _numbered(objs: list[str]) -> dict[int, bytes]:
    return {i: obj.encode() for i, obj in enumerate(objs, 1)}


def make_text_pdf(title: str, paragraphs: list[str], header: str) -> bytes:
    """A text PDF written by hand (no browser, byte-stable): STSong-Light through the
    UniGB-UTF16-H CMap — the non-embedded Adobe-GB1 font many 公文 PDFs name and every reader
    maps to Unicode — lines placed as a 公文 lays them out: 30 characters of 15 pt, 2-character
    first-line indents, 24 lines a page, a running header and a "— N —" page number."""
    width, height, size, left, top, lead, per_line, per_page = 595, 842, 15, 72, 110, 26.25, 30, 24
    placed = [(title, (width - len(title) * 20) / 2, 20)]
    for para in paragraphs:
        for i, line in enumerate(_wrap(para, per_line, 2)):
            placed.append((line, left + (2 * size if i == 0 else 0), size))
    pages = [placed[i : i + per_page] for i in range(0, len(placed), per_page)]

    def show(text: str, x: float, y: float, sz: float) -> str:  # y from the top, as on paper
        return (f"BT /F1 {sz:g} Tf {x:.2f} {height - y:.2f} Td "
                f"<{text.encode('utf-16-be').hex().upper()}> Tj ET")

    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "
           b"/DescendantFonts [4 0 R] >>",
        4: b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo "
           b"<< /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 5 0 R "
           b"/DW 1000 >>",
        5: b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox "
           b"[-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 "
           b"/StemV 93 >>",
    }
    kids = []
    for n, lines in enumerate(pages):
        ops = [show(header, (width - len(header) * 9) / 2, 50, 9),
               show(f"— {n + 1} —", width / 2 - 20, height - 45, 10)]
        ops += [show(text, x, top + i * lead, sz) for i, (text, x, sz) in enumerate(lines)]
        stream = zlib.compress("\n".join(ops).encode("ascii"))
        number = 6 + 2 * n
        objects[number] = (f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n"
                           .encode() + stream + b"\nendstream")
        objects[number + 1] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
                               f"/Resources << /Font << /F1 3 0 R >> >> /Contents {number} 0 R >>"
                               ).encode()
        kids.append(f"{number + 1} 0 R")
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    return _pdf_file(objects)


# -- DOCX --------------------------------------------------------------------------------------
def make_docx(title: str, paragraphs: list[str],
              header: str = "广州市黄埔区人民政府办公室") -> bytes:
    """python-docx: title, body paragraphs, a table, and a footer with a PAGE field."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text).paragraph_format.first_line_indent = docx.shared.Pt(24)
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = "第 "
    run = footer.add_run()
    for tag, attr in (("w:fldChar", "begin"), ("w:instrText", None), ("w:fldChar", "end")):
        el = OxmlElement(tag)
        if attr:
            el.set(qn("w:fldCharType"), attr)
        else:
            el.text = "PAGE"
        run._r.append(el)
    footer.add_run(" 页")
    document.sections[0].header.paragraphs[0].text = header
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# -- OFD ---------------------------------------------------------------------------------------
OFD_NS = "http://www.ofdspec.org/2016"


def _wrap(text: str, width: int, indent: int) -> list[str]:
    lines, first = [], True
    while text:
        take = width - (indent if first else 0)
        lines.append(text[:take])
        text, first = text[take:], False
    return lines


def make_ofd(title: str, paragraphs: list[str], header: str = "漳州高新区管委会") -> bytes:
    """An OFD package as GB/T 33190 lays it out: OFD.xml → Doc_0/Document.xml → pages with
    TextObjects per line (2-character indents, wrapped at 37 characters of 4.2 mm), a running
    header in every page's content and a "- N -" page number at the foot."""
    size, left, top, per_line, per_page = 4.2, 27.0, 37.0, 37, 28
    placed: list[tuple[str, float, float]] = [(title, 105 - len(title) * size / 2, 0)]
    for para in paragraphs:
        for i, line in enumerate(_wrap(para, per_line, 2)):
            placed.append((line, left + (2 * size if i == 0 else 0), 0))
    pages = [placed[i : i + per_page] for i in range(0, len(placed), per_page)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd='
                   f'"{OFD_NS}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
                   f"<ofd:DocID>test</ofd:DocID><ofd:Title>{html.escape(title)}</ofd:Title>"
                   "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
                   "</ofd:DocBody></ofd:OFD>")
        page_list = "".join(f'<ofd:Page ID="{i + 10}" BaseLoc="Pages/Page_{i}/Content.xml"/>'
                            for i in range(len(pages)))
        z.writestr("Doc_0/Document.xml", f'<?xml version="1.0" encoding="UTF-8"?>'
                   f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData><ofd:MaxUnitID>999'
                   "</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297"
                   "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml"
                   f"</ofd:PublicRes></ofd:CommonData><ofd:Pages>{page_list}</ofd:Pages>"
                   "</ofd:Document>")
        z.writestr("Doc_0/PublicRes.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res '
                   f'xmlns:ofd="{OFD_NS}" BaseLoc="Res"><ofd:Fonts><ofd:Font ID="2" '
                   'FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>')
        for n, lines in enumerate(pages):
            objs, uid = [], 100
            extra = [(header, 105 - len(header) * 1.5, 14.0, 3.0),
                     (f"- {n + 1} -", 100.0, 285.0, 3.5)]
            body = [(text, x, top + i * size * 1.8, size) for i, (text, x, _) in enumerate(lines)]
            for text, x, y, sz in extra + body:
                uid += 1
                w = len(text) * sz
                objs.append(
                    f'<ofd:TextObject ID="{uid}" Boundary="{x:.2f} {y - sz:.2f} {w:.2f} '
                    f'{sz * 1.4:.2f}" Font="2" Size="{sz}"><ofd:TextCode X="0" Y="{sz:.2f}" '
                    f'DeltaX="g {max(len(text) - 1, 1)} {sz}">{html.escape(text)}'
                    "</ofd:TextCode></ofd:TextObject>")
            z.writestr(f"Doc_0/Pages/Page_{n}/Content.xml",
                       f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{OFD_NS}">'
                       f'<ofd:Content><ofd:Layer ID="{n + 1}">{"".join(objs)}</ofd:Layer>'
                       "</ofd:Content></ofd:Page>")
    return buf.getvalue()


def pinned_zip(data: bytes, when: tuple[int, ...] = (2025, 4, 1, 0, 0, 0)) -> bytes:
    """The same zip with every member's timestamp set to `when` (python-docx and zipfile stamp
    the current time): a fixture rebuilt from the same inputs is the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            pinned = zipfile.ZipInfo(info.filename, when)
            pinned.compress_type, pinned.external_attr = info.compress_type, info.external_attr
            dst.writestr(pinned, src.read(info))
    return out.getvalue()


# -- a scanned page ----------------------------------------------------------------------------
def make_scan(title: str, paragraphs: list[str], dpi: int = 150, seed: int = 15) -> bytes:
    """One A4 page of text rendered at 300 dpi, then degraded as a scanner does — down to `dpi`,
    rotated 0.6°, speckle noise — and saved as an image-only PDF."""
    from PIL import Image, ImageDraw, ImageFont

    scale = 300 / 72
    page = Image.new("L", (int(595 * scale), int(842 * scale)), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(NOTO_SERIF), int(12 * scale))
    big = ImageFont.truetype(str(NOTO_SERIF), int(16 * scale))
    left, right, y = int(70 * scale), int(525 * scale), int(80 * scale)
    draw.text(((page.width - draw.textlength(title, font=big)) / 2, y), title, font=big, fill=0)
    y += int(40 * scale)
    em = int(12 * scale)
    for para in paragraphs:
        x, line = left + 2 * em, ""
        for ch in para:
            if x + draw.textlength(line + ch, font=font) > right:
                draw.text((x, y), line, font=font, fill=0)
                y, x, line = y + int(em * 1.7), left, ""
            line += ch
        draw.text((x, y), line, font=font, fill=0)
        y += int(em * 1.7)
    page = page.resize((int(595 * dpi / 72), int(842 * dpi / 72)), Image.Resampling.BILINEAR)
    page = page.rotate(0.6, resample=Image.Resampling.BILINEAR, fillcolor=255)
    rng = random.Random(seed)
    if seed < 0:
        rng = None
    pixels = page.load()
    for _ in range(page.width * page.height // 1500 if rng else 0):
        px, py = rng.randrange(page.width), rng.randrange(page.height)
        pixels[px, py] = rng.choice((0, 90, 160))
    buf = io.BytesIO()
    page.save(buf, "PDF", resolution=dpi)
    return buf.getvalue()


# -- legacy Word -------------------------------------------------------------------------------
def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_doc(title: str, paragraphs: list[str]) -> bytes:
    """Word 97 .doc written by LibreOffice headless from a DOCX (nothing lighter writes .doc)."""
    exe = soffice()
    assert exe, "LibreOffice is needed to write .doc test files"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "report.docx")
        src.write_bytes(make_docx(title, paragraphs))
        subprocess.run([exe, f"-env:UserInstallation=file://{tmp}/lo", "--headless",
                        "--convert-to", "doc", "--outdir", tmp, str(src)],
                       capture_output=True, timeout=180, check=True)
        return Path(tmp, "report.doc").read_bytes()


# -- hostile files -----------------------------------------------------------------------------
def zip_bomb(kind: str, inflated: int = 300 * 1024 * 1024) -> bytes:
    """A DOCX or OFD whose main part inflates to `inflated` bytes of zeros (~300 KB packed)."""
    main = "word/document.xml" if kind == "docx" else "Doc_0/Pages/Page_0/Content.xml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        if kind == "docx":
            z.writestr("[Content_Types].xml", "<Types/>")
        else:
            z.writestr("OFD.xml", f'<ofd:OFD xmlns:ofd="{OFD_NS}"><ofd:DocBody><ofd:DocRoot>'
                       "Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        with z.open(main, "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(inflated // len(chunk)):
                member.write(chunk)
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF with a Standard security handler and a user password we never give."""
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        "<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 "
        f"/O <{'6a' * 32}> /U <{'3f' * 32}> >>",
    ]
    return _pdf_file(_numbered(objs), f"/Encrypt 4 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>] ")


def corrupt_pdf(good: bytes) -> bytes:
    """A real PDF cut short and scrambled in the middle, as a broken upload or transfer leaves it."""
    head = good[: len(good) // 3]
    return head[:200] + bytes(b ^ 0x5A for b in head[200:])


def blank_pages_pdf(pages: int) -> bytes:
    """A valid PDF of `pages` empty pages (over the page limit without being large)."""
    kids = " ".join(f"{i + 3} 0 R" for i in range(pages))
    objs = ["<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>"]
    objs += ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    return _pdf_file(_numbered(objs))
