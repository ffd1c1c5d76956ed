#!/usr/bin/env bash
# Builds GLB (release) and starts one node on its embedded SQLite store in ./glb-data, with the
# flags of the operator's story. Extra arguments replace the defaults: scripts/run.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product glb --static-swift-stdlib
echo "glb: built .build/release/glb; for the CLI: export PATH=\"$PWD/.build/release:\$PATH\"" >&2
if (($#)); then
  exec .build/release/glb agent "$@"
fi
exec .build/release/glb agent --data ./glb-data --zone glb.example. \
  --dns 127.0.0.1:5353 --http 127.0.0.1:8080 --admin 127.0.0.1:9090
