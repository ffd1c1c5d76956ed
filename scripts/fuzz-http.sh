#!/usr/bin/env bash
# Fuzz the HTTP/1.1 parser with libFuzzer + AddressSanitizer.
#
#   scripts/fuzz-http.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz-http.sh
#   scripts/fuzz-http.sh crash-<hash>    # replay one input
#
# The target is compiled with swiftc, not SwiftPM: the GLBCore HTTP1 and Buffer sources plus
# SystemError (ByteBuffer mentions it) form one module, so `package` API needs -package-name.
# The corpus lives in .build-fuzz/http-corpus (gitignored) and grows across runs; crashes land
# in .build-fuzz/ as crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
corpus=$out/http-corpus
mkdir -p "$corpus"

swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 -package-name glb \
    -module-name GLBHTTPFuzz \
    Fuzz/HTTPParserFuzz.swift \
    Sources/GLBCore/HTTP1/*.swift \
    Sources/GLBCore/Buffer/*.swift \
    Sources/GLBCore/System/SystemError.swift \
    -o "$out/http-parser-fuzz"

# libFuzzer reports a trap itself. Swift's backtracer trips over ASan (a stack-buffer-underflow in
# its memory reader) that buries the real report, and it outlives the target with the output still
# open, so whatever reads that output (CI, a pipe) hangs.
export SWIFT_BACKTRACE=enable=no
if [[ $# -gt 0 ]]; then
    exec "$out/http-parser-fuzz" "$@"
fi

# Seeds: one of each message shape, so the fuzzer starts past the start line.
seed() { printf '%b' "$2" > "$corpus/seed-$1"; }
seed get 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'
seed post 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc'
seed chunked 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n'
seed pipelined 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
seed resp 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'
seed resp-100 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'
seed resp-chunked 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
seed resp-close 'HTTP/1.0 200 OK\r\n\r\nuntil close'
seed resp-101 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\nraw'

"$out/http-parser-fuzz" -max_total_time="${FUZZ_SECONDS:-60}" -dict=Fuzz/http.dict -max_len=4096 \
    -artifact_prefix="$out/" -print_final_stats=1 "$corpus"
