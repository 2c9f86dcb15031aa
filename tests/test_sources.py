"""The registry loader: every problem names file, line, entry and field."""

from pathlib import Path

import pytest

from crawler.sources import SourcesError, load_sources, main

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


def test_validate_command(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(write(tmp_path, GOOD))]) == 0
    assert main(["validate", str(write(tmp_path, "sources: []\n"))]) == 1
    assert "non-empty list" in capsys.readouterr().err
