"""Writes to accepted connections are sent at the end of the loop's turn, without waiting for epoll
(server.prompt_writes), and still arrive whole, in order, and before a close."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.prompt_writes_peer import pattern

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def peer() -> Iterator[int]:
    process = subprocess.Popen([sys.executable, "-m", "tests.server.prompt_writes_peer"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip().isdigit(), f"the peer did not start (exit code {process.poll()})"
        yield int(line)
    finally:
        process.kill()
        process.wait(timeout=10)


def ask(port: int, command: str, expect: int | None = None) -> bytes:
    """Send one command; read until the peer closes (``expect`` None) or ``expect`` bytes came."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(command.encode() + b"\n")
        received = bytearray()
        while expect is None or len(received) < expect:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            received += chunk
        return bytes(received)


def stats(port: int) -> dict[str, int]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"stats\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = conn.recv(4096)
            assert chunk, "the peer closed without its stats"
            reply += chunk
    return json.loads(reply)


def test_lines_written_in_one_turn_arrive_in_one_send_without_waiting_for_epoll(peer: int) -> None:
    before = stats(peer)
    expected = b"".join(f"line {i}\n".encode() for i in range(3))
    assert ask(peer, "small 3", expect=len(expected)) == expected
    after = stats(peer)
    # The earlier stats reply was itself one prompt send.
    assert after["sends"] - before["sends"] == 2
    assert after["registered"] == before["registered"]


def test_more_than_the_socket_takes_at_once_arrives_whole_and_in_order(peer: int) -> None:
    before = stats(peer)
    size = 4 << 20  # 32 sends of Twisted's 128 KiB at least, more than the kernel's buffers hold
    assert ask(peer, f"big {size}", expect=size) == pattern(size)
    assert stats(peer)["registered"] > before["registered"]  # the rest waited for epoll, as Twisted does


def test_a_connection_closed_after_a_write_delivers_the_write_then_ends(peer: int) -> None:
    assert ask(peer, "close") == b"bye\n"


def test_a_process_without_an_asyncio_reactor_is_left_alone() -> None:
    probe = ("import sys; from server import prompt_writes; "
             "print(prompt_writes.install(), 'twisted.internet.reactor' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "False"], result.stderr
