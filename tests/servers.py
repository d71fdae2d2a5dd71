"""Real Daphne processes for tests that cross process boundaries (Redis layer, browsers)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daphne(NamedTuple):
    proc: subprocess.Popen[str]
    base: str  # http://127.0.0.1:<port>
    log: list[str]  # every line it printed, read continuously so the pipe never fills


@contextmanager
def daphne_process(env: dict[str, str], port: int | None = None, log_level: str = "WARNING",
                   log_file: Path | None = None) -> Iterator[Daphne]:
    """Serve server.asgi on 127.0.0.1 as its own process (a test may kill it); it is stopped afterwards.

    At INFO its log has Renkei's access lines (server.logs), one JSON object each. With ``log_file``, every
    line is also written there (a test that breaks things on purpose shows it on failure).
    """
    port = port or free_port()
    if "CHANNEL_LAYER_PREFIX" in env and "CELERY_KEY_PREFIX" not in env:
        # A task the server queues (a registration's mail) goes under the test's own prefix, which the test
        # deletes, not the run's: there nobody consumes it, and a later test's real worker ran it as its own.
        env = {**env, "CELERY_KEY_PREFIX": env["CHANNEL_LAYER_PREFIX"] + ":"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "server.asgi:application"],
        cwd=ROOT, env={**os.environ, "LOG_LEVEL": log_level, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    log: list[str] = []
    def read() -> None:
        with open(log_file, "w") if log_file is not None else contextlib.nullcontext() as out:
            for line in proc.stdout:
                log.append(line)
                if out is not None:
                    out.write(line)
                    out.flush()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                reader.join(timeout=5)
                raise RuntimeError("daphne exited:\n" + "".join(log))
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"daphne did not listen on {port}")
        yield Daphne(proc, f"http://127.0.0.1:{port}", log)
    finally:
        terminate(proc, timeout=10)


def access_lines(log: list[str]) -> list[dict]:
    """Renkei's JSON access lines (server.logs, at INFO with LOG_FORMAT=json) among what a process printed."""
    lines = []
    for line in list(log):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("logger") == "renkei.access":
            lines.append(record)
    return lines


@contextmanager
def daphne(env: dict[str, str], port: int | None = None, log: Path | None = None) -> Iterator[str]:
    """Serve server.asgi on 127.0.0.1 and yield its base URL; the process is stopped afterwards."""
    with daphne_process(env, port, log_file=log) as server:
        yield server.base


def terminate(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, and SIGKILL if the process is still there after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class RunCommand(NamedTuple):
    proc: subprocess.Popen[str]
    output: str  # everything it printed until it listened (the logins and the join link)
    log: list[str]  # what it prints afterwards, read continuously so the pipe never fills
    reader: threading.Thread  # the thread that reads it: done once the command has exited and all is read


# The run command must behave as on a fresh machine: the embedded defaults, none of the test run's services.
RUN_COMMAND_CLEARS = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "VIRTUAL_ENV"}


def run_command_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in RUN_COMMAND_CLEARS}
    # Its own Janus (started when janus is installed) on a free port too: never the machine's 8088.
    env.update({"RENKEI_DATA_DIR": str(data_dir), "PORT": str(port), "JANUS_PORT": str(free_port()), **extra})
    return env


def start_run_command(data_dir: Path, port: int, **extra: str) -> RunCommand:
    """Start ./scripts/run (the README's run command) and return once it listens; fail with its output if not."""
    proc = subprocess.Popen(["./scripts/run"], cwd=ROOT, env=run_command_env(data_dir, port, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = ""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise AssertionError("run command exited:\n" + output)
        output += line
        # Printed once /healthz answers, after the demo's summary: everything it prints works by then.
        if "Renkei is at http://" in line:
            log: list[str] = []
            reader = threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True)
            reader.start()
            return RunCommand(proc, output, log, reader)
    stop_run_command(proc)
    raise AssertionError("server did not start within 240 s:\n" + output)


def stop_run_command(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # keep the 302 so its cookie can be read
        return None


def session_cookie(base: str, join_path: str) -> str:
    """Open a join link like a browser and return the Cookie header it then sends (the admission cookie it set)."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(base + join_path, timeout=10)
    except urllib.error.HTTPError as exc:  # the 302 arrives as an "error" without redirect handling
        response = exc
    cookie = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie.load(header)
    assert cookie, "the join link set no cookie"
    return "; ".join(f"{name}={morsel.value}" for name, morsel in cookie.items())
