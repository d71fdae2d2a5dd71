"""The README's run command serves the demo on the embedded defaults, and can run again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "VIRTUAL_ENV"}}
    env.update(RENKEI_DATA_DIR=str(data_dir), PORT=str(port))
    proc = subprocess.Popen(["./scripts/run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    output = ""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            pytest.fail("run command exited:\n" + output)
        output += line
        if "Listening on TCP address" in line:
            return proc, output
    stop(proc)
    pytest.fail("server did not start within 240 s:\n" + output)


def stop(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.e2e
def test_the_run_command_serves_the_demo_twice_without_duplicating_it(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, first = start(tmp_path, port)
    try:
        home = urllib.request.urlopen(base + "/", timeout=10).read().decode()
        assert "東北 がんゲノム医療 Web講演会シリーズ" in home
        assert "Organizer login: organizer / " in first
        link = re.search(r"join link: (\S+)", first).group(1)
        assert link.startswith(base + "/"), "the printed join link must point at the port the demo serves on"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        lobby = opener.open(link, timeout=10)
        assert lobby.geturl().endswith("/lobby/")
        assert "data-countdown" in lobby.read().decode()
        css = urllib.request.urlopen(base + "/static/renkei/app.css", timeout=10)
        assert css.status == 200
    finally:
        stop(proc)
    proc, second = start(tmp_path, port)
    try:
        counts = re.findall(r"\((\d+) registrations, (\d+) new\)", first + second)
        assert counts[0] == (counts[0][0], counts[0][0]) and int(counts[0][0]) >= 24
        assert counts[1] == (counts[0][0], "0")
        assert urllib.request.urlopen(base + "/", timeout=10).status == 200
    finally:
        stop(proc)
