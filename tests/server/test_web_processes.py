"""The Procfile's web process (scripts/web): WEB_PROCESSES Daphne processes on consecutive ports, a crashed
one restarted alone, all of them stopped together, and a failed start stopping everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.servers import ROOT, RUN_COMMAND_CLEARS, free_port, terminate
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def two_free_ports() -> int:
    """A free port whose next one is free too."""
    while True:
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def web(tmp_path: Path, port: int, **extra: str) -> subprocess.Popen[str]:
    """scripts/web on the embedded defaults (it needs no services to start), listening on 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if k not in RUN_COMMAND_CLEARS}
    env.update(RENKEI_DATA_DIR=str(tmp_path), PORT=str(port), WEB_BIND="127.0.0.1", LOG_LEVEL="WARNING",
               PATH=f"{Path(sys.executable).parent}:{env['PATH']}", **extra)
    return subprocess.Popen([str(ROOT / "scripts" / "web")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def children(pid: int) -> dict[int, str]:
    """The processes ``pid`` started: {pid: command line}."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found[int(entry.name)] = (entry / "cmdline").read_text().replace("\0", " ")
        except (OSError, IndexError, ValueError):
            continue
    return found


def serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def daphne_on(parent: int, port: int) -> int | None:
    return next((pid for pid, command in children(parent).items() if f"tcp:port={port}:" in command), None)


def listen_queue(port: int) -> int:
    """The listen backlog of the socket listening on ``port`` (``ss`` shows it as Send-Q)."""
    line = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return int(line.split()[2])


def test_the_web_process_serves_on_consecutive_ports_and_restarts_a_crashed_daphne_alone(tmp_path):
    port = two_free_ports()
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_1.db").write_bytes(b"a previous run's")
    proc = web(tmp_path, port, WEB_PROCESSES="2", WEB_RESTART_GRACE="1", PROMETHEUS_MULTIPROC_DIR=str(metrics),
               WEB_BACKLOG="1000")
    try:
        wait_until(lambda: serving(port) and serving(port + 1), "both Daphne processes answering /healthz",
                   timeout=60, interval=0.3)
        # Thousands reconnecting at once must not overflow Daphne's own queue of 50 (the kernel caps it).
        somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
        assert listen_queue(port) == listen_queue(port + 1) == min(1000, somaxconn)
        assert not (metrics / "counter_1.db").exists()
        first, second = daphne_on(proc.pid, port), daphne_on(proc.pid, port + 1)
        assert first and second and len(children(proc.pid)) == 2
        # What prometheus-client writes for the crashed process: its live gauges (connected attendees)
        # must stop counting, its counters stay in the sums.
        (metrics / f"gauge_livesum_{first}.db").write_bytes(b"")
        (metrics / f"counter_{first}.db").write_bytes(b"")
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: daphne_on(proc.pid, port) not in (None, first) and serving(port),
                   "a new Daphne on the crashed one's port", timeout=60, interval=0.3)
        assert daphne_on(proc.pid, port + 1) == second and proc.poll() is None
        assert not (metrics / f"gauge_livesum_{first}.db").exists() and (metrics / f"counter_{first}.db").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not serving(port) and not serving(port + 1)
        assert "restarting it" in proc.stdout.read()
    finally:
        terminate(proc, timeout=10)
        if sys.exc_info()[0] is not None:  # what the web process said, shown with the failure
            print(proc.stdout.read())


def test_the_web_process_stops_every_daphne_and_fails_when_one_cannot_start(tmp_path):
    port = two_free_ports()
    with socket.socket() as taken:  # the second port is in use: that Daphne dies at once
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        proc = web(tmp_path, port, WEB_PROCESSES="2")
        try:
            assert proc.wait(timeout=60) != 0
            output = proc.stdout.read()
            assert f"Daphne on port {port + 1} exited" in output and "stopping the others" in output
            assert not serving(port)
        finally:
            terminate(proc, timeout=10)


@pytest.mark.parametrize(("name", "value", "said"), [
    ("WEB_BACKLOG", "lots", "WEB_BACKLOG must be a whole number, not 'lots'"),
    ("WEB_BACKLOG", "0", "WEB_BACKLOG must be at least 1, not '0'"),
    ("WEB_PROCESSES", "two", "WEB_PROCESSES must be a whole number, not 'two'"),
    ("WEB_RESTART_GRACE", "soon", "WEB_RESTART_GRACE must be a number, not 'soon'"),
])
def test_a_setting_that_is_not_a_number_stops_the_web_process_with_its_name(tmp_path, name, value, said):
    proc = web(tmp_path, free_port(), **{name: value})
    try:
        assert proc.wait(timeout=30) == 2
        assert said in proc.stdout.read()
    finally:
        terminate(proc, timeout=10)
