#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds (the process tests
# run the real `glb` binary), then runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --build-tests
# One test at a time: the integration suites run real agents, origins and load on two cores,
# and in parallel they starve each other into timeouts. Serial takes well under a minute.
# A hang must fail the run with a clear message, not hold CI to its limit: 15 minutes is ten
# times the suite's usual time.
limit=${GLB_TEST_TIMEOUT:-900}
status=0
timeout --kill-after=10 "$limit" swift test --skip-build --no-parallel 2>&1 | tee .build/test-output.txt \
  | grep -vE '^(◇|↳)|Test case passing .* started\.$' || status=$?
if [[ $status -eq 124 || $status -eq 137 ]]; then
  echo "test run stopped after ${limit} s (GLB_TEST_TIMEOUT); the last lines it printed:" >&2
  tail -n 20 .build/test-output.txt >&2
fi
exit "$status"
