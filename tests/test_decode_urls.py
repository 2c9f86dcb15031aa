"""Decoding (BOM → header → meta → detection) and URL canonicalisation."""

import codecs

from archive.decode import decode_body
from archive.script import has_traditional, to_simplified
from archive.urls import canonical_url

TEXT = "重庆市九龙坡区人民政府关于2022年法治政府建设情况的报告"


def page(charset_meta: str, body: str) -> str:
    return f'<html><head><meta charset="{charset_meta}"></head><body>{body}</body></html>'


def test_gbk_with_charset_only_in_meta() -> None:
    raw = page("gb2312", TEXT).encode("gbk")
    d = decode_body(raw, "text/html")
    assert TEXT in d.text and d.how == "meta" and d.encoding == "gb18030"


def test_gb18030_only_characters_under_gb2312_label() -> None:
    raw = page("gb2312", "镕基 𠮷").encode("gb18030")
    assert "镕基 𠮷" in decode_body(raw, "text/html; charset=gb2312").text


def test_utf8_bytes_labelled_gb2312_are_read_as_utf8() -> None:
    raw = page("gb2312", TEXT).encode("utf-8")
    d = decode_body(raw, "text/html; charset=gb2312")
    assert TEXT in d.text and d.encoding == "utf-8"


def test_gbk_bytes_labelled_utf8_header() -> None:
    raw = page("gbk", TEXT).encode("gbk")
    assert TEXT in decode_body(raw, "text/html; charset=utf-8").text


def test_bom_wins() -> None:
    raw = codecs.BOM_UTF8 + page("gbk", TEXT).encode("utf-8")
    d = decode_body(raw, "text/html; charset=gbk")
    assert TEXT in d.text and d.how == "bom"


def test_undeclared_gbk_is_detected() -> None:
    raw = f"<html><body>{TEXT}</body></html>".encode("gbk")
    assert TEXT in decode_body(raw, None).text


def test_traditional_to_simplified_only_when_needed() -> None:
    assert has_traditional("廣州開發區")
    assert to_simplified("廣州開發區2023年法治政府建設年度報告") == "广州开发区2023年法治政府建设年度报告"
    assert not has_traditional(TEXT)
    assert to_simplified(TEXT) is TEXT


def test_canonical_url_drops_fragment_and_tracking() -> None:
    assert (canonical_url("HTTP://CQJLP.gov.cn:80/a/t2023.html?from=wx&utm_source=x#top")
            == "http://cqjlp.gov.cn/a/t2023.html")
    assert canonical_url("http://x.gov.cn/Detail.aspx?id=7&spm=1") == "http://x.gov.cn/Detail.aspx?id=7"


def test_canonical_url_maps_big5_gateways() -> None:
    assert (canonical_url("https://www.beijing.gov.cn/gate/big5/www.beijing.gov.cn/gongkai/a.html")
            == "https://www.beijing.gov.cn/gongkai/a.html")
    assert canonical_url("http://big5.hp.gov.cn/a.html") == "http://hp.gov.cn/a.html"
