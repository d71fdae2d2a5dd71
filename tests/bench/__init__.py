"""What the benchmark smoke tests share: running a benchmark module against the test command's PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def run_benchmark(module: str, *args: str) -> str:
    """``python -m <module> <args>`` on the PostgreSQL server of DATABASE_URL; its output, once it exited 0."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("DATABASE_URL must name the PostgreSQL server (run the README's test command).")
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env={**os.environ, "DATABASE_URL": url},
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout
