"""A network namespace of its own, joined to this machine by a veth pair, for a process that cannot use loopback.

The project's rule: traffic in tests and benchmarks goes only to 127.0.0.1, and where a component cannot
use loopback, the run makes its own network namespace instead of using the machine's own addresses.
Janus 1.1 is such a component: its ICE skips loopback interfaces before reading ``ice_enforce_list``,
so on the host its candidates are the machine's eth0 addresses. Inside a namespace made here it has one
interface besides loopback, the veth end with an address from the benchmarking range 198.18.0.0/15
(RFC 2544), IPv4 only and without a default route: its only candidate is that address and its only
peer is the host end of the pair.

    with namespace() as ns:
        subprocess.Popen(ns.command(["janus", ...]))   # ns.inner_address is its address, ns.host_address ours

Used by tests/rooms/janus_server.py and bench/media.py; it needs root (``ip netns``) and says so loudly
when it is not allowed. Names carry this process's id, each run takes a /30 no host interface holds yet,
and everything it made is removed on the way out, failures included (deleting the host end of the pair
deletes both ends).
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RANGE = ipaddress.IPv4Network("198.18.0.0/15")
BLOCKS = RANGE.num_addresses // 4  # one /30 per namespace: network, host end, inner end, broadcast
_made = itertools.count(1)  # namespaces made by this process, for unique names within it


class NamespaceUnavailable(RuntimeError):
    """``ip netns`` is missing or not permitted: the media tests cannot keep their packets off eth0."""


@dataclass(frozen=True)
class Namespace:
    name: str
    host_interface: str  # in this machine's namespace, holds host_address
    inner_interface: str  # inside the namespace, holds inner_address
    host_address: str
    inner_address: str

    def command(self, argv: list[str]) -> list[str]:
        """argv run inside the namespace (``ip netns exec`` execs it: the process id is the command's own)."""
        return ["ip", "netns", "exec", self.name, *argv]


def _ip(*args: str, namespace: str | None = None) -> str:
    argv = ["ip", *args] if namespace is None else ["ip", "netns", "exec", namespace, "ip", *args]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode:
        raise NamespaceUnavailable(f"`{' '.join(argv)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _taken_blocks() -> set[int]:
    """The /30 blocks of the range that an interface of this machine already holds (another run's pair)."""
    taken = set()
    for link in json.loads(_ip("-j", "addr") or "[]"):
        for a in link.get("addr_info", []):
            if a.get("family") == "inet" and ipaddress.IPv4Address(a["local"]) in RANGE:
                taken.add((int(ipaddress.IPv4Address(a["local"])) - int(RANGE.network_address)) // 4)
    return taken


def _free_block(start: int) -> tuple[str, str]:
    """(host, inner) addresses of the first free /30 from ``start``: derived from the pid, so parallel runs
    begin far apart, and checked against the addresses already up."""
    taken = _taken_blocks()
    for offset in range(BLOCKS):
        block = (start + offset) % BLOCKS
        if block not in taken:
            base = int(RANGE.network_address) + 4 * block
            return str(ipaddress.IPv4Address(base + 1)), str(ipaddress.IPv4Address(base + 2))
    raise NamespaceUnavailable(f"every /30 of {RANGE} is held by an interface of this machine")


def _sysctl_in(namespace: str, key: str, value: str) -> None:
    # /proc/sys/net belongs to the writer's namespace: it has to be written from inside.
    path = "/proc/sys/" + key.replace(".", "/")
    done = subprocess.run(["ip", "netns", "exec", namespace, "sh", "-c", f"echo {value} > {path}"],
                          capture_output=True, text=True)
    if done.returncode:
        raise NamespaceUnavailable(f"could not set {key}={value} in {namespace}: {done.stderr.strip()}")


def _sysctl(key: str, value: str) -> None:
    """A setting of this machine's namespace: only ever one of the pair's host end, made by this run."""
    try:
        Path("/proc/sys/" + key.replace(".", "/")).write_text(value)
    except OSError as exc:
        raise NamespaceUnavailable(f"could not set {key}={value}: {exc}") from exc


@contextmanager
def namespace() -> Iterator[Namespace]:
    """A fresh namespace with lo and one veth end up (IPv4 only, no default route), removed afterwards."""
    if shutil.which("ip") is None:
        raise NamespaceUnavailable("`ip` is missing: install Debian's iproute2 (./scripts/test does)")
    pid, n = os.getpid(), next(_made)
    name = f"rk{pid}-{n}"  # interface names may have 15 characters: pid ≤ 7 digits, "rk" and "-<n>h"
    host_address, inner_address = _free_block(pid * 7 + n)
    ns = Namespace(name, f"{name}h", f"{name}n", host_address, inner_address)
    try:
        _ip("netns", "add", name)
    except NamespaceUnavailable as exc:
        raise NamespaceUnavailable(
            f"cannot create the network namespace {name} ({exc}). The media tests and the media benchmark "
            "run Janus in a namespace of their own so that no packet uses this machine's addresses; they "
            "need root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and a kernel that allows network namespaces.") from exc
    try:
        _ip("link", "add", ns.host_interface, "type", "veth", "peer", "name", ns.inner_interface)
        _ip("link", "set", ns.inner_interface, "netns", name)
        # IPv4 only inside: Janus (libnice) would otherwise add the link-local IPv6 address as a candidate.
        for key in ("all", "default", ns.inner_interface):
            _sysctl_in(name, f"net.ipv6.conf.{key}.disable_ipv6", "1")
        # No default route is not enough: a sender naming its interface (libnice does) makes Linux take any
        # address as on-link. Strict reverse-path filtering inside drops every packet whose source is not on
        # the pair (a browser's check from eth0's address), so no ICE pair but the veth's can succeed...
        for key in ("all", "default", ns.inner_interface):
            _sysctl_in(name, f"net.ipv4.conf.{key}.rp_filter", "1")
        _ip("addr", "add", f"{host_address}/30", "dev", ns.host_interface)
        # ...and the host end answers ARP only for its own address and asks with it, so the namespace never
        # learns a neighbour for this machine's other addresses.
        _sysctl(f"net.ipv4.conf.{ns.host_interface}.arp_ignore", "1")
        _sysctl(f"net.ipv4.conf.{ns.host_interface}.arp_announce", "2")
        _ip("link", "set", ns.host_interface, "up")
        _ip("addr", "add", f"{inner_address}/30", "dev", ns.inner_interface, namespace=name)
        _ip("link", "set", "lo", "up", namespace=name)
        _ip("link", "set", ns.inner_interface, "up", namespace=name)
        yield ns
    finally:
        _remove(ns)


def _remove(ns: Namespace) -> None:
    """Stop what still runs inside, delete the pair and the namespace; raise if any of it stays."""
    pids = subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True, text=True).stdout.split()
    for pid in pids:  # started inside this run's own namespace, so ours
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    # Deleting the namespace frees its veth end only once the kernel gets to it; deleting the host end
    # removes both at once, so the next run never sees a half-gone pair.
    subprocess.run(["ip", "link", "del", ns.host_interface], capture_output=True)
    gone = subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, text=True)
    if gone.returncode and ns.name in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                     text=True).stdout.split():
        raise NamespaceUnavailable(f"could not delete the network namespace {ns.name}: {gone.stderr.strip()}")
