#!/usr/bin/env bash
# Fuzzes what a gossip socket receives with libFuzzer + ASan: the packet codec (GossipCodec),
# sealed packets (PacketCipher, AES-256-GCM through OpenSSL) and key files (Keyring).
#
#   scripts/fuzz-gossip.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz-gossip.sh
#   scripts/fuzz-gossip.sh .build-fuzz/gossip-artifacts/crash-...   # replay one input
#
# Built like fuzz-dns.sh: GLBCore's Buffer, SystemError, IPAddress and SocketAddress sources as
# module GLBCore (in .build-fuzz/gossip/, apart from the one fuzz-dns.sh builds), then the
# HealthProber Gossip sources the codec and the cipher need plus Fuzz/GossipCodecFuzz.swift as
# one instrumented executable linked with libssl and libcrypto. SocketAddress imports CGLBLinux
# for its header only, so a module map for that header is all it gets; nothing from shim.c is linked.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
lib=$out/gossip
corpus=$out/gossip-corpus
mkdir -p "$lib" "$corpus" "$out/gossip-artifacts" "$out/cglblinux"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -package-name glb
       -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault
       -enable-upcoming-feature MemberImportVisibility)
printf 'module CGLBLinux {\n    header "%s/Sources/CGLBLinux/include/CGLBLinux.h"\n    export *\n}\n' "$PWD" > "$out/cglblinux/module.modulemap"

swiftc "${flags[@]}" -module-name GLBCore -I "$out/cglblinux" -emit-module -emit-module-path "$lib/GLBCore.swiftmodule" \
    -emit-library -static -o "$lib/libGLBCore.a" \
    Sources/GLBCore/Buffer/*.swift Sources/GLBCore/System/{SystemError,IPAddress,SocketAddress}.swift
swiftc "${flags[@]}" -module-name GossipFuzz -I "$lib" -I "$out/cglblinux" -I Sources/CGLBOpenSSL -o "$out/gossip-fuzz" \
    Sources/HealthProber/Gossip/{GossipCodec,GossipMessage,GossipMember,Keyring,PacketCipher}.swift \
    Fuzz/GossipCodecFuzz.swift "$lib/libGLBCore.a" -lssl -lcrypto

# libFuzzer reports a trap itself. Swift's backtracer trips over ASan (a stack-buffer-underflow in
# its memory reader) that buries the real report, and it outlives the target with the output still
# open, so whatever reads that output (CI, a pipe) hangs.
export SWIFT_BACKTRACE=enable=no
if [[ $# -gt 0 ]]; then exec "$out/gossip-fuzz" "$@"; fi

# Seeds: one packet per message type (ping; ack + alive; ping-req over IPv6 + nack; suspect, dead
# and leave; a user payload; a two-member sync; a frame of an unknown type before an ack), and
# the ack + alive packet sealed with the target's primary key (key id 630dcd29, nonce 01..0c),
# and a key file holding the target's two keys.
seed() { printf '%b' "$2" > "$corpus/seed-$1"; }
seed ping '\x01\x01\x01\x00\x0b\x00\x00\x00\x07\x06node-b'
seed ack-alive '\x01\x02\x02\x00\x04\x00\x00\x00\x07\x05\x00:\x06node-a\x07eu-west\x04\x7f\x00\x00\x01\x1f\x0a\x00\x00\x00\x03\x00\x1eadmin=192.0.2.1:9090;config=42'
seed ping-req '\x01\x02\x03\x00\x1e\x00\x00\x00\x08\x06node-c\x06\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x1f\x0a\x04\x00\x04\x00\x00\x00\x09'
seed suspect-dead-leave '\x01\x03\x06\x00\x12\x06node-c\x00\x00\x00\x04\x06node-a\x07\x00\x12\x06node-d\x00\x00\x00\x01\x06node-b\x08\x00\x0b\x06node-e\x00\x00\x00\x02'
seed user '\x01\x01\x09\x00\x24\x0dhealth/www/eu\x06node-a\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x05\x01up\x00\x02'
seed sync '\x01\x01\x0a\x00f\x01\x02\x00\x06node-a\x07eu-west\x04\x7f\x00\x00\x01\x1f\x0a\x00\x00\x00\x03\x00\x1eadmin=192.0.2.1:9090;config=42\x01\x06node-b\x07us-east\x06\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x1f\x0a\x00\x00\x00\x09\x00\x00'
seed unknown-type '\x01\x02\xc8\x00\x06future\x02\x00\x04\x00\x00\x00\x01'
seed sealed '\x81\x63\x0d\xcd\x29\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x04\xe8\x58\xd5\xe8\x94\xf0\x86\x4b\xa7\x63\x7d\x16\x7d\x85\x4c\x27\x6e\x80\xf9\xf2\x18\x7d\xb2\xc4\x2c\x8d\x20\xe1\xb6\x76\xc4\x9b\xee\x9b\xdf\x6e\xb6\xec\x81\xd1\xc8\xd7\x8c\xab\xe6\xc9\x64\xac\xd8\x7f\xce\xe6\xb7\x07\x4b\x0f\x4d\x35\xfd\x54\x62\x5b\x62\x11\x14\x6c\x1e\x8b\xc3\xb8\xf3\xf9\x3e\x2c\x35\x79\x68\x39\x73\x54\x26\x51\x4f\x38\xef'
seed keyfile '# rotation: new primary first\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\nWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=\n'

# Inputs that once found a bug (Fuzz/regressions/gossip/) replay at the start of every run.
corpora=("$corpus")
if [[ -d Fuzz/regressions/gossip ]]; then corpora+=(Fuzz/regressions/gossip); fi
# -max_len is over the codec's 16 KiB packet limit, so the oversize check is reachable.
"$out/gossip-fuzz" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=16448 -timeout=5 \
    -artifact_prefix="$out/gossip-artifacts/" -print_final_stats=1 "${corpora[@]}"
