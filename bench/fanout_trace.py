"""Lines up a traced benchmark run's stages per chat message: where fan-out latency comes from.

    RENKEI_FANOUT_TRACE=/tmp/t/run scripts/bench -n 2000 --duration 20 --burst 50 --saturate 0 --no-reception
    python -m bench.fanout_trace /tmp/t/run

The servers (rooms.realtime.trace) write ``run.<pid>``; the benchmark writes
``run.clients`` (per message: sent, first and last arrival, last arrival per
server port). Printed per stage, over the steady phase's messages: p50, p99,
max in ms, for Renkei; and the same client-side figures for the bare app.
"""

from __future__ import annotations

import bisect
import json
import sys
from collections import defaultdict
from pathlib import Path


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def row(name: str, values: list[float]) -> str:
    return (f"  {name:<44} p50 {pct(values, 50):8.1f}  p99 {pct(values, 99):8.1f}  max {max(values, default=float('nan')):8.1f}"
            f"  (n={len(values)})")


def load_servers(base: Path) -> dict[int, dict[str, list[tuple[int, str, str]]]]:
    """pid → stage → [(ns, key, extra)]."""
    out: dict[int, dict[str, list[tuple[int, str, str]]]] = {}
    for path in base.parent.glob(base.name + ".*"):
        suffix = path.name[len(base.name) + 1:]
        if not suffix.isdigit():
            continue
        stages: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        for line in path.read_text().splitlines():
            parts = line.split(" ", 3)
            if len(parts) < 3:
                continue
            stages[parts[1]].append((int(parts[0]), parts[2], parts[3] if len(parts) > 3 else ""))
        out[int(suffix)] = stages
    return out


def main(argv: list[str]) -> None:
    base = Path(argv[0])
    phase = argv[1] if len(argv) > 1 else "s"
    clients = [json.loads(line) for line in (base.parent / (base.name + ".clients")).read_text().splitlines()]
    servers = load_servers(base)
    for mode in ("renkei", "bare"):
        msgs = [m for m in clients if m["mode"] == mode and m["cid"].startswith(phase)]
        if not msgs:
            continue
        print(f"{mode}, phase {phase!r}: {len(msgs)} messages")
        print(row("client: sent → first arrival", [(m["first"] - m["sent"]) / 1e6 for m in msgs]))
        print(row("client: sent → last arrival (the benchmark's)", [(m["last"] - m["sent"]) / 1e6 for m in msgs]))
        print(row("client: first → last arrival", [(m["last"] - m["first"]) / 1e6 for m in msgs]))
        ports = sorted({p for m in msgs for p in m["ports"]})
        for port in ports:
            print(row(f"client: sent → last arrival via :{port}", [(m["ports"][port] - m["sent"]) / 1e6 for m in msgs if port in m["ports"]]))
        if mode != "renkei":
            continue
        sent = {m["cid"]: m["sent"] for m in msgs}
        single: dict[str, dict[str, int]] = defaultdict(dict)
        for pid, stages in servers.items():
            for stage in ("recv", "thread0", "thread1", "resumed", "published"):
                for ns, key, _ in stages.get(stage, []):
                    if key in sent:
                        single[key][stage] = ns
        seq = [("sent", "recv"), ("recv", "thread0"), ("thread0", "thread1"), ("thread1", "resumed"),
               ("resumed", "published")]
        for a, b in seq:
            vals = [(v[b] - (sent[k] if a == "sent" else v[a])) / 1e6 for k, v in single.items() if b in v and (a == "sent" or a in v)]
            print(row(f"server(sender): {a} → {b}", vals))
        for pid, stages in sorted(servers.items()):
            layer = {key: ns for ns, key, _ in stages.get("layer", []) if key in sent}
            flush0 = sorted((ns, key, int(extra or 0)) for ns, key, extra in stages.get("flush0", []))
            flush1 = sorted((ns, key, int(extra or 0)) for ns, key, extra in stages.get("flush1", []))
            if not layer:
                continue
            starts = [f[0] for f in flush0]
            lagged: list[float] = []
            written: list[float] = []
            to_layer: list[float] = []
            after: list[float] = []
            total: list[float] = []
            conns = 0
            for key, ns in layer.items():
                if key in single and "recv" in single[key]:
                    to_layer.append((ns - single[key]["recv"]) / 1e6)
                i = bisect.bisect_left(starts, ns)
                if i >= len(flush0) or i >= len(flush1):
                    continue
                lagged.append((flush0[i][0] - ns) / 1e6)
                written.append((flush1[i][0] - flush0[i][0]) / 1e6)
                conns = flush1[i][2]
                total.append((flush1[i][0] - sent[key]) / 1e6)
            print(f"  process {pid} ({conns} sockets, {len(flush0)} flushes):")
            print(row("  recv (sender's process) → layer read here", to_layer))
            print(row("  layer read → flush start (window, loop)", lagged))
            print(row("  flush start → end (the write loop)", written))
            print(row("  sent → flush end", total))
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
