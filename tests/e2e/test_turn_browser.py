"""Relay-only WebRTC through a real coturn on 127.0.0.1 with the credentials Renkei
hands out: they connect two peer connections over TURN; expired or forged ones do not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rooms.reception.turn import turn_credentials, turn_password
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.turn_server import Turn, coturn

pytestmark = [pytest.mark.e2e]

# Two peer connections in one page, relay candidates only. Resolves with what
# happened: the message that crossed, the chosen pair from getStats, or, when no
# relay candidate was gathered, the TURN errors. A stall past 30 s rejects (a failure).
RELAY_CALL = """async ({iceServers}) => {
  const cfg = {iceServers, iceTransportPolicy: 'relay'};
  const a = new RTCPeerConnection(cfg), b = new RTCPeerConnection(cfg);
  const relays = [], errors = [];
  const gathered = pc => new Promise(res => {
    if (pc.iceGatheringState === 'complete') res();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') res(); });
  });
  const wire = (from, to) => {
    from.onicecandidate = e => { if (e.candidate) { relays.push(e.candidate.type); to.addIceCandidate(e.candidate); } };
    from.onicecandidateerror = e => errors.push(e.errorCode);
  };
  wire(a, b); wire(b, a);
  const channel = a.createDataChannel('probe');
  const received = new Promise(res => { b.ondatachannel = e => { e.channel.onmessage = m => res(m.data); }; });
  const opened = new Promise((res, rej) => {
    channel.onopen = () => res('open');
    a.oniceconnectionstatechange = () => { if (a.iceConnectionState === 'failed') res('failed'); };
    setTimeout(() => rej(new Error('no ICE outcome in 30 s: ' + a.iceConnectionState)), 30000);
  });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await Promise.all([gathered(a), gathered(b)]);
  if (relays.length === 0) { a.close(); b.close(); return {outcome: 'no relay candidates', errors}; }
  const outcome = await opened;
  if (outcome !== 'open') { a.close(); b.close(); return {outcome, errors}; }
  channel.send('こんにちは');
  const message = await received;
  const stats = [...(await a.getStats()).values()];
  const byId = Object.fromEntries(stats.map(s => [s.id, s]));
  const transport = stats.find(s => s.type === 'transport');
  const pair = byId[transport.selectedCandidatePairId];
  const side = c => ({type: c.candidateType, address: c.address, protocol: c.protocol, relayProtocol: c.relayProtocol});
  const result = {outcome, message, local: side(byId[pair.localCandidateId]), remote: side(byId[pair.remoteCandidateId])};
  a.close(); b.close();
  return result;
}"""


@pytest.fixture(scope="module")
def turn() -> Iterator[Turn]:
    with coturn() as server:
        yield server


@pytest.fixture(scope="module")
def page(turn: Turn) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the README's test command installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Loopback interfaces count for WebRTC, and host addresses are not hidden
        # behind mDNS names: every candidate is a plain 127.0.0.1 address.
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            *CHROMIUM_ARGS, "--allow-loopback-in-peer-connection",
            "--disable-features=WebRtcHideLocalIpsWithMdns"])
        page = browser.new_page()
        page.goto("about:blank")
        yield page
        browser.close()


def _ice_server(urls: list[str], username: str, credential: str) -> list[dict[str, object]]:
    return [{"urls": urls, "username": username, "credential": credential}]


# TCP too: hospital firewalls that drop UDP often still pass TCP to port 3478.
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_renkei_credentials_relay_a_data_channel_through_coturn_on_loopback(turn, page, settings, transport) -> None:
    settings.TURN_URLS, settings.TURN_SECRET = [f"{turn.url}?transport={transport}"], turn.secret
    creds = turn_credentials("physician-1")

    result = page.evaluate(RELAY_CALL, {"iceServers": _ice_server(creds["urls"], creds["username"], creds["credential"])})

    assert result["outcome"] == "open", (result, turn.log.read_text()[-2000:])
    assert result["message"] == "こんにちは"
    assert result["local"]["type"] == result["remote"]["type"] == "relay"
    assert result["local"]["address"] == result["remote"]["address"] == "127.0.0.1"
    assert result["local"]["relayProtocol"] == transport


def test_expired_credentials_gather_no_relay_candidate(turn, page, settings) -> None:
    settings.TURN_URLS, settings.TURN_SECRET = [f"{turn.url}?transport=udp"], turn.secret
    settings.TURN_TTL = -60  # correctly signed, but the expiry lies a minute in the past
    creds = turn_credentials("physician-1")

    result = page.evaluate(RELAY_CALL, {"iceServers": _ice_server(creds["urls"], creds["username"], creds["credential"])})

    assert result["outcome"] == "no relay candidates", result
    assert 401 in result["errors"], result


def test_forged_credentials_gather_no_relay_candidate(turn, page, settings) -> None:
    settings.TURN_URLS, settings.TURN_SECRET = [f"{turn.url}?transport=udp"], turn.secret
    username = turn_credentials("physician-1")["username"]  # a valid expiry, signed with another secret
    forged = turn_password("not-" + turn.secret, username)

    result = page.evaluate(RELAY_CALL, {"iceServers": _ice_server([f"{turn.url}?transport=udp"], username, forged)})

    assert result["outcome"] == "no relay candidates", result
    assert 401 in result["errors"], result
