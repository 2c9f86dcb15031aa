"""The registry loader: every problem names file, line, entry and field."""

from pathlib import Path

import pytest

from crawler.registry_checks import main
from crawler.sources import SourcesError, load_sources

GOOD = """sources:
  - name: cq-jlp
    region: 重庆市九龙坡区
    adcode: "500107"
    level: county
    cms: trs
    hosts: [www.cqjlp.gov.cn]
    start_urls:
      - http://cqjlp.gov.cn/zwgk_251/zfxxgkml_1/fzzfjsndbg/qzf/
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    (src,) = load_sources(write(tmp_path, GOOD))
    assert src.name == "cq-jlp" and src.adcode == "500107"
    assert src.hosts == {"cqjlp.gov.cn", "www.cqjlp.gov.cn"}
    assert src.allows("http://www.cqjlp.gov.cn/a.html")
    assert not src.allows("http://evil.example/a.html")


@pytest.mark.parametrize(
    ("mutation", "line", "field"),
    [
        (lambda t: t.replace("    region: 重庆市九龙坡区\n", ""), 2, "region"),
        (lambda t: t.replace("adcode: \"500107\"", "adcode: \"5001\""), 4, "adcode"),
        (lambda t: t.replace("level: county", "level: village"), 5, "level"),
        (lambda t: t.replace("cms: trs", "cms: trs\n    colour: red"), 7, "colour"),
        # a hint nothing reads is an error, not a silent no-op (hints.link_pattern, gone in #19)
        (lambda t: t.replace("cms: trs", "cms: trs\n    hints: {link_pattern: 'a'}"), 7,
         "hints.link_pattern"),
        (lambda t: t.replace("http://cqjlp", "ftp://cqjlp"), 9, "start_urls"),
        (lambda t: t.replace("name: cq-jlp", "name: CQ JLP"), 2, "name"),
    ],
)
def test_bad_field_is_named_with_line(tmp_path: Path, mutation, line: int, field: str) -> None:
    path = write(tmp_path, mutation(GOOD))
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    message = str(info.value)
    assert f"{path}:{line}:" in message
    assert f"field '{field}'" in message
    assert "entry #1" in message


def test_duplicate_names_and_urls(tmp_path: Path) -> None:
    entry = GOOD.split("\n", 1)[1]
    path = write(tmp_path, GOOD + entry)
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert "duplicate of the entry on line 2" in str(info.value)
    assert "already listed by entry #1" in str(info.value)


def test_broken_yaml_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - name: [unclosed\n")
    with pytest.raises(SourcesError, match=rf"{path}:\d+: not valid YAML"):
        load_sources(path)


EVIDENCE = """    evidence:
      - url: http://cqjlp.gov.cn/zwgk_251/zfxxgkml_1/fzzfjsndbg/qzf/202303/t20230323_11800713.html
        title: 重庆市九龙坡区人民政府关于2022年法治政府建设情况的报告
"""


def test_validate_command(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(write(tmp_path, GOOD + EVIDENCE))]) == 0
    assert main(["validate", str(write(tmp_path, "sources: []\n"))]) == 1
    assert "non-empty list" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda t: t.replace(EVIDENCE, ""), "field 'evidence': required"),
        (lambda t: t.replace('"500107"', '"110107"'),
         "110107 is 北京市石景山区, but region '重庆市九龙坡区' names 重庆市九龙坡区 (500107)"),
        (lambda t: t.replace('"500107"', '"500199"'), "500199 is not a known division code"),
        (lambda t: t.replace("url: http://cqjlp.gov.cn", "url: http://evil.example"),
         "URL host 'evil.example' is not one of the source's hosts"),
        (lambda t: t.replace("hosts: [www.cqjlp.gov.cn]", "hosts: [www.example.com]"),
         "'www.example.com' is unrelated"),
        (lambda t: t.replace("title: 重庆市", "title: 招聘公告 重庆市").replace("法治政府建设", "工作"),
         "does not look like a rule-of-law report"),
        (lambda t: t.replace("    level: county\n", ""), "field 'level': required"),
    ],
)
def test_validate_registry_rules(tmp_path: Path, capsys, mutation, message: str) -> None:
    path = write(tmp_path, mutation(GOOD + EVIDENCE))
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: cq-jlp: field" in err and message in err


def test_shipped_registry_validates(capsys) -> None:
    assert main(["validate"]) == 0, capsys.readouterr().err
