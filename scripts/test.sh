#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds (the process tests
# run the real `glb` binary), then runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --build-tests
# One test at a time: the integration suites run real agents, origins and load on two cores,
# and in parallel they starve each other into timeouts. Serial takes well under a minute.
swift test --skip-build --no-parallel 2>&1 | tee .build/test-output.txt | grep -vE '^(◇|↳)|Test case passing .* started\.$'
