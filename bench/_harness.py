"""Run a benchmark file under pytest, whose `hass` fixture gives a real Home Assistant core.

A benchmark script starts with:
    if __name__ == "__main__":
        from _harness import run_under_pytest
        run_under_pytest(__file__)
and measures in `test_*` functions. Options are passed through the environment (BENCH_*).
"""

from __future__ import annotations

import os
from pathlib import Path
import platform
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(path: str, env: dict[str, str] | None = None) -> int:
    """Run `path` with pytest (output shown, quiet logs); return its exit code."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        path,
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-o",
        "log_level=WARNING",
        "-W",
        "ignore",
    ]
    return subprocess.call(command, cwd=ROOT, env={**os.environ, **(env or {})})


def run_under_pytest(path: str, env: dict[str, str] | None = None) -> None:
    """Run `path` with pytest and exit with its code."""
    sys.exit(run_pytest(path, env))


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text("utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
