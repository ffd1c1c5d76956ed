#!/usr/bin/env bash
# Fuzzes the JSON parser, the serializer and merge patches (GLBCore/JSON) with libFuzzer + ASan.
#
#   scripts/fuzz-json.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz-json.sh
#   scripts/fuzz-json.sh .build-fuzz/json-artifacts/crash-...   # replay one input
#
# Built like fuzz-http.sh: the GLBCore JSON sources, Logger.swift (JSONText.quote) and the Clock
# sources Logger needs form one module with Fuzz/JSONFuzz.swift. A NUL byte in an input splits
# it into a document and a merge patch (see the target).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
corpus=$out/json-corpus
mkdir -p "$corpus" "$out/json-artifacts"

swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -package-name glb \
    -module-name GLBJSONFuzz -o "$out/json-fuzz" \
    Fuzz/JSONFuzz.swift Sources/GLBCore/JSON/*.swift Sources/GLBCore/Logging/Logger.swift Sources/GLBCore/Clock/*.swift

# libFuzzer reports a trap itself. Swift's backtracer trips over ASan (a stack-buffer-underflow in
# its memory reader) that buries the real report, and it outlives the target with the output still
# open, so whatever reads that output (CI, a pipe) hangs.
export SWIFT_BACKTRACE=enable=no
if [[ $# -gt 0 ]]; then exec "$out/json-fuzz" "$@"; fi

# Seeds: admin API bodies (a service, a cluster, a merge patch with a removal), every escape,
# numbers of every shape, and a document with a patch after a NUL.
seed() { printf '%b' "$2" > "$corpus/seed-$1"; }
seed service '{"zone":"glb.example.","policy":"weighted","answers":2,"ttl":30,"fail_closed":false}'
seed cluster '{"region":"eu-west","addresses":["192.0.2.10","2001:db8::10"],"port":443,"weight":90,"lat":51.5,"lon":-0.12,"tls":true}'
seed patch '{"weight":10,"state":"draining","countries":null,"probe":{"path":"/healthz","interval_ms":null}}'
seed escapes '["\\"\\\\\\/\\b\\f\\n\\r\\t","\\u00e9\\u2028\\ud83d\\ude00","caf\xc3\xa9 \xe2\x82\xac"]'
seed numbers '[0,-0,1.5e+10,-2E-3,9007199254740993,0.1,1e999]'
seed nested '{"a":{"b":{"c":[[],{},null,true,false]}}}'
seed merge '{"a":1,"b":{"c":2,"d":[1,2]},"e":"x"}\x00{"b":{"c":null,"f":{"g":null}},"e":null,"h":[null]}'

# Inputs that once found a bug (Fuzz/regressions/json/) replay at the start of every run.
corpora=("$corpus")
if [[ -d Fuzz/regressions/json ]]; then corpora+=(Fuzz/regressions/json); fi
"$out/json-fuzz" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -timeout=5 \
    -artifact_prefix="$out/json-artifacts/" -print_final_stats=1 "${corpora[@]}"
