"""Real Daphne processes for tests that cross process boundaries (Redis layer, browsers)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def daphne(env: dict[str, str], port: int | None = None) -> Iterator[str]:
    """Serve server.asgi on 127.0.0.1 and yield its base URL; the process is stopped afterwards."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "server.asgi:application"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("daphne exited:\n" + proc.stdout.read())
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"daphne did not listen on {port}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # keep the 302 so its cookie can be read
        return None


def session_cookie(base: str, join_path: str) -> str:
    """Open a join link like a browser and return the session cookie it set."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(base + join_path, timeout=10)
    except urllib.error.HTTPError as exc:  # the 302 arrives as an "error" without redirect handling
        response = exc
    cookie = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie.load(header)
    return f"sessionid={cookie['sessionid'].value}"
