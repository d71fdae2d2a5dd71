"""The test command refuses to run, naming the service, when PostgreSQL or Redis is unreachable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("variable", "url", "named"),
    [
        ("TEST_REDIS_URL", "redis://127.0.0.1:1/0", "Redis is unreachable"),
        ("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:1/renkei", "PostgreSQL is unreachable"),
    ],
)
def test_it_stops_with_a_clear_message_when_a_service_is_missing(variable, url, named):
    env = dict(os.environ, **{variable: url})
    result = subprocess.run(["./scripts/test", "--collect-only", "-q"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert named in result.stderr
    assert "Cannot run the tests" in result.stderr
    assert "passed" not in result.stdout
