"""The registry of portals (`sources.yaml`): load, validate, and report problems by file and line.

A portal is a row of data, not code. Every error names the file, the line, the entry and the field,
and is raised before any request is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_SOURCES = Path(__file__).with_name("sources.yaml")
LEVELS = ("province", "city", "county", "zone", "department")
CMS_FAMILIES = ("trs", "hanweb", "gkmlpt", "nfcms", "plain", "other")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ADCODE = re.compile(r"^\d{6}$")
REQUIRED = ("name", "region", "start_urls")
OPTIONAL = ("adcode", "level", "hosts", "cms", "evidence", "hints", "notes", "kind", "body",
            "covers")
# column: a listing column (or a lone report URL); portal: a government website to explore for its
# report columns; directory: a page listing government websites (candidate portals).
KINDS = ("column", "portal", "directory")
COVERS_FIELDS = {"name": str, "adcode": str, "level": str}
HINTS = {"max_listing_pages": int}  # hints.link_pattern (validated, never read) removed in #19


class SourcesError(ValueError):
    """A problem in a sources file; the message names file, line, entry and field."""


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    region: str
    start_urls: tuple[str, ...]
    adcode: str | None = None
    level: str | None = None
    cms: str | None = None
    hosts: frozenset[str] = frozenset()
    evidence: tuple[dict[str, str], ...] = ()
    hints: dict[str, Any] = field(default_factory=dict)
    kind: str = "column"
    body: str | None = None       # the issuing body's name, for a department or zone entry
    covers: tuple[dict[str, str], ...] = ()  # bodies a collection column carries reports of
    notes: str | None = None      # why an entry is as it is (e.g. a lone report URL with no column)

    def allows(self, url: str) -> bool:
        """Whether a URL is on one of this source's hosts (start-URL hosts plus `hosts`)."""
        host = (urlsplit(url).hostname or "").lower()
        return host in self.hosts

    def as_row(self) -> dict[str, Any]:
        return {"name": self.name, "region": self.region, "adcode": self.adcode,
                "level": self.level, "cms": self.cms, "start_urls": list(self.start_urls),
                "hosts": sorted(self.hosts), "evidence": list(self.evidence),
                "kind": self.kind, "body": self.body, "covers": list(self.covers)}


def _http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _node_map(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _read_text(path: Path) -> str:
    if path == DEFAULT_SOURCES and not path.is_file():
        # Inside a zipped egg (Scrapyd) the default registry is package data, not a file on disk.
        return resources.files(__package__).joinpath(path.name).read_text(encoding="utf-8")
    return path.read_text(encoding="utf-8")


def load_sources(path: str | Path = DEFAULT_SOURCES) -> list[Source]:
    """Parse and validate a sources file; raise SourcesError listing every problem found."""
    path = Path(path)
    try:
        text = _read_text(path)
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read sources file: {exc.strerror or exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SourcesError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc

    problems: list[str] = []

    def err(node: yaml.Node | None, entry: str, fld: str, msg: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        problems.append(f"{path}:{line}: {entry}: field '{fld}': {msg}")

    if not isinstance(root, yaml.MappingNode) or "sources" not in _node_map(root):
        raise SourcesError(f"{path}:1: top level must be a mapping with a 'sources:' list")
    src_key, src_node = _node_map(root)["sources"]
    if not isinstance(src_node, yaml.SequenceNode) or not src_node.value:
        raise SourcesError(f"{path}:{src_key.start_mark.line + 1}: 'sources' must be a "
                           "non-empty list")

    sources: list[Source] = []
    seen_names: dict[str, int] = {}
    seen_urls: dict[str, str] = {}
    for i, (node, raw) in enumerate(zip(src_node.value, data["sources"], strict=True), start=1):
        if not isinstance(node, yaml.MappingNode) or not isinstance(raw, dict):
            problems.append(f"{path}:{node.start_mark.line + 1}: entry #{i}: must be a mapping")
            continue
        nodes = _node_map(node)
        name = raw.get("name")
        entry = f"entry #{i} ({name})" if isinstance(name, str) else f"entry #{i}"
        n_problems = len(problems)
        for key in raw:
            if key not in REQUIRED and key not in OPTIONAL:
                err(nodes.get(str(key), (node,))[0], entry, str(key),
                    f"unknown field (allowed: {', '.join(REQUIRED + OPTIONAL)})")
        for key in REQUIRED:
            if key not in raw or raw[key] in (None, "", []):
                err(node, entry, key, "required field is missing or empty")

        def at(key: str, nodes: dict = nodes, node: yaml.Node = node) -> yaml.Node:
            return nodes[key][1] if key in nodes else node

        if "name" in raw and not (isinstance(name, str) and _NAME.match(name)):
            err(at("name"), entry, "name", "must be a lower-case slug like 'cq-jlp'")
        elif isinstance(name, str):
            if name in seen_names:
                err(at("name"), entry, "name", f"duplicate of the entry on line {seen_names[name]}")
            seen_names[name] = at("name").start_mark.line + 1
        if "region" in raw and not isinstance(raw["region"], str):
            err(at("region"), entry, "region", "must be text such as 重庆市九龙坡区")
        urls = raw.get("start_urls")
        if urls is not None and not isinstance(urls, list):
            err(at("start_urls"), entry, "start_urls", "must be a list of http(s) URLs")
            urls = []
        for j, url in enumerate(urls or []):
            url_node = at("start_urls").value[j] if isinstance(at("start_urls"),
                                                               yaml.SequenceNode) else node
            if not _http_url(url):
                err(url_node, entry, "start_urls", f"not an http(s) URL: {url!r}")
            elif url in seen_urls:
                err(url_node, entry, "start_urls", f"URL already listed by {seen_urls[url]}")
            else:
                seen_urls[url] = entry
        adcode = raw.get("adcode")
        if adcode is not None:
            adcode = str(adcode)
            if not _ADCODE.match(adcode):
                err(at("adcode"), entry, "adcode", f"must be 6 digits, got {adcode!r}")
        level = raw.get("level")
        if level is not None and level not in LEVELS:
            err(at("level"), entry, "level", f"must be one of {', '.join(LEVELS)}")
        cms = raw.get("cms")
        if cms is not None and cms not in CMS_FAMILIES:
            err(at("cms"), entry, "cms", f"must be one of {', '.join(CMS_FAMILIES)}")
        hosts = raw.get("hosts") or []
        if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
            err(at("hosts"), entry, "hosts", "must be a list of host names")
            hosts = []
        hints = raw.get("hints") or {}
        if not isinstance(hints, dict):
            err(at("hints"), entry, "hints", "must be a mapping")
            hints = {}
        for key, value in hints.items():
            if key not in HINTS:
                err(at("hints"), entry, f"hints.{key}",
                    f"unknown hint (allowed: {', '.join(HINTS)})")
            elif not isinstance(value, HINTS[key]):
                err(at("hints"), entry, f"hints.{key}", f"must be {HINTS[key].__name__}")
        evidence = raw.get("evidence") or []
        if isinstance(evidence, dict):
            evidence = [evidence]
        kind = raw.get("kind", "column")
        if kind not in KINDS:
            err(at("kind"), entry, "kind", f"must be one of {', '.join(KINDS)}")
        notes = raw.get("notes")
        if notes is not None and not (isinstance(notes, str) and notes.strip()):
            err(at("notes"), entry, "notes", "must be text")
        body = raw.get("body")
        if body is not None and not (isinstance(body, str) and body.strip()):
            err(at("body"), entry, "body",
                "must be the issuing body's name, e.g. 重庆市九龙坡区司法局")
        covers = raw.get("covers") or []
        if not isinstance(covers, list):
            err(at("covers"), entry, "covers", "must be a list of {name, adcode, level} mappings")
            covers = []
        for item in covers:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                err(at("covers"), entry, "covers", f"each item needs a 'name': got {item!r}")
                continue
            for key, value in item.items():
                if key not in COVERS_FIELDS:
                    err(at("covers"), entry, f"covers.{key}",
                        f"unknown field (allowed: {', '.join(COVERS_FIELDS)})")
                elif key == "adcode" and not _ADCODE.match(str(value)):
                    err(at("covers"), entry, "covers.adcode", f"must be 6 digits, got {value!r}")
                elif key == "level" and value not in LEVELS:
                    err(at("covers"), entry, "covers.level", f"must be one of {', '.join(LEVELS)}")
        if len(problems) > n_problems:
            continue
        all_hosts = {urlsplit(u).hostname.lower() for u in urls} | {h.lower() for h in hosts}
        sources.append(Source(
            name=name, region=raw["region"], start_urls=tuple(urls), adcode=adcode, level=level,
            cms=cms, hosts=frozenset(all_hosts), evidence=tuple(evidence), hints=dict(hints),
            kind=kind, body=body.strip() if isinstance(body, str) else None,
            covers=tuple({k: str(v) for k, v in c.items()} for c in covers),
            notes=notes.strip() if isinstance(notes, str) else None,
        ))
    if problems:
        raise SourcesError("\n".join(problems))
    return sources


if __name__ == "__main__":  # the registry command lives beside its checks; say so, don't do nothing
    import sys

    sys.exit("the registry command is `python -m crawler.registry_checks validate|stats` "
             "(crawler.sources only loads sources.yaml)")
