#!/usr/bin/env bash
# Fuzzes the MaxMind DB reader (GeoDatabase, MMDBDecoder) and the CIDR map parser with
# libFuzzer + ASan.
#
#   scripts/fuzz-geo.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz-geo.sh
#   scripts/fuzz-geo.sh .build-fuzz/geo-artifacts/crash-...   # replay one input
#
# Built like fuzz-dns.sh: GLBCore's IPAddress.swift as module GLBCore, then the Proxy Geo, DNS
# and Routing sources (GeoSources speaks ClientKey) plus Fuzz/GeoDatabaseFuzz.swift as one
# instrumented executable. The corpus starts from the test databases in Tests/Fixtures/geo.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out/geo-corpus" "$out/geo-artifacts"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -package-name glb
       -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault
       -enable-upcoming-feature MemberImportVisibility)

swiftc "${flags[@]}" -module-name GLBCore -emit-module -emit-module-path "$out/GLBCore.swiftmodule" \
    -emit-library -static -o "$out/libGLBCore.a" Sources/GLBCore/System/IPAddress.swift
swiftc "${flags[@]}" -module-name GeoFuzz -I "$out" -o "$out/geo-fuzz" \
    Sources/Proxy/Geo/*.swift Sources/Proxy/DNS/*.swift Sources/Proxy/Routing/*.swift Fuzz/GeoDatabaseFuzz.swift "$out/libGLBCore.a"

# libFuzzer reports a trap itself. Swift's backtracer trips over ASan (a stack-buffer-underflow in
# its memory reader) that buries the real report, and it outlives the target with the output still
# open, so whatever reads that output (CI, a pipe) hangs.
export SWIFT_BACKTRACE=enable=no
if [[ $# -gt 0 ]]; then exec "$out/geo-fuzz" "$@"; fi

cp Tests/Fixtures/geo/*.mmdb "$out/geo-corpus/"
exec "$out/geo-fuzz" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=32768 -timeout=5 -rss_limit_mb=4096 \
    -artifact_prefix="$out/geo-artifacts/" -print_final_stats=1 "$out/geo-corpus"
