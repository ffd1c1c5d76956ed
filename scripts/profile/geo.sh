#!/usr/bin/env bash
# Nanoseconds per DNS answer for a geo service against a weighted one, in one optimised process
# (no sockets): what the MaxMind lookup and the level walk add to a query.
#   scripts/profile/geo.sh [FILE.mmdb]   (default: Tests/Fixtures/geo/GeoLite2-City-Test.mmdb)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build-fuzz/geo-bench
mkdir -p "$out"
flags=(-O -wmo -swift-version 6 -package-name glb -enable-upcoming-feature ExistentialAny
       -enable-upcoming-feature InternalImportsByDefault -enable-upcoming-feature MemberImportVisibility)
swiftc "${flags[@]}" -module-name GLBCore -emit-module -emit-module-path "$out/GLBCore.swiftmodule" \
    -emit-library -static -o "$out/libGLBCore.a" Sources/GLBCore/System/IPAddress.swift
swiftc "${flags[@]}" -parse-as-library -enforce-exclusivity=unchecked -module-name GeoBench -I "$out" -o "$out/geo-bench" \
    Sources/Proxy/Geo/*.swift Sources/Proxy/DNS/*.swift Sources/Proxy/Routing/*.swift scripts/profile/geo-bench.swift "$out/libGLBCore.a"
exec "$out/geo-bench" "$@"
