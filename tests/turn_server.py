"""A real coturn on 127.0.0.1 for the tests, configured like production's
use-auth-secret deployment (README, "TURN") but bound to loopback only."""

from __future__ import annotations

import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.servers import free_port, terminate

RELAY_PORTS = 40  # two peer connections need two allocations; the rest is slack


class Turn(NamedTuple):
    url: str
    secret: str
    log: Path


def _config(port: int, secret: str, work: Path) -> str:
    # A random relay range high above the ephemeral ports the kernel hands out
    # to clients, so two test runs on one machine rarely meet.
    low = random.randrange(50000, 65000 - RELAY_PORTS)
    return "\n".join([
        "listening-ip=127.0.0.1", "relay-ip=127.0.0.1", f"listening-port={port}",
        f"min-port={low}", f"max-port={low + RELAY_PORTS}",
        "use-auth-secret", f"static-auth-secret={secret}", "realm=renkei.test",
        "fingerprint", "no-cli", "no-tls", "no-dtls", "no-software-attribute",
        # The peers are browsers on this machine: coturn refuses loopback peers otherwise.
        "allow-loopback-peers",
        "no-stdout-log", "simple-log", f"log-file={work / 'turn.log'}",
        # Nothing under /var: the pid file and the (unused) user database stay in the temp dir.
        f"pidfile={work / 'turn.pid'}", f"userdb={work / 'turndb'}",
    ]) + "\n"


def _wait_listening(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"turnserver exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"turnserver did not listen on 127.0.0.1:{port} in time")


@contextmanager
def coturn() -> Iterator[Turn]:
    binary = shutil.which("turnserver") or "/usr/bin/turnserver"
    if not Path(binary).exists():
        raise RuntimeError("turnserver is missing: ./scripts/test installs Debian's coturn package.")
    with tempfile.TemporaryDirectory(prefix="renkei-turn-") as tmp:
        work = Path(tmp)
        port, secret = free_port(), secrets.token_hex(16)
        (work / "turnserver.conf").write_text(_config(port, secret, work))
        proc = subprocess.Popen([binary, "-c", str(work / "turnserver.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_listening(port, proc, time.monotonic() + 10)
            yield Turn(f"turn:127.0.0.1:{port}", secret, work / "turn.log")
        finally:
            terminate(proc, timeout=5)
