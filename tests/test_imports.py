"""The import rules (#19), read from the source with `ast` — imports inside functions included
(only `if TYPE_CHECKING:` blocks, which never run, are left out):

- no import circles among the project's modules;
- archive/ imports neither Scrapy nor crawler/ (it is importable and testable without them);
- crawler/ writes no SQL: no `sqlite3` / `sqlite_utils` import, no SQL statement in a string.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("archive", "crawler", "datasette", "bench")
SQL = re.compile(r"\b(SELECT\s+\S|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(TABLE|INDEX|VIRTUAL)|PRAGMA\s+\w)")  # upper case, as SQL is written here
SQL_ALLOWED: set[str] = set()  # files of crawler/ that may hold SQL: none


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))
            if ".venv" not in p.parts}


def imported_names(path: Path, name: str) -> list[tuple[str, int]]:
    """Every module `path` imports (anywhere in the file), absolute, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    # `if TYPE_CHECKING:` blocks never run: a mixin may name its host class for the type checker.
    type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                 for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append((base, node.lineno))
            # `from pkg import module` imports the module too
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def project_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for target, _ in imported_names(path, name):
            # the module itself, or the nearest enclosing project module/package
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                deps.add(target)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_sees_a_circle_and_function_level_imports(tmp_path: Path) -> None:
    """The checks themselves can fail: a circle through an import inside a function is found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    src = tmp_path / "m.py"
    src.write_text("import os\nif TYPE_CHECKING:\n    import typed_only\n\ndef f():\n"
                   "    from crawler.x import y\n    if True:\n        import sqlite3\n")
    names = [n for n, _ in imported_names(src, "crawler.m")]
    assert {"crawler.x", "crawler.x.y", "sqlite3", "os"} <= set(names)
    assert "typed_only" not in names
    assert SQL.search('db.execute("SELECT id FROM crawl_runs")')
    assert SQL.search("INSERT OR IGNORE INTO payloads")
    assert not SQL.search("Select the listing adapter first")


def test_no_import_circles() -> None:
    found = cycles(project_graph())
    assert not found, "import circles: " + "; ".join(" ↔ ".join(c) for c in found)


@pytest.mark.parametrize("name", sorted(n for n in project_modules() if n.startswith("archive")))
def test_archive_imports_neither_scrapy_nor_crawler(name: str) -> None:
    path = project_modules()[name]
    bad = [(target, line) for target, line in imported_names(path, name)
           if target.split(".")[0] in ("scrapy", "twisted", "crawler")]
    assert not bad, f"{path.relative_to(REPO)} imports {bad}"


@pytest.mark.parametrize("name", sorted(n for n in project_modules() if n.startswith("crawler")))
def test_crawler_holds_no_sql(name: str) -> None:
    path = project_modules()[name]
    rel = path.relative_to(REPO).as_posix()
    bad = [(target, line) for target, line in imported_names(path, name)
           if target.split(".")[0] in ("sqlite3", "sqlite_utils")]
    assert not bad, f"{rel} imports {bad}"
    if rel in SQL_ALLOWED:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings = [(n.value, n.lineno) for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    sql = [(line, s[:60]) for s, line in strings if SQL.search(s)]
    assert not sql, f"{rel} holds SQL: {sql}"
    # execute(sql, …) / executemany(sql, …); a Redis pipeline's execute() takes no argument
    calls = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and n.args
             and isinstance(n.func, ast.Attribute) and n.func.attr in ("execute", "executemany")]
    assert not calls, f"{rel} calls execute(…) at lines {calls}"


def _loaded_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running `code`."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout
    return {m.split(".")[0] for m in out.split()}


def test_the_crawl_process_loads_neither_trafilatura_nor_redis() -> None:
    """A single-process crawl holds Scrapy, the spider, the pipeline and the writer thread; the
    fallback extractor (~20 MB) belongs to the extraction workers, Redis to distributed mode."""
    loaded = _loaded_after("import crawler.settings, crawler.spiders.reports, crawler.pipelines, "
                           "crawler.writer, crawler.middlewares")
    assert "scrapy" in loaded  # the check sees what was imported
    assert not {"trafilatura", "redis"} & loaded


def test_extraction_workers_start_with_the_extractors_loaded_and_frozen() -> None:
    """The fork server's preload (archive.workers) loads the extractors and freezes the
    collector's view of them, so the workers it forks keep those pages shared. Run in a fresh
    interpreter: a fork server, once started, keeps the preload it started with."""
    out = subprocess.run(
        [sys.executable, "-c", "import gc\nfrom crawler.writer import derive_pool\n"
         "pool = derive_pool(1)\nprint(pool.submit(gc.get_freeze_count).result(timeout=60))\n"
         "pool.shutdown()"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert int(out) > 10_000
