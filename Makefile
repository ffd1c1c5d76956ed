# Conveniences over scripts/: the README's two quick-start commands are scripts/run.sh and
# scripts/test.sh, which need nothing but bash and Swift.
.PHONY: build release test run bench bench-dns bench-http bench-tls bench-failover bench-gossip bench-admin-flood fuzz-dns fuzz-http fuzz-geo fuzz-gossip fuzz-json fuzz-cli fuzz-admin fuzz-short fuzz-api demo chaos image deploy-check clean

build:
	swift build

release:
	swift build -c release --product glb --static-swift-stdlib

test:
	scripts/test.sh

run:
	scripts/run.sh

# Side-by-side benchmarks against the anchors, with the harness in scripts/bench (one interleaved run each).
bench: bench-dns bench-http bench-tls bench-failover

bench-dns: release
	scripts/bootstrap.sh --bench
	scripts/bench/dns.sh gdnsd knot glb=cmd:$(CURDIR)/scripts/bench-dns.sh

bench-http: release
	scripts/bootstrap.sh --bench
	scripts/bench/http-proxy.sh haproxy nginx glb=cmd:$(CURDIR)/scripts/bench-proxy.sh

# TLS termination beside nginx and HAProxy: keep-alive req/s and new handshakes/s. The harness's
# http-proxy.sh has no TLS mode, so scripts/bench-tls.sh runs its cells with the harness helpers.
bench-tls: release
	scripts/bootstrap.sh --bench
	scripts/bench-tls.sh glb haproxy nginx

bench-failover: release
	scripts/bootstrap.sh --bench
	scripts/bench/failover.sh dns gdnsd-min gdnsd-fall2 glb=cmd:$(CURDIR)/scripts/bench-dns.sh
	scripts/bench/failover.sh http haproxy-retry nginx glb=cmd:$(CURDIR)/scripts/bench-proxy.sh

# What admin load costs the data plane: GLB beside GLB with its admin API flooded
# (scripts/bench-admin-flood.sh), proxy ka64 and DNS, one interleaved run each.
bench-admin-flood: release
	scripts/bootstrap.sh --bench
	LOADS=ka64 scripts/bench/http-proxy.sh glb=cmd:$(CURDIR)/scripts/bench-proxy.sh "flooded=cmd:$(CURDIR)/scripts/bench-admin-flood.sh proxy"
	scripts/bench/dns.sh glb=cmd:$(CURDIR)/scripts/bench-dns.sh "flooded=cmd:$(CURDIR)/scripts/bench-admin-flood.sh dns"

# 8 glb agents beside 8 serf agents on loopback (needs root: iptables drops UDP for the loss runs).
bench-gossip:
	scripts/bootstrap.sh --bench
	scripts/bench-gossip.sh

# Three regions in network namespaces on this machine: failover and a canary shift
# (deploy/demo/three-regions.sh; needs root for the namespaces).
demo: release
	@if [ "$$(id -u)" = 0 ]; then deploy/demo/three-regions.sh; else sudo deploy/demo/three-regions.sh; fi

# The same three regions under faults: a partition, an asymmetric partition, 30% loss and a
# clock 10 s ahead, each healed and checked (scripts/chaos.sh, docs/chaos.md; needs root, exits 1
# on a failed check). GLB=/path/to/glb tests that binary instead of building the release one.
chaos: $(if $(GLB),,release)
	@if [ "$$(id -u)" = 0 ]; then GLB="$(GLB)" scripts/chaos.sh; else sudo GLB="$(GLB)" scripts/chaos.sh; fi

# The agent's container image (deploy/Containerfile); CONTAINER=podman works too.
CONTAINER ?= docker
IMAGE ?= glb:latest
image:
	$(CONTAINER) build -f deploy/Containerfile -t $(IMAGE) .

# Renders every Kubernetes overlay and checks it against the agent's flags (no cluster needed).
deploy-check: release
	python3 deploy/kubernetes/check.py

fuzz-dns:
	scripts/fuzz-dns.sh

fuzz-http:
	scripts/fuzz-http.sh

fuzz-geo:
	scripts/fuzz-geo.sh

fuzz-gossip:
	scripts/fuzz-gossip.sh

fuzz-json:
	scripts/fuzz-json.sh

fuzz-cli:
	scripts/fuzz-cli.sh

fuzz-admin:
	scripts/fuzz-admin.sh

# Every fuzz target for FUZZ_SECONDS (default 10) each, one after another; fails on any finding.
fuzz-short:
	scripts/fuzz-short.sh

# The admin API against docs/openapi.json with Schemathesis (FUZZ_API_SECONDS=600 for the long run).
fuzz-api:
	scripts/fuzz-api.sh

clean:
	rm -rf .build .build-fuzz .bench-results
