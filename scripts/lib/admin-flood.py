#!/usr/bin/env python3
"""Floods a GLB admin API until SIGTERM: what a misbehaving automation or an attacker on the
admin network can do. Used by scripts/bench-admin-flood.sh to show the data plane does not care.

  admin-flood.py ADDR:PORT SERVICE CLUSTER

- 1,000 connections held open, sending nothing (up to the admin server's connection cap);
- 20 connections trickling a request body a byte a second (the read timeout must end them);
- one client: every second FLOOD_WRITES PATCHes of CLUSTER's weight (each a write: store,
  fsync, audit, a new routing snapshot), FLOOD_READS reads (GET /v1/status and /metrics in
  turn) and FLOOD_BIG bodies of 2 MiB that must be refused with 413; defaults 20, 20 and 2, a
  busy automation gone wrong. FLOOD_WRITES=0 FLOOD_READS=0 FLOOD_BIG=0 with FLOOD_MAX=1 sends
  them back to back instead, as fast as one client can (on a 2-core machine that measures how
  much CPU the flooder and the admin work take from everyone, not isolation).
"""
import os
import signal
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
service, cluster = sys.argv[2], sys.argv[3]
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)

idle = []
for _ in range(1000):
    try:
        idle.append(socket.create_connection((host, port), timeout=2))
    except OSError:
        break
trickle = []
for _ in range(20):
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(f"PUT /v1/services/{service} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".encode())
        trickle.append(s)
    except OSError:
        break


def request(method, path, body=b""):
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            s.sendall(head.encode() + body)
            while s.recv(65536):
                pass
    except OSError:
        pass


big = b" " * (2 << 20)
counts = {"writes": 0, "reads": 0, "big": 0}
rates = {k: int(os.environ.get(f"FLOOD_{k.upper()}", d)) for k, d in (("writes", 20), ("reads", 20), ("big", 2))}
flat_out = os.environ.get("FLOOD_MAX") == "1"
last_trickle = time.monotonic()
start = time.monotonic()
weight = 1


def due(kind):
    """True when `kind` is behind its rate (or always, flat out)."""
    return flat_out or counts[kind] < rates[kind] * (time.monotonic() - start)


while running:
    did = False
    if due("writes"):
        weight = weight % 100 + 1
        request("PATCH", f"/v1/services/{service}/clusters/{cluster}", f'{{"weight":{weight}}}'.encode())
        counts["writes"] += 1
        did = True
    if due("reads"):
        request("GET", "/v1/status" if counts["reads"] % 2 == 0 else "/metrics")
        counts["reads"] += 1
        did = True
    if due("big"):
        request("PUT", f"/v1/services/{service}", big)
        counts["big"] += 1
        did = True
    if not did:
        time.sleep(0.005)
    if time.monotonic() - last_trickle >= 1:
        last_trickle = time.monotonic()
        for s in trickle:
            try:
                s.send(b" ")
            except OSError:
                pass
for s in idle + trickle:
    s.close()
print(f"admin-flood: {counts['writes']} writes, {counts['reads']} reads, {counts['big']} oversized bodies, "
      f"{len(idle)} idle and {len(trickle)} trickling connections", file=sys.stderr)
