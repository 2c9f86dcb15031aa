"""Run one benchmark step as a child process: wall time and that child's own peak RSS (wait4)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PROBE = Path("/tmp/probe/bin")
REPO = Path(__file__).resolve().parents[1]


def tool(name: str) -> str:
    """A venv executable: the project's .venv if it has one, else /tmp/probe."""
    for venv in (REPO / ".venv" / "bin", PROBE):
        if (venv / name).exists():
            return str(venv / name)
    return name


@dataclass(slots=True)
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run(cmd: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None,
        log_dir: Path, name: str) -> Run:
    """Run `cmd` to completion; stdout/stderr go to files in `log_dir` (also returned)."""
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.err"
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode,
               out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))
