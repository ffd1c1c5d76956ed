#!/usr/bin/env python3
"""Checks the Kubernetes manifests without a cluster: renders every overlay with
`kubectl kustomize` and checks what a schema cannot know about GLB.

    python3 deploy/kubernetes/check.py [path/to/glb]     (needs kubectl and PyYAML)

- every GLB_* variable the manifests and the Containerfile set is one `glb agent` reads (from
  `glb agent --help`, so a renamed flag breaks this check, not a region);
- every Service targets a named port the container declares, with the same protocol;
- the Secrets the pod reads are the ones secrets.example.yaml describes;
- terminationGracePeriodSeconds is above GLB_SHUTDOWN_GRACE;
- GLB_ADMIN off loopback comes with GLB_ADMIN_TOKEN (the agent refuses to start otherwise);
- node names differ between the overlays (gossip needs them unique).
"""
import pathlib
import re
import subprocess
import sys

try:
    import yaml
except ImportError:
    sys.exit("check.py needs PyYAML: apt-get install python3-yaml (or pip install pyyaml)")

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
GLB = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".build" / "release" / "glb")
problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


help_text = subprocess.run([GLB, "agent", "--help"], check=True, capture_output=True, text=True).stdout
known = set(re.findall(r"\[env (GLB_[A-Z_]+)\]", help_text)) | {"GLB_GOSSIP_KEY"}

containerfile = (ROOT / "deploy" / "Containerfile").read_text()
for name in re.findall(r"\b(GLB_[A-Z_]+)=", containerfile):
    if name not in known:
        problem("Containerfile", f"ENV {name} is not a variable glb agent reads")

secret_docs = list(yaml.safe_load_all((HERE / "secrets.example.yaml").read_text()))
secret_keys = {(d["metadata"]["name"], k) for d in secret_docs for k in d.get("stringData", {})}

nodes = {}
for overlay in sorted((HERE / "overlays").iterdir()):
    rendered = subprocess.run(["kubectl", "kustomize", str(overlay)], check=True, capture_output=True, text=True).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    where = f"overlays/{overlay.name}"
    config = {}
    for d in docs:
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "glb-config":
            config = d["data"]
    [sts] = [d for d in docs if d["kind"] == "StatefulSet"]
    pod = sts["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = dict(config)
    for var in container.get("env", []):
        env[var["name"]] = var.get("value", "<from " + next(iter(var.get("valueFrom", {"?": 0}))) + ">")
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref and (ref["name"], ref["key"]) not in secret_keys:
            problem(where, f"env {var['name']} reads Secret {ref['name']}/{ref['key']}, which secrets.example.yaml does not define")
    for name in env:
        if name.startswith("GLB_") and name not in known:
            problem(where, f"{name} is not a variable glb agent reads")
    for name in ("GLB_NODE", "GLB_REGION", "GLB_JOIN", "GLB_GOSSIP"):
        if name not in env:
            problem(where, f"{name} is not set")
    if env.get("GLB_NODE") in nodes:
        problem(where, f"GLB_NODE {env['GLB_NODE']} is also overlays/{nodes[env['GLB_NODE']]}'s")
    nodes[env.get("GLB_NODE")] = overlay.name
    admin = env.get("GLB_ADMIN", "127.0.0.1:9090")
    if not admin.startswith("127.") and "GLB_ADMIN_TOKEN" not in env:
        problem(where, f"GLB_ADMIN {admin} is off loopback without GLB_ADMIN_TOKEN: the agent exits 2")
    grace = float(env.get("GLB_SHUTDOWN_GRACE", "10"))
    if pod.get("terminationGracePeriodSeconds", 30) <= grace:
        problem(where, f"terminationGracePeriodSeconds {pod.get('terminationGracePeriodSeconds', 30)} is not above GLB_SHUTDOWN_GRACE {grace}")
    ports = {p["name"]: (p["containerPort"], p.get("protocol", "TCP")) for p in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        port = container.get(probe, {}).get("httpGet", {}).get("port")
        if port is not None and port not in ports:
            problem(where, f"{probe} uses port {port}, which the container does not declare")
    for listen, names in (("GLB_DNS", ("dns-udp", "dns-tcp")), ("GLB_HTTP", ("http",)), ("GLB_ADMIN", ("admin",)),
                          ("GLB_GOSSIP", ("gossip-udp", "gossip-tcp"))):
        port = int(env.get(listen, ":0").rsplit(":", 1)[1] or 0)
        for name in names:
            if name in ports and ports[name][0] != port:
                problem(where, f"container port {name} is {ports[name][0]} but {listen} listens on {port}")
    for svc in (d for d in docs if d["kind"] == "Service"):
        for p in svc["spec"]["ports"]:
            target = p.get("targetPort", p["port"])
            if target not in ports:
                problem(where, f"Service {svc['metadata']['name']} targets port {target}, which the container does not declare")
            elif ports[target][1] != p.get("protocol", "TCP"):
                problem(where, f"Service {svc['metadata']['name']} port {p['name']} is {p.get('protocol', 'TCP')}, container port {target} is {ports[target][1]}")
    print(f"{where}: {len(docs)} objects, node {env.get('GLB_NODE')} in {env.get('GLB_REGION')}, joins {env.get('GLB_JOIN')}")

for p in problems:
    print("problem:", p)
sys.exit(1 if problems else 0)
