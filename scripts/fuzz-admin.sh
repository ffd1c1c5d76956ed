#!/usr/bin/env bash
# Fuzzes how the admin API reads a request target with libFuzzer + ASan: path splitting,
# percent-decoding and query parsing (HTTPRequest in GLBCore/HTTPServer/HTTPMessage.swift) and
# the route table (Sources/GLB/AdminAPI/AdminRoutes.swift).
#
#   scripts/fuzz-admin.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz-admin.sh
#   scripts/fuzz-admin.sh .build-fuzz/admin-artifacts/crash-...   # replay one input
#
# HTTPMessage.swift, the address sources it mentions (SocketAddress imports CGLBLinux for its
# header only, so a module map for that header is all it gets) and AdminRoutes.swift, which lives
# in the `glb` executable, are compiled with Fuzz/AdminRoutesFuzz.swift as one module.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
corpus=$out/admin-corpus
mkdir -p "$corpus" "$out/admin-artifacts" "$out/cglblinux"
printf 'module CGLBLinux {\n    header "%s/Sources/CGLBLinux/include/CGLBLinux.h"\n    export *\n}\n' "$PWD" > "$out/cglblinux/module.modulemap"

swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -package-name glb \
    -module-name GLBAdminFuzz -I "$out/cglblinux" -o "$out/admin-fuzz" \
    Fuzz/AdminRoutesFuzz.swift Sources/GLB/AdminAPI/AdminRoutes.swift Sources/GLBCore/HTTPServer/HTTPMessage.swift \
    Sources/GLBCore/System/{IPAddress,SocketAddress}.swift

# libFuzzer reports a trap itself. Swift's backtracer trips over ASan (a stack-buffer-underflow in
# its memory reader) that buries the real report, and it outlives the target with the output still
# open, so whatever reads that output (CI, a pipe) hangs.
export SWIFT_BACKTRACE=enable=no
if [[ $# -gt 0 ]]; then exec "$out/admin-fuzz" "$@"; fi

# Seeds: one target per kind of route, with parameters, escapes and the query strings the API reads.
seed() { printf '%s' "$2" > "$corpus/seed-$1"; }
seed healthz '/healthz'
seed zone '/v1/zones/glb.example.'
seed services '/v1/services?zone=glb.example.'
seed cluster '/v1/services/www/clusters/eu%2Dwest'
seed explain '/v1/services/www/explain?client=192.0.2.1&ecs=198.51.100.0%2F24&qtype=AAAA'
seed promote '/v1/services/caf%C3%A9/canary/promote'
seed audit '/v1/audit?limit=10&entity=cluster&key=www%2Feu&key=www/us'
seed events '/v1/events?limit=1000&target=www+eu&=&flag'
seed escapes '//v1//status/?a%=1&%zz=2&b=%4'

# Inputs that once found a bug (Fuzz/regressions/admin/) replay at the start of every run.
corpora=("$corpus")
if [[ -d Fuzz/regressions/admin ]]; then corpora+=(Fuzz/regressions/admin); fi
"$out/admin-fuzz" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=1024 -timeout=5 \
    -artifact_prefix="$out/admin-artifacts/" -print_final_stats=1 "${corpora[@]}"
