"""A Redis, and a Redis Sentinel watching it, of a test's own: Debian's redis-server on free ports of
127.0.0.1, nothing saved, their files in the test's folder, stopped when the test ends."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.servers import free_port, terminate


def _answering(port: int, proc: subprocess.Popen[str], ready: str) -> None:
    """Wait until the server on ``port`` answers ``ready`` (a command) without an error."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + 10
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("redis-server exited:\n" + proc.stdout.read())
            try:
                if client.execute_command(ready):
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {port} did not answer {ready!r}")
            time.sleep(0.1)
    finally:
        client.close()


@contextmanager
def redis_server(folder: Path) -> Iterator[tuple[str, int]]:
    """A Redis of the test's own; yields its URL and port."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _answering(port, proc, "PING")
        yield f"redis://127.0.0.1:{port}/0", port
    finally:
        terminate(proc, timeout=10)


@contextmanager
def sentinel(folder: Path, master_port: int, master_name: str) -> Iterator[int]:
    """A Redis Sentinel monitoring the Redis on ``master_port`` as ``master_name``; yields its port."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "sentinel.conf"  # Sentinel rewrites its file: one of its own
    config.write_text(f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                      f"sentinel monitor {master_name} 127.0.0.1 {master_port} 1\n")
    proc = subprocess.Popen(["redis-server", str(config), "--sentinel"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _answering(port, proc, f"SENTINEL GET-MASTER-ADDR-BY-NAME {master_name}")
        yield port
    finally:
        terminate(proc, timeout=10)
