#!/usr/bin/env python3
"""Floods a GLB admin API until SIGTERM: what a misbehaving automation or an attacker on the
admin network can do. Used by scripts/bench-admin-flood.sh to show the data plane does not care.

  admin-flood.py ADDR:PORT SERVICE CLUSTER

- 1,000 connections held open, sending nothing (up to the admin server's connection cap);
- 20 connections trickling a request body a byte a second (the read timeout must end them);
- one client in a loop: a PATCH of CLUSTER's weight (a write: store, audit, new snapshot),
  GET /v1/status, GET /metrics, and a 2 MiB body that must be refused with 413.
"""
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
last_trickle = time.monotonic()
weight = 1
while running:
    weight = weight % 100 + 1
    request("PATCH", f"/v1/services/{service}/clusters/{cluster}", f'{{"weight":{weight}}}'.encode())
    counts["writes"] += 1
    request("GET", "/v1/status")
    request("GET", "/metrics")
    counts["reads"] += 2
    request("PUT", f"/v1/services/{service}", big)
    counts["big"] += 1
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
