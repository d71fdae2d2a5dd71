"""The README's run command serves the demo on the embedded defaults, and can run again."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest

from tests.servers import NoRedirect, free_port, start_run_command
from tests.servers import stop_run_command as stop
from tests.waiting import wait_until


def start(data_dir, port):
    run = start_run_command(data_dir, port)
    return run.proc, run.output


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
        # The demo's stream is served by Renkei itself: a fresh machine needs no internet to play it.
        playlist = urllib.request.urlopen(base + "/static/demo-stream/1/index.m3u8", timeout=10).read().decode()
        assert playlist.startswith("#EXTM3U") and "#EXT-X-ENDLIST" in playlist
        segment = urllib.request.urlopen(base + "/static/demo-stream/1/" + re.findall(r"^\S+\.ts$", playlist, re.M)[0],
                                         timeout=10)
        assert segment.headers["Content-Type"] == "video/mp2t" and len(segment.read()) > 10_000
        # A talk is live from the start, playing that stream, so a newcomer sees the room at work.
        live = re.search(r"Live now: .+ \(/talks/(\d+)/\), until \d\d:\d\d", first)
        assert live, first
        room = opener.open(f"{base}/talks/{live.group(1)}/", timeout=10).read().decode()
        assert f'data-stream-url="{base}/static/demo-stream/1/index.m3u8"' in room
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


@pytest.mark.e2e
def test_when_the_port_is_taken_the_run_command_says_so_and_prints_no_link_that_would_not_open(tmp_path):
    import socket
    import subprocess

    from tests.servers import ROOT, run_command_env

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        run = subprocess.run(["./scripts/run"], cwd=ROOT, env=run_command_env(tmp_path, port),
                             capture_output=True, text=True, timeout=240, start_new_session=True)
    finally:
        taken.close()
    assert run.returncode != 0
    assert f"Renkei did not start on 127.0.0.1:{port}" in run.stdout
    assert "起動できませんでした" in run.stdout
    assert "join link" not in run.stdout and "Renkei is at" not in run.stdout


@pytest.mark.e2e
def test_the_run_command_prints_a_used_join_link_with_its_token_masked(tmp_path):
    # A join link signs its holder in: its token is a credential, and the console is often pasted
    # into a ticket. Renkei's own access line masks it; Daphne's plain-text one printed it whole.
    run = start_run_command(tmp_path, free_port())
    try:
        link = re.search(r"join link: (\S+)", run.output).group(1)
        token = link.split("/join/", 1)[1].strip("/")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.build_opener(NoRedirect).open(link, timeout=10)
        assert answer.value.code == 302
        wait_until(lambda: any("GET /join/<token>/ 302" in line for line in run.log), "Renkei's access line")
    finally:
        stop(run.proc)
    run.reader.join(timeout=30)  # everything the command printed until it exited
    assert not run.reader.is_alive()
    assert not [line for line in run.log if token in line]
