"""Debian's nginx with Renkei's site file (deploy/nginx/, rendered by scripts/nginx-config), for one test.

Everything it writes is under the test's own folder: its prefix, main configuration, pid file,
temporary files and logs. It listens on a free port of 127.0.0.1, runs in the foreground
(``daemon off``) as the test's child, and is stopped when the test ends.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.servers import ROOT, free_port, terminate

MAIN = """\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/renkei.conf;
}}
"""


def proxied_env(postgres_url: str, redis_url: str, prefix: str, static_root: Path) -> dict[str, str]:
    """The environment of Daphne processes behind this proxy: TRUSTED_PROXY_COUNT=1, as the site file says."""
    from django.conf import settings

    return {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix,
            "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0", "DB_CONN_MAX_AGE": "0",
            "TRUSTED_PROXY_COUNT": "1", "STATIC_ROOT": str(static_root), "LOG_FORMAT": "json"}


def collected_static(env: dict[str, str]) -> None:
    """`manage.py collectstatic` into the env's STATIC_ROOT, as a deploy does before nginx serves it."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, check=True,
                   env={**os.environ, **env}, capture_output=True)


class Nginx(NamedTuple):
    base: str  # http://127.0.0.1:<port>
    prefix: Path  # its folder: renkei.conf, the logs

    def access_log(self) -> str:
        path = self.prefix / "renkei.access.log"
        return path.read_text() if path.exists() else ""


@contextmanager
def nginx(prefix: Path, upstreams: list[str], static_root: Path) -> Iterator[Nginx]:
    """Run nginx in front of ``upstreams`` (host:port of each Daphne), serving ``static_root`` at /static/."""
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = subprocess.run(
        [str(ROOT / "scripts" / "nginx-config"), "--listen", f"127.0.0.1:{port}", "--server-name", "127.0.0.1",
         "--static-root", str(static_root), "--log-dir", str(prefix),
         *(arg for upstream in upstreams for arg in ("--upstream", upstream))],
        capture_output=True, text=True, check=True,
    ).stdout
    (prefix / "renkei.conf").write_text(site)
    # Started as root, nginx's workers would switch to "nobody", who cannot read the test's folders.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix, user=user))
    command = ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                raise RuntimeError("nginx exited:\n" + proc.stderr.read() + (prefix / "error.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not listen on {port}") from None
                time.sleep(0.1)
        yield Nginx(f"http://127.0.0.1:{port}", prefix)
    finally:
        terminate(proc, timeout=10)
