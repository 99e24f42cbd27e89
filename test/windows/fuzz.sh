#!/usr/bin/env bash
# `npm run fuzz`'s Windows stage: the exactly-once properties and the IO
# model fuzz on the IOCP backend, in the Windows node.exe under Wine (the
# setup and build of run.sh), run N times, each with fresh seeds. Every
# property prints its seed before it runs (test/support/property.ts), so a
# run that fails, or hangs until its guard ends it, names the seed that
# replays it: TIGERIO_FUZZ_SEED=<seed> bash test/windows/run.sh --grep iocp.
#
#   bash test/windows/fuzz.sh [N]      N runs (default 5, or TIGERIO_WINDOWS_FUZZ_RUNS)
#
# Exits with the first failing run's status, after printing its output.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
runs=${1:-${TIGERIO_WINDOWS_FUZZ_RUNS:-5}}
bash test/windows/setup.sh
bash test/windows/build.sh
npx tsc -p tsconfig.json

export WINEDEBUG=-all WINEPREFIX="$root/.wine-cache/prefix"
export PREBUILDS_ONLY=1  # as run.sh: the Windows prebuild, not build/Release
# The IO model fuzz runs longer here than in the suite (4 s); the caller's values win.
export TIGERIO_FUZZ_RUNS=${TIGERIO_FUZZ_RUNS:-5000} TIGERIO_FUZZ_SECONDS=${TIGERIO_FUZZ_SECONDS:-20}
output="$root/.wine-cache/fuzz-output.txt"
suites=(dist/test/exactly-once.test.js dist/test/exactly-once-datagrams-files.test.js dist/test/reliability/io-fuzz.test.js)
status=0
for run in $(seq 1 "$runs"); do
  started=$(date +%s)
  # --no-config: only these files (the config's spec is every test). Output
  # to a file: node.exe under Wine fails on a pipe (run.sh). A hang guard
  # per run; mocha's own timeouts cannot fire while native code blocks.
  timeout --kill-after=10 600 wine "$root/.wine-cache/node-win/bin/node.exe" node_modules/mocha/bin/mocha.js \
    --no-config --timeout 20000 --grep iocp "${suites[@]}" > "$output" 2>&1 < /dev/null || status=$?
  summary=$(grep -E '^  [0-9]+ (passing|failing|pending)' "$output" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//' || true)
  echo "windows fuzz: run $run of $runs: ${summary:-no summary} in $(( $(date +%s) - started )) s; seeds:"
  grep -E 'fast-check .*replay with' "$output" | sed 's/^ */  /' || true
  if [ "$status" -ne 0 ]; then
    cat "$output"
    echo "windows fuzz: run $run failed with status $status (124: its 600 s guard ended it)" >&2
    break
  fi
done
wineserver -k 2>/dev/null || true
exit "$status"
