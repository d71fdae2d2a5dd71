"""A Redis (that a fault test may kill and start again), and a Redis Sentinel watching it, of a test's own: Debian's redis-server on free ports of
127.0.0.1, nothing saved, their files in the test's folder, stopped when the test ends."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.servers import free_port, terminate
from tests.waiting import wait_until


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


class RedisServer:
    """A redis-server on 127.0.0.1, nothing persisted, stopped and started again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "no", "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, f"redis-server to answer on port {self.port}", timeout=15,
                   detail=lambda: (self.directory / "redis.log").read_text(errors="replace"))

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError("redis-server exited:\n" + (self.directory / "redis.log").read_text(errors="replace"))
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: every connection drops at once and nothing in memory survives."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()



@contextmanager
def redis_server(folder: Path) -> Iterator[tuple[str, int]]:
    """A Redis of the test's own; yields its URL and port."""
    with RedisServer(folder) as server:
        yield server.url, server.port


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
