"""The media benchmark: Janus's CPU per forwarded stream and per table of 6 (see docs/performance.md).

    python -m bench.media --tables 1,2,3 --size 6 --window 20   (or scripts/bench-media; one JSON line per step)

Starts a Janus with Renkei's generated configuration in a network namespace of its own, as the media
tests have it (bench/netns.py: Janus 1.1 offers no loopback candidate, and the machine's own addresses
are not for benchmarks): HTTP on the namespace's veth address, ICE on that veth only, so every packet
goes over the veth pair (198.18.0.0/15). It serves a small harness page (bench/media_harness.html with
the vendored janus.js and adapter.js) on 127.0.0.1, and for each step opens ``tables × size`` Chromium
pages with fake devices. Every page publishes audio and 320x240 video to its table's VideoRoom room and
subscribes to the table's other publishers, so a table of n forwards n × (n − 1) feeds (each one
audio and one video stream). Once every page receives all its feeds, Janus's process CPU is read
from /proc/<pid>/stat over a steady window, with the machine's CPU and the frames the browsers
decoded in the same window (to show the media really flowed). Every process it started is stopped.

Rooms are made directly with the stdlib client (no token list: Renkei's tokens are tested
elsewhere); the pages hold the API secret, which is fine for a benchmark on this machine only.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.netns import Namespace, namespace
from rooms.reception.janus import VideoRoomSession, info
from rooms.reception.janus_config import write_config

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "frontend" / "static" / "vendor" / "janus"
CHROMIUM = os.environ.get("RENKEI_CHROMIUM", "/usr/bin/chromium")
SECRET = "renkei-media-bench"
TICKS = os.sysconf("SC_CLK_TCK")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                 # Janus gets IP candidates it can check, not mDNS names (it resolves none).
                 "--disable-features=WebRtcHideLocalIpsWithMdns",
                 # Hidden pages would be throttled: every page is a physician looking at their table.
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows", "--autoplay-policy=no-user-gesture-required"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


def start_janus(directory: Path, netns: Namespace) -> tuple[subprocess.Popen[bytes], str]:
    """Janus inside ``netns`` (``ip netns exec`` execs it, so the process id is Janus's own for /proc)."""
    port = free_port()
    write_config(directory, port=port, api_secret=SECRET, admin_secret=SECRET + "-admin",
                 ice_enforce_list=netns.inner_interface, http_ip=netns.inner_address, debug_level=2)
    log = open(directory / "janus.log", "ab")
    janus = subprocess.Popen(netns.command(["janus", "-C", str(directory / "janus.jcfg"), "-F", str(directory)]),
                             stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{netns.inner_address}:{port}/janus"
    deadline = time.monotonic() + 15
    while True:
        try:
            info(url, SECRET, timeout=0.5)
            return janus, url
        except OSError:
            if janus.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("janus did not start: " + (directory / "janus.log").read_text()[-2000:])
            time.sleep(0.1)


def serve_harness(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    for name in ("adapter.js", "janus.js"):
        shutil.copy(VENDOR / name, directory / name)
    shutil.copy(Path(__file__).with_name("media_harness.html"), directory / "index.html")
    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.html"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def rooms(url: str, count: int, size: int, first: int) -> list[int]:
    ids = list(range(first, first + count))
    with VideoRoomSession(url, SECRET) as s:
        for room in ids:
            s.message({"request": "create", "room": room, "publishers": size, "description": f"bench {room}",
                       "audiolevel_event": True, "record": False})
    return ids


def destroy(url: str, ids: list[int]) -> None:
    with VideoRoomSession(url, SECRET) as s:
        for room in ids:
            s.message({"request": "destroy", "room": room})


def totals(pages: list[Any]) -> dict[str, Any]:
    summed: dict[str, Any] = {"frames": 0, "audioBytes": 0, "videoBytes": 0, "chosen": []}
    for page in pages:
        for key, value in page.evaluate("bench.totals()").items():
            summed[key] += value  # the chosen pairs' [local, remote] addresses are lists: concatenated
    return summed


def step(browser: Any, harness: str, url: str, janus_pid: int, netns: Namespace, tables: int, size: int,
         window: float, warmup: float, first_room: int) -> dict[str, Any]:
    """One measurement: ``tables`` tables of ``size`` pages, all publishing and receiving; the figures."""
    ids = rooms(url, tables, size, first_room)
    # Granted up front: Chromium enumerates the interfaces (the veth's host end among them) only with media
    # permission, and otherwise binds to "any" and names the default route's address (eth0's).
    context = browser.new_context(permissions=["camera", "microphone"])
    pages = []
    try:
        for room in ids:
            for seat in range(size):
                page = context.new_page()
                page.goto(f"{harness}?janus={url}&secret={SECRET}&room={room}&name=t{room}s{seat}")
                pages.append(page)
        want = 2 * (size - 1)  # audio and video of every other publisher
        deadline = time.monotonic() + 60 + 30 * tables
        while True:
            states = [p.evaluate("({p: bench.published, t: bench.remoteTracks, e: bench.error})") for p in pages]
            if errors := [s["e"] for s in states if s["e"]]:
                raise RuntimeError(f"a page failed: {errors[0]}")
            if all(s["p"] and s["t"] >= want for s in states):
                break
            if time.monotonic() > deadline:
                return {"tables": tables, "ok": False, "ready": sum(s["p"] and s["t"] >= want for s in states),
                        "pages": len(pages)}
            time.sleep(0.5)
        time.sleep(warmup)
        before = (time.monotonic(), process_seconds(janus_pid), machine_busy(), totals(pages))
        time.sleep(window)
        after = (time.monotonic(), process_seconds(janus_pid), machine_busy(), totals(pages))
    finally:
        context.close()
        destroy(url, ids)
    elapsed = after[0] - before[0]
    janus_cores = (after[1] - before[1]) / elapsed
    machine = (after[2][0] - before[2][0]) / (after[2][1] - before[2][1])
    feeds = tables * size * (size - 1)  # each an audio and a video stream
    frames = after[3]["frames"] - before[3]["frames"]
    # What the subscribers received is what Janus forwarded (its sending side), audio and video.
    mbit = sum(after[3][k] - before[3][k] for k in ("audioBytes", "videoBytes")) * 8 / 1e6 / elapsed
    # Every chosen pair should be the veth pair (this machine's end, Janus's end): anything else is reported.
    chosen = after[3]["chosen"]
    veth = sum(c == [netns.host_address, netns.inner_address] for c in chosen)
    return {
        "tables": tables, "ok": True, "pages": len(pages), "window_s": round(elapsed, 1),
        "forwarded_feeds": feeds, "forwarded_streams": 2 * feeds,
        "janus_cpu_percent_of_a_core": round(100 * janus_cores, 1),
        "janus_cpu_ms_per_s_per_feed": round(1000 * janus_cores / feeds, 2),
        "janus_cpu_percent_per_table": round(100 * janus_cores / tables, 2),
        "machine_busy_percent": round(100 * machine, 1),
        "decoded_fps_per_feed": round(frames / elapsed / feeds, 1),
        "audio_kbit_s_per_feed": round((after[3]["audioBytes"] - before[3]["audioBytes"]) * 8 / 1000 / elapsed / feeds, 1),
        "forwarded_mbit_s": round(mbit, 2),
        "janus_cpu_percent_per_forwarded_mbit_s": round(100 * janus_cores / mbit, 2) if mbit else None,
        "video_kbit_s_per_feed": round((after[3]["videoBytes"] - before[3]["videoBytes"]) * 8 / 1000 / elapsed / feeds, 1),
        "veth_pairs": f"{veth}/{len(chosen)}", "pair_addresses": sorted({" ↔ ".join(map(str, c)) for c in chosen}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", default="1,2,3", help="the steps: how many tables at once, e.g. 1,2,3")
    parser.add_argument("--size", type=int, default=6, help="people (publishers) per table")
    parser.add_argument("--window", type=float, default=20, help="seconds measured per step")
    parser.add_argument("--warmup", type=float, default=5, help="seconds after every page receives everything")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="renkei-media-bench-"))
    with namespace() as netns:
        return run(args, work, netns)


def run(args: argparse.Namespace, work: Path, netns: Namespace) -> int:
    from playwright.sync_api import sync_playwright

    janus, url = start_janus(work / "janus", netns)
    server, harness = serve_harness(work)
    print(f"# {os.cpu_count()} cores; janus pid {janus.pid} at {url} (namespace {netns.name}); harness {harness}",
          file=sys.stderr)
    first_room = 1000
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                for tables in [int(t) for t in args.tables.split(",")]:
                    result = step(browser, harness, url, janus.pid, netns, tables, args.size, args.window,
                                  args.warmup, first_room)
                    first_room += tables
                    print(json.dumps(result, ensure_ascii=False), flush=True)
                    if not result["ok"]:
                        break  # the machine holds no more: the next step would only be worse
            finally:
                browser.close()
    finally:
        server.shutdown()
        janus.terminate()
        try:
            janus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            janus.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
