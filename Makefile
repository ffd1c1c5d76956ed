# Conveniences over scripts/: the README's two quick-start commands are scripts/run.sh and
# scripts/test.sh, which need nothing but bash and Swift.
.PHONY: build release test run bench bench-dns bench-http bench-tls bench-failover fuzz-dns fuzz-http clean

build:
	swift build

release:
	swift build -c release --product glb

test:
	scripts/test.sh

run:
	scripts/run.sh

# Side-by-side benchmarks against the anchors in ../shared/bench (one interleaved run each).
bench: bench-dns bench-http bench-tls bench-failover

bench-dns: release
	scripts/bootstrap.sh --bench
	../shared/bench/dns.sh gdnsd knot glb=cmd:$(CURDIR)/scripts/bench-dns.sh

bench-http: release
	scripts/bootstrap.sh --bench
	../shared/bench/http-proxy.sh haproxy nginx glb=cmd:$(CURDIR)/scripts/bench-proxy.sh

# TLS termination beside nginx and HAProxy: keep-alive req/s and new handshakes/s. The shared
# http-proxy.sh has no TLS mode, so scripts/bench-tls.sh runs its cells with the shared helpers.
bench-tls: release
	scripts/bootstrap.sh --bench
	scripts/bench-tls.sh glb haproxy nginx

bench-failover: release
	scripts/bootstrap.sh --bench
	../shared/bench/failover.sh dns gdnsd-min gdnsd-fall2 glb=cmd:$(CURDIR)/scripts/bench-dns.sh
	../shared/bench/failover.sh http haproxy-retry nginx glb=cmd:$(CURDIR)/scripts/bench-proxy.sh

fuzz-dns:
	scripts/fuzz-dns.sh

fuzz-http:
	scripts/fuzz-http.sh

clean:
	rm -rf .build .build-fuzz .bench-results
