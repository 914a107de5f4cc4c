#!/usr/bin/env bash
# Runs the whole of `npm test` N times in a row (default 10) on this checkout and keeps every run's output,
# so that a test that fails once in many runs is caught with its log: `npm run test:repeat -- 10`.
# Each run's log is in .data/test-repeat/run-K.log; a summary line per run is printed as it ends.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

runs=${1:-10}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: npm run test:repeat -- RUNS (a whole number, got '$runs')" >&2; exit 2; }
out=.data/test-repeat
mkdir -p "$out"
failed=0
for k in $(seq 1 "$runs"); do
  start=$(date +%s)
  if npm test >"$out/run-$k.log" 2>&1; then verdict=passed; else verdict=FAILED; failed=$((failed + 1)); fi
  # the test runner's own count of tests, without colour codes
  tests=$(sed 's/\x1b\[[0-9;]*m//g' "$out/run-$k.log" | grep -E '^ +Tests ' | tail -1 | sed 's/^ *//')
  echo "run $k/$runs: $verdict in $(($(date +%s) - start)) s · ${tests:-no test count} · $out/run-$k.log"
  if [ "$verdict" = FAILED ]; then
    sed 's/\x1b\[[0-9;]*m//g' "$out/run-$k.log" | grep -E '^ *(FAIL|×) ' | sort -u | head -20
  fi
done
echo "$((runs - failed)) of $runs runs passed"
[ "$failed" -eq 0 ]
