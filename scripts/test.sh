#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds (the process tests
# run the real `glb` binary), then runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --build-tests
# The parsers' fuzz targets first, a few seconds each (their regressions replayed), and the
# admin API's schema fuzzer, so the test runner's summary stays the last thing printed. GLB_SKIP_FUZZ=1 skips them locally.
fuzz_status=0
if [[ -z ${GLB_SKIP_FUZZ:-} ]]; then
  scripts/fuzz-short.sh || fuzz_status=$?
  # The admin API against its OpenAPI document, about a minute (Schemathesis, from PyPI).
  FUZZ_API_SECONDS=${FUZZ_API_SECONDS:-60} scripts/fuzz-api.sh || fuzz_status=$?
fi
# One test at a time: the integration suites run real agents, origins and load on two cores,
# and in parallel they starve each other into timeouts. Serial takes well under a minute.
#
# A hang must fail the run with a clear message, not hold CI to its limit: after
# GLB_TEST_TIMEOUT seconds (15 minutes, ten times the suite's usual time) the run is stopped, and
# first every thread's stack is printed (gdb, installed then if missing), so the hang can be
# fixed from the CI log alone. Output is line-buffered (stdbuf), so the last test named is the
# one that hung, not whatever a 4 KiB stdio buffer last flushed.
limit=${GLB_TEST_TIMEOUT:-900}
output=.build/test-output.txt
# Its own process group (setsid), so that a stop reaches every process it started.
setsid stdbuf -oL -eL swift test --skip-build --no-parallel > "$output" 2>&1 &
runner=$!
tail -n +1 -f --pid="$runner" "$output" | grep --line-buffered -vE '^(◇|↳)|Test case passing .* started\.$' &
printer=$!
deadline=$((SECONDS + limit))
while kill -0 "$runner" 2>/dev/null && ((SECONDS < deadline)); do sleep 1; done
if kill -0 "$runner" 2>/dev/null; then
  {
    echo "test run stopped after ${limit} s (GLB_TEST_TIMEOUT); the last lines it printed:"
    tail -n 20 "$output"
    tests=""          # found through /proc: a minimal image may lack procps (pgrep)
    for cmdline in /proc/[0-9]*/cmdline; do
      if grep -qa 'glbPackageTests.xctest' "$cmdline" 2>/dev/null; then tests=${cmdline#/proc/}; tests=${tests%/cmdline}; break; fi
    done
    if [[ -n $tests ]]; then
      command -v gdb >/dev/null || scripts/bootstrap.sh --debugger >/dev/null 2>&1 || true
      if command -v gdb >/dev/null; then
        echo "every thread of the test process ($tests), innermost frame first:"
        gdb -p "$tests" -batch -ex 'thread apply all bt 30' 2>/dev/null | grep -E '^(Thread|#)' \
          | swift demangle --simplified || true
      fi
    fi
  } >&2
  # swift test puts the test process in a group of its own: stop it by name, then the rest.
  [[ -n ${tests:-} ]] && kill -KILL "$tests" 2>/dev/null
  kill -KILL -- "-$runner" 2>/dev/null || kill -KILL "$runner" 2>/dev/null || true
  wait "$printer" 2>/dev/null || true
  exit 124
fi
status=0
wait "$runner" || status=$?
wait "$printer" 2>/dev/null || true
if ((status == 0 && fuzz_status != 0)); then
  echo "scripts/test.sh: the tests passed, but a fuzz target failed (scripts/fuzz-short.sh above)" >&2
  status=$fuzz_status
fi
exit "$status"
