#!/usr/bin/env bash
# Fuzzes the CLI's argument parser (Sources/GLB/CLI/Arguments.swift) with libFuzzer + ASan.
#
#   scripts/fuzz-cli.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz-cli.sh
#   scripts/fuzz-cli.sh .build-fuzz/cli-artifacts/crash-...   # replay one input
#
# Arguments.swift belongs to the `glb` executable, which SwiftPM cannot link into anything else,
# so the file is compiled on its own with Fuzz/ArgumentsFuzz.swift (it needs nothing else).
# Inputs are argv words separated by NUL bytes; a word starting with \x01 is an environment entry
# NAME=value (see the target).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
corpus=$out/cli-corpus
mkdir -p "$corpus" "$out/cli-artifacts"

swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 \
    -module-name GLBCLIFuzz -o "$out/cli-fuzz" Fuzz/ArgumentsFuzz.swift Sources/GLB/CLI/Arguments.swift

# libFuzzer reports a trap itself. Swift's backtracer trips over ASan (a stack-buffer-underflow in
# its memory reader) that buries the real report, and it outlives the target with the output still
# open, so whatever reads that output (CI, a pipe) hangs.
export SWIFT_BACKTRACE=enable=no
if [[ $# -gt 0 ]]; then exec "$out/cli-fuzz" "$@"; fi

# Seeds: a client command, an agent with repeatable options and environment twins, inline values,
# `--` before positionals that look like options, help, and the mistakes the parser reports.
seed() { printf '%b' "$2" > "$corpus/seed-$1"; }
seed client 'www\0eu\0--admin\0127.0.0.1:9090\0--json'
seed agent '--join=10.0.0.1:7946,10.0.0.2:7946\0--join\0 10.0.0.3:7946 \0\x01GLB_ADMIN=[::1]:9090\0\x01GLB_JOIN=a:1, b:2,,c:3'
seed inline '--weight=90\0--lat=-51.5\0--address\0192.0.2.1,2001:db8::1\0--address=192.0.2.2\0--tls'
seed env-only '\x01GLB_JSON=false\0\x01GLB_ADMIN_TOKEN=s3cret\0\x01GLB_ADMIN=\0svc'
seed dashdash '-\0--\0--json\0-h\0--weight=1'
seed help '-h\0--token\0--help'
seed errors '--json=yes\0--weight\0--nope\0-x\0--admin'
seed twice '--admin\0a:1\0--admin=b:2'

# Inputs that once found a bug (Fuzz/regressions/cli/) replay at the start of every run.
corpora=("$corpus")
if [[ -d Fuzz/regressions/cli ]]; then corpora+=(Fuzz/regressions/cli); fi
"$out/cli-fuzz" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=1024 -timeout=5 \
    -artifact_prefix="$out/cli-artifacts/" -print_final_stats=1 "${corpora[@]}"
