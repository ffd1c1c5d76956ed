#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds (the process tests
# run the real `glb` binary), then runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --build-tests
swift test --skip-build --parallel 2>&1 | tee .build/test-output.txt | grep -vE '^(◇|↳)|Test case passing .* started\.$'
