"""Run one benchmark step as a child process: wall time, CPU time and peak memory.

Peak memory is taken two ways: the child's own `ru_maxrss` (wait4: the largest single process of
the tree) and the peak of the whole process tree's summed PSS, sampled from /proc every 0.2 s —
the figure that matters when a step fans out into worker processes.  CPU time (user + system)
is likewise taken for the whole tree: each process's last /proc/PID/stat reading, sampled at the
same times (the crawl process itself apart from its descendants), and at least what wait4 reports
for the child and the descendants it reaped.
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
    cpu_s: float              # user + system CPU seconds of the whole process tree
    cpu_main_s: float         # of which the child process itself (not its workers)
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


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float | None:
    """utime + stime of one process, from /proc (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _sample(pid: int, stop: threading.Event, peak: list[int], cpu: dict[int, float]) -> None:
    while not stop.wait(SAMPLE_S):
        tree = _tree(pid)
        peak[0] = max(peak[0], sum(_memory_kb(p) for p in tree))
        for p in tree:
            used = _cpu_s(p)
            if used is not None:
                cpu[p] = max(cpu.get(p, 0.0), used)


def run(cmd: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None,
        log_dir: Path, name: str) -> Run:
    """Run `cmd` to completion; stdout/stderr go to files in `log_dir` (also returned)."""
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.err"
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    peak, stop, cpu = [0], threading.Event(), {}
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=out, stderr=err)
        sampler = threading.Thread(target=_sample, args=(proc.pid, stop, peak, cpu), daemon=True)
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
    reaped = usage.ru_utime + usage.ru_stime
    sampled = sum(cpu.values())
    return Run(seconds, own, max(own, peak[0] / 1024), max(reaped, sampled),
               cpu.get(proc.pid, 0.0), proc.returncode,
               out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))
