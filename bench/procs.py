"""Run one benchmark step as a child process: wall time and peak memory.

Peak memory is taken two ways: the child's own `ru_maxrss` (wait4: the largest single process of
the tree) and the peak of the whole process tree's summed PSS, sampled from /proc every 0.2 s —
the figure that matters when a step fans out into worker processes.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROBE = Path("/tmp/probe/bin")
REPO = Path(__file__).resolve().parents[1]
SAMPLE_S = 0.2


def tool(name: str) -> str:
    """A venv executable: the project's .venv if it has one, else /tmp/probe."""
    for venv in (REPO / ".venv" / "bin", PROBE):
        if (venv / name).exists():
            return str(venv / name)
    return name


@dataclass(slots=True)
class Run:
    seconds: float
    peak_rss_mb: float        # largest single process (ru_maxrss)
    peak_tree_mb: float       # largest sampled sum of PSS over the process tree
    returncode: int
    stdout: str
    stderr: str


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return out


def _memory_kb(pid: int) -> int:
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


def _sample(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.wait(SAMPLE_S):
        peak[0] = max(peak[0], sum(_memory_kb(p) for p in _tree(pid)))


def run(cmd: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None,
        log_dir: Path, name: str) -> Run:
    """Run `cmd` to completion; stdout/stderr go to files in `log_dir` (also returned)."""
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.err"
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    peak, stop = [0], threading.Event()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=out, stderr=err)
        sampler = threading.Thread(target=_sample, args=(proc.pid, stop, peak), daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            stop.set()
            sampler.join()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    own = usage.ru_maxrss / 1024
    return Run(seconds, own, max(own, peak[0] / 1024), proc.returncode,
               out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))
