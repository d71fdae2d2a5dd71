"""The soak: ``scripts/bench --soak MINUTES`` keeps the room alive like a day of talks and watches the servers.

After the usual join (N attendees over two Daphnes), the run goes through cycles
of one talk each (``--soak-cycle`` minutes, default 5):

1. the lecture: chat at ``--soak-chat`` messages/s, reactions at
   ``--soak-reactions``/s, a question every ``--soak-question-every`` s and
   up-votes at ``--soak-upvotes``/s, all at once, in slices of ``--soak-slice`` s;
2. the speaker ends the talk: the reception opens and everyone is moved to a
   table; ``--soak-tables`` tables/s say a message (rotating over every table);
3. the reception closes by its own clock (the seed gives each talk's reception
   ``--soak-reception`` minutes): every socket is closed with 4000, and
   everyone opens the next talk's room with their session, as from the lobby.

Cycles rather than one long lecture with a reception at the end: every cycle
runs every code path (joins to a new talk, chat, reactions, Q&A, the opening,
table chat, the reception clock's close, the per-talk state of each process),
so the first cycle warms all of it up and any state a talk leaves behind shows
as growth in the later ones. With fewer than two cycles' time (the smoke run)
there is one talk whose reception stays open to the end.

Counted after every slice: each chat message (lecture and table) at every socket
that should have it, exactly once; the reactions each socket was told about
(sums of ``reactions`` frames) against those sent; each ``question`` frame (an
ask, or an up-vote: distinct "id:votes") at every socket exactly once.

Memory: VmRSS of both Daphne processes (no worker process runs in the
benchmark) every ``--soak-sample`` s. Warm-up is the first cycle (with one
cycle: the first sixth of the run). Growth compares the RSS at the same point of
a cycle, the end of its lecture (2,000 connected, before the reception): the
last cycle's against the first's; the highest sample after the warm-up is also
compared with the highest during it.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import time
from collections import Counter, defaultdict
from typing import Any

from bench.probes import rss_bytes
from bench.reception import end_talk, merge_stats
from bench.report import fmt, pct

TARGET_GROWTH_PCT = 10.0


def say(*parts: Any) -> None:
    print(*parts, flush=True)


def plan(args: Any) -> dict[str, Any]:
    """Cycles, their length and the reception's, from --soak and the --soak-* options."""
    total = args.soak * 60
    cycle = args.soak_cycle * 60
    cycles = int(total // cycle) if total >= 2 * cycle else 1
    if cycles == 1:  # one talk; its reception opens for the last 40 % and does not close during the run
        return {"cycles": 1, "cycle_s": total, "reception_s": round(total * 0.4, 1), "closes": False,
                "reception_minutes": math.ceil(args.soak) + 5}
    return {"cycles": cycles, "cycle_s": cycle, "reception_s": args.soak_reception * 60, "closes": True,
            "reception_minutes": args.soak_reception}


def loadavg() -> float:
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


class Soak:
    def __init__(self, bench: Any, ports: list[int], servers: list[subprocess.Popen[bytes]]) -> None:
        self.bench = bench
        self.args = bench.args
        self.ports = ports
        self.servers = servers
        self.plan = plan(self.args)
        self.t0 = time.monotonic()
        self.samples: list[dict[str, Any]] = []  # {"t", "rss": {pid: bytes}, "load", "cycle", "what"}
        self.slices: list[dict[str, Any]] = []
        self.cycles: list[dict[str, Any]] = []
        self.totals: Counter[str] = Counter()
        self.n = 0  # slice counter: phases "s<n>." and "t<n>." stay distinct prefixes
        self.cycle = 0
        self.what = "lecture"

    # -- sampling --------------------------------------------------------------

    def rss_now(self, what: str) -> dict[str, Any]:
        sample = {"t": round(time.monotonic() - self.t0, 1), "rss": {p.pid: rss_bytes(p.pid) or 0 for p in self.servers},
                  "load": loadavg(), "cycle": self.cycle, "what": what}
        self.samples.append(sample)
        return sample

    async def sampler(self) -> None:
        while True:
            self.rss_now(self.what)
            await asyncio.sleep(self.args.soak_sample)

    # -- slices ----------------------------------------------------------------

    async def lecture_slice(self, seconds: float) -> None:
        b, a = self.bench, self.args
        k = len(b.workers)
        self.n += 1
        phase = f"s{self.n}."
        before = b.sample(self.servers)
        start_ns = time.time_ns() + 300_000_000
        cmds = [{"cmd": "live", "phase": phase, "seconds": seconds, "start_at_ns": start_ns + int(w / a.soak_chat * 1e9),
                 "chat_rate": a.soak_chat / k, "reaction_rate": a.soak_reactions / k,
                 "question_every": a.soak_question_every * k, "upvote_rate": a.soak_upvotes / k} for w in range(k)]
        replies = await b.call_all(cmds, seconds + 60)
        sent = [s for r in replies for s in r["sent"]]
        chat = await b.collect(sent, a.drain) if sent else None
        checks = await b.call_all([{"cmd": "live_check", "settle": 1.5}] * k, 60)
        after = b.sample(self.servers)
        counts: Counter[str] = Counter()
        for r in replies:
            counts.update(r["counts"])
        connected = sum(c["connected"] for c in checks)
        # Reactions: every socket is told each one once (per-second totals of each process, to the whole talk).
        reacted = [n for c in checks for n in c["reactions"]]
        r_missing = sum(max(0, counts["reactions"] - n) for n in reacted)
        r_extra = sum(max(0, n - counts["reactions"]) for n in reacted)
        # Questions: each ask and each up-vote is one frame, with a distinct id:votes, to every socket.
        keys: Counter[str] = Counter()
        for c in checks:
            keys.update(c["question_keys"])
        q_events = counts["asks"] + counts["upvotes"]
        q_missing = sum(connected - n for n in keys.values()) + max(0, q_events - len(keys)) * connected
        q_dup = sum(c["question_duplicates"] for c in checks)
        errors: Counter[str] = Counter()
        for c in checks:
            errors.update(c["errors"])
        row: dict[str, Any] = {
            "slice": self.n, "cycle": self.cycle, "kind": "lecture", "t_s": round(time.monotonic() - self.t0, 1),
            "connected": connected, "load": loadavg(),
            "messages": len(sent), "expected": chat["expected_deliveries"] if chat else 0,
            "delivered": chat["deliveries"] if chat else 0,
            "missing": chat["lost_deliveries"] if chat else 0, "duplicated": chat["duplicate_deliveries"] if chat else 0,
            "sockets_short": chat["sockets_missing_messages"] if chat else 0,
            "sockets_over": chat["sockets_with_extra"] if chat else 0,
            "latency_ms": chat["latency_ms"] if chat else {"p50": None, "p99": None, "max": None},
            "chat_throttled": counts["chat_throttled"],
            "reactions": counts["reactions"], "reactions_missing": r_missing, "reactions_extra": r_extra,
            "asks": counts["asks"], "upvotes": counts["upvotes"], "question_frames": len(keys),
            "questions_missing": q_missing, "questions_duplicated": q_dup,
            "errors": dict(errors), "cpu": b.cpu_report(before, after),
        }
        self.add(row)

    async def table_slice(self, seconds: int, rooms: dict[int, Counter[int]], sizes: dict[int, int]) -> None:
        b, a = self.bench, self.args
        k = len(b.workers)
        self.n += 1
        phase = f"t{self.n}."
        speakers: dict[int, list[int]] = defaultdict(list)  # worker → the tables it speaks for
        for room in sorted(rooms):
            speakers[rooms[room].most_common(1)[0][0]].append(room)
        before = b.sample(self.servers)
        start_ns = time.time_ns() + 300_000_000
        total_rooms = max(1, len(rooms))
        cmds = [{"cmd": "table_chat", "phase": phase, "rooms": speakers.get(w, []), "seconds": seconds,
                 "rate": max(1, round(a.soak_tables * len(speakers.get(w, [])) / total_rooms)),
                 "start_at_ns": start_ns} for w in range(k)]
        replies = await b.call_all(cmds, seconds + 60)
        sent = {cid: ns for r in replies for cid, ns in r["sent"].items()}
        per_room: Counter[str] = Counter(cid[len(phase):].split("-", 1)[0] for cid in sent)
        checks = await b.call_all([{"cmd": "table_check", "per_room": per_room, "timeout": a.drain, "settle": 0.5}] * k,
                                  a.drain + 60)
        after = b.sample(self.servers)
        got = merge_stats(checks)
        latencies = [(got[cid][1] - ns) / 1e6 for cid, ns in sent.items() if got.get(cid, [0])[0]]
        expected = sum(sizes[int(cid[len(phase):].split("-", 1)[0])] for cid in sent)
        errors: Counter[str] = Counter()
        for c in checks:
            errors.update(c["errors"])
        row = {
            "slice": self.n, "cycle": self.cycle, "kind": "tables", "t_s": round(time.monotonic() - self.t0, 1),
            "connected": sum(c["connected"] for c in checks), "load": loadavg(),
            "messages": len(sent), "expected": expected, "delivered": sum(v[0] for v in got.values()),
            "missing": sum(c["missing"] for c in checks), "duplicated": sum(c["duplicated"] for c in checks),
            "sockets_short": sum(c["short_sockets"] for c in checks),
            "sockets_over": sum(c["over_sockets"] for c in checks),
            "latency_ms": {"p50": pct(latencies, 50), "p99": pct(latencies, 99), "max": max(latencies, default=None)},
            "errors": dict(errors), "cpu": b.cpu_report(before, after),
        }
        self.add(row)

    def add(self, row: dict[str, Any]) -> None:
        self.slices.append(row)
        kind = row["kind"]
        for key in ("messages", "expected", "delivered", "missing", "duplicated"):
            self.totals[f"{kind}_{key}"] += row[key]
        for key in ("reactions", "reactions_missing", "reactions_extra", "asks", "upvotes", "question_frames",
                    "questions_missing", "questions_duplicated"):
            self.totals[key] += row.get(key, 0)
        for code, n in row["errors"].items():
            self.totals[f"error_{code}"] += n
        rss = self.rss_now(f"{kind} slice end")
        lat = row["latency_ms"]
        extra = (f"; reactions {row['reactions']} (missing {row['reactions_missing']}), questions {row['asks']} + "
                 f"{row['upvotes']} votes (missing {row['questions_missing']}, dup {row['questions_duplicated']})"
                 if kind == "lecture" else "")
        say(f"    [{row['t_s']:7.1f} s] {kind:<7} {row['messages']:4d} messages × sockets: {row['delivered']}/"
            f"{row['expected']} (missing {row['missing']}, dup {row['duplicated']}), p50/p99/max "
            f"{fmt(lat['p50'], '.0f')}/{fmt(lat['p99'], '.0f')}/{fmt(lat['max'], '.0f')} ms{extra}; server cores "
            f"{row['cpu']['servers_cores']}, machine {row['cpu']['machine_cores']}; RSS "
            f"{sum(rss['rss'].values()) / 2**20:.0f} MiB; load {row['load']}"
            + (f"; errors {row['errors']}" if row["errors"] else ""))

    # -- the cycle -------------------------------------------------------------

    async def slices_until(self, deadline: float, run: Any) -> None:
        """Slices of --soak-slice s (the last one shorter) until the monotonic deadline."""
        while True:
            left = deadline - time.monotonic()
            if left < 3:
                return
            seconds = min(self.args.soak_slice, left)
            if left - seconds < 3:
                seconds = left
            await run(int(seconds) if seconds >= 1 else 1)

    async def one_cycle(self, talk_id: int, end: float) -> dict[str, Any]:
        b, a, p = self.bench, self.args, self.plan
        started = time.monotonic()
        lecture_end = end - p["reception_s"] - (10 if p["closes"] else 0)
        self.what = "lecture"
        await self.slices_until(lecture_end, self.lecture_slice)
        at_lecture_end = self.rss_now("lecture end")
        # The speaker ends the talk: the reception opens and everyone is moved to a table.
        self.what = "reception"
        t_end = await end_talk(self.ports[self.cycle % len(self.ports)], talk_id, b.staff_session)
        opened = time.monotonic()
        moved = await b.call_all([{"cmd": "moved", "timeout": a.drain}] * len(b.workers), a.drain + 30)
        moved_ns = sorted(ns for r in moved for ns in r["moved_ns"])
        rooms: dict[int, Counter[int]] = defaultdict(Counter)
        sizes: dict[int, int] = {}
        for w, reply in enumerate(moved):
            for room, size in reply["rooms"].values():
                rooms[room][w] += 1
                sizes[room] = size
        connected = sum(r["connected"] for r in moved)
        say(f"    reception of talk {talk_id}: {len(moved_ns)}/{connected} moved to {len(rooms)} tables, the last "
            f"{fmt((moved_ns[-1] - t_end) / 1e9 if moved_ns else None, '.2f')} s after the end")

        async def tables(seconds: int) -> None:
            await self.table_slice(seconds, rooms, sizes)

        if p["closes"]:
            closes_at = opened + a.soak_reception * 60
            await self.slices_until(closes_at - 3, tables)
            self.what = "reception close"
            closed = await b.call_all([{"cmd": "closed_wait", "timeout": max(5.0, closes_at - time.monotonic() + 20)}]
                                      * len(b.workers), closes_at - time.monotonic() + 60)
            closes: Counter[str] = Counter()
            for r in closed:
                closes.update(r["closes"])
            still = sum(r["still_connected"] for r in closed)
            say(f"    reception closed: sockets closed {dict(closes)}, still connected {still}")
        else:
            await self.slices_until(end, tables)
            closes, still = Counter(), 0
        return {"cycle": self.cycle, "talk": talk_id, "seconds": round(time.monotonic() - started, 1),
                "rss_lecture_end": at_lecture_end["rss"], "rss_lecture_end_mib": round(sum(at_lecture_end["rss"].values()) / 2**20, 1),
                "connected": connected, "moved": len(moved_ns), "tables": len(rooms),
                "move_s_last": round((moved_ns[-1] - t_end) / 1e9, 3) if moved_ns else None,
                "closes": dict(closes), "still_connected_after_close": still}

    async def run(self) -> dict[str, Any]:
        b, p = self.bench, self.plan
        say(f"  soak: {self.args.soak} min, {p['cycles']} cycle(s) of {p['cycle_s'] / 60:.1f} min (reception "
            f"{p['reception_s'] / 60:.1f} min{', closing by its clock' if p['closes'] else ''}); chat {self.args.soak_chat}/s, "
            f"reactions {self.args.soak_reactions}/s, a question every {self.args.soak_question_every} s, up-votes "
            f"{self.args.soak_upvotes}/s, {self.args.soak_tables} tables/s at the reception")
        self.t0 = time.monotonic()
        sampler = asyncio.create_task(self.sampler())
        rejoins = []
        try:
            for c in range(p["cycles"]):
                self.cycle = c + 1
                talk = b.talk_ids[c]
                if c > 0:
                    self.what = "rejoin"
                    path = f"/ws/talks/{talk}/"
                    k = len(b.workers)
                    replies = await b.call_all([{"cmd": "rejoin", "path": path, "concurrency": max(1, self.args.join_concurrency // k)}] * k,
                                               120 + len(b.tokens) * 0.1)
                    errors: Counter[str] = Counter()
                    for r in replies:
                        errors.update(r["errors"])
                    rj = {"cycle": self.cycle, "rejoined": sum(r["rejoined"] for r in replies),
                          "attendees": sum(r["attendees"] for r in replies), "errors": dict(errors),
                          "seconds": max(r["seconds"] for r in replies)}
                    rejoins.append(rj)
                    say(f"  cycle {self.cycle}: {rj['rejoined']}/{rj['attendees']} opened talk {talk} in {rj['seconds']} s"
                        + (f", errors {rj['errors']}" if rj["errors"] else ""))
                else:
                    say(f"  cycle 1: talk {talk}")
                end = self.t0 + p["cycle_s"] * (c + 1)
                self.cycles.append(await self.one_cycle(talk, end))
        finally:
            sampler.cancel()
            self.rss_now("end")
        return self.summary(rejoins)

    # -- the figures -------------------------------------------------------------

    def summary(self, rejoins: list[dict[str, Any]]) -> dict[str, Any]:
        p, t = self.plan, self.totals
        total_s = self.samples[-1]["t"] if self.samples else 0.0
        warm_s = p["cycle_s"] if p["cycles"] >= 2 else total_s / 6
        mib = [(s["t"], sum(s["rss"].values()) / 2**20) for s in self.samples]
        during = [v for ts, v in mib if ts <= warm_s]
        after = [v for ts, v in mib if ts > warm_s]
        if p["cycles"] >= 2:  # the same point of a cycle: the end of its lecture
            warm = self.cycles[0]["rss_lecture_end_mib"]
            end = self.cycles[-1]["rss_lecture_end_mib"]
            basis = "RSS at the end of the lecture, last cycle vs first"
        else:
            warm = during[-1] if during else None
            end = after[-1] if after else None
            basis = "RSS at the end of the run vs at the end of the warm-up (first sixth)"
        growth = round((end - warm) / warm * 100, 2) if warm and end is not None else None
        max_during, max_after = max(during, default=None), max(after, default=None)
        lecture = [s for s in self.slices if s["kind"] == "lecture"]
        thirds = []
        for k in range(3):
            part = lecture[k * len(lecture) // 3:(k + 1) * len(lecture) // 3]
            p99s = [s["latency_ms"]["p99"] for s in part if s["latency_ms"]["p99"] is not None]
            cores = [s["cpu"]["servers_cores"] for s in part]
            thirds.append({"p99_ms_median": round(pct(p99s, 50), 1) if p99s else None,
                           "server_cores_mean": round(sum(cores) / len(cores), 2) if cores else None})
        chat_missing = t["lecture_missing"] + t["tables_missing"]
        chat_dup = t["lecture_duplicated"] + t["tables_duplicated"]
        closes_bad = sum(n for c in self.cycles for code, n in c["closes"].items() if code != "close_4000")
        rejoin_errors = sum(sum(r["errors"].values()) for r in rejoins)
        out = {
            "minutes": self.args.soak, "plan": p, "seconds": total_s,
            "lecture_chat": {"sent": t["lecture_messages"], "expected_deliveries": t["lecture_expected"],
                             "delivered": t["lecture_delivered"], "missing": t["lecture_missing"],
                             "duplicated": t["lecture_duplicated"]},
            "table_chat": {"sent": t["tables_messages"], "expected_deliveries": t["tables_expected"],
                           "delivered": t["tables_delivered"], "missing": t["tables_missing"],
                           "duplicated": t["tables_duplicated"]},
            "reactions": {"sent": t["reactions"], "missing": t["reactions_missing"], "extra": t["reactions_extra"]},
            "questions": {"asked": t["asks"], "upvotes": t["upvotes"], "frames": t["question_frames"],
                          "missing": t["questions_missing"], "duplicated": t["questions_duplicated"]},
            "error_frames": {k[6:]: v for k, v in t.items() if k.startswith("error_")},
            "nothing_lost": chat_missing == 0 and chat_dup == 0 and t["reactions_missing"] == 0
                            and t["reactions_extra"] == 0 and t["questions_missing"] == 0
                            and t["questions_duplicated"] == 0,
            "rejoins": rejoins, "rejoin_errors": rejoin_errors, "unexpected_closes": closes_bad,
            "memory": {"warm_up_s": round(warm_s, 1), "basis": basis, "rss_warm_mib": warm, "rss_end_mib": end,
                       "growth_pct": growth, "max_during_warm_up_mib": round(max_during, 1) if max_during else None,
                       "max_after_warm_up_mib": round(max_after, 1) if max_after else None,
                       "max_growth_pct": round((max_after - max_during) / max_during * 100, 2)
                       if max_during and max_after else None,
                       "rss_final_mib": round(mib[-1][1], 1) if mib else None,
                       "per_cycle_lecture_end_mib": [c["rss_lecture_end_mib"] for c in self.cycles]},
            "lecture_thirds": thirds,
            "load": {"min": min((s["load"] for s in self.samples), default=None),
                     "max": max((s["load"] for s in self.samples), default=None)},
            "cycles": [{k: v for k, v in c.items() if k != "rss_lecture_end"} for c in self.cycles],
            "slices": self.slices,
            "samples": [{"t": s["t"], "rss_mib": [round(v / 2**20, 1) for v in s["rss"].values()], "load": s["load"],
                         "cycle": s["cycle"], "what": s["what"]} for s in self.samples],
        }
        return out


async def soak_phase(bench: Any, ports: list[int], servers: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    return await Soak(bench, ports, servers).run()


# -- verdicts and the report ------------------------------------------------------


def verdicts(results: dict[str, Any]) -> list[tuple[str, bool, str]]:
    s = results.get("renkei", {}).get("soak")
    if not s:
        return []
    m = s["memory"]
    lc, tc = s["lecture_chat"], s["table_chat"]
    growth = m["growth_pct"]
    return [
        (f"soak {s['minutes']} min: every chat message (lecture and table) to every socket exactly once, "
         "reactions and questions everywhere", bool(s["nothing_lost"]) and s["rejoin_errors"] == 0
         and s["unexpected_closes"] == 0,
         f"lecture {lc['delivered']}/{lc['expected_deliveries']} (missing {lc['missing']}, dup {lc['duplicated']}), "
         f"tables {tc['delivered']}/{tc['expected_deliveries']} (missing {tc['missing']}, dup {tc['duplicated']}), "
         f"reactions missing {s['reactions']['missing']}, questions missing {s['questions']['missing']}, "
         f"rejoin errors {s['rejoin_errors']}, unexpected closes {s['unexpected_closes']}"),
        (f"soak: server memory grows < {TARGET_GROWTH_PCT:.0f} % after the warm-up",
         growth is not None and growth < TARGET_GROWTH_PCT,
         f"{fmt(m['rss_warm_mib'])} → {fmt(m['rss_end_mib'])} MiB = {fmt(growth, '+.1f')} % ({m['basis']}); max "
         f"{fmt(m['max_during_warm_up_mib'])} → {fmt(m['max_after_warm_up_mib'])} MiB ({fmt(m['max_growth_pct'], '+.1f')} %)"),
    ]


def problems(results: dict[str, Any]) -> list[str]:
    s = results.get("renkei", {}).get("soak")
    if not s:
        return []
    out = []
    for name in ("lecture_chat", "table_chat"):
        c = s[name]
        if c["missing"] or c["duplicated"] or not c["sent"]:
            out.append(f"soak {name}: {c['delivered']}/{c['expected_deliveries']} deliveries of {c['sent']} messages, "
                       f"missing {c['missing']}, duplicated {c['duplicated']}")
    r, q = s["reactions"], s["questions"]
    if r["missing"] or r["extra"]:
        out.append(f"soak reactions: {r['sent']} sent, missing {r['missing']}, extra {r['extra']} (socket × reaction)")
    if q["missing"] or q["duplicated"]:
        out.append(f"soak questions: {q['asked']} asked + {q['upvotes']} up-votes, missing {q['missing']}, "
                   f"duplicated {q['duplicated']} (socket × frame)")
    if s["rejoin_errors"] or s["unexpected_closes"]:
        out.append(f"soak: rejoin errors {s['rejoin_errors']}, unexpected closes {s['unexpected_closes']}")
    if s["error_frames"]:
        out.append(f"soak: error frames {s['error_frames']}")
    return out


def report(results: dict[str, Any]) -> str:
    s = results.get("renkei", {}).get("soak")
    if not s:
        return ""
    m, lc, tc, r, q = s["memory"], s["lecture_chat"], s["table_chat"], s["reactions"], s["questions"]
    lines = ["", f"soak: {s['minutes']} min, {s['plan']['cycles']} cycle(s), load {s['load']['min']}–{s['load']['max']}",
             f"  lecture chat: sent {lc['sent']}, expected deliveries {lc['expected_deliveries']}, delivered "
             f"{lc['delivered']}, missing {lc['missing']}, duplicated {lc['duplicated']}",
             f"  table chat:   sent {tc['sent']}, expected deliveries {tc['expected_deliveries']}, delivered "
             f"{tc['delivered']}, missing {tc['missing']}, duplicated {tc['duplicated']}",
             f"  reactions: sent {r['sent']}, missing {r['missing']}, extra {r['extra']}; questions: {q['asked']} asked, "
             f"{q['upvotes']} up-votes, {q['frames']} frames, missing {q['missing']}, duplicated {q['duplicated']}",
             f"  memory (2 Daphnes): warm-up {m['warm_up_s']:.0f} s; {m['basis']}: {fmt(m['rss_warm_mib'])} → "
             f"{fmt(m['rss_end_mib'])} MiB ({fmt(m['growth_pct'], '+.1f')} %); max {fmt(m['max_during_warm_up_mib'])} "
             f"during the warm-up, {fmt(m['max_after_warm_up_mib'])} after ({fmt(m['max_growth_pct'], '+.1f')} %); "
             f"at the end {fmt(m['rss_final_mib'])} MiB",
             f"  per cycle, RSS at the end of the lecture (MiB): {m['per_cycle_lecture_end_mib']}",
             f"  lecture chat by third of the run: p99 (median of slices) "
             f"{[t['p99_ms_median'] for t in s['lecture_thirds']]} ms, server cores {[t['server_cores_mean'] for t in s['lecture_thirds']]}"]
    return "\n".join(lines)
