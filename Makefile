# Conveniences over scripts/: the README's two quick-start commands are scripts/run.sh and
# scripts/test.sh, which need nothing but bash and Swift.
.PHONY: build release test run bench bench-dns fuzz-dns fuzz-http clean

build:
	swift build

release:
	swift build -c release --product glb

test:
	scripts/test.sh

run:
	scripts/run.sh

# Side-by-side benchmarks against the anchors in ../shared/bench (one interleaved run each).
bench: bench-dns

bench-dns: release
	scripts/bootstrap.sh --bench
	../shared/bench/dns.sh gdnsd knot glb=cmd:$(CURDIR)/scripts/bench-dns.sh

fuzz-dns:
	scripts/fuzz-dns.sh

fuzz-http:
	scripts/fuzz-http.sh

clean:
	rm -rf .build .build-fuzz .bench-results
