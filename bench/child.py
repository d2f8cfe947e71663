"""Runs one command as a fresh child process and measures it: wall time and the child's own peak RSS.

Shared by the benchmarks so each measures the same way (``os.wait4`` gives that one child's resource usage).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Child:
    """What a finished child did."""

    wall: float
    rss_mb: float
    exit_code: int
    stdout: str


def run_child(argv: list[str], cwd: Path | None = None) -> Child:
    """Run ``argv`` to completion, capturing stdout."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        stdout = out.read().decode()
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    rss_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    return Child(wall, rss_mb, os.waitstatus_to_exitcode(status), stdout)
