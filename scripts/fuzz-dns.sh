#!/usr/bin/env bash
# Fuzzes the DNS query path (DNSReader, EDNS, DNSWriter, DNSResponder, Router) with libFuzzer + ASan.
#
#   scripts/fuzz-dns.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz-dns.sh
#   scripts/fuzz-dns.sh .build-fuzz/artifacts/crash-...   # replay one input
#
# Builds outside SwiftPM with swiftc: GLBCore's IPAddress.swift as module GLBCore, then the Proxy
# Geo, DNS and Routing sources plus Fuzz/DNSResponderFuzz.swift as one instrumented executable. Nothing
# from OpenSSL or the event loop is compiled in. Corpus and crashes live under .build-fuzz/ (ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out/corpus" "$out/artifacts"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -package-name glb
       -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault
       -enable-upcoming-feature MemberImportVisibility)

swiftc "${flags[@]}" -module-name GLBCore -emit-module -emit-module-path "$out/GLBCore.swiftmodule" \
    -emit-library -static -o "$out/libGLBCore.a" Sources/GLBCore/System/IPAddress.swift
swiftc "${flags[@]}" -module-name DNSFuzz -I "$out" -o "$out/dns-fuzz" \
    Sources/Proxy/Geo/*.swift Sources/Proxy/DNS/*.swift Sources/Proxy/Routing/*.swift Fuzz/DNSResponderFuzz.swift "$out/libGLBCore.a"

# libFuzzer reports a trap itself. Swift's backtracer trips over ASan (a stack-buffer-underflow in
# its memory reader) that buries the real report, and it outlives the target with the output still
# open, so whatever reads that output (CI, a pipe) hangs.
export SWIFT_BACKTRACE=enable=no
if [[ $# -gt 0 ]]; then LSAN_OPTIONS=suppressions=$PWD/Fuzz/lsan.supp exec "$out/dns-fuzz" "$@"; fi

# Seeds: an A query with EDNS + ECS, an NS query, an ANY query with a compressed additional record.
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03www\x03glb\x07example\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x0b\x00\x08\x00\x07\x00\x01\x18\x00\xc6\x33\x64' > "$out/corpus/seed-a-ecs"
printf '\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03geo\x03glb\x07example\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x0c\x00\x08\x00\x08\x00\x01\x20\x00\x51\x02\x45\xa0' > "$out/corpus/seed-geo-ecs"
printf '\xab\xcd\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03glb\x07example\x00\x00\x02\x00\x01' > "$out/corpus/seed-ns"
printf '\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x01a\x01b\x03GLB\x07example\x00\x00\xff\x00\x01\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x00\x00\x01\x00' > "$out/corpus/seed-any"

export LSAN_OPTIONS=suppressions=$PWD/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
exec "$out/dns-fuzz" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=2048 -timeout=5 \
    -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$out/corpus"
