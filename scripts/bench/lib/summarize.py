#!/usr/bin/env python3
"""scripts/bench/lib/summarize.py -- turn a harness raw.csv into a markdown summary.

Usage: summarize.py {http|dns|dnslat|failover} RAW_CSV [REF_SYSTEM]

For every (load, system) group it prints  median [min-max]  over rounds for
each metric, and for the throughput column the median of *per-round* ratios
against REF_SYSTEM (and against `direct` for http).  Per-round ratios are
the robust number on a noisy machine: both systems of a ratio ran back to
back in the same round.
"""
import csv
import statistics
import sys
from collections import OrderedDict

MODES = {
    # column, header, format
    "http": dict(
        group=("load", "system"),
        tput="rps",
        cols=[("rps", "req/s", "{:.0f}"), ("p50_ms", "p50 ms", "{:.2f}"),
              ("p99_ms", "p99 ms", "{:.2f}"),
              ("proxy_cpu_pct", "proxy CPU %", "{:.0f}"),
              ("proxy_us_per_req", "proxy CPU µs/req", "{:.1f}"),
              ("proxy_hwm_mb", "peak RSS MB (ΣVmHWM)", "{:.1f}"),
              ("proxy_pss_mb", "peak PSS MB", "{:.1f}"),
              ("wrk_cpu_pct", "wrk CPU %", "{:.0f}"),
              ("origins_cpu_pct", "origins CPU %", "{:.0f}"),
              ("foreign_cpu_pct", "other procs CPU %", "{:.0f}"),
              ("irq_cpu_pct", "irq+steal CPU %", "{:.0f}")],
        sums=[("sock_errors", "sock err"), ("non2xx", "non-2xx")],
        direct=True),
    "dns": dict(
        group=("load", "system"),
        tput="qps",
        cols=[("qps", "qps", "{:.0f}"), ("avg_ms", "avg ms", "{:.3f}"),
              ("sd_ms", "stddev ms", "{:.3f}"), ("max_ms", "max ms", "{:.2f}"),
              ("server_cpu_pct", "server CPU %", "{:.0f}"),
              ("server_us_per_q", "server CPU µs/q", "{:.2f}"),
              ("server_hwm_mb", "peak RSS MB", "{:.1f}"),
              ("client_cpu_pct", "dnsperf CPU %", "{:.0f}"),
              ("foreign_cpu_pct", "other procs CPU %", "{:.0f}"),
              ("irq_cpu_pct", "irq+steal CPU %", "{:.0f}")],
        sums=[("lost", "lost")],
        direct=False),
    "dnslat": dict(
        group=("load", "system"),
        tput="qps",
        cols=[("qps", "qps", "{:.0f}"), ("p50_ms", "p50 ms", "{:.3f}"),
              ("p90_ms", "p90 ms", "{:.3f}"), ("p99_ms", "p99 ms", "{:.3f}"),
              ("p999_ms", "p99.9 ms", "{:.3f}"), ("max_ms", "max ms", "{:.2f}")],
        sums=[("lost", "lost")],
        direct=False),
}


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def mmm(vals, fmt):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} [{fmt.format(min(vals))}–{fmt.format(max(vals))}]"


def main():
    mode, path = sys.argv[1], sys.argv[2]
    ref = sys.argv[3] if len(sys.argv) > 3 else None
    m = MODES[mode]
    rows = list(csv.DictReader(open(path)))
    groups = OrderedDict()
    byround = {}
    for r in rows:
        key = tuple(r[g] for g in m["group"])
        groups.setdefault(key, []).append(r)
        byround[(r["round"],) + key] = fnum(r[m["tput"]])
    loads = OrderedDict((k[0], None) for k in groups)
    nrounds = len({r["round"] for r in rows})
    print(f"Rounds: {nrounds} (interleaved). Cells: median [min–max] over rounds.\n")
    for load in loads:
        systems = [k[1] for k in groups if k[0] == load]
        hdr = ["system"] + [h for _, h, _ in m["cols"][:1]]
        ratio_refs = []
        if m["direct"] and "direct" in systems:
            ratio_refs.append("direct")
        if ref and ref in systems and ref not in ratio_refs:
            ratio_refs.append(ref)
        hdr += [f"÷{x} (per-round)" for x in ratio_refs]
        hdr += [h for _, h, _ in m["cols"][1:]] + [h + " (Σ)" for _, h in m["sums"]]
        print(f"### load `{load}`\n")
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for s in systems:
            rs = groups[(load, s)]
            cells = [f"**{s}**", mmm([fnum(r[m['cols'][0][0]]) for r in rs], m["cols"][0][2])]
            for x in ratio_refs:
                ratios = []
                for r in rs:
                    a = byround.get((r["round"], load, s))
                    b = byround.get((r["round"], load, x))
                    if a is not None and b:
                        ratios.append(a / b)
                cells.append(mmm(ratios, "{:.2f}"))
            for c, _, fmt in m["cols"][1:]:
                cells.append(mmm([fnum(r.get(c)) for r in rs], fmt))
            for c, _ in m["sums"]:
                cells.append(str(int(sum(fnum(r.get(c)) or 0 for r in rs))))
            print("| " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
