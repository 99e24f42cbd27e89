#!/usr/bin/env bash
# `npm run test:windows`: the shared mocha suite on the IOCP backend, in the
# Windows node.exe under Wine (see setup.sh). Builds the addon with
# mingw-w64 (build.sh) and the TypeScript, runs mocha, prints its output
# and exits with its status. Extra arguments go to mocha (e.g. --grep).
#
# node.exe under Wine crashes (EBADF in `new Socket`) when its stdout is a
# pipe: its output goes to a file, printed afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bash test/windows/setup.sh
bash test/windows/build.sh
npx tsc -p tsconfig.json

export WINEDEBUG=-all WINEPREFIX="$root/.wine-cache/prefix"
# node-gyp-build would load build/Release first, the Linux build: prebuilds only.
export PREBUILDS_ONLY=1
output="$root/.wine-cache/test-output.txt"
mkdir -p "$(dirname "$output")"
status=0
# A hang guard for the whole run; mocha's own timeouts catch a single test.
timeout --kill-after=10 900 wine "$root/.wine-cache/node-win/bin/node.exe" node_modules/mocha/bin/mocha.js "$@" \
  > "$output" 2>&1 < /dev/null || status=$?
cat "$output"
wineserver -k 2>/dev/null || true
if [ "$status" -ne 0 ]; then
  echo "windows: mocha under Wine exited with status $status" >&2
fi
exit "$status"
