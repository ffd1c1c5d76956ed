#!/usr/bin/python3
"""Gossip benchmark driver for scripts/bench-gossip.sh: GLB beside serf.

For each round and each system (alternating which goes first), it starts 8 agents on loopback
and measures, polling every node's own view (GLB: GET /v1/members on its admin API; serf: the
`members` RPC, over one kept-open msgpack connection per node, so neither side pays for a
process per poll):
  join       nodes 2-8 spawned together once node 1 answers; seconds from the last spawn until
             every node lists all 8 alive;
  loss X%    the cluster converged, then X% of UDP dropped on every gossip port (iptables
             `statistic`, rules made by the .sh through `loss.sh`) for DURATION s, polled every
             POLL_FALSE_MS: a false alarm is one node marking a live node dead/failed;
             "episodes" count distinct members so declared (merging the other nodes' marks);
  propagate  GLB only: PUT a service on node 1, time until every node answers GET 200;
  detect     SIGKILL one node (not the seed); time until every other node lists it dead/failed.
Writes raw JSON lines to OUT/raw.jsonl and the summary table to stdout.
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import msgpack

N = 8
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = float(os.environ.get("DURATION", "60"))
LOSSES = [int(x) for x in os.environ.get("LOSSES", "0,20,40").split(",") if x != ""]
SYSTEMS = os.environ.get("SYSTEMS", "glb,serf").split(",")
POLL_FAST = float(os.environ.get("POLL_MS", "20")) / 1000
POLL_FALSE = float(os.environ.get("POLL_FALSE_MS", "100")) / 1000
SEED = int(os.environ.get("SEED", "7"))
KILLS = int(os.environ.get("KILLS", "2"))
PROPAGATIONS = int(os.environ.get("PROPAGATIONS", "5"))
GLB = os.environ["GLB_BIN"]
SERF = os.environ.get("SERF_BIN", "serf")
OUT = os.environ["OUT"]
LOSS_CMD = os.environ["LOSS_CMD"]          # LOSS_CMD <percent> <port>...  (0 removes the rules)
GLB_LOOPS = os.environ.get("GLB_LOOPS", "")
TIMEOUT = 90.0

raw = open(os.path.join(OUT, "raw.jsonl"), "a")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def record(**kw):
    raw.write(json.dumps(kw) + "\n")
    raw.flush()


def cpu_seconds(pid):
    """utime + stime of a live process, in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


# ---------------------------------------------------------------------------------------------
class Node:
    def __init__(self, i, ip):
        self.i, self.ip, self.name, self.proc, self.conn = i, ip, f"n{i}", None, None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def close(self):
        if self.conn is not None:
            try:
                (self.conn[0] if isinstance(self.conn, tuple) else self.conn).close()
            except Exception:
                pass
            self.conn = None


def reap(nodes):
    """SIGTERM every node, then wait up to 15 s in all for them to exit; SIGKILL the rest."""
    for n in nodes:
        n.kill(signal.SIGTERM)
    deadline = time.time() + 15
    for n in nodes:
        if n.proc is None:
            continue
        try:
            n.proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            n.proc.kill()
            n.proc.wait()


class GLBCluster:
    """8 `glb agent`s: gossip 127.0.0.(11+i):17950+i, admin on the same IP :18950+i."""
    kind = "glb"
    dead_status = {"dead"}

    def __init__(self, tag):
        self.nodes = [Node(i, f"127.0.0.{11 + i}") for i in range(N)]
        self.gossip_ports = [17950 + i for i in range(N)]
        self.tmp = tempfile.mkdtemp(prefix="glb-gbench.")
        self.tag = tag

    def admin(self, n):
        return (n.ip, 18950 + n.i)

    def spawn(self, n):
        args = [GLB, "agent", "--node", n.name, "--region", f"r{n.i}", "--data", os.path.join(self.tmp, n.name),
                "--zone", "glb.example.", "--admin", f"{n.ip}:{18950 + n.i}",
                "--gossip", f"{n.ip}:{self.gossip_ports[n.i]}", "--log-level", "info"]
        if GLB_LOOPS:
            args += ["--loops", GLB_LOOPS]
        if n.i > 0:
            args += ["--join", f"{self.nodes[0].ip}:{self.gossip_ports[0]}"]
        logf = open(os.path.join(OUT, f"{self.tag}-{n.name}.log"), "ab")
        n.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)

    def request(self, n, method, path, body=None, timeout=2.0):
        for attempt in range(2):
            try:
                if n.conn is None:
                    n.conn = http.client.HTTPConnection(*self.admin(n), timeout=timeout)
                headers = {"Content-Type": "application/json"} if body is not None else {}
                n.conn.request(method, path, body=body, headers=headers)
                r = n.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    n.close()
                return r.status, data
            except (OSError, http.client.HTTPException):
                n.close()
                if attempt == 1:
                    return None, None
        return None, None

    def ready(self, n):
        return self.request(n, "GET", "/healthz")[0] == 200

    def view(self, n):
        """{member name: status} as n sees it, or None if it does not answer."""
        status, data = self.request(n, "GET", "/v1/members")
        if status != 200:
            return None
        return {m["name"]: m["status"] for m in json.loads(data).get("members", [])}

    def stop(self):
        for n in self.nodes:
            n.close()
        reap(self.nodes)
        shutil.rmtree(self.tmp, ignore_errors=True)


class SerfCluster:
    """8 `serf agent`s (default LAN profile): bind 127.0.0.(31+i):18970+i, RPC same IP :19970+i."""
    kind = "serf"
    dead_status = {"failed"}

    def __init__(self, tag):
        self.nodes = [Node(i, f"127.0.0.{31 + i}") for i in range(N)]
        self.gossip_ports = [18970 + i for i in range(N)]
        self.tag = tag
        self.seq = 0

    def spawn(self, n):
        args = [SERF, "agent", "-node", n.name, "-bind", f"{n.ip}:{self.gossip_ports[n.i]}",
                "-rpc-addr", f"{n.ip}:{19970 + n.i}", "-log-level", "info"]
        if n.i > 0:
            args += ["-join", f"{self.nodes[0].ip}:{self.gossip_ports[0]}"]
        logf = open(os.path.join(OUT, f"{self.tag}-{n.name}.log"), "ab")
        n.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)

    def rpc(self, n, command, body=None):
        """One serf RPC (msgpack header + optional body; reply header + body) on n's kept connection."""
        for attempt in range(2):
            try:
                if n.conn is None:
                    s = socket.create_connection((n.ip, 19970 + n.i), timeout=2.0)
                    n.conn = (s, msgpack.Unpacker(raw=False, unicode_errors="surrogateescape"))
                    self._call(n, "handshake", {"Version": 1}, reply_body=False)
                return self._call(n, command, body, reply_body=True)
            except (OSError, ValueError, msgpack.UnpackException):
                self._drop(n)
                if attempt == 1:
                    return None
        return None

    def _drop(self, n):
        if n.conn is not None:
            try:
                n.conn[0].close()
            except OSError:
                pass
            n.conn = None

    def _call(self, n, command, body, reply_body):
        s, unpacker = n.conn
        self.seq += 1
        payload = msgpack.packb({"Command": command, "Seq": self.seq}, use_bin_type=False)
        if body is not None:
            payload += msgpack.packb(body, use_bin_type=False)
        s.sendall(payload)
        wanted = 2 if reply_body else 1
        got = []
        while len(got) < wanted:
            for obj in unpacker:
                got.append(obj)
                if len(got) == wanted:
                    break
            if len(got) < wanted:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("serf rpc closed")
                unpacker.feed(chunk)
        if got[0].get("Error"):
            raise ValueError(got[0]["Error"])
        return got[1] if reply_body else got[0]

    def ready(self, n):
        return self.rpc(n, "members") is not None

    def view(self, n):
        reply = self.rpc(n, "members")
        if reply is None:
            return None
        return {m["Name"]: m["Status"] for m in reply.get("Members", [])}

    def stop(self):
        for n in self.nodes:
            self._drop(n)
        reap(self.nodes)


# ---------------------------------------------------------------------------------------------
def wait_until(pred, timeout, poll):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic()
        time.sleep(poll)
    return None


def all_alive(c, nodes):
    names = {n.name for n in nodes}
    for n in nodes:
        v = c.view(n)
        if v is None or any(v.get(name) != "alive" for name in names):
            return False
    return True


SERF_PATTERNS = {"serf_tcp_fallback_rescues": "Was able to connect to", "serf_suspicions": "memberlist: Suspect ",
                 "serf_marked_failed": "memberlist: Marking "}


def log_counts(c):
    """Counts serf's memberlist log lines of interest over the nodes' logs (None for GLB)."""
    if c.kind != "serf":
        return None
    counts = dict.fromkeys(SERF_PATTERNS, 0)
    for n in c.nodes:
        with open(os.path.join(OUT, f"{c.tag}-{n.name}.log"), errors="replace") as f:
            for line in f:
                for key, pattern in SERF_PATTERNS.items():
                    if pattern in line:
                        counts[key] += 1
    return counts


def dropped_packets():
    """Packets the loss chain dropped since it was last filled."""
    out = subprocess.run(["iptables", "-nvxL", os.environ["LOSS_CHAIN"]], capture_output=True, text=True).stdout
    return sum(int(line.split()[0]) for line in out.splitlines() if "DROP" in line)


def set_loss(c, percent):
    subprocess.run([LOSS_CMD, str(percent)] + [str(p) for p in c.gossip_ports], check=True)


def measure_join(c):
    first = c.nodes[0]
    c.spawn(first)
    if wait_until(lambda: c.ready(first), 30, 0.02) is None:
        raise RuntimeError(f"{c.kind}: node 1 did not start (see {OUT})")
    for n in c.nodes[1:]:
        c.spawn(n)
    t0 = time.monotonic()
    t1 = wait_until(lambda: all_alive(c, c.nodes), 3.0, POLL_FAST)
    if t1 is None:
        # A slow join: keep what each node saw at 3 s, to show who missed whom.
        record(slow_join=c.tag, views={n.name: c.view(n) for n in c.nodes})
        t1 = wait_until(lambda: all_alive(c, c.nodes), TIMEOUT, POLL_FAST)
    return None if t1 is None else t1 - t0


def measure_false_alarms(c, percent):
    """Runs DURATION s at `percent` UDP loss; counts alive->dead marks of live nodes."""
    if wait_until(lambda: all_alive(c, c.nodes), TIMEOUT, 0.1) is None:
        log(f"{c.kind}: not converged before the {percent}% window")
    cpu0 = sum(cpu_seconds(n.proc.pid) for n in c.nodes)
    suspicions0 = glb_suspicions(c)
    logs0 = log_counts(c)
    set_loss(c, percent)
    last = {n.name: {m.name: "alive" for m in c.nodes} for n in c.nodes}
    marks, episodes, suspects, flaps = 0, 0, 0, []
    in_episode = set()      # members some node currently lists as dead
    polls, missed = 0, 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < DURATION:
            tick = time.monotonic()
            dead_now = set()
            for n in c.nodes:
                v = c.view(n)
                polls += 1
                if v is None:
                    missed += 1
                    continue
                for m in c.nodes:
                    if m is n:
                        continue
                    st = v.get(m.name, "missing")
                    prev = last[n.name][m.name]
                    if st in c.dead_status:
                        dead_now.add(m.name)
                        if prev not in c.dead_status:
                            marks += 1
                            flaps.append({"t": round(tick - start, 2), "observer": n.name, "member": m.name})
                    if st == "suspect" and prev != "suspect":
                        suspects += 1
                    last[n.name][m.name] = st
            episodes += len(dead_now - in_episode)
            in_episode = dead_now
            time.sleep(max(0.0, POLL_FALSE - (time.monotonic() - tick)))
    finally:
        dropped = dropped_packets()
        set_loss(c, 0)
    cpu = sum(cpu_seconds(n.proc.pid) for n in c.nodes) - cpu0
    suspicions = glb_suspicions(c) - suspicions0 if suspicions0 is not None else None
    time.sleep(0.5)     # serf writes its log lines asynchronously
    logs1 = log_counts(c)
    if logs1 is not None:
        logs1 = {k: v - logs0[k] for k, v in logs1.items()}
    return {"marks": marks, "episodes": episodes, "suspect_seen": suspects, "suspicions_metric": suspicions,
            "serf_log": logs1, "dropped_packets": dropped,
            "cpu_s": round(cpu, 2), "polls": polls, "missed_polls": missed, "flaps": flaps[:50]}


def glb_startup_ms(c):
    """Each GLB node's own startup time (its "glb agent ready" log line), in node order."""
    times = []
    for n in c.nodes:
        with open(os.path.join(OUT, f"{c.tag}-{n.name}.log"), errors="replace") as f:
            for line in f:
                if '"glb agent ready"' in line:
                    times.append(int(json.loads(line).get("startup_ms", "0")))
                    break
    return times


def glb_suspicions(c):
    """Sum of glb_gossip_suspicions_total over the nodes (None for serf)."""
    if c.kind != "glb":
        return None
    total = 0
    for n in c.nodes:
        status, data = c.request(n, "GET", "/metrics")
        if status != 200:
            continue
        for line in data.decode().splitlines():
            if line.startswith("glb_gossip_suspicions_total"):
                total += int(float(line.split()[-1]))
    return total


def measure_propagation(c, round_no):
    times = []
    for k in range(PROPAGATIONS):
        name = f"gb{round_no}x{k}"
        body = json.dumps({"zone": "glb.example.", "ttl": 30}).encode()
        t0 = time.monotonic()
        status, data = c.request(c.nodes[0], "PUT", f"/v1/services/{name}", body)
        if status not in (200, 201):
            log(f"glb: PUT {name} answered {status}: {data!r}")
            times.append(None)
            continue
        pending = list(c.nodes[1:])
        while pending and time.monotonic() - t0 < 30:
            pending = [n for n in pending if c.request(n, "GET", f"/v1/services/{name}")[0] != 200]
            if pending:
                time.sleep(0.01)
        times.append(None if pending else time.monotonic() - t0)
        time.sleep(0.5)
    return times


def measure_detection(c, victim_index):
    live = [n for n in c.nodes if n.alive()]
    if wait_until(lambda: all_alive(c, live), TIMEOUT, 0.1) is None:
        log(f"{c.kind}: not converged before the kill")
    victim = c.nodes[victim_index]
    others = [n for n in live if n is not victim]
    victim.close()
    victim.kill(signal.SIGKILL)
    t0 = time.monotonic()
    victim.proc.wait()

    def all_marked():
        for n in others:
            v = c.view(n)
            if v is None or v.get(victim.name) not in c.dead_status:
                return False
        return True
    t1 = wait_until(all_marked, TIMEOUT, POLL_FAST)
    return None if t1 is None else t1 - t0


def new_cluster(kind, tag):
    return GLBCluster(tag) if kind == "glb" else SerfCluster(tag)


def run_system(kind, round_no):
    """Two clusters a round: a fresh one for join and detection, then one for join, the loss
    windows, propagation and detection again. Detection right after the loss windows is its own
    figure: Lifeguard's awareness, raised by failed probes under loss, slows probing for a while
    after (see docs/benchmarks.md), and a fresh cluster does not have that history."""
    result = {"round": round_no, "system": kind, "join_s": []}
    # The same victims for both systems in a round.
    victims = random.Random(SEED * 1000 + round_no).sample(range(1, N), KILLS)
    tag = f"r{round_no}-{kind}-fresh"
    c = new_cluster(kind, tag)
    try:
        result["join_s"].append(measure_join(c))
        result["detect_s"] = [measure_detection(c, v) for v in victims]
        log(f"{tag}: join {result['join_s'][-1]}, detection {result['detect_s']}")
        if kind == "glb":
            result["startup_ms"] = glb_startup_ms(c)
    finally:
        c.stop()
    time.sleep(1)
    tag = f"r{round_no}-{kind}-loss"
    c = new_cluster(kind, tag)
    try:
        result["join_s"].append(measure_join(c))
        log(f"{tag}: join {result['join_s'][-1]}")
        for p in LOSSES:
            fa = measure_false_alarms(c, p)
            result[f"loss{p}"] = fa
            log(f"{tag}: {p}% loss: {fa['marks']} false marks, {fa['episodes']} episodes, cpu {fa['cpu_s']} s")
        if kind == "glb":
            result["propagation_s"] = measure_propagation(c, round_no)
            log(f"{tag}: propagation {result['propagation_s']}")
        result["detect_after_loss_s"] = [measure_detection(c, v) for v in victims]
        log(f"{tag}: detection after loss {result['detect_after_loss_s']}")
    finally:
        c.stop()
    record(**result)
    return result


# ---------------------------------------------------------------------------------------------
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def cell(xs, digits=2):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return f"{fmt(statistics.median(xs), digits)} [{fmt(min(xs), digits)}–{fmt(max(xs), digits)}]"


def summarize(results):
    by = {s: [r for r in results if r["system"] == s] for s in SYSTEMS}
    lines = ["| metric | " + " | ".join(SYSTEMS) + (" | glb÷serf |" if len(SYSTEMS) == 2 else " |"),
             "|---|" + "---|" * len(SYSTEMS) + ("---|" if len(SYSTEMS) == 2 else "")]

    def ratio(metric):
        pairs = {}
        for r in results:
            pairs.setdefault(r["round"], {})[r["system"]] = metric(r)
        rs = [p["glb"] / p["serf"] for p in pairs.values() if p.get("glb") is not None and p.get("serf")]
        return fmt(med(rs)) if rs else "-"

    def row(label, metric, digits=2, with_ratio=True):
        cells = [cell([metric(r) for r in by[s]], digits) for s in SYSTEMS]
        extra = [ratio(metric) if with_ratio else "-"] if len(SYSTEMS) == 2 else []
        lines.append(f"| {label} | " + " | ".join(cells + extra) + " |")

    def per_round(label, key):
        samples = {s: [(r["round"], t) for r in by[s] for t in r.get(key, [])] for s in SYSTEMS}
        cells = [cell([t for _, t in samples[s]]) for s in SYSTEMS]
        ratios = []
        for rnd in range(1, ROUNDS + 1):
            g = med([t for rr, t in samples.get("glb", []) if rr == rnd])
            sv = med([t for rr, t in samples.get("serf", []) if rr == rnd])
            if g is not None and sv:
                ratios.append(g / sv)
        lines.append(f"| {label} | " + " | ".join(cells) + (f" | {fmt(med(ratios))} |" if len(SYSTEMS) == 2 else " |"))

    per_round("join, s (last spawn → 8×8 alive), 2 clusters a round", "join_s")
    per_round(f"detection, s, fresh cluster (SIGKILL → every live node marks it), {KILLS} kills a round", "detect_s")
    per_round(f"detection, s, right after the loss windows, {KILLS} kills a round", "detect_after_loss_s")
    for p in LOSSES:
        cells = []
        for s in SYSTEMS:
            marks = sum(r[f"loss{p}"]["marks"] for r in by[s] if f"loss{p}" in r)
            eps = sum(r[f"loss{p}"]["episodes"] for r in by[s] if f"loss{p}" in r)
            cells.append(f"{marks} ({eps})")
        lines.append(f"| false alarms at {p}% UDP loss, {len(by[SYSTEMS[0]])}×{DURATION:g} s: marks (members) | "
                     + " | ".join(cells) + (" | - |" if len(SYSTEMS) == 2 else " |"))
        row(f"CPU of 8 agents at {p}% loss, % of one core", lambda r, p=p: 100 * r[f"loss{p}"]["cpu_s"] / DURATION
            if f"loss{p}" in r else None, 1)
    if "glb" in by:
        props = [t for r in by["glb"] for t in r.get("propagation_s", [])]
        lines.append(f"| config propagation, s (PUT on n1 → GET 200 on 7/7), {len(props)} PUTs | "
                     + " | ".join(cell(props, 3) if s == "glb" else "n/a" for s in SYSTEMS)
                     + (" | - |" if len(SYSTEMS) == 2 else " |"))
        sus = {p: sum((r[f"loss{p}"]["suspicions_metric"] or 0) for r in by["glb"] if f"loss{p}" in r) for p in LOSSES}
        starts = [max(r["startup_ms"][1:]) for r in by["glb"] if len(r.get("startup_ms", [])) == N]
        lines.append("")
        lines.append(f"GLB agent startup (its own startup_ms, slowest of nodes 2-8, inside the join time): {cell(starts, 0)} ms")
        lines.append("")
        lines.append("GLB suspicions started (glb_gossip_suspicions_total, all nodes, all rounds): "
                     + ", ".join(f"{p}%: {n}" for p, n in sus.items()))
    return "\n".join(lines)


def main():
    results = []
    for round_no in range(1, ROUNDS + 1):
        order = SYSTEMS if round_no % 2 == 1 else list(reversed(SYSTEMS))
        for kind in order:
            log(f"round {round_no}: {kind}")
            results.append(run_system(kind, round_no))
            time.sleep(2)
    table = summarize(results)
    with open(os.path.join(OUT, "table.md"), "w") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
