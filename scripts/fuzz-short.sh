#!/usr/bin/env bash
# Runs every libFuzzer target for a short time, one after another (a smoke test for CI: each
# target builds, its seeds and Fuzz/regressions/<target>/ replay, and a few seconds of mutation
# find nothing). Exits non-zero if any target fails to build or reports a crash, leak or timeout.
#
#   scripts/fuzz-short.sh                  # every target, 10 s each
#   FUZZ_SECONDS=60 scripts/fuzz-short.sh
#   scripts/fuzz-short.sh json cli         # only these
#
# Each run's output goes to .build-fuzz/short-<target>.log; only its summary is printed, or its
# last lines when it fails. Crashing inputs land in each target's artifacts directory (see its script).
set -uo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(dns http geo gossip json cli admin)
export FUZZ_SECONDS=${FUZZ_SECONDS:-10}
mkdir -p .build-fuzz
failed=()
for target in "${targets[@]}"; do
    log=.build-fuzz/short-$target.log
    echo "== fuzz-$target: ${FUZZ_SECONDS} s"
    if scripts/fuzz-$target.sh > "$log" 2>&1; then
        grep -a -E '^(Done|stat::average_exec_per_sec|stat::new_units_added)' "$log" | sed 's/^/   /'
    else
        status=$?
        echo "   FAILED (exit $status); the end of $log:"
        grep -a -v 'ld.gold: warning' "$log" | tail -n 40 | sed 's/^/   /'
        failed+=("$target")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz-short: failed: ${failed[*]}"
    exit 1
fi
echo "fuzz-short: all ${#targets[@]} targets passed"
