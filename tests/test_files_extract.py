"""archive.files on its own: format sniffing, layout rebuilding and every limit, without a crawl."""

from __future__ import annotations

import io

import pytest

from archive.files import FileLimits, FileRejected, extract_file, extract_isolated, sniff
from archive.files.layout import Page, Run, paragraphs
from tests import filemaker as fm

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def small_pdf() -> bytes:
    return fm.make_pdf("某区2023年法治政府建设年度报告", fm.seed_paragraphs("001")[:3])


def test_sniff_trusts_bytes_not_names(small_pdf: bytes) -> None:
    html = b"<!DOCTYPE html><html><body>404</body></html>"
    assert sniff(small_pdf, "http://x/a.html", "text/html").format == "pdf"
    fake = sniff(html, "http://x/report.pdf", "application/pdf")
    assert fake.format == "html" and fake.claimed == "pdf" and fake.mismatch
    assert not sniff(html, "http://x/t2024.html", "text/html").mismatch
    assert sniff(fm.make_docx("t", ["正文"]), "http://x/download?id=1").format == "docx"
    assert sniff(fm.make_ofd("t", ["正文"]), "http://x/a.ofd").format == "ofd"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le")
    assert sniff(ole, "http://x/a.wps").format == "wps"
    assert sniff(ole, "http://x/a.doc").format == "doc"
    assert sniff(b"\x89PNG\r\n\x1a\n....", "http://x/scan.png").format == "image"
    assert sniff(b"\x00\x01garbage", "http://x/a.pdf").format == "unknown"


def test_layout_joins_wrapped_lines_and_drops_furniture() -> None:
    def page(lines: list[tuple[float, float, str]], n: int) -> Page:
        runs = [Run(100, 40, 300, 50, "某区人民政府办公室"), Run(190, 800, 210, 810, f"- {n} -")]
        runs += [Run(x, y, x1, y + 10, t) for x, (y, x1, t) in zip(
            [120 if t.startswith("　") else 100 for _, _, t in lines], lines, strict=True)]
        return Page(400, 842, runs)

    pages = [page([(100, 500, "　第一段开头，这一行写满了右边"), (116, 500, "距的文字一直到行尾"),
                   (132, 300, "第一段结尾。")], 1),
             page([(100, 500, "　第二段从缩进开始，也写满了整"), (116, 500, "行，翻到下一页")], 2),
             page([(100, 260, "继续写完。")], 3)]
    assert paragraphs(pages) == ["第一段开头，这一行写满了右边距的文字一直到行尾第一段结尾。",
                                 "第二段从缩进开始，也写满了整行，翻到下一页继续写完。"]


def test_size_limit() -> None:
    with pytest.raises(FileRejected, match=r"PDF file of 0 MiB \(limit 0 MiB\)"):
        extract_file(b"%PDF-1.4\n" + b" " * 2000, "pdf", FileLimits(max_bytes=1000))


def test_zip_bomb_by_total_and_by_ratio() -> None:
    with pytest.raises(FileRejected, match=r"unpacks to 20 MiB .*zip bomb"):
        extract_file(fm.zip_bomb("docx", 20 * MiB), "docx", FileLimits(max_unzipped=10 * MiB))
    with pytest.raises(FileRejected, match=r"inflates .*zip bomb"):
        extract_file(fm.zip_bomb("ofd", 8 * MiB), "ofd")


def test_encrypted_and_corrupt_pdf(small_pdf: bytes) -> None:
    with pytest.raises(FileRejected, match="encrypted PDF"):
        extract_file(fm.encrypted_pdf(), "pdf")
    with pytest.raises(FileRejected, match="corrupt PDF"):
        extract_file(fm.corrupt_pdf(small_pdf), "pdf")


def test_page_limit() -> None:
    with pytest.raises(FileRejected, match=r"PDF has 12 pages \(limit 10\)"):
        extract_file(fm.blank_pages_pdf(12), "pdf", FileLimits(max_pages=10))


def test_isolated_extraction_matches_in_process(small_pdf: bytes) -> None:
    assert extract_isolated(small_pdf, "pdf") == extract_file(small_pdf, "pdf")


def test_time_limit_inside_the_worker() -> None:
    scan = fm.make_scan("某区2023年法治政府建设年度报告", fm.seed_paragraphs("000")[:2])
    with pytest.raises(FileRejected, match="time limit"):
        extract_isolated(scan, "pdf", FileLimits(seconds=0.5))


def test_memory_limit_of_the_worker(small_pdf: bytes) -> None:
    with pytest.raises(FileRejected, match="out of memory"):
        extract_isolated(small_pdf, "pdf", FileLimits(memory=24 * MiB))


def test_image_scan_is_ocr() -> None:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (900, 160), 255)
    font = ImageFont.truetype(str(fm.NOTO_SERIF), 40)
    ImageDraw.Draw(img).text((30, 50), "依法行政工作报告", font=font, fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    got = extract_file(buf.getvalue(), "image")
    assert got.quality == "ocr" and got.confidence is not None
    assert "依法行政工作报告" in "".join(got.paragraphs)


def test_title_from_link_page_or_document() -> None:
    from archive.attachments import LinkContext, extract_attachment

    title = "某区2023年法治政府建设年度报告"
    body = fm.make_docx(title, fm.seed_paragraphs("000"))
    sniffed = sniff(body, "http://x/a.docx")

    def got(link: LinkContext) -> tuple[str | None, str]:
        ex = extract_attachment(body, "http://x/a.docx", sniffed, link)
        return ex.title, ex.provenance["title"]

    assert got(LinkContext(text="附件1：某县2023年法治政府建设情况报告.docx")) == (
        "某县2023年法治政府建设情况报告", "link text")
    assert got(LinkContext(text="点击下载", page_title="某市2023年法治政府建设年度报告")) == (
        "某市2023年法治政府建设年度报告", "linking page")
    assert got(LinkContext(text="某区2023年法治政府建设…")) == (title, "document")
    assert got(LinkContext()) == (title, "document")
